"""Near-duplicate grouping alone: seconds (median of runs) and peak memory of ``find_duplicates`` on a corpus's
analysed units, today's code beside an earlier commit's.

    python bench/duplicates.py /tmp/c1m --runs 1 --against 64595c4

Peak memory is the growth of this process's resident and of its anonymous memory while one call runs (sampled
every 50 ms), so the units themselves are not counted; resident memory also counts the pages of the MinHash
scratch files, which the kernel may write out and drop. Both versions get the same texts; the script says whether they group alike.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from earlier import module_at  # noqa: E402 - bench/ is on the path when a script of it runs


def _measure(find, texts, runs: int):
    from framing.memory import anonymous_memory_mb, resident_memory_mb

    seconds, growth, anonymous, result = [], [], [], None
    for _ in range(runs):
        base, base_anonymous = resident_memory_mb(), anonymous_memory_mb() or 0.0
        peak, done = [0.0, 0.0], threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], resident_memory_mb() - base)
                peak[1] = max(peak[1], (anonymous_memory_mb() or 0.0) - base_anonymous)
                time.sleep(0.05)

        watcher = threading.Thread(target=sample)
        watcher.start()
        start = time.perf_counter()
        result = find(texts, threshold=0.8)
        seconds.append(time.perf_counter() - start)
        done.set()
        watcher.join()
        growth.append(peak[0])
        anonymous.append(peak[1])
    return statistics.median(seconds), max(growth), max(anonymous), seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", help="a commit whose framing/duplicates.py to measure too")
    args = parser.parse_args()

    import numpy as np

    from framing.units import duplicates
    from framing.config import Config
    from framing.corpus.load import load_corpus
    from framing.units.segment import segment

    config = Config()
    texts = [u.text for u in segment(load_corpus(args.corpus, config.corpus).documents)
             if u.section in config.units.sections]
    print(f"{len(texts):,} analysed units of {args.corpus}", flush=True)
    versions = {"today": duplicates.find_duplicates}
    if args.against:
        module = module_at(args.against, "duplicates")
        versions = {args.against: module.find_duplicates, **versions}
    groups = {}
    for name, find in versions.items():
        median, growth, anonymous, seconds, result = _measure(find, texts, args.runs)
        groups[name] = result
        print(f"{name}: {median:.1f} s (median of {args.runs}: {', '.join(f'{s:.1f}' for s in seconds)}), "
              f"memory grew by {growth:,.0f} MB at most (anonymous {anonymous:,.0f} MB); {result.n_groups:,} groups",
              flush=True)
    if len(groups) == 2:
        then, today = groups.values()
        print("same groups:", bool(np.array_equal(then.group, today.group)),
              "same representatives:", bool(np.array_equal(then.representative, today.representative)))


if __name__ == "__main__":
    main()
