"""Embedding throughput and agreement of the back-ends: torch, onnx, onnx-int8 (``framing.embed.cache.make_embedder``).

Each back-end embeds the same texts --runs times (after one warm-up batch, so model loading and the one-time ONNX
export are not counted); the script prints units/s (median), and the cosine of every vector to torch's (min, mean)
and how often a unit's nearest other unit is the same as with torch. Texts: the units of
../shared/corpora/aleppo-2016 (scraped pages: long paragraphs beside one-line comments) and
--units synthetic news sentences from bench/make_corpus.py.
The aleppo texts are its distinct units (about 720), so --units caps them rather than repeating them.

    pip install -e '.[onnx]'
Forward passes have fixed shapes (``framing.embed.embedders.encode_in_fixed_shapes``: a length bucket, FORWARD_TOKENS
per pass; onnx-int8 one text per pass), so that a text's vector is the same bits in any company.

    python bench/embed_backends.py [--units 3000] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def texts_of(name: str, n: int) -> list[str]:
    import framing
    from framing.units.segment import segment

    if name == "aleppo-2016":
        corpus = framing.load_corpus(ROOT.parent / "shared" / "corpora" / "aleppo-2016")
        texts = list(dict.fromkeys(u.text for u in segment(corpus.documents) if u.section in ("body", "comments")))
        return texts[:n]  # distinct texts only: copies would make "nearest unit" a coin toss between twins
    from make_corpus import sentences

    return [text for _, text in sentences(n, seed=1)]


def nearest(vectors: np.ndarray) -> np.ndarray:
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -2.0)
    return similarity.argmax(axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", nargs="*", default=["torch", "onnx", "onnx-int8"])
    args = parser.parse_args()

    from framing.embed.cache import make_embedder

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; "
          f"medians of {args.runs} runs")
    corpora = ["synthetic"] + (["aleppo-2016"] if (ROOT.parent / "shared" / "corpora" / "aleppo-2016").is_dir()
                               else [])
    with tempfile.TemporaryDirectory() as cache_dir:
        embedders = {b: make_embedder(backend=b, progress=False, cache_dir=cache_dir)
                     for b in args.backends}
        for embedder in embedders.values():
            embedder.encode(["warm-up: load the model, export it once"])
        for corpus in corpora:
            texts = texts_of(corpus, args.units)
            reference = None
            for name, embedder in embedders.items():
                timings = []
                for _ in range(args.runs):
                    start = time.perf_counter()
                    vectors = embedder.encode(texts)
                    timings.append(time.perf_counter() - start)
                if reference is None:
                    reference, reference_nearest = vectors, nearest(vectors)
                cosine = (reference * vectors).sum(axis=1)
                same_nearest = (nearest(vectors) == reference_nearest).mean()
                print(f"{corpus:<12} {len(texts)} units  {name:<10} {len(texts) / statistics.median(timings):6.0f} "
                      f"units/s   cosine to {args.backends[0]}: min {cosine.min():.4f} mean {cosine.mean():.4f}   "
                      f"same nearest unit {100 * same_nearest:5.1f}%", flush=True)


if __name__ == "__main__":
    main()
