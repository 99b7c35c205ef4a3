"""Stage 4: find recurring framings — UMAP reduction, HDBSCAN clustering — and describe each one.

``FramingModel`` follows scikit-learn's estimator contract: the constructor only stores parameters, ``fit``
validates its input and sets the fitted attributes (names ending in ``_``), and ``random_state`` makes the
result repeatable. ``describe_framings`` then turns labels into ``Framing`` records: size, source shares,
distinctive terms (class-based TF-IDF), exemplar units nearest the centre and a short label.
"""
from __future__ import annotations

import hashlib
import json
import logging
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from ..store.array_cache import ArrayEntry
from ..config import ClusterConfig, ReduceConfig, RunConfig
from ..errors import FramingError
from .names import central_short_passage
from .partition import UNASSIGNED, scaled_count

__all__ = ["Framing", "FramingModel", "Placement", "describe_framings", "class_tfidf_terms", "class_term_counts",
           "class_tfidf_from_counts", "condensed_tree_links", "label_centroids", "scaled_count", "stratified_sample",
           "term_label", "UNASSIGNED"]

log = logging.getLogger(__name__)

# Defaults live once, in the config's fields; the estimator takes them from there.
_REDUCE = {name: field.default for name, field in ReduceConfig.model_fields.items()}
_CLUSTER = {name: field.default for name, field in ClusterConfig.model_fields.items()}
# At or above this many points, neighbours come from pynndescent (approximate); below it, exact search is cheap
# and exactly reproducible.
_EXACT_KNN_LIMIT = 4096
# Reporting verbs and fillers of news prose: frequent in every framing, distinctive of none.
NEWS_STOP_WORDS = frozenset(
    "said says say told tells according reported reports added asked just like also would could did does don "
    "didn doesn isn wasn won ll ve re st mr mrs ms".split()
)
# Words, optionally hyphenated, that start with a letter: bare numbers, years and counts never become terms.
_TOKEN_PATTERN = r"(?u)\b[^\W\d_][\w'’-]*[^\W_]\b"


@dataclass
class Framing:
    """One recurring framing.

    ``size`` counts distinct units (a reposted sentence once); ``occurrences`` counts every place they stand.
    ``sources`` maps each source to its share of this framing's units (the shares sum to 1);
    ``source_rates`` maps each source to the share of *that source's* units that fall in this framing, so
    sources of different sizes can be compared; ``sections`` splits the framing into article body ("outlet
    voice") and reader comments ("audience voice"). ``core`` counts the members HDBSCAN put in the framing; the
    rest of ``size`` are attached (outliers given to it by ``cluster.reassign_threshold``), whose membership is
    far less certain (bench/membership.py): exemplars and the caption are core members whenever it has any.
    """

    id: int
    label: str
    size: int
    terms: list[str]
    term_scores: list[float]
    exemplars: list[str]
    sources: dict[str, float]
    source_rates: dict[str, float] = field(default_factory=dict)
    sections: dict[str, float] = field(default_factory=dict)
    occurrences: int = 0
    # the label's key phrases, the unit id of the most central short passage, and where the label came from:
    # "keyphrases", "terms", "config" (names: in the config) or "previous run" (carried over by matching)
    phrases: list[str] = field(default_factory=list)
    caption: str = ""
    named_by: str = "terms"
    core: int | None = None  # None: a run saved before members were told apart
    # median best Jaccard over re-clusterings of document subsamples (framing.framings.stability), in [0, 1];
    # None: not measured (stability.runs 0, a run saved before it, or no core member in any subsample)
    stability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Framing":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _knn(embeddings: np.ndarray, n_neighbors: int, metric: str, random_state: int):
    """One neighbour graph for both UMAP runs (the clustering space and the 2-d map)."""
    n = embeddings.shape[0]
    if n < _EXACT_KNN_LIMIT:
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


def _spectral_init(X: np.ndarray, knn, n_neighbors: int, metric: str, random_state: int,
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


def _layout(X: np.ndarray, knn, n_components: int, n_neighbors: int, min_dist: float, metric: str,
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
_PARALLEL_LAYOUT_MIN_UNITS = 20000


def _neighbour_index(X: np.ndarray, metric: str, n_neighbors: int, random_state: int,
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


def _reduce(X: np.ndarray, n_neighbors: int, n_components: int, min_dist: float, map_min_dist: float, metric: str,
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
        knn = _knn(X, n_neighbors, metric, random_state)
        init = _spectral_init(X, knn, n_neighbors, metric, random_state, n_components)
    knn = (knn[0], knn[1])
    jobs = [(n_components, min_dist, init), (2, map_min_dist, np.ascontiguousarray(init[:, :2]))]
    if n_jobs > 1 and X.shape[0] >= _PARALLEL_LAYOUT_MIN_UNITS:
        from joblib import Parallel, delayed

        space, coordinates = Parallel(n_jobs=2, backend="loky")(
            delayed(_layout)(X, knn, components, n_neighbors, spread, metric, random_state, start)
            for components, spread, start in jobs)
    else:
        space, coordinates = (_layout(X, knn, components, n_neighbors, spread, metric, random_state, start)
                              for components, spread, start in jobs)
    return space, coordinates


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


def _neighbour_weights(distances: np.ndarray, n_neighbors: int) -> np.ndarray:
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


def _vote(neighbour_labels: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _reduction_key(X: np.ndarray, settings: dict, umap_version: str) -> str:
    """The cache key of a reduction: the embeddings' bytes and shape, the settings and UMAP's version."""
    digest = hashlib.sha256(f"framing-reduction-1|{X.shape}|{X.dtype.str}|umap {umap_version}|".encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(memoryview(np.ascontiguousarray(X)).cast("B"))
    return digest.hexdigest()[:32]


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
            return _reduce(X, n_jobs=self.n_jobs, umap_version=umap.__version__, **settings)
        folder = getattr(self.memory, "location", self.memory)  # a folder, or a joblib.Memory as before
        key = _reduction_key(X, settings, umap.__version__)
        entry = ArrayEntry(folder, key, {"space": (np.float32, (X.shape[0], self.n_components)),
                                         "map": (np.float32, (X.shape[0], 2))})
        stored, problem = entry.load()
        if problem is not None:
            message = f"the cached UMAP result under {folder} could not be used ({problem}); UMAP ran again"
            log.warning(message)
            self.cache_warnings_.append(message)
        if stored is not None:
            return stored["space"], stored["map"]
        space, coordinates = _reduce(X, n_jobs=self.n_jobs, umap_version=umap.__version__, **settings)
        entry.store({"space": space, "map": coordinates})
        return space, coordinates

    def clustering_space(self, X: np.ndarray, random_state: int) -> np.ndarray:
        """A fresh UMAP clustering space of ``X`` (no map, no cache) from ``random_state``, with this model's
        reduction settings: what stability's re-runs lay subsamples out with (``stability.reduce``)."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Cannot cache compiled function")
            knn = _knn(X, self.n_neighbors, self.metric, random_state)
            init = _spectral_init(X, knn, self.n_neighbors, self.metric, random_state, self.n_components)
        return _layout(X, (knn[0], knn[1]), self.n_components, self.n_neighbors, self.min_dist, self.metric,
                       random_state, init)

    def _neighbour_index(self, X_sample: np.ndarray) -> Any:
        """What :meth:`place` searches: the sample itself (exact search) when small, else a pynndescent index.
        The index is built in each run, never cached: it is a pickled object, and nothing in the cache is
        unpickled (a crafted pickle in a shared cache folder would run code)."""
        if X_sample.shape[0] < _EXACT_KNN_LIMIT:
            return None
        import pynndescent

        return _neighbour_index(X_sample, metric=self.metric, n_neighbors=max(30, 2 * self.n_neighbors),
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
        weights = _neighbour_weights(distances, self.n_neighbors)
        space = np.einsum("mk,mkd->md", weights, self._sample_space[indices]).astype(np.float32)
        coordinates = np.einsum("mk,mkd->md", weights, self._sample_map[indices]).astype(np.float32)
        if self.assign == "hdbscan":
            import hdbscan

            labels, strengths = hdbscan.approximate_predict(self.clusterer_, space)
            return Placement(space, coordinates, labels.astype(np.int64), strengths.astype(np.float32))
        labels, support = _vote(self._sample_labels[indices], weights)
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
CLASSES_PER_COUNT = 64  # framings whose joined texts are counted at a time (count_terms)


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


def class_tfidf_terms(texts: Sequence[str], labels: np.ndarray, n_terms: int = 10, ngram_max: int = 2
                      ) -> dict[int, list[tuple[str, float]]]:
    """Distinctive terms per class by class-based TF-IDF (as in BERTopic).

    All texts of a class form one document; a term's weight is its frequency in the class (normalised by the
    class's length) times ``log(1 + A / f)``, where ``A`` is the mean class length and ``f`` the term's
    frequency over all classes. English stop-words, reporting verbs ("said", "told") and bare numbers are
    left out. The unassigned class takes
    part in the frequencies (so what is common everywhere scores low) but gets no terms.
    """
    return class_tfidf_from_counts(*class_term_counts(texts, labels, ngram_max), n_terms=n_terms)


def count_terms(texts: Iterable[str], vectorizer, chunk: int = 50_000) -> tuple[Any, np.ndarray]:
    """``vectorizer.fit_transform(texts)`` and its vocabulary (sorted, as scikit-learn gives it), counted ``chunk``
    texts at a time.

    A ``CountVectorizer`` keeps every token's column and count in Python lists until the end: 700 MB of
    transient memory for a million units' word counts. Each chunk is counted by a fresh copy of ``vectorizer``
    and its columns mapped into one vocabulary, so the answer is the same matrix (the vectorizer must not prune
    by document frequency or keep a fixed vocabulary). Raises ``ValueError`` for an empty vocabulary, as
    scikit-learn does.
    """
    from scipy.sparse import csr_matrix
    from sklearn.base import clone

    column_of: dict[str, int] = {}
    data, indices, row_lengths = [], [], []
    dtype = getattr(vectorizer, "dtype", np.int64)
    batch: list[str] = []

    def count(part: list[str]) -> None:
        fitted = clone(vectorizer)
        try:
            counts = fitted.fit_transform(part).tocsr()
        except ValueError:  # this chunk has no term the vectorizer keeps; another may
            row_lengths.append(np.zeros(len(part), dtype=np.int64))
            return
        names = fitted.get_feature_names_out().tolist()
        columns = np.fromiter((column_of.setdefault(name, len(column_of)) for name in names), dtype=np.int32,
                              count=len(names))
        data.append(counts.data.astype(dtype, copy=False))  # the final type now: no wider copy of all of them
        indices.append(columns[counts.indices])
        row_lengths.append(np.diff(counts.indptr))

    for text in texts:
        batch.append(text)
        if len(batch) == chunk:
            count(batch)
            batch = []
    if batch or not row_lengths:
        count(batch)
    if not column_of:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    vocabulary = np.array(list(column_of), dtype=object)
    order = np.argsort(vocabulary.astype(str), kind="stable")  # scikit-learn's order: the terms sorted
    rank = np.empty(order.size, dtype=np.int32)  # scipy's own index type for fewer than 2**31 terms
    rank[order] = np.arange(order.size)
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(row_lengths))])
    # columns renumbered a chunk at a time, then each array joined once and its chunks let go: renumbering the
    # joined columns made a third copy of them (~25 MB of the contrast stage's peak at a million units)
    for part in indices:
        part[:] = rank[part]
    all_indices = np.concatenate(indices) if indices else np.zeros(0, np.int32)
    indices.clear()
    all_data = np.concatenate(data) if data else np.zeros(0, dtype)
    data.clear()
    matrix = csr_matrix((all_data, all_indices, indptr), shape=(indptr.size - 1, order.size))
    matrix.sort_indices()
    return matrix, vocabulary[order]


def class_term_counts(texts: Sequence[str], labels: np.ndarray, ngram_max: int = 2
                      ) -> tuple[list[int], Any, np.ndarray]:
    """The classes (sorted), their term counts (sparse, a row per class) and the vocabulary: what class-based
    TF-IDF scores. Counts of broader classes are sums of these rows (``framing.framings.hierarchy`` does that)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
    from scipy.sparse import csr_matrix

    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    # a class's texts joined in corpus order, read one at a time (``texts`` may cut them when read: UnitColumn),
    # and counted a few classes at a time
    joined = (" ".join(texts[i] for i in rows.tolist()) for rows in members_of(labels).values())
    stop_words = sorted(ENGLISH_STOP_WORDS | NEWS_STOP_WORDS)
    vectorizer = CountVectorizer(ngram_range=(1, ngram_max), stop_words=stop_words, token_pattern=_TOKEN_PATTERN)
    try:
        # kept sparse: a thousand framings times a large bigram vocabulary would not fit in memory dense
        counts, vocabulary = count_terms(joined, vectorizer, chunk=CLASSES_PER_COUNT)
        counts = counts.astype(np.float64).tocsc()
    except ValueError:  # empty vocabulary: every text was stop-words or numbers
        return classes, csr_matrix((len(classes), 0)), np.array([], dtype=object)
    term_totals = np.asarray(counts.sum(axis=0)).ravel()
    # A term seen once in the whole corpus says nothing recurring; drop those unless nothing else is left.
    recurring = term_totals >= 2
    if recurring.any():
        counts, vocabulary = counts[:, recurring], vocabulary[recurring]
    return classes, counts.tocsr(), vocabulary


def class_tfidf_from_counts(classes: Sequence[int], counts, vocabulary: np.ndarray, n_terms: int = 10,
                            scored: tuple[Sequence[int], Any] | None = None) -> dict[int, list[tuple[str, float]]]:
    """Class-based TF-IDF over term counts (a sparse row per class of ``classes``): the top terms per class.

    ``scored``: other classes (ids, and their count rows, e.g. the sums of several classes) to score with the
    term weights of ``classes`` instead of those classes themselves.
    """
    if counts.shape[1] == 0:
        return {c: [] for c in (scored[0] if scored is not None else classes) if c != UNASSIGNED}
    counts = counts.tocsr()
    term_totals = np.asarray(counts.sum(axis=0)).ravel()
    average_class_length = counts.sum() / max(len(classes), 1)
    idf = np.log(1.0 + average_class_length / np.maximum(term_totals, 1.0))
    if scored is not None:
        classes, counts = list(scored[0]), scored[1].tocsr()
    class_lengths = np.asarray(counts.sum(axis=1)).ravel()
    # tf * idf row by row; a row's stored columns are in vocabulary order, so a stable sort breaks ties as before
    scores = counts.multiply(1.0 / np.maximum(class_lengths, 1.0)[:, None]).multiply(idf[None, :]).tocsr()
    scores.sort_indices()
    out: dict[int, list[tuple[str, float]]] = {}
    for row, c in enumerate(classes):
        if c == UNASSIGNED:
            continue
        start, end = scores.indptr[row], scores.indptr[row + 1]
        values, columns = scores.data[start:end], scores.indices[start:end]
        top = [k for k in np.argsort(-values, kind="stable")[:n_terms] if values[k] > 0]
        out[c] = [(str(vocabulary[columns[k]]), round(float(values[k]), 6)) for k in top]
    return out


def term_label(terms: Sequence[str], n: int) -> str:
    """Join the top terms, skipping a term whose words a chosen term already says ("siege" after "siege city")."""
    chosen: list[str] = []
    covered: set[str] = set()
    for term in terms:
        words = set(term.split())
        if words <= covered:
            continue
        chosen.append(term)
        covered |= words
        if len(chosen) == n:
            break
    return " / ".join(chosen) if chosen else "(no distinctive terms)"


def describe_framings(texts: Sequence[str], unit_ids: Sequence[str], sources: Sequence[str], labels: np.ndarray,
                      embeddings: np.ndarray, centroids: np.ndarray, n_terms: int = 10, n_exemplars: int = 5,
                      label_terms: int = 3, ngram_max: int = 2, sections: Sequence[str] | None = None,
                      occurrences: Sequence[int] | None = None,
                      terms: dict[int, list[tuple[str, float]]] | None = None,
                      caption_words: int = 25, attached: np.ndarray | None = None) -> list[Framing]:
    """Describe each framing: size, source and section shares, distinctive terms, exemplars, label, caption.

    ``centroids[f]`` is framing ``f``'s centre (ids need not be consecutive: a row per id up to the largest);
    ``occurrences[i]`` is how many places unit i stands in (1 unless it is a duplicate group's representative);
    ``terms``: the distinctive terms per framing when already computed (``class_tfidf_terms``); the caption is
    the most central passage of at most ``caption_words`` words. ``attached[i]``: unit i was given to its framing
    after clustering; exemplars and the caption are chosen among the core members (all members when none is core).
    """
    labels = np.asarray(labels)
    attached = np.zeros(labels.size, dtype=bool) if attached is None else np.asarray(attached, dtype=bool)
    if terms is None:
        terms = class_tfidf_terms(texts, labels, n_terms=n_terms, ngram_max=ngram_max)
    units_per_source = Counter(sources)
    framings = []
    members_by_framing = members_of(labels)
    for framing_id in sorted(f for f in members_by_framing if f != UNASSIGNED):
        members = members_by_framing[framing_id]
        core = members[~attached[members]]
        shown = core if core.size else members  # what exemplars and the caption are chosen from
        similarity = dot_rows(embeddings, shown, centroids[framing_id])
        exemplars: list[str] = []
        seen_texts: set[str] = set()
        for index in shown[np.argsort(-similarity, kind="stable")]:
            text = texts[index]  # cut from its document once (a UnitColumn)
            if text in seen_texts:
                continue  # a reposted sentence would otherwise fill every exemplar slot
            seen_texts.add(text)
            exemplars.append(unit_ids[index])
            if len(exemplars) == n_exemplars:
                break
        counts = Counter(sources[i] for i in members)
        section_counts = Counter(sections[i] for i in members) if sections is not None else Counter()
        framing_terms = terms.get(framing_id, [])[:n_terms]
        framings.append(Framing(
            id=framing_id,
            label=term_label([t for t, _ in framing_terms], label_terms),
            size=int(members.size),
            terms=[t for t, _ in framing_terms],
            term_scores=[s for _, s in framing_terms],
            exemplars=exemplars,
            sources={s: round(c / members.size, 6) for s, c in counts.most_common()},
            source_rates={s: round(c / units_per_source[s], 6) for s, c in counts.most_common()},
            sections={s: round(c / members.size, 6) for s, c in section_counts.most_common()},
            occurrences=int(sum(occurrences[i] for i in members)) if occurrences is not None else int(members.size),
            caption=unit_ids[central_short_passage(shown, similarity, texts, caption_words)],
            core=int(core.size),
        ))
    return framings
