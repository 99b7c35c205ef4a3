"""Sample and place: which units a large corpus fits its framings on (a stratified sample), and how the rest are
placed among them (UMAP's membership weights over a unit's nearest fitted neighbours, then a weighted vote)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = ["Placement", "neighbour_weights", "stratified_sample", "vote"]


def stratified_sample(strata: Sequence[Any] | None, n_units: int, size: int, random_state: int) -> np.ndarray:
    """Sorted indices of ``size`` of ``n_units`` units, drawn within strata (sources) so small ones keep a voice.

    Each stratum first gets a floor of ``size // (10 * n_strata)`` units (all of its units when it has fewer), so
    an outlet with 0.1% of the corpus is not reduced to a handful of points the clustering cannot see; the rest
    of the sample is shared in proportion to what each stratum has left (largest remainders). Within a stratum
    the draw is uniform and seeded. ``strata`` None: one stratum.
    """
    if size >= n_units:
        return np.arange(n_units)
    codes = (np.zeros(n_units, dtype=np.int64) if strata is None
             else np.unique(np.asarray(strata, dtype=object).astype(str), return_inverse=True)[1].ravel())
    counts = np.bincount(codes)
    quota = np.minimum(counts, size // (10 * counts.size))
    left, spare = counts - quota, size - int(quota.sum())
    if spare > 0:
        share = spare * left / max(int(left.sum()), 1)
        extra = np.floor(share).astype(np.int64)
        short = spare - int(extra.sum())
        extra[np.argsort(-(share - extra), kind="stable")[:short]] += 1
        quota += np.minimum(extra, left)
    rng = np.random.default_rng(random_state)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    chosen = [rng.choice(order[bounds[k]:bounds[k + 1]], size=int(quota[k]), replace=False)
              for k in range(counts.size) if quota[k]]
    return np.sort(np.concatenate(chosen))


def neighbour_weights(distances: np.ndarray, n_neighbors: int) -> np.ndarray:
    """UMAP's membership strengths of a new point's neighbours (as ``UMAP.transform`` starts from), summing to 1.

    ``exp(-(d - rho) / sigma)`` with ``rho`` the distance to the nearest neighbour and ``sigma`` set so the
    strengths sum to ``log2(k)``: close neighbours count most, and a point amid duplicates is not divided evenly.
    """
    from .._numba_cache import enable_numba_disk_cache

    enable_numba_disk_cache()  # umap may be first used here, when its layouts came from the cache
    from umap.umap_ import smooth_knn_dist

    distances = distances.astype(np.float32)
    sigmas, rhos = smooth_knn_dist(distances, float(n_neighbors))
    weights = np.exp(-np.maximum(distances - rhos[:, None], 0.0) / sigmas[:, None])
    return weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)


def vote(neighbour_labels: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's label with the largest summed weight among its neighbours (unassigned can win), and that share."""
    same = neighbour_labels[:, :, None] == neighbour_labels[:, None, :]
    support = (same * weights[:, None, :]).sum(axis=2)  # (m, k): the weight behind each neighbour's label
    best = support.argmax(axis=1)
    rows = np.arange(neighbour_labels.shape[0])
    return neighbour_labels[rows, best], support[rows, best].astype(np.float32)


@dataclass
class Placement:
    """Units placed among a fitted sample: clustering-space and map positions, framing (as HDBSCAN numbered it
    on the sample), membership strength."""

    space: np.ndarray
    map: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray

    @classmethod
    def concatenate(cls, parts: Sequence["Placement"]) -> "Placement":
        """Chunks placed one after another, as one placement."""
        return cls(*(np.concatenate([getattr(p, name) for p in parts])
                     for name in ("space", "map", "labels", "probabilities")))
