"""One partition from several clusterings: units that HDBSCAN puts together in most re-clusterings stay together.

Evidence accumulation (Fred & Jain 2005) over the fit's own clustering and ``cluster.consensus`` re-clusterings
of document subsamples (:func:`framing.framings.stability.recluster`): two units' co-association is the share of
the clusterings holding both that put them in one cluster. A full co-association matrix is n² (80 GB at 100k
units), so it is taken only over each unit's nearest neighbours in the clustering space; the framings are the
connected groups of neighbours whose co-association is above ``agreement``, kept when they have at least
``min_cluster_size`` units. Whether this gives a more stable or more valid result is measured, not assumed
(bench/stability.py, "consensus").
"""
from __future__ import annotations

import numpy as np

from .partition import UNASSIGNED
from .stability import Reclustering

__all__ = ["co_association_edges", "consensus_labels"]


def co_association_edges(space: np.ndarray, base_labels: np.ndarray, reclusterings: list[Reclustering],
                         n_neighbors: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's ``n_neighbors`` nearest neighbours in ``space`` (rows ``i``, ``j``) and the co-association of
    each pair over ``base_labels`` and the re-clusterings that hold both units (noise is nobody's cluster)."""
    from sklearn.neighbors import NearestNeighbors

    m = space.shape[0]
    k = min(n_neighbors + 1, m)
    # exact search in the low-dimensional clustering space (a k-d tree: fast at 5 dimensions), ties by index
    _, neighbours = NearestNeighbors(n_neighbors=k).fit(space).kneighbors(space)
    i = np.repeat(np.arange(m), k - 1)
    j = neighbours[:, 1:].reshape(-1)
    together = np.zeros(i.size, dtype=np.int32)
    present = np.zeros(i.size, dtype=np.int32)
    full = np.empty(m, dtype=np.int64)
    for rows, labels in [(np.arange(m), base_labels)] + [(r.rows, r.labels) for r in reclusterings]:
        full.fill(-2)  # -2: not in this clustering's subsample
        full[rows] = labels
        both = (full[i] != -2) & (full[j] != -2)
        present += both
        together += both & (full[i] == full[j]) & (full[i] >= 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(present > 0, together / np.maximum(present, 1), 0.0)
    return i, j, share


def consensus_labels(space: np.ndarray, base_labels: np.ndarray, reclusterings: list[Reclustering],
                     min_cluster_size: int, n_neighbors: int = 15, agreement: float = 0.5) -> np.ndarray:
    """The consensus partition of the fitted units: -1 for units in no group of ``min_cluster_size`` or more.

    Labels are numbered by each group's first unit, so the same inputs give the same labels.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m = space.shape[0]
    i, j, share = co_association_edges(space, base_labels, reclusterings, n_neighbors)
    keep = share > agreement
    graph = coo_matrix((np.ones(int(keep.sum()), dtype=np.int8), (i[keep], j[keep])), shape=(m, m))
    _, component = connected_components(graph, directed=False)
    sizes = np.bincount(component)
    large = sizes[component] >= min_cluster_size
    labels = np.full(m, UNASSIGNED, dtype=np.int64)
    if large.any():
        # renumber the kept groups 0.. in the order of their first unit
        found, first = np.unique(component[large], return_index=True)
        order = np.argsort(np.flatnonzero(large)[first], kind="stable")
        number = np.empty(found.size, dtype=np.int64)
        number[order] = np.arange(found.size)
        labels[large] = number[np.searchsorted(found, component[large])]
    return labels
