"""Stage 4: find recurring framings — UMAP reduction, HDBSCAN clustering.

``FramingModel`` follows scikit-learn's estimator contract: the constructor only stores parameters, ``fit``
validates its input and sets the fitted attributes (names ending in ``_``), and ``random_state`` makes the
result repeatable. Its kernels live beside it: ``reduce`` (UMAP), ``placement`` (sample and place),
``consensus``, ``vectors`` (centres); ``describe`` then turns labels into ``Framing`` records.
"""
from __future__ import annotations

import logging
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from ..store.array_cache import ArrayEntry
from ..config import ClusterConfig, ReduceConfig, RunConfig
from ..errors import FramingError
from .partition import UNASSIGNED, scaled_count
from .placement import Placement, neighbour_weights, stratified_sample, vote
from .reduce import (EXACT_KNN_LIMIT, knn_graph, neighbour_index, reduce_embeddings, reduction_key, spectral_init,
                     umap_layout)
from .vectors import label_centroids

__all__ = ["FramingModel", "Placement", "condensed_tree_links", "place_in_chunks"]

log = logging.getLogger(__name__)

# Defaults live once, in the config's fields; the estimator takes them from there.
_REDUCE = {name: field.default for name, field in ReduceConfig.model_fields.items()}
_CLUSTER = {name: field.default for name, field in ClusterConfig.model_fields.items()}


def place_in_chunks(model: "FramingModel", X: np.ndarray, rest: np.ndarray, progress: bool | None) -> Placement:
    """The local engine's placement: ``model.place`` over ``chunk_size`` units at a time, with a progress bar."""
    from ..progress import progress_bar

    parts = []
    with progress_bar(progress, total=rest.size, desc="placing units", unit="unit", leave=False) as bar:
        for start in range(0, rest.size, model.chunk_size):
            chunk = rest[start:start + model.chunk_size]
            parts.append(model.place(X[chunk]))
            bar.update(chunk.size)
    return Placement.concatenate(parts)


class FramingModel:
    """Reduce embeddings with UMAP and cluster them with HDBSCAN.

    Fitted attributes: ``space_`` (n, n_components) clustering space; ``map_`` (n, 2) map coordinates;
    ``labels_`` (n,) framing per unit, ``-1`` unassigned; ``probabilities_`` (n,) HDBSCAN membership strength;
    ``reassigned_`` (n,) bool, units given to a framing by ``reassign_threshold``; ``centroids_``
    (n_framings, d) unit-length mean embedding per framing; ``n_framings_``; ``fitted_`` (n,) bool, units the
    reduction and clustering were fitted on (all of them unless ``fit_sample`` is smaller than the corpus);
    ``min_cluster_size_fitted_`` and ``min_samples_fitted_``, scaled to the sample (the same without one);
    ``tree_nodes_`` (n_framings,) each framing's node in HDBSCAN's condensed tree (-1 with ``consensus``: a
    consensus framing has none) and ``tree_parents_`` the tree's
    parent links between cluster nodes (for ``framing.framings.hierarchy``).

    ``memory`` (a folder, or a ``joblib.Memory`` whose folder is used) caches the UMAP results by
    the content of the embeddings and the reduction parameters, as plain arrays with a checksum
    (:class:`framing.store.array_cache.ArrayEntry`, never a pickle): refitting with other clustering parameters, or
    re-running the same corpus, skips UMAP. ``n_jobs`` 2 runs the two UMAP layouts (clustering space and map)
    in two processes from 20,000 units up; the result is the same as with 1.

    ``fit_sample`` bounds the cost of large corpora: the kNN graph, UMAP and HDBSCAN see at most that many units
    (drawn within sources, :func:`stratified_sample`), and the others are placed by :meth:`place` in chunks of
    ``chunk_size`` — by their sampled neighbours' vote (``assign`` "vote") or ``hdbscan.approximate_predict``
    (``assign`` "hdbscan"). UMAP and HDBSCAN then cost the same at a million units as at the sample's size.
    """

    def __init__(self, n_components: int = _REDUCE["n_components"], n_neighbors: int = _REDUCE["n_neighbors"],
                 min_dist: float = _REDUCE["min_dist"], map_min_dist: float = _REDUCE["map_min_dist"],
                 metric: str = _REDUCE["metric"], min_cluster_size: int = _CLUSTER["min_cluster_size"],
                 min_samples: int | None = _CLUSTER["min_samples"],
                 selection_method: str = _CLUSTER["selection_method"],
                 selection_epsilon: float = _CLUSTER["selection_epsilon"],
                 reassign_threshold: float | None = _CLUSTER["reassign_threshold"],
                 random_state: int = RunConfig.model_fields["seed"].default,
                 memory: Any = None, n_jobs: int = _REDUCE["n_jobs"], fit_sample: int | None = _REDUCE["fit_sample"],
                 assign: str = _CLUSTER["assign"], consensus: int = _CLUSTER["consensus"],
                 consensus_fraction: float = _CLUSTER["consensus_fraction"], chunk_size: int = 20000) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.map_min_dist = map_min_dist
        self.metric = metric
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.selection_method = selection_method
        self.selection_epsilon = selection_epsilon
        self.reassign_threshold = reassign_threshold
        self.random_state = random_state
        self.memory = memory
        self.n_jobs = n_jobs
        self.fit_sample = fit_sample
        self.assign = assign
        self.consensus = consensus
        self.consensus_fraction = consensus_fraction
        self.chunk_size = chunk_size

    def minimum_units(self) -> int:
        """The fewest units UMAP can embed with these settings (neighbours plus the point itself)."""
        return max(self.n_neighbors + 1, self.n_components + 2)

    def _validate(self, embeddings: Any) -> np.ndarray:
        X = np.asarray(embeddings, dtype=np.float32)
        if X.ndim != 2:
            raise ValueError(f"embeddings must be a 2-d array, got shape {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("embeddings contain NaN or infinite values")
        self.check_n_units(X.shape[0])
        return X

    def check_n_units(self, n_units: int) -> None:
        """Raise ``FramingError`` when ``n_units`` are too few for UMAP (cheap: call it before embedding)."""
        if n_units < self.minimum_units():
            # name the setting that sets the bound: n_neighbors + 1, or n_components + 2 (the spectral start)
            key, value = (("reduce.n_components", self.n_components) if self.n_components + 2 > self.n_neighbors + 1
                          else ("reduce.n_neighbors", self.n_neighbors))
            raise FramingError(
                f"{n_units} units are too few for UMAP with {key}={value}: need at least {self.minimum_units()}; "
                f"add documents, lower units.min_words or lower {key}"
            )

    def fit(self, embeddings: np.ndarray, strata: Sequence[Any] | None = None,
            place: Callable[["FramingModel", np.ndarray, np.ndarray], Placement] | None = None,
            progress: bool | None = None, documents: Sequence[Any] | None = None) -> "FramingModel":
        """Fit on ``(n, d)`` embeddings (L2-normalised rows); returns ``self``.

        With ``fit_sample`` set and more units than that, the neighbour graph, both UMAP layouts and HDBSCAN are
        fitted on a sample drawn within ``strata`` (the units' sources) and every other unit is placed by its
        nearest sampled neighbours (``place``, by default :meth:`place` over chunks of ``chunk_size``; an engine
        can pass its own, e.g. Ray tasks). ``fitted_`` says which units were in the sample. With ``consensus`` N,
        the framings are the consensus of HDBSCAN's clustering and N re-clusterings of subsamples of ``documents``
        (each unit's document; default: every unit its own) in the same space (:mod:`framing.framings.consensus`).
        """
        X = self._validate(embeddings)
        n = X.shape[0]
        sampled = self.fit_sample is not None and n > self.fit_sample
        sample = (stratified_sample(strata, n, int(self.fit_sample), self.random_state) if sampled
                  else np.arange(n))
        self.fitted_ = np.zeros(n, dtype=bool)
        self.fitted_[sample] = True
        X_sample = X[sample] if sampled else X
        from ..progress import progress_bar

        # UMAP alone ran a minute on the example with nothing on the terminal: each step says what it does
        steps = progress_bar(progress, total=2, desc="framings: UMAP (neighbour graph, clustering space, map)",
                             unit="step", leave=False)
        sample_space, sample_map = self._reduce(X_sample)
        steps.update(1)
        steps.set_description("framings: clustering (HDBSCAN)")
        import hdbscan

        # min_cluster_size counts units of the corpus: a sample holding a tenth of them sees a tenth of each
        # framing, so HDBSCAN's sizes shrink with the fraction (bench/sample_fit.py: unscaled, a 20% sample found
        # 101 framings where the full fit found 1,073; scaled, 958).
        self.min_cluster_size_fitted_ = scaled_count(self.min_cluster_size, sample.size, n)
        self.min_samples_fitted_ = None if self.min_samples is None else scaled_count(self.min_samples, sample.size, n)
        clusterer = hdbscan.HDBSCAN(
            min_cluster_size=self.min_cluster_size_fitted_,
            min_samples=self.min_samples_fitted_,
            cluster_selection_method=self.selection_method,
            cluster_selection_epsilon=float(self.selection_epsilon), prediction_data=sampled and self.assign ==
            "hdbscan",
        )
        clusterer.fit(sample_space)
        steps.update(1)
        steps.close()
        node_of_label, self.tree_parents_ = condensed_tree_links(clusterer)
        sample_labels = clusterer.labels_.astype(np.int64)
        if self.consensus:
            sample_labels = self._consensus(sample_space, sample_labels, documents, sample, progress)
            node_of_label = {label: -1 for label in range(int(sample_labels.max(initial=-1)) + 1)}
        if not sampled:
            self.space_, self.map_ = sample_space, sample_map
            labels = sample_labels
            self.probabilities_ = (clusterer.probabilities_ if not self.consensus else
                                   (sample_labels >= 0)).astype(np.float32)
        else:
            self.sample_ = sample
            self.clusterer_ = clusterer
            self._sample_X, self._sample_space, self._sample_map = X_sample, sample_space, sample_map
            self._sample_labels = sample_labels
            self._index = self._neighbour_index(X_sample)
            rest = np.flatnonzero(~self.fitted_)
            # placed before the full-size arrays exist: an engine ships the model (the sample's state) to workers
            placement = (place or place_in_chunks)(self, X, rest, progress)
            self.space_ = np.empty((n, sample_space.shape[1]), dtype=np.float32)
            self.map_ = np.empty((n, 2), dtype=np.float32)
            labels = np.empty(n, dtype=np.int64)
            self.probabilities_ = np.empty(n, dtype=np.float32)
            self.space_[sample], self.map_[sample] = sample_space, sample_map
            labels[sample] = self._sample_labels
            self.probabilities_[sample] = (clusterer.probabilities_ if not self.consensus else sample_labels >= 0)
            self.space_[rest], self.map_[rest] = placement.space, placement.map
            labels[rest], self.probabilities_[rest] = placement.labels, placement.probabilities
            log.info("fitted on a sample of %d units; placed %d more by their nearest sampled neighbours",
                     sample.size, rest.size)
        self.labels_, self.centroids_ = self._order_by_size(X, labels)
        self.n_framings_ = int(self.centroids_.shape[0])
        # each framing's node in HDBSCAN's condensed tree (framing.framings.hierarchy builds on it)
        found, first = np.unique(labels, return_index=True)
        self.tree_nodes_ = np.empty(self.n_framings_, dtype=np.int64)
        for label, index in zip(found, first):
            if label != UNASSIGNED:
                self.tree_nodes_[self.labels_[index]] = node_of_label[int(label)]
        self.reassigned_ = np.zeros(n, dtype=bool)
        if self.reassign_threshold is not None and self.n_framings_:
            self._reassign(X)
        return self

    def _consensus(self, space: np.ndarray, labels: np.ndarray, documents: Sequence[Any] | None,
                   sample: np.ndarray, progress: bool | None) -> np.ndarray:
        """The consensus of HDBSCAN's ``labels`` and ``consensus`` re-clusterings of document subsamples."""
        from .consensus import consensus_labels
        from .stability import recluster

        codes = (np.arange(sample.size) if documents is None
                 else np.asarray(documents, dtype=object)[sample])
        reclusterings, _ = recluster(
            space, codes, runs=self.consensus, fraction=self.consensus_fraction,
            min_cluster_size=self.min_cluster_size_fitted_, min_samples=self.min_samples_fitted_,
            selection_method=self.selection_method, selection_epsilon=self.selection_epsilon,
            random_state=self.random_state, stream=1, progress=progress,
            desc="framings: consensus (re-clustering subsamples)")
        return consensus_labels(space, labels, reclusterings, self.min_cluster_size_fitted_,
                                n_neighbors=self.n_neighbors)

    def _reduce(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The clustering space and the map of ``X`` (from the cache when ``memory`` is set and holds them)."""
        self.cache_warnings_: list[str] = []
        import umap

        settings = dict(n_neighbors=self.n_neighbors, n_components=self.n_components, min_dist=self.min_dist,
                        map_min_dist=self.map_min_dist, metric=self.metric, random_state=self.random_state)
        if self.memory is None:
            return reduce_embeddings(X, n_jobs=self.n_jobs, umap_version=umap.__version__, **settings)
        folder = getattr(self.memory, "location", self.memory)  # a folder, or a joblib.Memory as before
        key = reduction_key(X, settings, umap.__version__)
        entry = ArrayEntry(folder, key, {"space": (np.float32, (X.shape[0], self.n_components)),
                                         "map": (np.float32, (X.shape[0], 2))})
        stored, problem = entry.load()
        if problem is not None:
            message = f"the cached UMAP result under {folder} could not be used ({problem}); UMAP ran again"
            log.warning(message)
            self.cache_warnings_.append(message)
        if stored is not None:
            return stored["space"], stored["map"]
        space, coordinates = reduce_embeddings(X, n_jobs=self.n_jobs, umap_version=umap.__version__, **settings)
        entry.store({"space": space, "map": coordinates})
        return space, coordinates

    def clustering_space(self, X: np.ndarray, random_state: int) -> np.ndarray:
        """A fresh UMAP clustering space of ``X`` (no map, no cache) from ``random_state``, with this model's
        reduction settings: what stability's re-runs lay subsamples out with (``stability.reduce``)."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Cannot cache compiled function")
            knn = knn_graph(X, self.n_neighbors, self.metric, random_state)
            init = spectral_init(X, knn, self.n_neighbors, self.metric, random_state, self.n_components)
        return umap_layout(X, (knn[0], knn[1]), self.n_components, self.n_neighbors, self.min_dist, self.metric,
                           random_state, init)

    def _neighbour_index(self, X_sample: np.ndarray) -> Any:
        """What :meth:`place` searches: the sample itself (exact search) when small, else a pynndescent index.
        The index is built in each run, never cached: it is a pickled object, and nothing in the cache is
        unpickled (a crafted pickle in a shared cache folder would run code)."""
        if X_sample.shape[0] < EXACT_KNN_LIMIT:
            return None
        import pynndescent

        return neighbour_index(X_sample, metric=self.metric, n_neighbors=max(30, 2 * self.n_neighbors),
                               random_state=self.random_state, pynndescent_version=pynndescent.__version__)

    def _neighbours(self, X_new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._index is None:
            from sklearn.metrics import pairwise_distances

            distances = pairwise_distances(X_new, self._sample_X, metric=self.metric).astype(np.float32)
            indices = np.argsort(distances, axis=1, kind="stable")[:, :self.n_neighbors]
            return indices, np.take_along_axis(distances, indices, axis=1)
        indices, distances = self._index.query(X_new, k=self.n_neighbors)
        return indices, distances

    def placement_state(self, X: np.ndarray, ids: np.ndarray) -> dict[str, np.ndarray]:
        """What :meth:`from_placement_state` needs to place new units into these framings: the fitted units'
        vectors (``X``'s rows the fit saw), clustering-space and map positions, and each one's framing *id* (``ids``
        maps this model's framing index to the id the run gave it) where it is a core member, -1 elsewhere —
        attached units do not vote — and the framings' centres by id. Call before :meth:`forget_sample`."""
        fitted = np.flatnonzero(self.fitted_)
        core = (self.labels_[fitted] >= 0) & ~self.reassigned_[fitted]
        core_ids = np.where(core, ids[np.maximum(self.labels_[fitted], 0)], UNASSIGNED) if ids.size else \
            np.full(fitted.size, UNASSIGNED)
        centroids = np.zeros((int(ids.max(initial=-1)) + 1, X.shape[1]), dtype=np.float32)
        centroids[ids] = self.centroids_
        return {"vectors": np.ascontiguousarray(X[fitted], dtype=np.float32),
                "space": np.ascontiguousarray(self.space_[fitted], dtype=np.float32),
                "map": np.ascontiguousarray(self.map_[fitted], dtype=np.float32),
                "core_ids": core_ids.astype(np.int64), "centroids": centroids}

    @classmethod
    def from_placement_state(cls, state: dict[str, np.ndarray], **params: Any) -> "FramingModel":
        """A model that places new units (:meth:`transform`) among saved fitted units (:meth:`placement_state`);
        its labels are the saved framing ids. ``params`` are the constructor's (the fit's reduce and cluster
        settings)."""
        model = cls(**{**params, "assign": "vote"})  # approximate_predict needs the clusterer, which is not kept
        model._sample_X, model._sample_space = state["vectors"], state["space"]
        model._sample_map, model._sample_labels = state["map"], state["core_ids"]
        model._index = model._neighbour_index(state["vectors"])
        model.centroids_ = state["centroids"]
        model.n_framings_ = int(state["centroids"].shape[0])
        return model

    def transform(self, X: np.ndarray, place: Callable[["FramingModel", np.ndarray, np.ndarray], Placement] | None
                  = None, progress: bool | None = None) -> "FramingModel":
        """Place every row of ``X`` into the fitted framings without changing them: positions from the nearest
        fitted units, the framing by their core members' weighted vote, and units left out given to the nearest
        centre within ``reassign_threshold`` (attached), as the fit did. Sets ``labels_`` (framing ids),
        ``probabilities_`` (the vote's support), ``reassigned_``, ``space_``, ``map_`` and ``fitted_`` (all false);
        ``centroids_`` stay the fit's. Returns ``self``."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or not np.isfinite(X).all():
            raise ValueError(f"embeddings must be a finite 2-d array, got shape {X.shape}")
        n = X.shape[0]
        placement = (place or place_in_chunks)(self, X, np.arange(n), progress)
        self.space_, self.map_ = placement.space, placement.map
        self.labels_ = placement.labels.astype(np.int64)
        self.probabilities_ = placement.probabilities.astype(np.float32)
        self.fitted_ = np.zeros(n, dtype=bool)
        self.reassigned_ = np.zeros(n, dtype=bool)
        self.min_cluster_size_fitted_, self.min_samples_fitted_ = self.min_cluster_size, self.min_samples
        self.tree_nodes_ = np.full(self.n_framings_, -1, dtype=np.int64)
        self.tree_parents_ = {}
        self.cache_warnings_ = []
        if self.reassign_threshold is not None and self.n_framings_:
            self._reassign(X)
        return self

    def forget_sample(self) -> "FramingModel":
        """Drop what only :meth:`place` reads — the sample's vectors, layouts and labels, its neighbour index and
        the clusterer (~360 MB at a sample of 100,000) — once every unit is placed; returns ``self``. The fitted
        arrays (``labels_``, ``space_``, ``map_``, ``centroids_``, the tree links...) stay."""
        for name in ("_sample_X", "_sample_space", "_sample_map", "_sample_labels", "_index", "clusterer_"):
            self.__dict__.pop(name, None)
        return self

    def place(self, X_new: np.ndarray) -> Placement:
        """Place units that were not in the fitted sample: positions and framing from their nearest sampled units.

        Positions are the sampled neighbours' positions averaged with UMAP's membership weights (where
        ``UMAP.transform`` starts before its extra epochs); the framing is the neighbours' weighted vote
        (``assign`` "vote") or ``hdbscan.approximate_predict`` at the placed position (``assign`` "hdbscan").
        Labels are HDBSCAN's numbering on the sample; ``fit`` renumbers them with the rest.
        """
        if "_sample_X" not in self.__dict__:
            raise RuntimeError("place needs a model fitted on a sample, whose sample was not forgotten")
        X_new = np.asarray(X_new, dtype=np.float32)
        indices, distances = self._neighbours(X_new)
        weights = neighbour_weights(distances, self.n_neighbors)
        space = np.einsum("mk,mkd->md", weights, self._sample_space[indices]).astype(np.float32)
        coordinates = np.einsum("mk,mkd->md", weights, self._sample_map[indices]).astype(np.float32)
        if self.assign == "hdbscan":
            import hdbscan

            labels, strengths = hdbscan.approximate_predict(self.clusterer_, space)
            return Placement(space, coordinates, labels.astype(np.int64), strengths.astype(np.float32))
        labels, support = vote(self._sample_labels[indices], weights)
        return Placement(space, coordinates, labels, support)

    @staticmethod
    def _order_by_size(X: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Renumber framings 0.. by decreasing size (ties by first unit) so ids read as a ranking."""
        found, first, sizes = np.unique(labels, return_index=True, return_counts=True)
        assigned = found != UNASSIGNED
        found, first, sizes = found[assigned], first[assigned], sizes[assigned]
        order = np.lexsort((first, -sizes))  # by size, then by first unit
        new_of_old = np.full(int(found.max()) + 2 if found.size else 1, UNASSIGNED, dtype=labels.dtype)
        new_of_old[found[order]] = np.arange(order.size)
        new_labels = np.where(labels == UNASSIGNED, UNASSIGNED, new_of_old[np.maximum(labels, 0)])
        return new_labels, label_centroids(X, new_labels, order.size)

    def _reassign(self, X: np.ndarray) -> None:
        outliers = np.flatnonzero(self.labels_ == UNASSIGNED)
        if outliers.size == 0:
            return
        best = np.empty(outliers.size, dtype=np.int64)
        keep = np.empty(outliers.size, dtype=bool)
        for start in range(0, outliers.size, self.chunk_size):  # bounded: outliers × framings can be gigabytes
            part = slice(start, start + self.chunk_size)
            similarity = X[outliers[part]] @ self.centroids_.T
            similarity[:, ~self.centroids_.any(axis=1)] = -np.inf  # an id no framing holds (a transform's gaps)
            best[part] = similarity.argmax(axis=1)
            keep[part] = similarity[np.arange(best[part].size), best[part]] >= self.reassign_threshold
        self.labels_[outliers[keep]] = best[keep]
        self.reassigned_[outliers[keep]] = True
        log.info("reassigned %d of %d unassigned units", int(keep.sum()), outliers.size)


def condensed_tree_links(clusterer: Any) -> tuple[dict[int, int], dict[int, int]]:
    """From a fitted ``hdbscan.HDBSCAN``: the condensed-tree node of each cluster label (the node it was selected
    at: the lowest-numbered node its points fall out of, as hdbscan's own ``_select_clusters``), and the parent
    of every cluster node."""
    raw = clusterer.condensed_tree_._raw_tree
    points = raw[raw["child_size"] == 1]
    labels = clusterer.labels_[points["child"]]
    node_of_label: dict[int, int] = {}
    for label, node in zip(labels, points["parent"]):
        if label >= 0 and (label not in node_of_label or node < node_of_label[label]):
            node_of_label[int(label)] = int(node)
    clusters = raw[raw["child_size"] > 1]
    return node_of_label, {int(c): int(p) for c, p in zip(clusters["child"], clusters["parent"])}
