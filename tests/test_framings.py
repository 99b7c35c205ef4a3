import numpy as np
import pytest

from framing.errors import FramingError
from framing.framings.describe import describe_framings
from framing.framings.model import FramingModel
from framing.framings.partition import UNASSIGNED
from framing.framings.terms import class_tfidf_terms, term_label


def blobs(n_per: int = 60, centres: int = 3, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Well separated unit-length clusters, as sentence embeddings of three distinct framings would be."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centres, dim))
    X = np.concatenate([m + 0.15 * rng.normal(size=(n_per, dim)) for m in means])
    truth = np.repeat(np.arange(centres), n_per)
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), truth


def test_constructor_only_stores_parameters():
    model = FramingModel(n_components=3, min_cluster_size=5, random_state=7)
    assert model.n_components == 3 and model.min_cluster_size == 5 and model.random_state == 7
    assert not any(name.endswith("_") for name in vars(model))


@pytest.mark.slow
def test_recovers_separated_framings_and_is_reproducible():
    X, truth = blobs()
    model = FramingModel(min_cluster_size=10, selection_method="eom", random_state=3).fit(X)
    assert model.n_framings_ == 3
    assert model.space_.shape == (180, 5) and model.map_.shape == (180, 2)
    assert model.labels_.shape == model.probabilities_.shape == (180,)
    assigned = model.labels_ != UNASSIGNED
    assert assigned.mean() > 0.8
    for framing in range(3):  # each found framing is one true group
        assert len(set(truth[model.labels_ == framing])) == 1
    sizes = [(model.labels_ == f).sum() for f in range(3)]
    assert sizes == sorted(sizes, reverse=True)  # ids rank framings by size
    assert np.allclose(np.linalg.norm(model.centroids_, axis=1), 1.0, atol=1e-5)
    again = FramingModel(min_cluster_size=10, selection_method="eom", random_state=3).fit(X)
    assert np.array_equal(model.labels_, again.labels_)
    assert np.allclose(model.map_, again.map_)


def test_too_few_units_is_a_user_error_that_says_how_many():
    X, _ = blobs(n_per=4)
    with pytest.raises(FramingError, match=r"12 units are too few for UMAP with reduce.n_neighbors=15: need at least 16"):
        FramingModel().fit(X)
    with pytest.raises(ValueError, match="2-d array"):
        FramingModel().fit(np.zeros(20))


@pytest.mark.slow
def test_reassignment_moves_only_close_outliers():
    X, _ = blobs(n_per=40)
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(30, X.shape[1]))
    X = np.concatenate([X, (noise / np.linalg.norm(noise, axis=1, keepdims=True)).astype(np.float32)])
    plain = FramingModel(min_cluster_size=10, random_state=0, reassign_threshold=None).fit(X)
    relaxed = FramingModel(min_cluster_size=10, random_state=0, reassign_threshold=-1.0).fit(X)
    assert (relaxed.labels_ == UNASSIGNED).sum() == 0
    assert relaxed.reassigned_.sum() == (plain.labels_ == UNASSIGNED).sum()
    strict = FramingModel(min_cluster_size=10, random_state=0, reassign_threshold=0.99).fit(X)
    assert strict.reassigned_.sum() == 0


def test_class_tfidf_terms_leave_out_stop_words_and_numbers():
    texts = ["The siege starved 250,000 civilians in 2031.", "Civilians starved under the siege, doctors said.",
             "The army liberated the market from terrorists.", "Terrorists fled as the army liberated 4 districts.",
             "Weather was mild."]
    labels = np.array([0, 0, 1, 1, UNASSIGNED])
    terms = class_tfidf_terms(texts, labels, n_terms=5)
    assert set(terms) == {0, 1}
    words_0 = [t for t, _ in terms[0]]
    words_1 = [t for t, _ in terms[1]]
    assert {"siege", "starved", "civilians"} <= set(words_0)
    assert {"army", "liberated", "terrorists"} <= set(words_1)
    every = " ".join(words_0 + words_1)
    assert not any(ch.isdigit() for ch in every)
    assert "the" not in every.split() and "said" not in every.split()


def test_label_skips_terms_already_said():
    assert term_label(["siege city", "siege", "city", "hunger", "bread"], 3) == "siege city / hunger / bread"
    assert term_label([], 3) == "(no distinctive terms)"


def test_describe_framings_shares_exemplars_and_reposts():
    texts = ["alpha one", "alpha one", "alpha two", "beta one", "beta two", "noise"]
    X = np.eye(6, dtype=np.float32)
    X[1] = X[0]  # a reposted sentence: identical text and vector
    labels = np.array([0, 0, 0, 1, 1, UNASSIGNED])
    centroids = np.stack([X[:3].mean(0), X[3:5].mean(0)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    framings = describe_framings(texts, [f"u{i}" for i in range(6)], ["A", "B", "A", "B", "B", "A"], labels, X,
                                 centroids, n_exemplars=5)
    first = framings[0]
    assert first.size == 3 and first.sources == {"A": pytest.approx(2 / 3), "B": pytest.approx(1 / 3)}
    assert first.source_rates == {"A": pytest.approx(2 / 3), "B": pytest.approx(1 / 3)}
    assert first.exemplars == ["u0", "u2"]  # the repost is not shown twice
    assert framings[1].exemplars[0] in {"u3", "u4"}


@pytest.mark.slow
def test_layouts_in_two_processes_equal_layouts_in_turn(monkeypatch):
    import framing.framings.reduce as reduce_module

    X, _ = blobs(n_per=80)
    in_turn = FramingModel(min_cluster_size=10, random_state=5, n_jobs=1).fit(X)
    monkeypatch.setattr(reduce_module, "PARALLEL_LAYOUT_MIN_UNITS", 0)  # the 100k path, on a small input
    side_by_side = FramingModel(min_cluster_size=10, random_state=5, n_jobs=2).fit(X)
    assert np.array_equal(in_turn.space_, side_by_side.space_)
    assert np.array_equal(in_turn.map_, side_by_side.map_)
    assert np.array_equal(in_turn.labels_, side_by_side.labels_)


@pytest.mark.slow
def test_memory_caches_umap_by_content_and_parameters(tmp_path, monkeypatch):
    import umap

    X, _ = blobs()
    first = FramingModel(min_cluster_size=10, memory=tmp_path).fit(X)
    calls = []
    real_umap = umap.UMAP
    monkeypatch.setattr(umap, "UMAP", lambda *a, **k: calls.append(k) or real_umap(*a, **k))
    again = FramingModel(min_cluster_size=20, memory=tmp_path).fit(X)  # only clustering changed: no UMAP
    assert calls == [] and np.array_equal(first.map_, again.map_)
    FramingModel(min_cluster_size=10, n_neighbors=10, memory=tmp_path).fit(X)  # a reduce parameter changed
    assert len(calls) == 2
    FramingModel(min_cluster_size=10, memory=tmp_path).fit(X[::-1].copy())  # other embeddings
    assert len(calls) == 4


def test_stratified_sample_keeps_small_sources_and_is_seeded():
    from framing.framings.placement import stratified_sample

    sources = np.array(["big"] * 9800 + ["mid"] * 180 + ["tiny"] * 20)
    sample = stratified_sample(sources, sources.size, 1000, random_state=1)
    assert sample.size == 1000 and np.all(np.diff(sample) > 0)  # sorted, no repeats
    drawn = {s: int((sources[sample] == s).sum()) for s in ("big", "mid", "tiny")}
    # proportional would give tiny 2 units; the floor (1000 // 30 = 33, capped by what it has) keeps all 20
    assert drawn["tiny"] == 20 and drawn["mid"] >= 33 and drawn["big"] == 1000 - drawn["tiny"] - drawn["mid"]
    assert np.array_equal(sample, stratified_sample(sources, sources.size, 1000, random_state=1))
    assert not np.array_equal(sample, stratified_sample(sources, sources.size, 1000, random_state=2))
    assert np.array_equal(stratified_sample(None, 50, 80, random_state=0), np.arange(50))  # smaller than asked


@pytest.mark.slow
@pytest.mark.parametrize("assign", ["vote", "hdbscan"])
def test_fit_on_a_sample_places_the_rest_in_the_framings_of_their_neighbours(assign):
    X, truth = blobs(n_per=400, centres=4)
    sources = np.where(np.arange(X.shape[0]) % 2, "a", "b")
    model = FramingModel(min_cluster_size=15, selection_method="eom", random_state=3, fit_sample=500,
                         assign=assign, chunk_size=300).fit(X, strata=sources)
    assert model.fitted_.sum() == 500 and model.n_framings_ == 4
    assert model.space_.shape == (1600, 5) and model.map_.shape == (1600, 2)
    placed = ~model.fitted_
    assert (model.labels_[placed] != UNASSIGNED).mean() > 0.95
    for framing in range(4):  # every framing, fitted or placed, is one true group
        assert len(set(truth[model.labels_ == framing])) == 1
    # a placed unit lands on the map among the fitted units of its own group
    for group in range(4):
        fitted_centre = model.map_[model.fitted_ & (truth == group)].mean(axis=0)
        placed_centre = model.map_[placed & (truth == group)].mean(axis=0)
        others = [model.map_[model.fitted_ & (truth == g)].mean(axis=0) for g in range(4) if g != group]
        assert np.linalg.norm(placed_centre - fitted_centre) < min(np.linalg.norm(placed_centre - o) for o in others)
    again = FramingModel(min_cluster_size=15, selection_method="eom", random_state=3, fit_sample=500,
                         assign=assign, chunk_size=700).fit(X, strata=sources)
    assert np.array_equal(model.labels_, again.labels_)  # chunking does not change the result
    assert np.allclose(model.map_, again.map_)
    # once every unit is placed, the sample's state can go (a pipeline's later stages need its memory); the
    # fitted arrays stay, and placing more is refused rather than wrong
    labels = model.labels_.copy()
    assert model.forget_sample() is model and np.array_equal(model.labels_, labels)
    assert not {"_sample_X", "_index", "clusterer_"} & set(vars(model))
    with pytest.raises(RuntimeError, match="forgotten"):
        model.place(X[:3])


@pytest.mark.slow
def test_worker_processes_place_the_rest_exactly_as_this_process_does(monkeypatch):
    """engine.processes: the units a sampled fit did not see are placed in worker processes, in the same chunks,
    with the same result."""
    from framing.config import EngineConfig
    from framing.engines import local
    from framing.framings.model import place_in_chunks

    X, _ = blobs(n_per=400, centres=4)
    model = FramingModel(min_cluster_size=15, selection_method="eom", random_state=3, fit_sample=500,
                         chunk_size=300).fit(X)
    rest = np.flatnonzero(~model.fitted_)
    monkeypatch.setattr(local, "PARALLEL_PLACE_MIN_UNITS", 0)
    in_workers = local.LocalEngine(EngineConfig(processes=2)).place(model, X, rest, progress=False)
    here = place_in_chunks(model, X, rest, progress=False)
    assert rest.size == 1100 and in_workers.labels.shape == (1100,)
    # the same neighbours and labels; positions to float rounding (a worker's BLAS runs on one thread, with
    # another summation order than this process's two)
    assert np.array_equal(in_workers.labels, here.labels)
    for name in ("space", "map", "probabilities"):
        assert np.allclose(getattr(in_workers, name), getattr(here, name), rtol=1e-5, atol=1e-5), name


def test_terms_counted_a_chunk_at_a_time_are_the_vectorizers_own_counts():
    # word counts of a million units are made a chunk at a time (scikit-learn keeps every token in Python lists
    # until the end); the matrix and vocabulary must be the ones one fit_transform gives
    from sklearn.feature_extraction.text import CountVectorizer

    from framing.config import Config
    from framing.contrast.words import contrast_vectorizer
    from framing.corpus.load import load_corpus
    from framing.framings.terms import count_terms
    from framing.units.segment import segment

    texts = [u.text for u in segment(load_corpus(None, Config().corpus).documents, progress=False)]
    texts[10:20] = ["the and of", "12 34", *texts[10:18]]  # a chunk may keep no term at all
    for vectorizer in (contrast_vectorizer(), CountVectorizer(ngram_range=(1, 2), stop_words="english")):
        expected = vectorizer.fit_transform(texts)
        for chunk in (2, 7, 10_000):
            counts, vocabulary = count_terms(iter(texts), vectorizer, chunk=chunk)
            assert vocabulary.tolist() == vectorizer.get_feature_names_out().tolist()
            assert counts.dtype == expected.dtype and counts.shape == expected.shape
            assert (counts != expected).nnz == 0
    with pytest.raises(ValueError):
        count_terms(["the and of", "12"], contrast_vectorizer(), chunk=1)
