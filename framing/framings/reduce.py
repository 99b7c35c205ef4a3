"""UMAP plumbing of the framings stage: one neighbour graph, one spectral initialisation, two layouts (the
clustering space and the 2-d map), and the cache key of a reduction."""
from __future__ import annotations

import hashlib
import json
import logging
import warnings
from typing import Any

import numpy as np

__all__ = ["EXACT_KNN_LIMIT", "PARALLEL_LAYOUT_MIN_UNITS", "knn_graph", "neighbour_index", "reduce_embeddings",
           "reduction_key", "spectral_init", "umap_layout"]

log = logging.getLogger(__name__)


# At or above this many points, neighbours come from pynndescent (approximate); below it, exact search is cheap
# and exactly reproducible.
EXACT_KNN_LIMIT = 4096


def knn_graph(embeddings: np.ndarray, n_neighbors: int, metric: str, random_state: int):
    """One neighbour graph for both UMAP runs (the clustering space and the 2-d map)."""
    n = embeddings.shape[0]
    if n < EXACT_KNN_LIMIT:
        from sklearn.metrics import pairwise_distances

        distances = pairwise_distances(embeddings, metric=metric).astype(np.float32)
        # UMAP expects each point first among its own neighbours, even beside exact duplicates; the stable sort
        # keeps ties in index order so the graph is the same on every run.
        np.fill_diagonal(distances, -1.0)
        indices = np.argsort(distances, axis=1, kind="stable")[:, :n_neighbors]
        np.fill_diagonal(distances, 0.0)
        return indices.astype(np.int64), np.take_along_axis(distances, indices, axis=1), None
    from umap.umap_ import nearest_neighbors

    indices, distances, search_index = nearest_neighbors(
        embeddings, n_neighbors, metric, {}, False, np.random.RandomState(random_state)
    )
    return indices, distances, search_index


def spectral_init(X: np.ndarray, knn, n_neighbors: int, metric: str, random_state: int,
                   n_components: int) -> np.ndarray:
    """UMAP's spectral initialisation, computed once: the map starts from its first two columns.

    As ``umap.UMAP(init="spectral")`` does it: the fuzzy graph of the shared neighbours, pruned as for the
    default number of epochs, its Laplacian eigenvectors, scaled to ±10 with a little seeded noise. The
    eigenvectors come sorted by eigenvalue, so the first two columns are the 2-d spectral layout; computing it
    once saves the second eigen-decomposition (about 17 s at 100k units).
    """
    from umap.spectral import spectral_layout
    from umap.umap_ import fuzzy_simplicial_set

    rng = np.random.RandomState(random_state)
    graph, _, _ = fuzzy_simplicial_set(X, n_neighbors, rng, metric, knn_indices=knn[0], knn_dists=knn[1])
    graph = graph.tocoo()
    graph.sum_duplicates()
    n_epochs = 500 if graph.shape[0] <= 10000 else 200  # UMAP's default, which sets its pruning threshold
    graph.data[graph.data < graph.data.max() / float(n_epochs)] = 0.0
    graph.eliminate_zeros()
    layout = spectral_layout(X, graph, n_components, rng, metric=metric)
    layout = layout * (10.0 / np.abs(layout).max())
    return (layout + rng.normal(scale=0.0001, size=layout.shape)).astype(np.float32)


def umap_layout(X: np.ndarray, knn, n_components: int, n_neighbors: int, min_dist: float, metric: str,
            random_state: int, init: np.ndarray) -> np.ndarray:
    """One UMAP layout over the shared neighbour graph (runs in a worker process when layouts run in parallel)."""
    from .._numba_cache import enable_numba_disk_cache

    enable_numba_disk_cache()
    import umap

    log.info("UMAP: %d units → %d dimensions", X.shape[0], n_components)
    with warnings.catch_warnings():
        # No search index is kept (we never transform new data), and random_state makes UMAP single-threaded
        # on purpose: both facts are expected, not worth a warning to the user.
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        warnings.filterwarnings("ignore", message=".*n_jobs value.*overridden.*")
        warnings.filterwarnings("ignore", message="Cannot cache compiled function")  # numba: some cannot be
        model = umap.UMAP(n_components=n_components, n_neighbors=n_neighbors, min_dist=min_dist, metric=metric,
                          random_state=random_state, init=init,
                          # copies: UMAP marks disconnected neighbours in place, and a worker's arrays are read-only
                          precomputed_knn=(np.array(knn[0]), np.array(knn[1]), None))
        return model.fit_transform(X).astype(np.float32)


# Below this many units the two layouts run one after the other: a worker process costs more than it saves.
PARALLEL_LAYOUT_MIN_UNITS = 20000


def neighbour_index(X: np.ndarray, metric: str, n_neighbors: int, random_state: int,
                     pynndescent_version: str) -> Any:
    """A pynndescent search index over ``X`` (the version is an argument so that the cache's key holds it)."""
    from .._numba_cache import enable_numba_disk_cache

    enable_numba_disk_cache()
    from pynndescent import NNDescent

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Cannot cache compiled function")
        index = NNDescent(X, metric=metric, n_neighbors=n_neighbors, random_state=random_state, low_memory=True)
        index.prepare()
    return index


def reduce_embeddings(X: np.ndarray, n_neighbors: int, n_components: int, min_dist: float, map_min_dist: float, metric: str,
            random_state: int, n_jobs: int, umap_version: str) -> tuple[np.ndarray, np.ndarray]:
    """The clustering space and the 2-d map: one neighbour graph, one spectral initialisation, two layouts.

    Each layout is single-threaded and seeded, so running the two in two processes (``n_jobs`` 2) gives the same
    arrays as running them in turn. ``umap_version`` is not used here: it is part of the cache key, so an
    upgrade never reuses old results.
    """
    from .._numba_cache import enable_numba_disk_cache

    enable_numba_disk_cache()  # before umap or pynndescent compiles anything in this process
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Cannot cache compiled function")  # numba: some cannot be
        knn = knn_graph(X, n_neighbors, metric, random_state)
        init = spectral_init(X, knn, n_neighbors, metric, random_state, n_components)
    knn = (knn[0], knn[1])
    jobs = [(n_components, min_dist, init), (2, map_min_dist, np.ascontiguousarray(init[:, :2]))]
    if n_jobs > 1 and X.shape[0] >= PARALLEL_LAYOUT_MIN_UNITS:
        from joblib import Parallel, delayed

        space, coordinates = Parallel(n_jobs=2, backend="loky")(
            delayed(umap_layout)(X, knn, components, n_neighbors, spread, metric, random_state, start)
            for components, spread, start in jobs)
    else:
        space, coordinates = (umap_layout(X, knn, components, n_neighbors, spread, metric, random_state, start)
                              for components, spread, start in jobs)
    return space, coordinates


def reduction_key(X: np.ndarray, settings: dict, umap_version: str) -> str:
    """The cache key of a reduction: the embeddings' bytes and shape, the settings and UMAP's version."""
    digest = hashlib.sha256(f"framing-reduction-1|{X.shape}|{X.dtype.str}|umap {umap_version}|".encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(memoryview(np.ascontiguousarray(X)).cast("B"))
    return digest.hexdigest()[:32]
