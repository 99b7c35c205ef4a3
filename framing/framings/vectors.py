"""Statistics over the rows of the unit vectors that may be a memory map of a million rows: each reads its rows a
chunk at a time (centres, cosines to a centre, dot products) or groups row indices by label in one sort."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from .partition import UNASSIGNED

__all__ = ["GATHER_ROWS", "central_rows", "centre_cosines", "dot_rows", "label_centroids", "members_of", "row_chunks"]


def label_centroids(X: np.ndarray, labels: np.ndarray, n_labels: int, chunk: int = 100_000) -> np.ndarray:
    """Unit-length mean vector of each label 0..n_labels-1 (unassigned rows ignored), reading ``X`` once in
    chunks (it may be a memory map of a million rows)."""
    from scipy.sparse import csr_matrix

    sums = np.zeros((n_labels, X.shape[1]), dtype=np.float64)
    for start in range(0, X.shape[0], chunk):
        part = labels[start:start + chunk]
        keep = np.flatnonzero(part != UNASSIGNED)
        indicator = csr_matrix((np.ones(keep.size), (part[keep], keep)), shape=(n_labels, part.size))
        sums += indicator @ np.asarray(X[start:start + chunk], dtype=np.float64)
    norms = np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return (sums / norms).astype(np.float32)


# Rows of the embeddings read at a time when a statistic goes over one framing's units: at a million units one
# framing can hold 300,000 of them, and copying its rows whole took 0.4 GB.
GATHER_ROWS = 65_536


def row_chunks(rows: np.ndarray, size: int | None = None) -> Iterator[np.ndarray]:
    """``rows`` in consecutive parts of at most ``size`` (``GATHER_ROWS``)."""
    size = size or GATHER_ROWS
    for start in range(0, rows.size, size):
        yield rows[start:start + size]


def dot_rows(X: np.ndarray, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``X[rows] @ vector`` without copying ``X[rows]`` whole."""
    if not rows.size:
        return np.zeros(0, dtype=np.result_type(X.dtype, vector.dtype))
    return np.concatenate([X[part] @ vector for part in row_chunks(rows)])


def centre_cosines(X: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each unit's cosine to its framing's centre (rows of ``X`` and ``centroids`` unit length; ``centroids[f]``
    is framing ``f``'s); NaN for unassigned units. Computed a chunk of rows at a time (``X`` may be a memory map)."""
    out = np.full(labels.size, np.nan, dtype=np.float32)
    assigned = np.flatnonzero(labels != UNASSIGNED)
    for part in row_chunks(assigned):
        out[part] = np.einsum("ij,ij->i", X[part], centroids[labels[part]])
    return out


def members_of(labels: np.ndarray) -> dict[int, np.ndarray]:
    """The row indices of each label, in row order: one stable sort instead of a scan per label."""
    order = np.argsort(labels, kind="stable")
    values, starts = np.unique(labels[order], return_index=True)
    bounds = np.r_[starts, order.size]
    return {int(v): order[a:b] for v, a, b in zip(values, bounds[:-1], bounds[1:])}


def central_rows(X: np.ndarray, labels: np.ndarray, centroids: np.ndarray, k: int,
                 attached: np.ndarray | None = None) -> dict[int, np.ndarray]:
    """Each label's ``k`` rows nearest its centre (``centroids[label]``), nearest first, among its core rows
    (``attached`` rows only when a label has no other)."""
    attached = np.zeros(labels.size, dtype=bool) if attached is None else np.asarray(attached, dtype=bool)
    out: dict[int, np.ndarray] = {}
    for label, members in members_of(labels).items():
        if label == UNASSIGNED:
            continue
        core = members[~attached[members]]
        shown = core if core.size else members
        closeness = dot_rows(X, shown, centroids[label])
        out[label] = shown[np.argsort(-closeness, kind="stable")[:k]]
    return out
