"""Events (issue 27): which documents tell the same story, and the groups compared within events."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kstest

import framing
from framing.contrast.design import ContrastInput, design_of
from framing.contrast.shares import chi_square
from framing.contrast.within_events import (StratifiedChiSquare, event_tables, kitagawa, permute_within,
                                            stratified_permutation_test, within_events)
from framing.events.detect import document_vectors, events_from_field, find_events

ROOT = Path(__file__).resolve().parents[1]


def _blobs(seed: int, per_event: int = 4, events: int = 3, dim: int = 16, spread: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(events, dim))
    vectors = np.vstack([c + spread * rng.normal(size=(per_event, dim)) for c in centres])
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_found_events_group_documents_by_content_and_keep_dates_apart():
    vectors = _blobs(0)
    events = find_events(vectors, np.ones(12, bool), [""] * 12, threshold=0.5, window_days=None)
    assert events.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    # the same content told two months apart is two events with a window, one without
    dates = ["2031-01-01"] * 2 + ["2031-03-01"] * 2 + ["2031-01-05"] * 8
    apart = find_events(vectors, np.ones(12, bool), dates, threshold=0.5, window_days=7)
    assert len(set(apart[:4].tolist())) == 2 and len(set(apart.tolist())) == 4
    assert len(set(find_events(vectors, np.ones(12, bool), dates, threshold=0.5, window_days=None)[:4])) == 1
    # a document without units is an event of its own; events are numbered by date, then corpus order
    has_units = np.ones(12, bool)
    has_units[5] = False
    alone = find_events(vectors, has_units, [""] * 12, threshold=0.5, window_days=None)
    assert (alone == alone[5]).sum() == 1


def test_given_events_come_from_the_column_and_an_empty_value_is_alone():
    events = events_from_field(["b", "a", "", "a", "b"], ["2031-01-05", "2031-01-01", "", "2031-01-02", ""])
    assert events.tolist() == [1, 0, 3, 0, 1] or events.tolist() == [1, 0, 2, 0, 1]
    assert events[2] not in (events[0], events[1])


def test_document_vectors_average_every_unit_including_a_reposts_copies():
    vectors = np.eye(3, dtype=np.float32)
    means, has_units = document_vectors(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), vectors, 4)
    assert np.allclose(means[0], [2 ** -0.5, 2 ** -0.5, 0]) and np.allclose(means[2], [0, 1, 0])
    assert has_units.tolist() == [True, True, True, False]


def _synthetic(seed: int, framing_depends_on_group: bool, n_events: int = 8, docs_per_group: int = 4,
               units_per_doc: int = 6) -> tuple[ContrastInput, np.ndarray]:
    """Two groups telling the same events; each event has its own label mix (the event shapes the framing) and,
    when ``framing_depends_on_group``, the groups lean to different labels within it."""
    rng = np.random.default_rng(seed)
    doc_ids, sources, labels, unit_events = [], [], [], []
    for e in range(n_events):
        base = rng.dirichlet(np.ones(4))
        for g, source in enumerate(("A", "B")):
            mix = base.copy()
            if framing_depends_on_group:
                mix[g] += 0.6
                mix /= mix.sum()
            for d in range(docs_per_group):
                for _ in range(units_per_doc):
                    doc_ids.append(f"e{e}-{source}-{d}")
                    sources.append(source)
                    labels.append(int(rng.choice(4, p=mix)))
                    unit_events.append(e)
    n = len(doc_ids)
    data = ContrastInput(unit_ids=[f"u{k}" for k in range(n)], texts=["word"] * n, doc_ids=doc_ids, sources=sources,
                         sections=["body"] * n, framings=np.array(labels), embeddings=rng.normal(size=(n, 4)),
                         framing_labels={k: f"f{k}" for k in range(4)})
    return data, np.array(unit_events)


def test_the_fast_statistic_is_the_sum_of_each_events_chi_square():
    data, unit_events = _synthetic(0, True)
    design = design_of(data, None, None)
    doc_event = np.zeros(design.doc_group.size, dtype=np.int64)
    doc_event[design.doc_of_unit] = unit_events[design.kept]
    tables = event_tables(design, doc_event, design.doc_group, 8)
    fast = StratifiedChiSquare(design, doc_event, 8, np.arange(8))
    assert fast(design.doc_group) == pytest.approx(sum(chi_square(tables[e]) for e in range(8)))
    shuffled = permute_within(design.doc_group, doc_event, np.random.default_rng(1))
    for e in range(8):  # the groups are shuffled within each event: every event keeps its group counts
        rows = doc_event == e
        assert sorted(shuffled[rows]) == sorted(design.doc_group[rows])
    tables = event_tables(design, doc_event, shuffled, 8)
    assert fast(shuffled) == pytest.approx(sum(chi_square(tables[e]) for e in range(8)))


@pytest.mark.slow
def test_the_within_event_test_is_uniform_under_its_null_and_finds_a_real_difference():
    nulls = []
    for seed in range(60):
        data, unit_events = _synthetic(seed, False)
        design = design_of(data, None, None)
        doc_event = np.zeros(design.doc_group.size, dtype=np.int64)
        doc_event[design.doc_of_unit] = unit_events[design.kept]
        test = stratified_permutation_test(design, doc_event, 8, 1000, np.random.default_rng(seed))
        assert 200 <= test["permutations"] <= 1000  # stopped once settled, never before 200
        nulls.append(test["p_value"])
    assert kstest(nulls, "uniform").pvalue > 0.01
    assert 0.0 <= np.mean(np.array(nulls) < 0.05) <= 0.15
    data, unit_events = _synthetic(99, True)
    result = within_events(data, unit_events, [{"id": e, "label": f"event {e}"} for e in range(8)], permutations=199)
    assert result["test"]["p_value"] < 0.01 and result["test"]["events"] == 8
    settled = within_events(data, unit_events, [{"id": e} for e in range(8)], permutations=1000, bootstrap=0)
    assert settled["test"]["permutations"] == 200 and settled["test"]["permutations_asked"] == 1000


def test_agenda_and_framing_parts_recover_what_was_built_in():
    # the same telling of every event (p(l|e) equal), different event mixes: all agenda, no framing
    within = np.array([[0.7, 0.3], [0.2, 0.8]])
    a = np.array([[80.0], [20.0]]) * within
    b = np.array([[20.0], [80.0]]) * within
    total, agenda, framing_part = kitagawa(a, b)
    assert np.allclose(framing_part, 0.0) and np.allclose(agenda, total)
    assert 0.5 * np.abs(agenda).sum() == pytest.approx(0.5 * 0.6 * 0.5 * 2)  # (0.8-0.2)*(0.7-0.2)
    # the same event mix, different tellings: all framing, no agenda
    a = np.array([[40.0, 10.0], [40.0, 10.0]])
    b = np.array([[10.0, 40.0], [10.0, 40.0]])
    total, agenda, framing_part = kitagawa(a, b)
    assert np.allclose(agenda, 0.0) and 0.5 * np.abs(framing_part).sum() == pytest.approx(0.6)
    # an event told by one group only adds to the agenda part
    a = np.array([[5.0, 5.0], [0.0, 0.0]])
    b = np.array([[5.0, 5.0], [9.0, 1.0]])
    total, agenda, framing_part = kitagawa(a, b)
    assert np.allclose(framing_part, 0.0) and np.allclose(total, agenda)


def test_words_within_events_leave_out_the_sources_own_names():
    data, unit_events = _synthetic(3, True)
    texts = [("Alpha wrote siege hunger" if s == "A" else "Beta wrote liberation order") for s in data.sources]
    data = ContrastInput(**{**data.__dict__, "texts": texts, "sources": [f"{s}lpha Post" if s == "A" else "Beta Times"
                                                                         for s in data.sources]})
    result = within_events(data, unit_events, [{"id": e} for e in range(8)], permutations=9, bootstrap=9)
    words = {w["word"] for w in result["words"]}
    assert {"siege", "hunger", "liberation", "order"} <= words
    assert not words & {"alpha", "beta", "post", "times"}
    assert {"alpha", "beta", "post", "times"} <= set(result["words_left_out"])
    kept = within_events(data, unit_events, [{"id": e} for e in range(8)], permutations=9, bootstrap=9,
                         keep_source_words=True)
    assert {"alpha", "beta"} <= {w["word"] for w in kept["words"]}


@pytest.mark.slow
def test_a_run_gives_every_document_and_unit_its_event_and_saves_them(example_result, tmp_path):
    result = example_result
    events = result.events
    assert result.manifest["events"]["method"] == "found" and len(events) == result.manifest["events"]["events"]
    documents = result.documents
    assert set(documents["event"]) == set(events["id"])
    doc_event = dict(zip(documents["doc_id"], documents["event"]))
    assert (result.units["event"] == result.units["doc_id"].map(doc_event)).all()
    for row in events.itertuples():
        assert sorted(row.documents) == sorted(documents.loc[documents["event"] == row.id, "doc_id"])
        assert row.label and row.size == int((result.units["event"] == row.id).sum())
    folder = result.save(tmp_path / "run")
    saved = json.loads((folder / "events.json").read_text())
    assert [e["id"] for e in saved["events"]] == list(events["id"])
    loaded = framing.load_result(folder)
    pd.testing.assert_frame_equal(loaded.events, events)
    within = loaded.contrast(within="events")
    assert within["test"]["shuffled"] == "group labels among the documents of each event"
    pair = loaded.contrast("state", "opposition", within="events")
    assert set(pair["shares"]["group"]) <= {"state", "opposition"}
    assert pair["agenda_framing"]["agenda"]["value"] >= 0 and pair["agenda_framing"]["framing"]["value"] >= 0
    for item in pair["passages"]:
        assert item["state"] and item["opposition"] and all(isinstance(t, str) for t in item["state"])


@pytest.mark.slow
def test_events_given_by_a_column_and_off_when_asked_or_with_one_source(cache_dir):
    given = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                            corpus__event_field="leaning", contrast__enabled=False, hierarchy__enabled=False,
                            stability__runs=0)
    assert given.manifest["events"]["method"] == "field"
    by_leaning = given.documents.groupby("event")["doc_id"].apply(set)
    assert len(by_leaning) == 4  # state, opposition, wire, regional
    with pytest.raises(framing.FramingError, match="corpus.event_field 'story' is not a metadata column; columns: .*leaning"):
        framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                        corpus__event_field="story")
    off = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                          events__enabled=False, hierarchy__enabled=False, stability__runs=0)
    assert off.events.empty and "event" not in off.units.columns and "events" not in off.manifest
    with pytest.raises(framing.FramingError, match="no events to compare within"):
        off.contrast(within="events")
    docs = [framing.Document(id=f"d{k}", text="The town council met again to discuss the new bridge and its cost.",
                             source="one outlet") for k in range(30)]
    single = framing.analyze(docs, None, embedding__cache_dir=str(cache_dir), progress=False,
                             reduce__n_neighbors=5, contrast__enabled=False, hierarchy__enabled=False,
                             units__deduplicate=False, stability__runs=0)
    assert "events" not in single.manifest


@pytest.mark.slow
def test_the_cli_compares_two_groups_within_events(example_result, tmp_path):
    from test_cli import framing_cli

    folder = example_result.save(tmp_path / "run")
    proc = framing_cli("contrast", str(folder), "state", "opposition", "--within-events")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[2].startswith("within events: ") and "permutation p = " in lines[2]
    assert lines[3].startswith("difference between state and opposition (total variation, 95% interval): all ")
    assert "agenda (which events)" in lines[3] and "framing (how they tell shared events)" in lines[3]
    proc = framing_cli("contrast", str(folder), "state", "nobody", "--within-events")
    assert proc.returncode == 2 and "no group 'nobody'" in proc.stderr


@pytest.mark.slow
def test_past_the_exact_limit_events_come_from_a_sample_and_agree_with_the_exact_ones(monkeypatch):
    from sklearn.metrics import adjusted_rand_score

    from framing.events import detect

    vectors = _blobs(4, per_event=60, events=12, dim=32, spread=0.35)
    everything = np.ones(len(vectors), bool)
    exact = find_events(vectors, everything, [""] * len(vectors), threshold=0.5, window_days=None)
    assert len(set(exact.tolist())) == 12
    for limit in (300, 100):  # a sample of that many clustered exactly, the rest joining the nearest, in rounds
        monkeypatch.setattr(detect, "FULL_MATRIX_DOCUMENTS", limit)
        sampled = find_events(vectors, everything, [""] * len(vectors), threshold=0.5, window_days=None)
        assert adjusted_rand_score(exact, sampled) > 0.95
    # dates hold in the sampled path too: one event's documents two months apart are two events
    dates = ["2031-01-01"] * 30 + ["2031-03-01"] * 30 + ["2031-01-05"] * (len(vectors) - 60)
    apart = find_events(vectors, everything, dates, threshold=0.5, window_days=7)
    assert len(set(apart[:30].tolist()) & set(apart[30:60].tolist())) == 0


def test_the_split_over_pairs_is_the_split_over_the_dense_table():
    from framing.contrast.within_events import kitagawa_by_pairs

    rng = np.random.default_rng(5)
    for _ in range(20):
        a = rng.integers(0, 4, size=(6, 5)).astype(float) * (rng.random((6, 1)) > 0.3)
        b = rng.integers(0, 4, size=(6, 5)).astype(float) * (rng.random((6, 1)) > 0.3)
        cells = np.flatnonzero((a + b).ravel())
        event, label = np.divmod(cells, 5)
        by_pairs = kitagawa_by_pairs(a.ravel()[cells][:, None], b.ravel()[cells][:, None], event, label, 6, 5)
        for dense, pairs in zip(kitagawa(a, b), by_pairs):
            assert np.allclose(dense, pairs[:, 0])
