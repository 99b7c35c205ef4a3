"""Fuzz the config loader, the corpus readers and the segmenter, and print what was tried and what failed.

Runs ``tests/test_fuzz.py`` (hypothesis) with many inputs per target and reads hypothesis's own statistics.
``--against REV`` runs the same targets against the package as it was at a git revision (checked out in a
temporary worktree), which is how the failures that the reliability work fixed were found and counted.

    python bench/fuzz.py --examples 2000 --runs 400
    python bench/fuzz.py --examples 2000 --against 679f297
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_targets(package_root: Path, examples: int, runs: int) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Per target: inputs tried (passing + failing, as hypothesis counts them) and failing; plus error lines."""
    env = {**os.environ, "FRAMING_FUZZ_EXAMPLES": str(examples), "FRAMING_FUZZ_RUNS": str(runs),
           "FRAMING_FUZZ_RANDOM": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics",
         str(package_root / "tests" / "test_fuzz.py")],
        cwd=package_root, env=env, capture_output=True, text=True)
    stats: dict[str, dict[str, int]] = {}
    current = None
    for line in proc.stdout.splitlines():
        header = re.match(r"^tests/test_fuzz\.py::(test_fuzz_\w+):$", line.strip())
        if header:
            current = header.group(1).removeprefix("test_fuzz_")
            stats[current] = {"tried": 0, "failing": 0}
            continue
        counts = re.match(r"^\s*- (\d+) passing, (\d+) failing", line)
        if counts and current:
            passing, failing = int(counts.group(1)), int(counts.group(2))
            stats[current]["tried"] += passing + failing
            stats[current]["failing"] += failing
    errors = sorted({re.sub(r"/tmp/\S+", "<tmp>", line.strip(" |"))[:160]
                     for line in proc.stdout.splitlines()
                     if re.match(r"^\s*\|?\s*E?\s*(\w+\.)*\w*(Error|Exception)\b:", line.strip(" |E"))})
    return stats, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="inputs per target (default 2000)")
    parser.add_argument("--runs", type=int, default=400,
                        help="whole runs of the example with settings at their edges (default 400; CI runs 12)")
    parser.add_argument("--against", help="a git revision whose package is fuzzed instead of the working tree's")
    args = parser.parse_args()
    worktree = None
    root = ROOT
    if args.against:
        worktree = Path(tempfile.mkdtemp(prefix="framing-fuzz-rev-")) / "tree"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(worktree), args.against], cwd=ROOT,
                       check=True)
        shutil.copy(ROOT / "tests" / "test_fuzz.py", worktree / "tests" / "test_fuzz.py")
        root = worktree
    try:
        stats, errors = run_targets(root, args.examples, args.runs)
    finally:
        if worktree is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False)
    label = args.against or "working tree"
    print(f"fuzzing {label}: up to {args.examples} inputs per target (hypothesis stops a target at its first "
          "failure and shrinks it, so 'tried' is lower where something failed)")
    print(f"{'target':<24}{'inputs tried':>14}{'failing':>10}")
    for target, counts in stats.items():
        print(f"{target:<24}{counts['tried']:>14}{counts['failing']:>10}")
    print(f"{'all':<24}{sum(c['tried'] for c in stats.values()):>14}{sum(c['failing'] for c in stats.values()):>10}")
    if errors:
        print("\ndistinct errors raised:")
        for line in errors:
            print("  " + line)


if __name__ == "__main__":
    main()
