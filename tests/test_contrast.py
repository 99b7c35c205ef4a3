"""The contrast stage: groups, bootstrap intervals over documents, permutation test, divergences, words."""
import numpy as np
import pandas as pd
import pytest

import framing
from framing.contrast.analysis import compute_contrast
from framing.contrast.design import ContrastInput, resolve_groups
from framing.contrast.words import fightin_words
from framing.frames.assign import load_codebook
from framing.errors import FramingError


def toy_input(n_docs: int = 12, per_doc: int = 6, separated: bool = True, seed: int = 0) -> ContrastInput:
    """Documents of two outlets; with ``separated`` outlet A uses framing 0 and outlet B framing 1."""
    rng = np.random.default_rng(seed)
    unit_ids, texts, doc_ids, sources, framings_ = [], [], [], [], []
    words = {0: "siege hunger civilians bombed hospital", 1: "liberated terrorists restored order army"}
    for d in range(n_docs):
        source = "A" if d % 2 == 0 else "B"
        for k in range(per_doc):
            f = (0 if source == "A" else 1) if separated else int(rng.integers(2))
            if rng.random() < 0.15:
                f = 1 - f
            unit_ids.append(f"d{d}#{k}")
            texts.append(f"{words[f]} {'outlet' + source.lower()} sentence {k}")
            doc_ids.append(f"d{d}")
            sources.append(source)
            framings_.append(f)
    embeddings = rng.normal(size=(len(texts), 8)).astype(np.float32)
    embeddings[np.array(framings_) == 0, 0] += 4
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    return ContrastInput(unit_ids, texts, doc_ids, sources, ["body"] * len(texts), np.array(framings_), embeddings,
                         {0: "siege", 1: "liberation"}, {f"d{d}": {"leaning": "x" if d % 2 == 0 else "y"}
                                                          for d in range(n_docs)})


def no_encode(texts):
    raise AssertionError("nothing should be embedded without a codebook or axes")


def test_separated_groups_are_detected_with_intervals_and_words():
    c = compute_contrast(toy_input(), no_encode, bootstrap=300, permutations=300, min_units=3)
    assert c.grouping == "source" and c.groups == {"A": ["A"], "B": ["B"]}
    assert c.test["p_value"] < 0.01 and c.test["documents"] == 12
    row = c.table[(c.table["group"] == "A") & (c.table["framing"] == 0)].iloc[0]
    assert row["share"] > 0.6 and row["low"] <= row["share"] <= row["high"] and row["documents"] == 6
    assert c.divergence.loc["A", "B"] > 0.3 and c.divergence.loc["A", "A"] == 0.0
    words_0 = c.words_for(0, "A", "B")
    assert words_0[words_0["side"] == "a"]["word"].iloc[0] == "outleta"
    assert words_0[words_0["side"] == "b"]["word"].iloc[0] == "outletb"
    assert (c.words_for(0, "B", "A")["z"].to_numpy() == -words_0["z"].to_numpy()).all()
    assert all(uid.startswith("d") for uids in c.words["unit_ids"] for uid in uids)
    assert c.narratives and set(c.narratives[0]) >= {"passages_a", "passages_b"}


def test_no_dependence_gives_a_large_p_value():
    c = compute_contrast(toy_input(n_docs=20, separated=False, seed=0), no_encode, bootstrap=0, permutations=500,
                         min_units=3)
    assert c.test["p_value"] > 0.05
    assert np.isnan(c.table["low"]).all()  # bootstrap off: no intervals, not fake ones
    assert (c.table["interval"] == "no interval: contrast.bootstrap is 0").all()


def test_bootstrap_resamples_documents_not_units():
    # one document of B holds all of B's framing-1 units: resampling documents must show that uncertainty
    data = toy_input(n_docs=4, per_doc=10, separated=True, seed=1)
    c = compute_contrast(data, no_encode, bootstrap=500, permutations=0, min_units=1)
    rows = c.table[c.table["framing"] == 1].set_index("group")
    assert rows.loc["B", "high"] - rows.loc["B", "low"] > 0.0
    assert rows.loc["B", "documents"] == 2


def test_groups_by_definition_field_and_errors():
    data = toy_input()
    labels, defs, how = resolve_groups(data.sources, data.doc_ids, data.sections, {"left": ["A"], "right": ["B"]},
                                       None, data.doc_meta)
    assert how == "groups" and set(labels) == {"left", "right"}
    labels, defs, how = resolve_groups(data.sources, data.doc_ids, data.sections, None, "leaning", data.doc_meta)
    assert defs == {"x": ["A"], "y": ["B"]}
    with pytest.raises(FramingError, match="not in the corpus: C"):
        resolve_groups(data.sources, data.doc_ids, data.sections, {"g": ["C"]}, None, data.doc_meta)
    with pytest.raises(FramingError, match="no document has a 'stance' field"):
        resolve_groups(data.sources, data.doc_ids, data.sections, None, "stance", data.doc_meta)
    with pytest.raises(FramingError, match="in both"):
        resolve_groups(data.sources, data.doc_ids, data.sections, {"g": ["A"], "h": ["A", "B"]}, None, data.doc_meta)


def test_fightin_words_shrinks_rare_words():
    a = np.array([50.0, 1.0, 10.0])
    b = np.array([10.0, 0.0, 10.0])
    delta, z = fightin_words(a, b, prior=a + b)
    assert z[0] > 1.96 and abs(z[1]) < 1.0 and z[0] > z[2]


def test_codebooks_load_and_validate(tmp_path):
    policy = load_codebook("policy-frames")
    assert len(policy["frames"]) == 15 and policy["frames"][7]["name"] == "security and defense"
    assert len(load_codebook("conflict")["frames"]) >= 6
    bad = tmp_path / "bad.yaml"
    bad.write_text("frames: [{name: x}]\n")
    with pytest.raises(FramingError, match="needs 'frames'"):
        load_codebook(str(bad))
    with pytest.raises(FramingError, match="no such file"):
        load_codebook("nope.yaml")


@pytest.mark.slow
def test_example_corpus_contrast_recovers_the_construction(cache_dir, tmp_path):
    """The example corpus is written with a state and an opposition telling; the contrast must show it."""
    result = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                             contrast__group_by="leaning", frames__codebook="conflict",
                             contrast__axes=[{"name": "threat-suffering",
                                              "negative": ["terrorists and militants", "armed gangs"],
                                              "positive": ["civilians suffering", "starving families"]}])
    c = result.contrast()
    by_group = {row["group"]: row for row in c.codebook["by_group"]}
    assert by_group["opposition"]["humanitarian suffering"] > by_group["state"]["humanitarian suffering"]
    assert by_group["state"]["liberation and restored order"] > by_group["opposition"]["liberation and restored order"]
    axis = {g["group"]: g["mean"] for g in c.axes[0]["groups"]}
    assert axis["opposition"] > axis["state"]
    assert "frame: humanitarian suffering" in result.units.columns and "axis: threat-suffering" in result.units.columns
    # which framings have five units of both groups shifts with the clustering; every pair's view must work
    assert c.narratives
    first = c.narratives[0]
    view = result.contrast(first["group_a"], first["group_b"])
    assert view["narratives"] and set(view["narratives"][0]) >= {first["group_a"], first["group_b"], "label"}
    texts = set(result.units["text"])
    assert all(t in texts for t in view["narratives"][0][first["group_a"]])
    assert 0.0 < view["divergence"] <= 1.0
    target = result.save(tmp_path / "run")
    for name in ("contrast.json", "contrast_table.csv", "contrast_divergence.csv", "contrast_words.csv",
                 "contrast_codebook.csv", "contrast_axes.csv", "frames.json"):
        assert (target / name).is_file()
    loaded = framing.load_result(target).contrast()
    pd.testing.assert_frame_equal(loaded.divergence, c.divergence, check_exact=False, atol=1e-5)
    assert loaded.test == c.test and len(loaded.words) == len(c.words)


def test_closed_form_ari_matches_sklearn():
    from sklearn.metrics import adjusted_rand_score

    from framing.contrast.subframings import ari_binary

    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(4, 60))
        a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
        if a.sum() in (0, n) or b.sum() in (0, n):
            continue
        ours = float(ari_binary(np.float64((a & b).sum()), int(a.sum()), int(b.sum()), n))
        assert ours == pytest.approx(adjusted_rand_score(a, b), abs=1e-9)


def test_a_group_of_one_document_has_no_interval_and_valid_json():
    import json

    data = toy_input(n_docs=6)
    c = compute_contrast(data, no_encode, groups={"one": ["A"], "rest": ["B"]}, bootstrap=200, permutations=50,
                         min_units=1)
    assert c.table.set_index("group").loc["one", "documents"].iloc[0] == 3
    single = ContrastInput(data.unit_ids[:6] + data.unit_ids[6:], data.texts, data.doc_ids, ["A"] * 6 + ["B"] * 30,
                           data.sections, data.framings, data.embeddings, data.framing_labels, {})
    c = compute_contrast(single, no_encode, bootstrap=200, permutations=50, min_units=1)
    rows = c.table[c.table["group"] == "A"]
    assert rows["documents"].iloc[0] == 1 and rows["low"].isna().all() and rows["high"].isna().all()
    assert (rows["interval"] == "no interval: one document, nothing to resample").all()  # said, not only NaN
    assert (c.table[c.table["group"] == "B"]["interval"] == "").all()
    text = json.dumps(c.to_dict(), allow_nan=False)
    assert json.loads(text)["table"][0]["low"] is None


def test_two_means_finds_two_separated_groups_and_is_seeded():
    from sklearn.cluster import KMeans

    from framing.contrast.subframings import two_means

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.1, (40, 8)) + 1.0, rng.normal(0, 0.1, (25, 8)) - 1.0])
    split = two_means(X, np.random.default_rng(1))
    assert set(split[:40]) != set(split[40:]) and len(set(split[:40])) == len(set(split[40:])) == 1
    assert np.array_equal(split, two_means(X, np.random.default_rng(1)))
    # on unstructured data: a split as tight as scikit-learn's k-means (within-split squared distances)
    noise = rng.standard_normal((200, 16))
    inertia = lambda s: sum(((noise[s == k] - noise[s == k].mean(0)) ** 2).sum() for k in (0, 1))
    reference = KMeans(n_clusters=2, n_init=4, random_state=0).fit(noise).inertia_
    assert inertia(two_means(noise, np.random.default_rng(0))) <= reference * 1.02


def test_splits_and_typical_passages_read_a_framings_rows_a_chunk_at_a_time(monkeypatch):
    # a large framing is read from the embeddings in chunks, never copied whole; the answer is the one the
    # gathered copy gives
    import framing.contrast.subframings as contrast

    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(0, 0.2, (700, 8)) + 1.0, rng.normal(0, 0.2, (500, 8)) - 1.0]).astype(np.float32)
    rows = rng.permutation(1200)[:900]
    gathered = contrast.two_means(X[rows].astype(np.float64), np.random.default_rng(4), fit_rows=200)
    import framing.framings.vectors as framings

    monkeypatch.setattr(framings, "GATHER_ROWS", 128)  # seven chunks
    assert np.array_equal(contrast.two_means(X, np.random.default_rng(4), fit_rows=200, rows=rows), gathered)
    ids = [f"u{i}" for i in range(1200)]
    centre = X[rows].mean(axis=0)
    expected = [ids[i] for i in rows[np.argsort(-(X[rows] @ centre), kind="stable")][:5]]
    assert contrast.typical_passages(X, rows, ids, 5) == expected


def test_the_splits_exact_p_value_matches_shuffling_the_groups():
    from framing.contrast.subframings import ari_binary, split_p_value

    rng = np.random.default_rng(5)
    labels = np.array([0] * 30 + [1] * 25)
    split = np.zeros(55, dtype=int)
    split[rng.choice(55, size=22, replace=False)] = 1
    split[:6], split[30:40] = 0, 1  # a split that leans towards the groups
    n, a1, b1 = 55, int(labels.sum()), int(split.sum())
    ari = float(ari_binary(np.float64((labels & split).sum()), a1, b1, n))
    shuffled = rng.permuted(np.tile(labels, (20000, 1)), axis=1)
    simulated = float((ari_binary((shuffled @ split).astype(np.float64), a1, b1, n) >= ari - 1e-12).mean())
    exact = split_p_value(ari, a1, b1, n)
    assert 0.001 < exact < 0.5 and abs(exact - simulated) < 0.01
    assert split_p_value(-1.0, a1, b1, n) == pytest.approx(1.0)  # every shuffle reaches the lowest index


def test_bootstrap_draws_come_a_chunk_at_a_time_with_the_same_numbers(monkeypatch):
    import zlib

    from framing.contrast import resampling as contrast

    whole = np.random.default_rng(3).integers(0, 11, size=(50, 11))
    monkeypatch.setattr(contrast, "BOOTSTRAP_CELLS", 30)  # two draws of 11 documents a chunk
    chunks = list(contrast.bootstrap_draws(np.random.default_rng(3), 11, 50))
    assert [len(c) for c in chunks] == [2] * 25 and (np.vstack(chunks) == whole).all()

    def encode(texts):  # a fixed vector per text, so the axis poles are the same in both runs
        return np.stack([np.random.default_rng(zlib.crc32(t.encode())).normal(size=8) for t in texts])

    def run():
        return compute_contrast(toy_input(n_docs=10), encode, bootstrap=200, permutations=20, min_units=3,
                                axes=[{"name": "order", "negative": ["siege"], "positive": ["order"]}])

    monkeypatch.setattr(contrast, "BOOTSTRAP_CELLS", 1 << 21)
    at_once = run()
    monkeypatch.setattr(contrast, "BOOTSTRAP_CELLS", 7)  # one draw a chunk
    chunked = run()
    assert at_once.table["low"].notna().all()
    pd.testing.assert_frame_equal(chunked.table, at_once.table)
    assert chunked.axes == at_once.axes and not np.isnan(at_once.axes[0]["groups"][0]["low"])


@pytest.mark.slow
def test_a_saved_run_is_contrasted_under_another_grouping_without_embedding_or_clustering(example_result, tmp_path,
                                                                                           monkeypatch, capsys):
    """Issue 28: contrast under any grouping from the saved unit table; no embedder, UMAP or HDBSCAN is made."""
    import hdbscan
    import sentence_transformers
    import umap

    import framing
    from framing.cli import main

    folder = example_result.save(tmp_path / "run")

    def forbidden(*args, **kwargs):
        raise AssertionError("a saved run's contrast must not embed or cluster")

    for owner, name in ((sentence_transformers.SentenceTransformer, "__init__"), (umap.UMAP, "__init__"),
                        (hdbscan.HDBSCAN, "__init__")):
        monkeypatch.setattr(owner, name, forbidden)
    import framing.embed.cache as embed_cache
    monkeypatch.setattr(embed_cache, "make_embedder", forbidden)
    result = framing.load_result(folder)
    by_source = result.contrast(group_by="source")
    assert by_source.grouping == "source" and set(by_source.groups) == set(result.units["source"])
    assert 0 < by_source.test["p_value"] <= 1 and by_source.narratives == [] and by_source.axes == []
    # the same shares as a run grouped by source would give (the grouping is the only difference)
    sources = result.units[result.units["duplicate_of"] == ""].groupby("source")["framing"].apply(
        lambda f: (f == f.mode()[0]).sum())
    table = by_source.table
    for source, count in sources.items():
        row = table[(table["group"] == source) & (table["framing"] == result.units[
            (result.units["duplicate_of"] == "") & (result.units["source"] == source)]["framing"].mode()[0])]
        assert int(row["count"].iloc[0]) == count
    # frames under a new grouping; under the run's own grouping, exactly the run's frames contrast
    frames_by_source = result.contrast(group_by="source", by="frames")
    assert frames_by_source.members == "every unit with a frame" and frames_by_source.within_events is None
    assert set(frames_by_source.table["label"]) - {"unassigned"} == set(result.frames_data["frames"])
    distinct = result.units[result.units["duplicate_of"] == ""]
    for (source, frame), count in distinct.groupby(["source", "frame"]).size().items():
        row = frames_by_source.table[(frames_by_source.table["group"] == source)
                                     & (frames_by_source.table["label"] == frame)]
        assert int(row["count"].iloc[0]) == count
    # the same bits as the run's own contrast under its own grouping (documents are resampled in one order)
    by_leaning, run_own = result.contrast(group_by="leaning"), result.contrast()
    pd.testing.assert_frame_equal(by_leaning.table, run_own.table)
    assert by_leaning.test == run_own.test
    frames_by_leaning = result.contrast(group_by="leaning", by="frames")
    own = result.contrast(by="frames")
    pd.testing.assert_frame_equal(frames_by_leaning.table, own.table)
    assert frames_by_leaning.test == own.test
    pd.testing.assert_frame_equal(frames_by_leaning.words.drop(columns="unit_ids"), own.words.drop(columns="unit_ids"))
    assert [set(u) for u in frames_by_leaning.words["unit_ids"]] == [set(u) for u in own.words["unit_ids"]]
    # the tree's broader framings, from the saved units: a level's counts are its framings' counts summed
    at_one = result.contrast(level=1)
    parents = {p.id: p for p in result.hierarchy_data.parents}
    level_of = dict(zip(result.units["unit_id"], result.at_level(1)))
    assert set(at_one.table["framing"]) - {-1} <= set(level_of.values()) and set(at_one.table["framing"]) & set(parents)
    for (group, label_id), rows in at_one.table.groupby(["group", "framing"]):
        want = sum(1 for u, f in zip(distinct["unit_id"], distinct["leaning"]) if f == group and level_of[u] == label_id)
        assert int(rows["count"].iloc[0]) == want
    assert main(["contrast", str(folder), "state", "opposition", "--level", "1"]) == 0
    assert main(["contrast", str(folder), "--level", "9"]) == 2  # no such level: one line, exit 2
    assert "level 9" in capsys.readouterr().err
    # shares over time, from the saved units: under the run's own settings the run's own figures
    own_time = result.over_time()
    regrouped_time = result.over_time(bin=result.manifest["time"]["bin"])
    pd.testing.assert_frame_equal(regrouped_time, own_time[own_time.columns])
    by_source_time = result.over_time(group_by="source", bin="week")
    assert set(by_source_time["group"]) - {"(all)"} == set(result.units["source"])
    assert set(result.over_time(level=1)["framing"]) & set(parents)
    with pytest.raises(FramingError, match="bin 'fortnight'"):
        result.over_time(bin="fortnight")
    pair = result.contrast("National Herald", "Meridian Observer", group_by="source", within="events")
    assert pair["test"]["shuffled"] == "group labels among the documents of each event"
    assert main(["contrast", str(folder), "National Herald", "Meridian Observer", "--group-by", "source"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("groups (source): ") and "Jensen-Shannon divergence of their framing use" in out
    assert main(["contrast", str(folder), "National Herald", "Meridian Observer", "--group-by", "source",
                 "--by", "frames"]) == 0
    assert "humanitarian suffering" in capsys.readouterr().out.lower()
    assert main(["contrast", str(folder), "--group-by", "nosuch"]) == 2
