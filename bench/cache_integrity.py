"""What the vector cache's integrity checks cost: opening (SQLite quick_check, size check) and a verified lookup
(CRC-32 of every row read) against an unverified one, on a store of N 384-d vectors.

    python bench/cache_integrity.py --rows 100000 --runs 3
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np

from framing.embed.cache import EmbeddingCache, text_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="framing-cache-bench-")
    keys = [text_key(f"synthetic sentence {i}") for i in range(args.rows)]
    vectors = np.random.default_rng(0).standard_normal((args.rows, 384)).astype(np.float32)
    cache = EmbeddingCache(folder, "bench:integrity")
    start = time.perf_counter()
    for first in range(0, args.rows, 10_000):
        cache.put(keys[first : first + 10_000], vectors[first : first + 10_000])
    print(f"filled {args.rows:,} rows in {time.perf_counter() - start:.1f} s "
          f"({cache.vectors_path.stat().st_size / 1e6:.0f} MB of vectors, "
          f"{cache.index_path.stat().st_size / 1e6:.1f} MB of index)")
    cache.close()
    timings: dict[str, list[float]] = {"open (quick_check + size check)": [], "lookup, unverified (rows)": [],
                                       "lookup, verified (CRC-32 per row)": []}
    for _ in range(args.runs):
        start = time.perf_counter()
        cache = EmbeddingCache(folder, "bench:integrity")
        timings["open (quick_check + size check)"].append(time.perf_counter() - start)
        start = time.perf_counter()
        rows = cache.rows(keys)
        timings["lookup, unverified (rows)"].append(time.perf_counter() - start)
        start = time.perf_counter()
        verified = cache.lookup(keys)
        timings["lookup, verified (CRC-32 per row)"].append(time.perf_counter() - start)
        assert verified == rows and not cache.repairs
        cache.close()
    for name, values in timings.items():
        print(f"{name:<36} median {statistics.median(values):.3f} s  (runs: {', '.join(f'{v:.3f}' for v in values)})")


if __name__ == "__main__":
    main()
