"""Seconds per stage and peak memory of a whole run, cold (empty embedding cache) and cached.

Each measurement is a fresh process (so numba compilation and model loading are counted as a user meets them)
and "total" includes imports; the contrast stage runs with the config's contrast settings (the synthetic corpus:
every source on its own, 8 sources)
and each case runs several times; the script prints medians. Corpora: ../shared/corpora/aleppo-2016 (if present)
and a synthetic corpus of 10,000 distinct sentences made by bench/make_corpus.py.

    python bench/pipeline.py [--runs 3] [--sizes 10000] [--skip-aleppo]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ALEPPO = ROOT.parent / "shared" / "corpora" / "aleppo-2016"

ONCE = r"""
import json, resource, sys, time
start = time.perf_counter()
import framing
config = framing.load_config(sys.argv[1], sys.argv[2:])
result = framing.analyze(None, config, progress=False)
total = time.perf_counter() - start
print(json.dumps({"seconds": result.manifest["seconds"], "total": total,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "units": result.manifest["counts"]["units"], "framings": result.manifest["counts"]["framings"],
                  "computed": result.manifest["embedding"]["computed"]}))
"""


def run_once(config: str, overrides: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", ONCE, config, *overrides], capture_output=True, text=True,
                          cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summarise(name: str, runs: list[dict]) -> None:
    stages = list(runs[0]["seconds"])
    median = {s: statistics.median(r["seconds"][s] for r in runs) for s in stages}
    total = statistics.median(r["total"] for r in runs)
    peak = statistics.median(r["peak_mb"] for r in runs)
    cells = "  ".join(f"{s} {median[s]:6.2f}" for s in stages)
    share = f"  contrast {100 * median['contrast'] / total:4.1f}% of total" if "contrast" in median else ""
    print(f"{name:<24} units {runs[0]['units']:>6}  framings {runs[0]['framings']:>3}  embedded {runs[0]['computed']:>6}  "
          f"{cells}  total {total:6.2f} s  peak {peak:6.0f} MB{share}", flush=True)


def bench(name: str, config: str, overrides: list[str], runs: int) -> None:
    cold, cached = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            cache_override = [f"embedding.cache_dir={cache}"]
            cold.append(run_once(config, overrides + cache_override))
            cached.append(run_once(config, overrides + cache_override))
    summarise(f"{name} cold", cold)
    summarise(f"{name} cached", cached)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10000])
    parser.add_argument("--skip-aleppo", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"medians of {args.runs} runs, each a fresh process; seconds per stage")
    if not args.skip_aleppo and ALEPPO.is_dir():
        bench("aleppo-2016", str(ROOT / "configs" / "aleppo-2016.yaml"), [f"corpus.path={ALEPPO}"], args.runs)
    sys.path.insert(0, str(HERE))
    from make_corpus import write_corpus

    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            write_corpus(size, Path(folder))
            bench(f"synthetic-{size}", str(ROOT / "configs" / "example.yaml"),
                  [f"corpus.path={folder}", "cluster.min_cluster_size=25"], args.runs)


if __name__ == "__main__":
    main()
