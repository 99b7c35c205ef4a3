"""How stable each framing is: re-cluster under perturbation and see whether the framing comes back.

A framing that splits, merges or vanishes when a tenth of the documents is left out, or when UMAP starts from
another seed, is one a co-author re-running the study may not find. :func:`framing_stability` re-clusters the
fitted units ``runs`` times, each time on the units of a random ``fraction`` of the documents (and, with
``reduce``, a UMAP layout of those units from another seed), matches every framing to its best counterpart in
each re-run by the Jaccard index of their core members, and gives each framing the median of those indices: 1 is
a framing that came back whole every time, 0 one that never came back. The run-level figure is the mean adjusted
Rand index between pairs of re-runs over the units they share (noise counted as one more cluster).

The score is bootstrap stability in the sense of Hennig's ``clusterboot`` (Hennig 2007, "Cluster-wise assessment
of cluster stability"), with document subsamples in place of unit bootstraps: units of one document are not
independent. Clustering runs on the fitted units only (at a million units, the fitted sample), so its cost is
bounded by ``reduce.fit_sample`` and not by the corpus.
"""
from __future__ import annotations

import itertools
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .partition import scaled_count

__all__ = ["Stability", "Reclustering", "recluster", "framing_stability", "best_jaccard", "document_subsample"]

log = logging.getLogger(__name__)



@dataclass
class Stability:
    """Each framing's stability and the run-level agreement between re-runs.

    ``scores`` (n_framings,) holds each framing's median best Jaccard in [0, 1], by the model's framing index (NaN
    where a framing had no core member in any re-run's subsample); ``mean_ari`` the mean adjusted Rand index
    between pairs of re-runs; ``jaccards`` (runs, n_framings) every re-run's best Jaccard, NaN where the framing
    had no core member in that subsample.
    """

    scores: np.ndarray
    mean_ari: float
    runs: int
    fraction: float
    reduce: bool
    threshold: float
    seconds: float
    units: int
    jaccards: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))

    def summary(self) -> dict[str, Any]:
        """What the run's manifest keeps (the per-framing scores live on the framings)."""
        return {"runs": self.runs, "fraction": self.fraction, "reduce": self.reduce, "threshold": self.threshold,
                "mean_ari": None if np.isnan(self.mean_ari) else round(float(self.mean_ari), 4),
                "units": self.units, "seconds": round(self.seconds, 3)}


def document_subsample(documents: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Rows of the units whose document is among a random ``fraction`` of the documents (at least one)."""
    codes, inverse = np.unique(documents, return_inverse=True)
    n_keep = max(1, int(round(fraction * codes.size)))
    keep = np.zeros(codes.size, dtype=bool)
    keep[rng.choice(codes.size, size=n_keep, replace=False)] = True
    return np.flatnonzero(keep[inverse])


def best_jaccard(reference: np.ndarray, other: np.ndarray, n_reference: int) -> np.ndarray:
    """For each reference cluster 0..n_reference-1, the highest Jaccard index between its members and one cluster
    of ``other`` (same rows; -1 is noise in both and is nobody's member); NaN where it has no member here."""
    in_reference = reference >= 0
    reference_sizes = np.bincount(reference[in_reference], minlength=n_reference).astype(np.float64)
    result = np.full(n_reference, np.nan)
    result[reference_sizes > 0] = 0.0
    both = in_reference & (other >= 0)
    if not both.any():
        return result
    n_other = int(other.max()) + 1
    other_sizes = np.bincount(other[other >= 0], minlength=n_other).astype(np.float64)
    pairs = reference[both].astype(np.int64) * n_other + other[both]
    found, shared = np.unique(pairs, return_counts=True)
    rows, columns = np.divmod(found, n_other)
    jaccard = shared / (reference_sizes[rows] + other_sizes[columns] - shared)
    np.maximum.at(result, rows, jaccard)
    return result


def _cluster(space: np.ndarray, min_cluster_size: int, min_samples: int | None, selection_method: str,
             selection_epsilon: float) -> np.ndarray:
    import hdbscan

    clusterer = hdbscan.HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples,
                                cluster_selection_method=selection_method,
                                cluster_selection_epsilon=float(selection_epsilon))
    return clusterer.fit(space).labels_.astype(np.int64)


@dataclass
class Reclustering:
    """One re-clustering: the fitted units it held (``rows``) and the cluster of each (-1: noise)."""

    rows: np.ndarray
    labels: np.ndarray


def recluster(space: np.ndarray, documents: np.ndarray, *, runs: int, fraction: float, min_cluster_size: int,
              min_samples: int | None, selection_method: str, selection_epsilon: float, random_state: int,
              max_units: int | None = None, reduce: Callable[[np.ndarray, int], np.ndarray] | None = None,
              embeddings: np.ndarray | None = None, progress: bool | None = None, stream: int = 0,
              desc: str = "framings: stability (re-clustering subsamples)") -> tuple[list[Reclustering], float]:
    """``runs`` HDBSCAN clusterings of document subsamples of the fitted units, and the share of the documents
    each kept.

    ``space`` (m, k): the fitted units' clustering space; ``documents`` (m,): each unit's document, what
    subsamples draw (a document's units are not independent); ``min_cluster_size`` and ``min_samples`` as the fit
    used them, scaled to each subsample. ``max_units`` bounds the cost: with more fitted units than that, each
    subsample keeps ``fraction × max_units / m`` of the documents instead. With ``reduce`` (a function of
    (embeddings, seed) -> space) and ``embeddings`` (m, d), every run lays its subsample out anew with seed
    ``random_state + 1 + run``. Run ``k`` draws from ``numpy.random.default_rng([random_state, stream, k])``: the
    same inputs give the same re-clusterings, and another ``stream`` (the consensus uses 1, stability 0) draws
    subsamples independent of them.
    """
    m = space.shape[0]
    if not (0.0 < fraction <= 1.0):
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if documents.shape[0] != m:
        raise ValueError("space and documents must have one row per unit")
    drawn = fraction if max_units is None or m <= max_units else fraction * max_units / m
    found: list[Reclustering] = []
    from ..progress import progress_bar

    bar = progress_bar(progress, total=runs, desc=desc, unit="run", leave=False)
    for run in range(runs):
        rows = document_subsample(documents, drawn, np.random.default_rng([random_state, stream, run]))
        if rows.size > min_cluster_size:  # fewer: HDBSCAN cannot find anything
            run_space = reduce(embeddings[rows], random_state + 1 + run) if reduce is not None else space[rows]
            labels = _cluster(run_space, scaled_count(min_cluster_size, rows.size, m),
                              None if min_samples is None else scaled_count(min_samples, rows.size, m),
                              selection_method, selection_epsilon)
            found.append(Reclustering(rows, labels))
        bar.update(1)
    bar.close()
    return found, drawn


def framing_stability(core_labels: np.ndarray, n_framings: int, reclusterings: list[Reclustering], *,
                      fraction: float, reduce: bool, threshold: float, seconds: float = 0.0) -> Stability:
    """Stability of each framing of one clustering against re-clusterings (:func:`recluster`): the median over
    re-clusterings of each framing's best Jaccard index (:func:`best_jaccard`).

    ``core_labels`` (m,): each fitted unit's framing index, -1 where HDBSCAN left it out (attached units count as
    left out: the score is about what HDBSCAN finds).
    """
    m = core_labels.shape[0]
    jaccards = np.full((len(reclusterings), n_framings), np.nan)
    for k, run in enumerate(reclusterings):
        jaccards[k] = best_jaccard(core_labels[run.rows], run.labels, n_framings)
    with warnings.catch_warnings():  # a framing no subsample held has an all-NaN column: it stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        scores = np.nanmedian(jaccards, axis=0) if reclusterings else np.full(n_framings, np.nan)
    return Stability(scores=scores, mean_ari=_mean_pairwise_ari(reclusterings, m), runs=len(reclusterings),
                     fraction=fraction, reduce=reduce, threshold=threshold, seconds=seconds, units=m,
                     jaccards=jaccards)


def _mean_pairwise_ari(reclusterings: list[Reclustering], m: int) -> float:
    """Mean adjusted Rand index between pairs of re-runs over the units both hold (noise is one more cluster)."""
    from sklearn.metrics import adjusted_rand_score

    scores = []
    for a, b in itertools.combinations(reclusterings, 2):
        full_a, full_b = np.full(m, -2, dtype=np.int64), np.full(m, -2, dtype=np.int64)
        full_a[a.rows], full_b[b.rows] = a.labels, b.labels
        shared = (full_a != -2) & (full_b != -2)
        if shared.sum() >= 2:
            scores.append(adjusted_rand_score(full_a[shared], full_b[shared]))
    return float(np.mean(scores)) if scores else float("nan")
