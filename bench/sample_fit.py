"""Fit on a sample, place the rest: agreement with a full fit, time, and the framings side by side.

The corpus is run once (``framing.analyze`` with the full fit; vectors and UMAP results come from the cache when
it holds them), then ``FramingModel`` is fitted again on the same distinct units' vectors:

- ``full, seed+1``: the full fit with another seed — how much a full fit itself moves (the ceiling to expect);
- ``sample N, vote|hdbscan``: the graph, UMAP and HDBSCAN on a source-stratified sample of N units, the rest
  placed by their sampled neighbours (framing by their weighted vote, or ``hdbscan.approximate_predict``), with
  ``min_cluster_size`` scaled by the sample fraction (what ``FramingModel`` does) and, to show why, unscaled;
- ``umap transform N``: umap-learn's own ``UMAP.fit`` on the sample and ``transform`` of the rest (its extra
  optimisation epochs), then ``approximate_predict`` and the same reassignment (cosine 0.3 to a centre).

ARI and AMI compare each partition to the full fit over all distinct units (unassigned as one cluster) and over
units assigned in both; seconds are the fit alone (vectors in memory).

    python bench/sample_fit.py --corpus /tmp/c100k --sizes 20000 50000
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

import framing
from framing.embed.cache import EmbeddingCache, embed_texts, make_embedder, vector_key
from framing.framings.model import FramingModel
from framing.framings.partition import UNASSIGNED
from framing.framings.placement import stratified_sample

ROOT = Path(__file__).resolve().parents[1]


def scores(reference: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    both = (reference != UNASSIGNED) & (labels != UNASSIGNED)
    return {"ARI": adjusted_rand_score(reference, labels), "AMI": adjusted_mutual_info_score(reference, labels),
            "ARI, assigned in both": adjusted_rand_score(reference[both], labels[both]),
            "coverage": float((labels != UNASSIGNED).mean())}


def umap_transform(X: np.ndarray, sources, size: int, args) -> np.ndarray:
    import hdbscan
    import umap

    sample = stratified_sample(sources, X.shape[0], size, args.seed)
    rest = np.setdiff1d(np.arange(X.shape[0]), sample)
    reducer = umap.UMAP(n_components=5, n_neighbors=15, min_dist=0.0, metric="cosine", random_state=args.seed)
    space = np.empty((X.shape[0], 5), dtype=np.float32)
    space[sample] = reducer.fit_transform(X[sample])
    space[rest] = reducer.transform(X[rest])
    clusterer = hdbscan.HDBSCAN(min_cluster_size=scaled(args.min_cluster_size, size, X.shape[0]),
                                cluster_selection_method="leaf", prediction_data=True).fit(space[sample])
    labels = np.empty(X.shape[0], dtype=np.int64)
    labels[sample] = clusterer.labels_
    labels[rest] = hdbscan.approximate_predict(clusterer, space[rest])[0]
    model = FramingModel(reassign_threshold=0.3)  # the same reassignment as every other row
    model.labels_, model.centroids_ = FramingModel._order_by_size(X, labels)
    model.reassigned_ = np.zeros(X.shape[0], dtype=bool)
    model._reassign(X)
    return model.labels_


def scaled(min_cluster_size: int, size: int, n: int) -> int:
    return max(5, round(min_cluster_size * min(size, n) / n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--config", default=str(ROOT / "configs" / "example.yaml"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 50000])
    parser.add_argument("--min-cluster-size", type=int, default=25)
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    parser.add_argument("--no-transform", action="store_true", help="skip umap-learn's transform (slow)")
    args = parser.parse_args()

    result = framing.analyze(args.corpus, args.config, progress=False, embedding__backend=args.backend,
                             embedding__cache_dir=args.cache_dir, reduce__fit_sample=None,
                             cluster__min_cluster_size=args.min_cluster_size, contrast__enabled=False,
                             frames__codebook=None)
    units = result.units[result.units["duplicate_of"] == ""].reset_index(drop=True)
    embedder = make_embedder(backend=args.backend, cache_dir=args.cache_dir, progress=False)
    cache = EmbeddingCache(args.cache_dir, vector_key(embedder))
    X = np.ascontiguousarray(embed_texts(units["text"].tolist(), embedder, cache)[0])
    reference = units["framing"].to_numpy()
    sources = units["source"].to_numpy()
    memory = str(Path(args.cache_dir).expanduser() / "reductions")
    print(f"{X.shape[0]} distinct units, full fit: {int(reference.max()) + 1} framings "
          f"(min_cluster_size {args.min_cluster_size})")
    rows = []

    def record(name: str, labels: np.ndarray, seconds: float, min_cluster_size: int) -> None:
        rows.append({"fit": name, "HDBSCAN min_cluster_size": min_cluster_size, "framings": int(labels.max()) + 1,
                     **scores(reference, labels), "seconds": round(seconds, 1)})
        print(rows[-1], flush=True)

    common = dict(selection_method="leaf", random_state=args.seed, reassign_threshold=0.3, memory=memory)
    start = time.perf_counter()
    other = FramingModel(min_cluster_size=args.min_cluster_size, **{**common, "random_state": args.seed + 1}).fit(X)
    record("full, seed+1", other.labels_, time.perf_counter() - start, args.min_cluster_size)
    for size in args.sizes:
        # FramingModel scales min_cluster_size by the sample fraction; undo that to show the unscaled fit
        unscaled = round(args.min_cluster_size * X.shape[0] / min(size, X.shape[0]))
        for given in (args.min_cluster_size, unscaled):
            for assign in ("vote", "hdbscan"):
                start = time.perf_counter()
                model = FramingModel(min_cluster_size=given, fit_sample=size, assign=assign,
                                     **common).fit(X, strata=sources)
                record(f"sample {size}, {assign}", model.labels_, time.perf_counter() - start,
                       model.min_cluster_size_fitted_)
                if assign == "vote" and given == args.min_cluster_size:
                    describe(units, reference, model.labels_)
        if not args.no_transform:
            start = time.perf_counter()
            labels = umap_transform(X, sources, size, args)
            record(f"umap transform {size}", labels, time.perf_counter() - start,
                   scaled(args.min_cluster_size, size, X.shape[0]))
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(pd.DataFrame(rows).to_string(index=False))


def describe(units: pd.DataFrame, reference: np.ndarray, labels: np.ndarray, n: int = 5) -> None:
    """The five largest framings of the full fit beside the sample-fit framing that holds most of their units."""
    from framing.framings.terms import class_tfidf_terms

    texts = units["text"].tolist()
    full_terms = class_tfidf_terms(texts, reference, n_terms=4)
    sample_terms = class_tfidf_terms(texts, labels, n_terms=4)
    for framing_id in range(n):
        members = reference == framing_id
        found = pd.Series(labels[members]).value_counts()
        best = int(found.index[0])
        print(f"  full #{framing_id} ({members.sum()}): {' / '.join(t for t, _ in full_terms.get(framing_id, []))}"
              f"  ↔  sample #{best} ({found.iloc[0]} of them): "
              f"{' / '.join(t for t, _ in sample_terms.get(best, []))}")


if __name__ == "__main__":
    main()
