"""Documents as the unit of resampling: per-document label counts and bootstrap draws of documents (as draw
indices or as multiplicities), a bounded number of cells at a time."""
from __future__ import annotations

from typing import Iterator

import numpy as np


def doc_counts(doc_index: np.ndarray, columns: np.ndarray, n_docs: int, n_columns: int):
    """Sparse (documents, columns) unit counts: at a million units, 40,000 documents and 2,800 framings the
    dense table would be 900 MB, almost all zeros."""
    from scipy.sparse import csr_matrix

    return csr_matrix((np.ones(doc_index.size), (doc_index, columns)), shape=(n_docs, n_columns))


def _draw_multiplicities(draws: np.ndarray, n: int) -> np.ndarray:
    """``(n_draws, n)`` counts: how many times each bootstrap draw (a row of indices below ``n``) picks each item."""
    n_draws = draws.shape[0]
    flat = (np.arange(n_draws)[:, None] * n + draws).ravel()
    return np.bincount(flat, minlength=n_draws * n).reshape(n_draws, n).astype(np.float64)


BOOTSTRAP_CELLS = 1 << 21  # draws x items per chunk: 16 MB of multiplicities


def bootstrap_draws(rng: np.random.Generator, n: int, bootstrap: int) -> Iterator[np.ndarray]:
    """``bootstrap`` resamples of ``n`` items (rows of indices below ``n``), a chunk of rows at a time.

    The same numbers as one ``rng.integers(0, n, size=(bootstrap, n))``, which with its multiplicities held
    640 MB at a thousand draws over the 20,000 documents of a group at a million units.
    """
    rows = max(1, BOOTSTRAP_CELLS // max(n, 1))
    for start in range(0, bootstrap, rows):
        yield rng.integers(0, n, size=(min(rows, bootstrap - start), n))


def bootstrap_multiplicities(rng: np.random.Generator, n: int, bootstrap: int) -> Iterator[np.ndarray]:
    """``bootstrap_draws`` as ``(draws, n)`` multiplicities: how often each draw picks each item."""
    for draws in bootstrap_draws(rng, n, bootstrap):
        yield _draw_multiplicities(draws, n)
