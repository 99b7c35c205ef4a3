"""What numba compilation costs a new process, with and without framing's disk cache for umap and pynndescent.

Each measurement is a fresh process that builds a 5,000-point neighbour graph (pynndescent, as framing does from
4,096 units) and one 5-d UMAP layout; at this size nearly all the time is compilation. "library default" leaves
numba as umap-learn and pynndescent configure it (about half their functions cache=True); "framing" first calls
framing._numba_cache.enable_numba_disk_cache(), as FramingModel.fit does. The first "framing" run fills the cache
if it is empty; the figures are medians of --runs runs after one warm-up run per mode.

    python bench/numba_cache.py [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ONCE = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
if sys.argv[1] == "framing":
    from framing._numba_cache import enable_numba_disk_cache
    enable_numba_disk_cache()
import umap
from framing.framings.reduce import knn_graph
X = np.random.default_rng(0).standard_normal((5000, 32)).astype(np.float32)
start = time.perf_counter()
knn = knn_graph(X, 15, "cosine", 42)
middle = time.perf_counter()
umap.UMAP(n_components=5, precomputed_knn=knn, random_state=42, metric="cosine").fit_transform(X)
print(json.dumps({"knn": middle - start, "umap": time.perf_counter() - middle}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; medians of {args.runs} fresh processes")
    for mode in ("library default", "framing"):
        runs = []
        for _ in range(args.runs + 1):
            out = subprocess.run([sys.executable, "-c", ONCE, mode.split()[0]], capture_output=True, text=True,
                                 cwd=ROOT, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        runs = runs[1:]
        knn = statistics.median(r["knn"] for r in runs)
        layout = statistics.median(r["umap"] for r in runs)
        print(f"{mode:<16} kNN graph {knn:5.1f} s   UMAP 5-d {layout:5.1f} s   together {knn + layout:5.1f} s")


if __name__ == "__main__":
    main()
