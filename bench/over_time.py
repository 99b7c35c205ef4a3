"""What the over-time step costs beside a whole run: ``compute_over_time`` on a saved run's distinct units, with
the documents' dates spread over ``--days`` days in corpus order (bench/make_corpus.py gives every document one
date, which would make a single bin), timed as a median of runs, against the run's own seconds. The run's own
hierarchy stage (run.json) is printed beside it: together they are what issue 12's steps cost.

    python bench/over_time.py /tmp/run100k --days 120 --runs 3
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import numpy as np

    import framing
    from framing.contrast.over_time import compute_over_time

    result = framing.load_result(args.run_dir)
    distinct = result.units[result.units["duplicate_of"] == ""]
    docs = result.documents["doc_id"].tolist()
    start = np.datetime64("2031-09-01")
    documents = {d: {"date": str(start + k * args.days // len(docs)), "source": s}
                 for k, (d, s) in enumerate(zip(docs, result.documents["source"]))}
    for column in distinct.columns:  # metadata columns, for contrast.group_by
        if column not in documents[docs[0]] and column not in ("text", "unit_id"):
            for d, value in distinct.groupby("doc_id")[column].first().items():
                documents[d].setdefault(column, value)
    contrast = result.manifest["config"]["contrast"]
    time_settings = result.manifest["config"].get("time", {})
    seconds, out = [], None
    for _ in range(args.runs):
        begin = time.perf_counter()
        out = compute_over_time(distinct["doc_id"].tolist(), distinct["framing"].to_numpy(),
                                {f.id: f.label for f in result.framings}, documents,
                                sources=distinct["source"].tolist(), sections=distinct["section"].tolist(),
                                groups=contrast.get("groups"), group_by=contrast.get("group_by"),
                                bootstrap=time_settings.get("bootstrap", 200), seed=0)
        seconds.append(time.perf_counter() - begin)
    run_total = sum(v for k, v in result.manifest["seconds"].items() if k != "time")
    median = statistics.median(seconds)
    print(f"{len(distinct):,} distinct units, {len(result.framings):,} framings, {len(docs):,} documents over "
          f"{args.days} days: {out.bin} bins, {out.shares['bin'].nunique()} of them, "
          f"{out.shares['group'].nunique()} groups (with all), {len(out.shares):,} rows")
    print(f"over time: {median:.2f} s (median of {args.runs}: {', '.join(f'{s:.2f}' for s in seconds)}); the run's "
          f"other stages took {run_total:.1f} s (run.json): {100 * median / run_total:.1f}%")
    tree = result.manifest["seconds"].get("hierarchy")
    if tree is not None:
        print(f"hierarchy (the run's own stage, {result.manifest['hierarchy']['parents']:,} parents in "
              f"{result.manifest['hierarchy']['levels']} levels): {tree:.2f} s; with over time "
              f"{100 * (tree + median) / run_total:.1f}% of the run")


if __name__ == "__main__":
    main()
