"""The Ray engine on this machine: embedding throughput per actor count, and a whole run against the local engine.

1. Throughput: the first N distinct unit texts of the corpus embedded by the local embedder (in this process,
   onnxruntime on every core), then through a local Ray (``--cpus`` CPUs) with 1 and 2 actors of 1 CPU each
   (``engine.actors``, ``engine.cpus_per_actor``); no cache, each timed ``--runs`` times after one warm-up that
   loads the model (medians).
2. Overhead: ``framing.analyze`` on the whole corpus with ``engine.name`` local and ray, each cold (its own empty
   embedding cache) and in a fresh process, ``reduce.fit_sample`` set so that placing runs too; the seconds per
   stage and in all.

    python bench/ray_engine.py --corpus /tmp/c100k --texts 8000 --runs 3
    python bench/ray_engine.py --corpus /tmp/c100k --whole-runs   # adds part 2 (two cold runs: ~15 min here)
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def throughput(args) -> None:
    import ray

    import framing
    from framing.config import Config, EngineConfig
    from framing.embed.cache import make_embedder
    from framing.engines.ray import RayEngine

    result = framing.analyze(args.corpus, str(ROOT / "configs" / "example.yaml"), progress=False,
                             embedding__backend=args.backend, embedding__cache_dir=args.cache_dir,
                             contrast__enabled=False, frames__codebook=None, report__enabled=False)
    texts = result.units.loc[result.units["duplicate_of"] == "", "text"].tolist()[:args.texts]
    config = Config.from_dict({"embedding": {"backend": args.backend}})
    rows = []
    local = make_embedder(backend=args.backend, progress=False, cache_dir=args.cache_dir)
    local.encode(texts[:64])
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        local.encode(texts)
        times.append(time.perf_counter() - start)
    rows.append(("local (this process)", statistics.median(times)))
    ray.init(num_cpus=args.cpus, include_dashboard=False, configure_logging=False, log_to_driver=False)
    for actors in (1, 2):
        engine = RayEngine(EngineConfig(name="ray", actors=actors, block_texts=1024), config.embedding)
        embedder = engine.embedder(local)
        embedder.encode(texts[:2048])  # warm-up: actors start and load the model
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            embedder.encode(texts)
            times.append(time.perf_counter() - start)
        rows.append((f"ray, {actors} actor{'s' if actors > 1 else ''} × 1 CPU", statistics.median(times)))
    ray.shutdown()
    print(f"\n{len(texts)} texts, {args.backend}, median of {args.runs}:")
    print("| where | seconds | texts/s |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {len(texts) / seconds:.0f} |")


def whole_run(engine: str, args) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        code = (
            "import json, time, framing\n"
            "start = time.perf_counter()\n"
            f"r = framing.analyze({args.corpus!r}, {str(ROOT / 'configs' / 'example.yaml')!r}, progress=False, "
            f"embedding__backend={args.backend!r}, embedding__cache_dir={cache!r}, engine__name={engine!r}, "
            f"engine__num_cpus={args.cpus}, reduce__fit_sample={args.fit_sample}, "
            f"cluster__min_cluster_size={args.min_cluster_size}, report__enabled=False)\n"
            "print(json.dumps({'total': time.perf_counter() - start, 'seconds': r.manifest['seconds'], "
            "'framings': r.manifest['counts']['framings'], 'fitted': r.manifest['counts']['fitted']}))\n")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--texts", type=int, default=8000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    parser.add_argument("--whole-runs", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--fit-sample", type=int, default=50000)
    parser.add_argument("--min-cluster-size", type=int, default=25)
    args = parser.parse_args()
    if not args.skip_throughput:
        throughput(args)
    if args.whole_runs:
        results = {engine: whole_run(engine, args) for engine in ("local", "ray")}
        stages = list(results["local"]["seconds"])
        print("\n| engine | " + " | ".join(stages) + " | total | framings | fitted |")
        print("|---" * (len(stages) + 4) + "|")
        for engine, r in results.items():
            print(f"| {engine} | " + " | ".join(f"{r['seconds'].get(s, 0):.1f}" for s in stages) +
                  f" | {r['total']:.1f} | {r['framings']} | {r['fitted']} |")
        overhead = results["ray"]["total"] / results["local"]["total"] - 1
        print(f"\nRay engine overhead: {100 * overhead:+.1f}% of the local engine's time")


if __name__ == "__main__":
    main()
