"""Each framing's stability (issue 26, item 2): re-clustering document subsamples, matched by Jaccard."""
from __future__ import annotations

import json

import numpy as np
import pytest

import framing
from framing.cli import run_summary
from framing.framings.stability import best_jaccard, document_subsample, framing_stability, recluster


def _solid_blob_and_a_line(seed: int, n_line: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """A tight blob (a framing that cannot move) and a uniform line segment, which HDBSCAN's leaf selection cuts
    into pieces wherever the sample's density happens to dip: framings built to be unstable."""
    rng = np.random.default_rng(seed)
    solid = rng.normal(0, 0.05, size=(40, 5))
    line = np.zeros((n_line, 5))
    line[:, 0] = 5 + rng.uniform(0, 3, n_line)
    line[:, 1:] = rng.normal(0, 0.05, (n_line, 4))
    X = np.vstack([solid, line]).astype(np.float32)
    return X, np.arange(len(X)) // 2  # two units per document


def _stability(X, labels, documents, **overrides):
    settings = dict(runs=10, fraction=0.8, min_cluster_size=8, min_samples=None, selection_method="leaf",
                    selection_epsilon=0.0, random_state=0)
    reclusterings, drawn = recluster(X, documents, **{**settings, **overrides})
    return framing_stability(labels, int(labels.max()) + 1, reclusterings, fraction=drawn, reduce=False,
                             threshold=0.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_framing_built_to_be_unstable_scores_below_a_solid_one(seed):
    import hdbscan

    X, documents = _solid_blob_and_a_line(seed)
    labels = hdbscan.HDBSCAN(min_cluster_size=8, cluster_selection_method="leaf").fit(X).labels_.astype(np.int64)
    solid = int(np.bincount(labels[:40][labels[:40] >= 0]).argmax())
    pieces = sorted(set(labels[40:]) - {-1, solid})
    assert pieces, "the line is a framing of its own"
    stability = _stability(X, labels, documents)
    scores = stability.scores
    assert ((scores >= 0) & (scores <= 1)).all()
    assert scores[solid] >= 0.95
    assert all(scores[p] < scores[solid] for p in pieces)
    assert np.mean(scores[pieces]) < 0.9
    assert 0.0 < stability.mean_ari < 1.0
    # same inputs, same seed: the same bits; another seed draws other subsamples
    again = _stability(X, labels, documents)
    assert again.scores.tobytes() == scores.tobytes() and again.mean_ari == stability.mean_ari
    assert not np.array_equal(_stability(X, labels, documents, random_state=7).jaccards, stability.jaccards)


def test_a_framing_that_cannot_move_scores_one_with_the_whole_corpus_kept():
    X, documents = _solid_blob_and_a_line(0)
    import hdbscan

    labels = hdbscan.HDBSCAN(min_cluster_size=8, cluster_selection_method="leaf").fit(X).labels_.astype(np.int64)
    stability = _stability(X, labels, documents, fraction=1.0)  # the same units, the same space: nothing moves
    assert np.allclose(stability.scores, 1.0) and stability.mean_ari == pytest.approx(1.0)


def test_best_jaccard_matches_each_reference_cluster_to_its_best_counterpart():
    reference = np.array([0, 0, 0, 0, 1, 1, -1, 2])
    other = np.array([5, 5, 5, 1, 1, 1, 1, -1])
    # cluster 0 = {0,1,2,3}: with 5 = {0,1,2} 3/4; cluster 1 = {4,5}: with 1 = {3,4,5,6} 2/4; cluster 2: never found
    assert best_jaccard(reference, other, 4).tolist()[:3] == [0.75, 0.5, 0.0]
    assert np.isnan(best_jaccard(reference, other, 4)[3])  # no member here: not a zero


def test_subsamples_take_whole_documents():
    documents = np.repeat(np.arange(10), 3)
    rows = document_subsample(documents, 0.8, np.random.default_rng(0))
    kept = set(documents[rows])
    assert len(kept) == 8 and rows.tolist() == [r for r in range(30) if documents[r] in kept]


def test_max_units_bounds_the_units_each_reclustering_sees():
    X, documents = _solid_blob_and_a_line(0, n_line=400)
    import hdbscan

    labels = hdbscan.HDBSCAN(min_cluster_size=8, cluster_selection_method="leaf").fit(X).labels_.astype(np.int64)
    stability = _stability(X, labels, documents, max_units=200)
    assert stability.fraction == pytest.approx(0.8 * 200 / len(X))
    assert stability.summary()["fraction"] == stability.fraction


@pytest.mark.slow
def test_a_run_gives_every_framing_its_stability_saves_it_and_says_which_are_unstable(example_result, tmp_path):
    result = example_result
    settings = result.manifest["stability"]
    assert settings["runs"] == 5 and settings["fraction"] == 0.8 and 0.0 <= settings["mean_ari"] <= 1.0
    scores = [f.stability for f in result.framings]
    assert all(s is not None and 0.0 <= s <= 1.0 for s in scores) and len(set(scores)) > 1
    assert settings["unstable"] == [f.id for f in result.framings if f.stability < settings["threshold"]]
    table = result.stability
    assert table["stability"].is_monotonic_decreasing and set(table["id"]) == {f.id for f in result.framings}
    assert table.set_index("id")["unstable"].to_dict() == {f.id: f.id in settings["unstable"] for f in result.framings}
    summary = run_summary(result.manifest, 1.0)
    assert f"{len(settings['unstable'])} of {len(scores)} framings unstable" in summary
    folder = result.save(tmp_path / "run")
    saved = json.loads((folder / "framings.json").read_text())
    assert [f["stability"] for f in saved] == scores
    assert [f.stability for f in framing.load_result(folder).framings] == scores


@pytest.mark.slow
def test_stability_runs_zero_measures_nothing(cache_dir):
    result = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                             stability__runs=0, contrast__enabled=False, hierarchy__enabled=False)
    assert "stability" not in result.manifest and "stability" not in result.manifest["seconds"]
    assert all(f.stability is None for f in result.framings)
    assert result.stability.empty
    assert "stability:" not in run_summary(result.manifest, 1.0)


@pytest.mark.slow
def test_with_a_fitted_sample_only_the_sample_is_reclustered(cache_dir):
    """At a million units the cost must not grow with the corpus: stability sees the fitted sample only."""
    result = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                             reduce__fit_sample=150, contrast__enabled=False, hierarchy__enabled=False)
    units = result.unit_columns(["fitted", "duplicate_of"])
    fitted = int(units.loc[units["duplicate_of"] == "", "fitted"].sum())
    assert fitted == 150 and result.manifest["stability"]["units"] == 150
    assert all(f.stability is None or 0.0 <= f.stability <= 1.0 for f in result.framings)
