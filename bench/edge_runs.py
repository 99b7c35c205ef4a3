"""Every run-able setting at every edge of its type, one whole run each: what happened, how long, how much memory.

``tests/test_fuzz.py`` draws a dozen of these at random in CI; this sweeps all of them, so a setting that makes a
run take the machine's memory or hang is found by name, not by luck. Each run is a child process (forked from a
server that has imported the package, so a run costs its own work, not the imports) watched from outside: it is
killed past ``--max-mb`` of resident memory or ``--max-seconds``, and that is what the table says.

    python bench/edge_runs.py                  # every key, every edge, on configs/example.yaml
    python bench/edge_runs.py --config none    # the same with the default config (no frames, axes or grouping)
    python bench/edge_runs.py --keys contrast.bootstrap cluster.n_components
"""
from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import sys
import tempfile
import time
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from framing.config import LARGEST_COUNT, Config, load_config  # noqa: E402
from framing.errors import FramingError  # noqa: E402

INT_EDGES = [0, -1, 1, 2, 2**31, 2**32, 2**63, -2**63, 10**30]
FLOAT_EDGES = [0.0, -0.0, 1.0, -1.0, 1e-308, 1e308, math.inf, -math.inf, math.nan]
# What a whole run cannot take here: other models, engines, files and folders (as tests/test_fuzz.py).
NOT_RUN = {("engine", "name"), ("engine", "address"), ("embedding", "model"), ("embedding", "cache_dir"),
           ("embedding", "backend"), ("embedding", "device"), ("corpus", "path"), ("corpus", "metadata"),
           ("run", "out_dir"), ("run", "name"), ("frames", "labels"), ("frames", "codebook"),
           ("describe", "match_run")}


def numeric_keys() -> list[tuple[str, str, list]]:
    """(section, key, edge values) for every int or float setting a run of the example can take."""
    found = []
    for section, model_field in Config.model_fields.items():
        for key, field in model_field.annotation.model_fields.items():
            if (section, key) in NOT_RUN:
                continue
            kinds = set(typing.get_args(field.annotation)) or {field.annotation}
            # the field's own bounds too: the largest value the config takes must run, not only be refused past it
            bounds = [getattr(rule, name) for rule in field.metadata for name in ("ge", "gt", "le", "lt")
                      if getattr(rule, name, None) is not None]
            if int in kinds and bool not in kinds:
                own = {b + step for b in bounds for step in (-1, 0, 1)} | {LARGEST_COUNT}
                found.append((section, key, INT_EDGES + sorted(own - set(INT_EDGES))))
            elif float in kinds:
                found.append((section, key, FLOAT_EDGES + sorted(set(map(float, bounds)) - set(FLOAT_EDGES))))
    return found


def one_run(tree: dict) -> None:
    """The child: a whole run; exit 0 (a Result), 3 (one FramingError line) or 4 (anything else)."""
    import logging
    import warnings

    import framing

    warnings.simplefilter("ignore")  # a run's own warnings (no framing found, a repost) are not what is looked for
    logging.disable(logging.WARNING)

    try:
        framing.analyze(None, Config.from_dict(tree), progress=False)
    except FramingError as error:
        message = str(error)
        sys.exit(3 if "\n" not in message else 4)
    except BaseException as error:  # noqa: BLE001 - what the sweep is looking for
        print(f"  {type(error).__name__}: {str(error)[:200]}", file=sys.stderr)
        sys.exit(4)
    sys.exit(0)


def resident_mb(pid: int) -> float:
    """Resident memory of a process and its children, from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def watched(context, tree: dict, max_mb: float, max_seconds: float) -> tuple[str, float, float]:
    """Outcome ('result', 'error line', 'TRACEBACK', 'MEMORY', 'HANG'), seconds, peak resident MB."""
    process = context.Process(target=one_run, args=(tree,))
    started = time.perf_counter()
    process.start()
    peak = 0.0
    while process.is_alive():
        peak = max(peak, resident_mb(process.pid))
        elapsed = time.perf_counter() - started
        if peak > max_mb or elapsed > max_seconds:
            process.kill()
            process.join()
            return ("MEMORY" if peak > max_mb else "HANG"), elapsed, peak
        time.sleep(0.05)
    process.join()
    elapsed = time.perf_counter() - started
    outcome = {0: "result", 3: "error line"}.get(process.exitcode, "TRACEBACK")
    return outcome, elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "example.yaml"),
                        help="the config each setting is changed in (default: the example's, which has frames, "
                             "axes and a grouping; none: the default config)")
    parser.add_argument("--keys", nargs="*", help="section.key settings to sweep (default: every numeric one)")
    parser.add_argument("--max-mb", type=float, default=4000, help="kill a run past this resident memory")
    parser.add_argument("--max-seconds", type=float, default=120, help="kill a run past this time")
    parser.add_argument("--all", action="store_true", help="print every run, not only the slow, large or failed")
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="framing-edge-cache-")
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["framing", "framing.run.pipeline", "torch", "umap", "hdbscan"])
    base = {} if args.config == "none" else load_config(args.config).to_dict()
    base["embedding"] = {**base.get("embedding", {}), "cache_dir": cache}
    watched(context, base, 1e9, 1e9)  # fills the embedding cache
    _, baseline_s, baseline_mb = watched(context, base, 1e9, 1e9)
    print(f"the run of {'the example with the default config' if args.config == 'none' else args.config} as it "
          f"is: {baseline_s:.1f} s, {baseline_mb:.0f} MB resident at most")
    keys = numeric_keys()
    if args.keys:
        keys = [k for k in keys if f"{k[0]}.{k[1]}" in args.keys]
    counts: dict[str, int] = {}
    slowest = largest = ("", 0.0)
    print(f"{'setting':<34}{'value':>12}  {'outcome':<11}{'s':>7}{'MB':>8}")
    for section, key, values in keys:
        for value in values:
            tree = {**base, section: {**base.get(section, {}), key: value}}
            try:
                Config.from_dict(tree)
            except FramingError:
                counts["refused by the config"] = counts.get("refused by the config", 0) + 1
                continue
            outcome, seconds, peak = watched(context, tree, args.max_mb, args.max_seconds)
            counts[outcome] = counts.get(outcome, 0) + 1
            name = f"{section}.{key} = {value!r}"
            slowest, largest = max(slowest, (name, seconds), key=lambda x: x[1]), max(largest, (name, peak),
                                                                                       key=lambda x: x[1])
            if args.all or outcome not in ("result", "error line") or seconds > 5 * baseline_s + 5 \
                    or peak > 2 * baseline_mb:
                print(f"{section + '.' + key:<34}{value!r:>12}  {outcome:<11}{seconds:>7.1f}{peak:>8.0f}", flush=True)
    print("\n" + ", ".join(f"{outcome}: {n}" for outcome, n in sorted(counts.items())))
    print(f"slowest run: {slowest[0]} ({slowest[1]:.1f} s); largest: {largest[0]} ({largest[1]:.0f} MB)")


if __name__ == "__main__":
    main()
