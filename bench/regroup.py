"""A saved run's contrast under another grouping: seconds from the run folder, nothing embedded or clustered.

Each run is a fresh process that loads the run folder and calls ``Result.contrast(group_by=...)`` (what
``framing contrast RUN --group-by FIELD`` does), timed from before ``load_result`` to the contrast; medians of
``--runs``.

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
print(json.dumps({"load": loaded - started, "contrast": done - loaded, "total": done - started,
                  "units": len(result.units), "groups": len(contrast.groups), "p": contrast.test["p_value"],
                  "within": contrast.within_events is not None}))
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
    median = {key: statistics.median(r[key] for r in rows) for key in ("load", "contrast", "total")}
    each = ", ".join(f"{r['total']:.1f}" for r in rows)
    print(f"{rows[0]['units']:,} units, {rows[0]['groups']} groups by {args.group_by} (within events: "
          f"{rows[0]['within']}): load {median['load']:.1f} s, contrast {median['contrast']:.1f} s, total "
          f"{median['total']:.1f} s (medians of {args.runs}: {each})")


if __name__ == "__main__":
    main()
