"""Seconds per stage and peak memory of a whole run: cold (empty cache), cached, and cached vectors with new UMAP.

Each measurement is a fresh process that runs what `framing run` runs — analyze, then write the run folder with
its report ("write") — so model loading and numba compilation are counted as a user meets them; "total" includes
imports. numba's disk cache (framing/_numba_cache.py) lives beside the installed libraries and is warm after a
first run on the machine; a very first run compiles about 27 s more (bench/numba_cache.py). Three cases per
corpus, each repeated --runs times with a fresh cache folder, medians printed:
- cold: nothing cached; every text is embedded;
- cached: the same run again (vectors and UMAP results come from the cache);
- cached vectors, new UMAP: `reduce.cache=false`, as when reduce settings change: the graph and UMAP run again.
The synthetic corpora use configs/example.yaml (contrast by leaning, its codebook and axis) with
cluster.min_cluster_size=25. "non-embedding" sums every stage but embed, as a share of embed.

    python bench/pipeline.py [--runs 3] [--sizes 10000] [--skip-aleppo] [--backend torch]
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
import json, resource, sys, threading, time
start = time.perf_counter()
import psutil

peak = [0]

def sample():  # this process and its workers (the parallel UMAP layouts) together
    me = psutil.Process()
    while True:
        try:
            total = sum(p.memory_info().rss for p in [me, *me.children(recursive=True)])
        except psutil.Error:
            continue
        peak[0] = max(peak[0], total)
        time.sleep(0.1)

threading.Thread(target=sample, daemon=True).start()
import framing
config = framing.load_config(sys.argv[2], sys.argv[3:])
result = framing.analyze(None, config, progress=False)
written = time.perf_counter()
framing.save_run(result, sys.argv[1])  # units.parquet, framings.json, report.html ...: as `framing run`
seconds = {**result.manifest["seconds"], "write": time.perf_counter() - written}
total = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "total": total,
                  "peak_mb": max(peak[0] / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "units": result.manifest["counts"]["units"], "framings": result.manifest["counts"]["framings"],
                  "computed": result.manifest["embedding"]["computed"]}))
"""


def run_once(config: str, overrides: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([sys.executable, "-c", ONCE, str(Path(out) / "run"), config, *overrides],
                              capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summarise(name: str, runs: list[dict]) -> None:
    stages = list(runs[0]["seconds"])
    median = {s: statistics.median(r["seconds"][s] for r in runs) for s in stages}
    total = statistics.median(r["total"] for r in runs)
    peak = statistics.median(r["peak_mb"] for r in runs)
    cells = "  ".join(f"{s} {median[s]:6.1f}" for s in stages)
    rest = sum(v for s, v in median.items() if s != "embed")
    share = f"  non-embedding {100 * rest / median['embed']:4.0f}% of embedding" if median["embed"] > 5 else ""
    print(f"{name:<30} units {runs[0]['units']:>6}  framings {runs[0]['framings']:>4}  embedded "
          f"{runs[0]['computed']:>6}  {cells}  total {total:6.1f} s  peak {peak:6.0f} MB{share}", flush=True)


def bench(name: str, config: str, overrides: list[str], runs: int) -> None:
    cold, cached, umap_again = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            cache_override = [f"embedding.cache_dir={cache}"]
            cold.append(run_once(config, overrides + cache_override))
            cached.append(run_once(config, overrides + cache_override))
            umap_again.append(run_once(config, overrides + cache_override + ["reduce.cache=false"]))
    summarise(f"{name} cold", cold)
    summarise(f"{name} cached", cached)
    summarise(f"{name} cached vectors, new UMAP", umap_again)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10000])
    parser.add_argument("--skip-aleppo", action="store_true")
    parser.add_argument("--backend", default="torch", help="embedding.backend")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"embedding.backend {args.backend}; medians of {args.runs} runs, each a fresh process; seconds per stage; "
          f"peak = resident memory of the run and its worker processes together")
    if not args.skip_aleppo and ALEPPO.is_dir():
        bench("aleppo-2016", str(ROOT / "configs" / "aleppo-2016.yaml"),
              [f"corpus.path={ALEPPO}", f"embedding.backend={args.backend}"], args.runs)
    sys.path.insert(0, str(HERE))
    from make_corpus import write_corpus

    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            write_corpus(size, Path(folder))
            bench(f"synthetic-{size}", str(ROOT / "configs" / "example.yaml"),
                  [f"corpus.path={folder}", "cluster.min_cluster_size=25", f"embedding.backend={args.backend}"],
                  args.runs)


if __name__ == "__main__":
    main()
