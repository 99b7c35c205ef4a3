"""Inside a label that mixes groups: a 2-way split of its units (two-means) and whether the split follows the
groups (adjusted Rand index, with its exact p-value)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..framings.vectors import row_chunks
from .design import ContrastInput
from .narratives import typical_passages


def subframings(data: ContrastInput, compared: list, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Per label and pair, whether a 2-way split of the label's units follows the groups."""
    return [_subframing(data.embeddings, ia, ib, f, a, b, data, rng) for f, a, b, ia, ib in compared]


def _pairs(x: np.ndarray) -> np.ndarray:
    return x * (x - 1) / 2.0


def ari_binary(n11: np.ndarray, a1: int, b1: int, n: int) -> np.ndarray:
    """Adjusted Rand index of two binary labelings from their 2x2 table (vectorized over ``n11``).

    Row and column totals are fixed under a permutation of one labeling, so only ``n11`` varies.
    """
    n10, n01 = a1 - n11, b1 - n11
    n00 = n - a1 - b1 + n11
    index = _pairs(n11) + _pairs(n10) + _pairs(n01) + _pairs(n00)
    rows = _pairs(np.float64(a1)) + _pairs(np.float64(n - a1))
    cols = _pairs(np.float64(b1)) + _pairs(np.float64(n - b1))
    expected = rows * cols / _pairs(np.float64(n))
    maximum = (rows + cols) / 2.0
    return np.where(maximum > expected, (index - expected) / np.maximum(maximum - expected, 1e-12), 0.0)


def two_means(X: np.ndarray, rng: np.random.Generator, n_init: int = 4, max_iter: int = 100,
              fit_rows: int = 2000, rows: np.ndarray | None = None) -> np.ndarray:
    """k-means with k = 2 (k-means++ seeding, Lloyd iterations, best of ``n_init``): a 0/1 label per row of ``X``
    (or per index in ``rows``, read from ``X`` a chunk at a time).

    The same algorithm as scikit-learn's ``KMeans(n_clusters=2, n_init=4)``, written for two centres: a row's
    side is one dot product against the centres' difference. A framing-by-pair contrast at a million units
    makes thousands of such splits, where scikit-learn's per-call validation and threading dominated (27 ms
    a call). Above ``fit_rows`` rows the centres are found on a seeded sample of that many and every row then
    goes to its nearer centre: a framing of 50,000 units would otherwise take half a second per split.
    """
    rows = np.arange(len(X)) if rows is None else np.asarray(rows)
    fit = rows[rng.choice(rows.size, fit_rows, replace=False)] if rows.size > fit_rows else rows
    centres = _two_centres(np.asarray(X[fit], dtype=np.float64), rng, n_init, max_iter)
    if rows.size <= fit_rows:
        return _nearest(np.asarray(X[rows], dtype=np.float64), centres)
    return np.concatenate([_nearest(np.asarray(X[part], dtype=np.float64), centres) for part in row_chunks(rows)])


def _nearest(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return (X @ (centres[1] - centres[0]) > (centres[1] @ centres[1] - centres[0] @ centres[0]) / 2).astype(np.int64)


def _two_centres(X: np.ndarray, rng: np.random.Generator, n_init: int, max_iter: int) -> np.ndarray:
    """The two centres of the best of ``n_init`` k-means runs (lowest within-split squared distance)."""
    norms = np.einsum("ij,ij->i", X, X)
    best, best_inertia = np.stack([X.mean(axis=0)] * 2), np.inf
    for _ in range(n_init):
        first = X[rng.integers(len(X))]
        d2 = np.maximum(norms - 2 * X @ first + first @ first, 0.0)
        second = X[rng.choice(len(X), p=d2 / d2.sum())] if d2.sum() > 0 else first
        centres = np.stack([first, second])
        labels = None
        for _ in range(max_iter):
            new = _nearest(X, centres)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            for k in (0, 1):
                if (labels == k).any():
                    centres[k] = X[labels == k].mean(axis=0)
        inertia = float((norms - 2 * np.einsum("ij,ij->i", X, centres[labels])
                         + np.einsum("ij,ij->i", centres[labels], centres[labels])).sum())
        if inertia < best_inertia - 1e-12:
            best, best_inertia = centres.copy(), inertia
    return best


def split_p_value(ari: float, a1: int, b1: int, n: int) -> float:
    """The exact permutation p-value of a binary split's agreement with binary groups: the chance that shuffling
    the group labels gives an adjusted Rand index at least ``ari``.

    With both margins fixed, a shuffle changes only the 2x2 table's ``n11``, which is hypergeometric (``n``
    units, ``a1`` in group b, ``b1`` in the split's second part), and the index is a function of ``n11``; so the
    whole permutation distribution is a sum over at most ``min(a1, b1) + 1`` values, where drawing 500
    shuffles of a framing's units took 10 of the 17 s that the splits cost at a million units.
    """
    from scipy.special import gammaln  # scipy.stats.hypergeom.pmf costs 20 ms a call in its generic machinery

    def log_choose(total, chosen):
        return gammaln(total + 1.0) - gammaln(chosen + 1.0) - gammaln(total - chosen + 1.0)

    n11 = np.arange(max(0, a1 + b1 - n), min(a1, b1) + 1, dtype=np.float64)
    null = ari_binary(n11, a1, b1, n)
    log_pmf = log_choose(a1, n11) + log_choose(n - a1, b1 - n11) - log_choose(float(n), float(b1))
    return float(min(1.0, np.exp(log_pmf[null >= ari - 1e-12]).sum()))


def _subframing(X, ia, ib, framing, a, b, data: ContrastInput, rng) -> dict[str, Any]:
    """Split a framing's units of two groups in two (k-means) and test whether the split follows the groups."""
    members = np.concatenate([ia, ib])
    labels = np.concatenate([np.zeros(ia.size, int), np.ones(ib.size, int)])
    split = two_means(X, np.random.default_rng(int(rng.integers(1 << 31))), rows=members)
    n, a1, b1 = members.size, int(labels.sum()), int(split.sum())
    ari = float(ari_binary(np.float64((labels & split).sum()), a1, b1, n))
    p_value = split_p_value(ari, a1, b1, n)
    supported = bool(p_value < 0.05 and ari > 0.1)
    parts = []
    for k in (0, 1):
        part = members[split == k]
        parts.append({"size": int(part.size),
                      "share_a": round(float((labels[split == k] == 0).mean()), 4) if part.size else 0.0,
                      "passages": typical_passages(X, part, data.unit_ids, 3) if part.size else []})
    return {"framing": framing, "group_a": a, "group_b": b, "adjusted_rand": round(ari, 4),
            "p_value": round(float(p_value), 4), "supported": supported, "parts": parts,
            "verdict": ("the framing splits along the two groups' lines" if supported
                        else "no split along group lines: the data do not support sub-framings here")}
