"""A saved run's contrast and shares over time under another grouping: seconds from the run folder, nothing
embedded or clustered.

Each run is a fresh process that loads the run folder, calls ``Result.contrast(group_by=...)`` (what ``framing
contrast RUN --group-by FIELD`` does), then ``Result.over_time(group_by=...)`` and, when the run has a tree,
``Result.contrast(level=1)``; each timed on its own, medians of ``--runs``.

    python bench/regroup.py RUN_DIR --group-by source [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

SCRIPT = """
import json, sys, time
started = time.perf_counter()
import framing
result = framing.load_result(sys.argv[1])
loaded = time.perf_counter()
contrast = result.contrast(group_by=sys.argv[2])
done = time.perf_counter()
shares = result.over_time(group_by=sys.argv[2])
timed = time.perf_counter()
levels = len(result.hierarchy_data.levels) if result.hierarchy_data is not None else 0
if levels:
    result.contrast(level=1)
leveled = time.perf_counter()
print(json.dumps({"load": loaded - started, "contrast": done - loaded, "total": done - started,
                  "over_time": timed - done, "level": leveled - timed if levels else float("nan"),
                  "units": len(result.units), "groups": len(contrast.groups), "p": contrast.test["p_value"],
                  "within": contrast.within_events is not None, "bins": int(shares["bin"].nunique())}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--group-by", default="source")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for _ in range(args.runs):
        proc = subprocess.run([sys.executable, "-c", SCRIPT, args.run_dir, args.group_by], capture_output=True,
                              text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    median = {key: statistics.median(r[key] for r in rows) for key in ("load", "contrast", "total", "over_time",
                                                                       "level")}
    each = ", ".join(f"{r['total']:.1f}" for r in rows)
    print(f"{rows[0]['units']:,} units, {rows[0]['groups']} groups by {args.group_by} (within events: "
          f"{rows[0]['within']}): load {median['load']:.1f} s, contrast {median['contrast']:.1f} s, total "
          f"{median['total']:.1f} s (medians of {args.runs}: {each}); then shares over time "
          f"({rows[0]['bins']} bins) {median['over_time']:.1f} s, the contrast at level 1 {median['level']:.1f} s")


if __name__ == "__main__":
    main()
