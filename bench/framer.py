"""A model fitted once and applied again: agreement with its own fit, and what applying costs against fitting.

For each corpus: ``Framer(config).fit(corpus)`` (everything cached: the same run as ``framing run`` with a warm
cache), ``save``, ``Framer.load`` and ``transform`` of the same corpus. Reported: the share of the fit's core
members (and of all its assigned units) that the applied model puts back in their fitted framing, the seconds of
``fit`` and of ``load`` + ``transform`` (medians of ``--runs``), and the saved model's size.

    python bench/framer.py [--corpus /tmp/c100k --min-cluster-size 25 --backend onnx-int8] [--runs 3]
"""
from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import framing

ROOT = Path(__file__).resolve().parents[1]


def measure(config, corpus, overrides: dict, runs: int) -> dict:
    fits, applies, result, applied, size = [], [], None, None, 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            framer = framing.Framer(config, **overrides)
            started = time.perf_counter()
            result = framer.fit(corpus, progress=False)
            fits.append(time.perf_counter() - started)
            folder = framer.save(Path(tmp) / "model")
            size = sum(p.stat().st_size for p in folder.iterdir())
            started = time.perf_counter()
            applied = framing.Framer.load(folder, **overrides).transform(corpus if corpus else
                                                                        framing.load_corpus(None), progress=False)
            applies.append(time.perf_counter() - started)
            shutil.rmtree(folder)
    before = result.unit_columns(["unit_id", "framing", "membership"]).set_index("unit_id")
    after = applied.unit_columns(["unit_id", "framing"]).set_index("unit_id")["framing"]
    core = before["membership"].astype(str) == "core"
    assigned = before["framing"] >= 0
    agree = lambda rows: float((before.loc[rows, "framing"] == after.loc[before.index[rows]]).mean())  # noqa: E731
    return {"units": len(before), "framings": len(result.framings), "core": agree(core.to_numpy()),
            "assigned": agree(assigned.to_numpy()), "fit": statistics.median(fits),
            "apply": statistics.median(applies), "size_mb": size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    parser.add_argument("--corpus", help="a corpus folder (default: the example and, when present, aleppo)")
    parser.add_argument("--min-cluster-size", type=int)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("framing").setLevel(logging.ERROR)
    base = {"embedding__cache_dir": args.cache_dir, "embedding__backend": args.backend,
            "report__enabled": False}
    cases = []
    if args.corpus:
        extra = {"cluster__min_cluster_size": args.min_cluster_size} if args.min_cluster_size else {}
        cases.append((Path(args.corpus).name, ROOT / "configs" / "example.yaml", args.corpus, {**base, **extra}))
    else:
        cases.append(("example", ROOT / "configs" / "example.yaml", None, base))
        aleppo = ROOT.parent / "shared" / "corpora" / "aleppo-2016"
        if aleppo.is_dir():
            cases.append(("aleppo-2016", ROOT / "configs" / "aleppo-2016.yaml", str(aleppo), base))
    print("| corpus | units | framings | core members back in their framing | assigned units | fit, s | "
          "load + apply, s | model, MB |")
    print("|---|---|---|---|---|---|---|---|")
    for name, config, corpus, overrides in cases:
        row = measure(config, corpus, overrides, args.runs)
        print(f"| {name} | {row['units']:,} | {row['framings']:,} | {row['core']:.4f} | {row['assigned']:.4f} | "
              f"{row['fit']:.1f} | {row['apply']:.1f} | {row['size_mb']:.1f} |")


if __name__ == "__main__":
    main()
