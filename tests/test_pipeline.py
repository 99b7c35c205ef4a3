"""End to end with the real packaged model, UMAP and HDBSCAN."""
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import framing
from framing.corpus.documents import Corpus, Document
from framing.corpus.load import load_corpus
from framing.errors import FramingError

pytestmark = pytest.mark.slow

UNIT_COLUMNS = ["unit_id", "doc_id", "source", "start", "end", "text", "framing", "probability", "x", "y",
                "section", "dup_group", "duplicate_of"]


def report_data_of(path) -> dict:
    """The JSON block a report page carries, its packed columns unpacked as the page's script does."""
    import base64

    page = path.read_text(encoding="utf-8")
    block = re.search(r'<script id="framing-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    data = json.loads(block)

    def unpack(column):
        if not isinstance(column, dict) or "b64" not in column:
            return column
        raw = np.frombuffer(base64.b64decode(column["b64"]), dtype={"int8": "<i1", "int16": "<i2", "int32": "<i4",
                            "uint8": "<u1", "uint16": "<u2", "float32": "<f4"}[column["dtype"]])
        if "scale" in column:
            return [float("nan") if v == column["missing"] else column["offset"] + v * column["scale"] for v in raw]
        return raw.tolist()

    units = data["units"] = {key: unpack(value) for key, value in data["units"].items()}
    if "doc_runs" in units:
        units["doc"] = [d for d, count in enumerate(units["doc_runs"]) for _ in range(count)]
    if units.get("id") is None:
        units["id"] = [f"{data['docs']['id'][d]}#{i}" for d, i in zip(units["doc"], units["index"])]
    units["dup_of"] = [-1] * len(units["index"])
    for unit, representative in zip(units["copies"], units["copy_of"]):
        units["dup_of"][unit] = representative
    return data


def check_invariants(result: framing.Result) -> None:
    units, docs = result.units, result.documents.set_index("doc_id")
    assert list(units.columns[:3]) == ["unit_id", "doc_id", "index"]
    assert set(UNIT_COLUMNS) <= set(units.columns)
    assert units["unit_id"].is_unique
    for row in units.itertuples():
        assert docs.at[row.doc_id, "text"][row.start:row.end] == row.text  # provenance: exact offsets
    ids = {f.id for f in result.framings}
    assert set(units["framing"].unique()) <= ids | {-1}
    for f in result.framings:
        members = units[units["framing"] == f.id]
        assert f.occurrences == len(members) and f.size == int((members["duplicate_of"] == "").sum()) > 0
        assert f.terms and f.label and f.label != "(no distinctive terms)"
        assert 1 <= len(f.exemplars) <= 5 and set(f.exemplars) <= set(members["unit_id"])
        assert sum(f.sections.values()) == pytest.approx(1.0, abs=1e-4)
        assert sum(f.sources.values()) == pytest.approx(1.0, abs=1e-4)
    assert np.isfinite(units[["x", "y"]].to_numpy()).all()
    counts = result.manifest["counts"]
    assert counts["units"] == len(units) and counts["framings"] == len(result.framings)
    distinct = units[units["duplicate_of"] == ""]
    assert counts["distinct_units"] == len(distinct) == units["dup_group"].nunique()
    assert counts["unassigned"] == int((distinct["framing"] == -1).sum())
    assert sum(f.size for f in result.framings) == int((distinct["framing"] >= 0).sum())
    copies = units[units["duplicate_of"] != ""].merge(units[["unit_id", "framing"]], left_on="duplicate_of",
                                                       right_on="unit_id", suffixes=("", "_rep"))
    assert (copies["framing"] == copies["framing_rep"]).all()  # every copy shares its group's framing
    # each unit carries its document's values, its framing's label, and a copy its representative's frame and bin
    doc_ids = units["doc_id"].astype(str)
    for column in ("source", "title", "date", "url"):
        assert units[column].astype(str).tolist() == docs.loc[doc_ids, column].tolist(), column
    assert (doc_ids + "#" + units["index"].astype(str)).tolist() == units["unit_id"].tolist()
    names = {f.id: f.label for f in result.framings} | {-1: "unassigned"}
    assert units["framing_label"].astype(str).tolist() == [names[f] for f in units["framing"]]
    representatives = units.set_index("unit_id").loc[copies["duplicate_of"]]
    for column in {"frame", "frame_origin", "time_bin", "group"} & set(units.columns):
        assert copies[column].astype(str).tolist() == representatives[column].astype(str).tolist(), column
    assert set(units["section"]) <= {"body", "comments"}


def test_example_corpus_end_to_end(example_result):
    result = example_result
    check_invariants(result)
    assert len(result.framings) >= 4
    assert result.units["source"].nunique() >= 4
    assert "leaning" in result.units.columns  # sidecar metadata becomes columns
    manifest = result.manifest
    assert manifest["model"]["fingerprint"].startswith("sha256:")
    assert manifest["seed"] == 42 and manifest["config"]["cluster"]["selection_method"] == "leaf"
    assert set(manifest["seconds"]) == {"corpus", "units", "embed", "events", "framings", "stability", "hierarchy",
                                        "frames", "contrast", "time", "table"}
    assert len(manifest["input"]["files"]) == 18
    assert {"sentence-transformers", "umap-learn", "hdbscan", "torch"} <= set(manifest["versions"])


def test_repeated_strings_in_the_unit_table_are_categoricals(example_result):
    units = example_result.units  # their values are checked by check_invariants
    for column in ("doc_id", "source", "title", "date", "url", "section", "framing_label", "leaning", "frame",
                   "frame_origin", "time_bin", "group"):
        assert isinstance(units[column].dtype, pd.CategoricalDtype), column
    assert not isinstance(units["unit_id"].dtype, pd.CategoricalDtype)  # unique: codes would only add to it
    assert set(units["frame"]) <= set(example_result.frames_data["frames"])
    assert set(units["frame_origin"]) <= {"label", "prediction", "zero-shot"}


def test_framings_separate_the_opposed_tellings(example_result):
    """The corpus is written with a state and an opposition telling of each event, and a wire style.

    Sentence embeddings group by event first, so many framings mix both tellings of one event (separating
    those is the contrast stage's job); but some framings must belong to one side, and each side must lead some.
    """
    units = example_result.units
    shares = units[units["framing"] >= 0].groupby("framing")["leaning"].value_counts(normalize=True).unstack(
        fill_value=0.0)
    assert (shares.max(axis=1) >= 0.6).sum() >= 2
    leaders = set(shares.idxmax(axis=1))
    assert {"state", "opposition"} <= leaders


def test_passages_context_and_save_load(example_result, tmp_path):
    result = example_result
    first = result.framings[0]
    passages = result.passages(first.id)
    assert len(passages) == first.occurrences
    assert list(passages["unit_id"][: len(first.exemplars)]) == first.exemplars
    assert (result.passages(-1)["framing"] == -1).all()
    context = result.context(first.exemplars[0])
    assert first.exemplars[0] in set(context["unit_id"]) and len(context) <= 5
    with pytest.raises(KeyError):
        result.framing(999)

    target = framing.save_run(result, tmp_path / "run")
    assert {p.name for p in target.iterdir()} >= {"documents.parquet", "framings.json", "report.html", "run.json",
                                                   "units.parquet", "contrast.json"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind
    framings_json = json.loads((target / "framings.json").read_text())
    assert set(framings_json[0]) >= {"id", "label", "size", "terms", "exemplars", "sources"}
    loaded = framing.load_result(target)
    pd.testing.assert_frame_equal(loaded.units, result.units)
    assert [f.to_dict() for f in loaded.framings] == [f.to_dict() for f in result.framings]
    page = (target / "report.html").read_text()
    data = report_data_of(target / "report.html")
    assert [f["label"] for f in data["framings"]] == [f.label for f in result.framings]
    assert data["units"]["id"] == list(result.units["unit_id"])
    assert np.allclose(data["units"]["x"], result.units["x"], atol=1e-4 * np.ptp(result.units["x"]))
    assert page.count("Plotly=") <= 2 and "plotly.js" in page  # plotly.js inlined once
    assert re.search(r"<script[^>]+src=", page) is None  # plotly.js is inlined: the page works offline


def test_a_run_reads_its_unit_table_from_disk_when_asked(example_result, cache_dir, tmp_path):
    import pickle
    import shutil

    # a run's tables and its documents' texts were written to unnamed scratch files: none is left in the cache
    # folder, where they were made
    assert not [p for p in Path(cache_dir).iterdir() if p.name.startswith((".table-", ".documents-"))]
    run = example_result.save(tmp_path / "run")
    loaded, again = framing.load_result(run), framing.load_result(run)
    assert list(loaded.unit_columns(["x", "framing", "no such column"]).columns) == ["framing", "x"]
    # the folder replaced after loading (as the next run to the same place does): the loaded run reads the table
    # it opened
    shutil.rmtree(run)
    framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                    cluster__min_cluster_size=12).save(run)
    pd.testing.assert_frame_equal(loaded.units, example_result.units)
    pd.testing.assert_frame_equal(loaded.documents, example_result.documents)
    carried = pickle.loads(pickle.dumps(again))  # carried whole, not as open files
    pd.testing.assert_frame_equal(carried.units, example_result.units)
    pd.testing.assert_frame_equal(carried.documents, example_result.documents)
    assert "units" in repr(again) and len(repr(again)) < 200
    # a units.parquet that lost its end is not a run's table: one clear error when the run is loaded
    data = (run / "units.parquet").read_bytes()
    (run / "units.parquet").write_bytes(data[:len(data) // 2])
    with pytest.raises(FramingError, match="cannot read run folder"):
        framing.load_result(run)


def test_same_input_config_and_seed_give_the_same_framings(example_result, cache_dir, monkeypatch, tmp_path):
    from framing.report import write_report
    from framing.units.segment import UnitColumn

    # texts and ids read seven at a time, as a large run reads 50,000 (the unit table's text and id columns
    # are then Arrow arrays of many chunks), and the table written 50 rows at a time, as a large run writes
    # 100,000: nothing may change
    monkeypatch.setattr(UnitColumn, "CHUNK", 7)
    monkeypatch.setattr(framing.run.tables, "ROW_GROUP_ROWS", 50)
    monkeypatch.setattr(framing.run.tables, "DOCUMENT_GROUP_BYTES", 4000)  # documents.parquet: ~two pages a group
    # reduce.cache off: UMAP and HDBSCAN really run again, they do not just read the first run's results
    again = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                            reduce__cache=False)
    again.save(tmp_path / "run")  # the tables' files as written
    # the report reads its columns from the table on disk, before anything reads the whole of it
    write_report(again, tmp_path / "report.html")
    assert pq.ParquetFile(tmp_path / "run" / "units.parquet").num_row_groups == -(-len(example_result.units) // 50)
    assert pq.ParquetFile(tmp_path / "run" / "documents.parquet").num_row_groups >= len(example_result.documents) // 3
    assert again.manifest["embedding"]["computed"] == 0  # the re-run embeds nothing
    assert np.array_equal(again.units["framing"].to_numpy(), example_result.units["framing"].to_numpy())
    assert np.allclose(again.units[["x", "y"]].to_numpy(), example_result.units[["x", "y"]].to_numpy())
    assert [f.to_dict() for f in again.framings] == [f.to_dict() for f in example_result.framings]
    pd.testing.assert_frame_equal(again.units, example_result.units)
    pd.testing.assert_frame_equal(again.documents, example_result.documents)
    assert report_data_of(tmp_path / "report.html")["units"]["start"] == again.units["start"].tolist()


def test_the_framings_do_not_depend_on_what_the_cache_held_before(example_result, tmp_path):
    """A fresh cache, and a cache warmed by another corpus that shares half the example's texts (embedded there in
    other company and order), give the same unit table and framings as the session's run."""
    import shutil

    from framing.corpus.documents import example_corpus_path

    other = tmp_path / "other-corpus"
    shutil.copytree(example_corpus_path(), other)
    for k, page in enumerate(sorted(other.glob("*.txt"))):
        if k % 2:  # every other page told again in other words: its texts are not the example's
            page.write_text("\n".join(f"Reportedly, {line}" if line.strip() else line
                                      for line in page.read_text().splitlines()))
    warmed = tmp_path / "warmed-cache"
    framing.analyze(other, "configs/example.yaml", embedding__cache_dir=str(warmed), progress=False)
    for cache in (tmp_path / "fresh-cache", warmed):
        again = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache), progress=False)
        pd.testing.assert_frame_equal(again.units, example_result.units)
        assert [f.to_dict() for f in again.framings] == [f.to_dict() for f in example_result.framings]
    assert 0 < again.manifest["embedding"]["computed"] < len(example_result.units)  # half came from the cache


def test_other_clustering_settings_reuse_the_embeddings_and_the_umap_results(example_result, cache_dir,
                                                                            monkeypatch):
    import umap

    from framing.embed.embedders import SentenceTransformerEmbedder

    def must_not_run(*args, **kwargs):
        raise AssertionError("a cached re-run ran UMAP")

    encoded: list[str] = []
    original = SentenceTransformerEmbedder.encode

    def encode(self, texts):
        encoded.extend(texts)
        return original(self, texts)

    monkeypatch.setattr(SentenceTransformerEmbedder, "encode", encode)
    monkeypatch.setattr(umap, "UMAP", must_not_run)
    result = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                             cluster__min_cluster_size=12, cluster__reassign_threshold=0.3)
    assert result.manifest["embedding"]["computed"] == 0
    # the model embeds only the new framings' candidate key phrases (n-grams of their terms), never a unit
    assert not set(encoded) & set(result.units["text"]) and all(len(t.split()) <= 2 for t in encoded)
    assert np.allclose(result.units[["x", "y"]].to_numpy(), example_result.units[["x", "y"]].to_numpy())
    assert result.manifest["counts"]["reassigned"] > 0
    assert result.units["reassigned"].sum() == result.manifest["counts"]["reassigned"]
    check_invariants(result)


def test_every_unit_unassigned_still_gives_outputs_with_a_warning(cache_dir, tmp_path):
    docs = [Document(f"d{i}", text, source="S") for i, text in enumerate([
        "The convoy waited at the crossing for days.", "Bread prices rose sharply in the east.",
        "Talks in the port city ended without a deal.", "Engineers cleared the market of explosives.",
        "A nurse described the night the hospital was hit.", "Posters of the army hung from balconies.",
        "The mediators hoped for a short pause in fighting.", "Families queued at the checkpoint at dawn.",
        "The university will reopen its eastern campus.", "Electricity returned to some streets.",
        "Reporters could not reach the eastern districts.", "A carpenter rebuilt his workshop by hand.",
    ])]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = framing.analyze(docs, embedding__cache_dir=str(cache_dir), reduce__n_neighbors=5,
                                 cluster__min_cluster_size=12, progress=False)
    assert result.framings == [] and (result.units["framing"] == -1).all()
    assert any("every one of the 12 units is unassigned" in str(w.message) for w in caught)
    assert result.manifest["warnings"]
    target = framing.save_run(result, tmp_path / "empty-run")
    data = report_data_of(target / "report.html")
    assert data["framings"] == [] and set(data["units"]["framing"]) == {-1} and len(data["units"]["id"]) == 12


def test_api_accepts_corpus_objects_and_rejects_tiny_input(cache_dir):
    corpus = Corpus.from_texts(["One short document with a few words in it."], sources=["S"])
    with pytest.raises(FramingError, match="1 units are too few for UMAP"):
        framing.analyze(corpus, embedding__cache_dir=str(cache_dir))
    with pytest.raises(FramingError, match="no units"):
        framing.analyze(Corpus.from_texts(["Hi."]), embedding__cache_dir=str(cache_dir))
    with pytest.raises(FramingError, match="unknown key cluster.size"):
        framing.analyze(corpus, cluster__size=3)


def test_a_group_by_field_no_document_has_ends_the_run_before_any_unit_is_made(tmp_path, monkeypatch):
    from framing.engines.local import LocalEngine

    def segment(*args, **kwargs):
        raise AssertionError("the run went on to segment its documents")

    monkeypatch.setattr(LocalEngine, "segment", segment)  # an empty cache: no stored units either
    with pytest.raises(FramingError, match="contrast.group_by: no document has a 'stance' field .*leaning"):
        framing.analyze(None, contrast__group_by="stance", embedding__cache_dir=str(tmp_path))
    with pytest.raises(FramingError, match="no document has a 'stance' field"):  # time groups by it too
        framing.analyze(None, contrast__group_by="stance", contrast__enabled=False, embedding__cache_dir=str(tmp_path))
    with pytest.raises(AssertionError, match="went on to segment"):  # a field some document has goes ahead
        framing.analyze(None, contrast__group_by="leaning", embedding__cache_dir=str(tmp_path))


def test_aleppo_corpus_end_to_end(aleppo_path, cache_dir, tmp_path):
    config = framing.load_config("configs/aleppo-2016.yaml", [f"corpus.path={aleppo_path}",
                                                              f"embedding.cache_dir={cache_dir}"])
    result = framing.analyze(None, config, progress=False)
    check_invariants(result)
    corpus = load_corpus(aleppo_path)
    assert set(result.units["doc_id"]) == {d.id for d in corpus}
    assert len(result.framings) >= 3
    assert set(result.units["date"]) <= {"2016-12-07", "2016-12-08", "2016-11-28", "2020-07-02"}
    target = framing.save_run(result, tmp_path / "aleppo")
    assert (target / "report.html").stat().st_size > 1_000_000

    # real web text: comments are their own section, boilerplate is out, the repost is found and counted once
    by_doc = result.manifest["sections"]
    assert by_doc["000_1bb92512481fc574.txt"].get("comments", 0) > 50
    assert by_doc["001_4b566bdc0a9d5bab.txt"].get("boilerplate", 0) >= 8
    assert set(result.units["section"]) == {"body", "comments"}
    assert [(r["document"], r["original"]) for r in result.manifest["reposts"]] == [
        ("001_4b566bdc0a9d5bab.txt", "000_1bb92512481fc574.txt")]
    data = report_data_of(target / "report.html")
    assert [(r["document"], r["original"]) for r in data["run"]["reposts"]] == [
        ("001_4b566bdc0a9d5bab.txt", "000_1bb92512481fc574.txt")]
    assert sum(1 for d in data["units"]["dup_of"] if d >= 0) == result.manifest["counts"]["duplicate_units"]
    for f in result.framings:
        assert f.occurrences <= 1.5 * f.size  # no framing is made of one article's repeated sentences
        assert "copyright" not in f.terms and "picture" not in f.terms


@pytest.mark.slow
def test_a_rerun_loads_its_units_and_groups_and_changes_are_computed_afresh(tmp_path, caplog, monkeypatch):
    """The units stage is stored by corpus, settings and rules: a re-run loads it; another setting recomputes."""
    import logging

    import framing.run.pipeline as pipeline

    settings = {"embedding__cache_dir": str(tmp_path / "cache"), "contrast__enabled": False, "progress": False}
    first = framing.analyze(None, "configs/example.yaml", **settings)
    stored = list((tmp_path / "cache" / "units").glob("*.npz"))
    assert len(stored) == 1
    computed = []
    original = pipeline.duplicate_groups
    monkeypatch.setattr(pipeline, "duplicate_groups", lambda *a: computed.append(1) or original(*a))
    again = framing.analyze(None, "configs/example.yaml", **settings)
    assert computed == []  # nothing segmented or grouped again
    columns = ["unit_id", "doc_id", "start", "end", "text", "section", "dup_group", "duplicate_of", "framing"]
    pd.testing.assert_frame_equal(again.units[columns], first.units[columns])
    assert again.manifest["sections"] == first.manifest["sections"]
    assert len(list((tmp_path / "cache" / "units").glob("*.npz"))) == 1  # loaded, not stored twice
    other = framing.analyze(None, "configs/example.yaml", units__min_words=8, **settings)
    assert len(list((tmp_path / "cache" / "units").glob("*.npz"))) == 2
    assert len(other.units) < len(first.units) and computed == [1]
    stored[0].write_bytes(b"damaged")  # an unreadable entry: a warning, then computed again
    with caplog.at_level(logging.WARNING, logger="framing"):
        repaired = framing.analyze(None, "configs/example.yaml", **settings)
    assert "could not be read" in caplog.text
    pd.testing.assert_frame_equal(repaired.units[columns], first.units[columns])


def test_row_groups_hold_a_number_of_rows_or_of_bytes(monkeypatch):
    from framing.run import tables

    monkeypatch.setattr(tables, "ROW_GROUP_ROWS", 3)
    assert tables.row_groups(7) == [0, 3, 6, 7] and tables.row_groups(0) == [0]
    monkeypatch.setattr(tables, "DOCUMENT_GROUP_BYTES", 25)
    # a row larger than the budget stands alone; otherwise rows fill a group up to the budget or the row count
    assert tables.row_groups(6, np.array([10, 10, 30, 5, 1, 1])) == [0, 2, 3, 6]
    assert tables.row_groups(5, np.array([1, 1, 1, 1, 1])) == [0, 3, 5]


def test_every_unit_says_whether_it_is_a_core_member_or_attached(example_result):
    """Issue 26, item 4: membership core | attached | none, with the cosine to the framing's centre; exemplars and
    captions are core members."""
    units = example_result.units
    assert set(units["membership"].astype(str)) == {"core", "attached", "none"}
    assert ((units["membership"] == "none") == (units["framing"] == -1)).all()
    assert ((units["membership"] == "attached") == units["reassigned"]).all()
    assigned = units["membership"] != "none"
    assert units.loc[~assigned, "centre_cosine"].isna().all()
    threshold = example_result.manifest["config"]["cluster"]["reassign_threshold"]
    assert (units.loc[units["membership"] == "attached", "centre_cosine"] >= threshold - 1e-5).all()
    assert units.loc[assigned, "centre_cosine"].between(-1.0, 1.0 + 1e-5).all()
    membership = dict(zip(units["unit_id"], units["membership"].astype(str)))
    for f in example_result.framings:
        members = units[(units["framing"] == f.id) & (units["duplicate_of"] == "")]
        assert f.core == int((members["membership"] == "core").sum()) and f.core <= f.size
        assert all(membership[u] == "core" for u in f.exemplars) and membership[f.caption] == "core"


def test_contrast_members_core_counts_only_core_members(example_result, cache_dir):
    core_only = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                                contrast__members="core")
    assert core_only.contrast_data.members == "core only" and core_only.manifest["time"]["members"] == "core only"
    assert example_result.contrast_data.members == "core and attached"
    table = core_only.contrast_data.table
    distinct = core_only.units[core_only.units["duplicate_of"] == ""]
    assert table.loc[table["framing"] != -1, "count"].sum() == int((distinct["membership"] == "core").sum())
    # the framings themselves do not change: only what is counted
    pd.testing.assert_series_equal(core_only.units["framing"], example_result.units["framing"])


@pytest.mark.slow
def test_saving_writes_data_and_the_run_writes_the_report(example_result, tmp_path, capsys):
    """Issue 28: Result.save writes the data alone; save_run (the run, the CLI) adds report.html in the same atomic
    step; framing report adds one to a data-only folder, which stays a run folder; Report is one view object."""
    from framing.cli import main
    from framing.report import APP_MODULES, Report, app_script
    from framing.store.outputs import is_run_folder

    data_only = example_result.save(tmp_path / "data")
    assert not (data_only / "report.html").exists() and is_run_folder(data_only)
    assert "report.html" not in json.loads((data_only / "run.json").read_text())["files"]
    assert main(["report", str(data_only)]) == 0 and (data_only / "report.html").is_file()
    assert is_run_folder(data_only)  # framing report's page is framing's own: the folder can still be replaced
    with_report = framing.save_run(example_result, tmp_path / "run")
    assert "report.html" in json.loads((with_report / "run.json").read_text())["files"]
    page = (with_report / "report.html").read_text(encoding="utf-8")
    assert page == Report(example_result).html() == (data_only / "report.html").read_text(encoding="utf-8")
    # the panels' modules are inlined, once each, into the one page
    script = app_script()
    assert script in page and script.count('"use strict"') == 1 and len(APP_MODULES) >= 10
    # in a notebook: the real page, escaped into a sandboxed frame's srcdoc (nothing of it can close the frame)
    frame = Report(example_result)._repr_html_()
    assert frame.startswith("<iframe srcdoc=\"") and "</script>" not in frame and 'sandbox="allow-scripts' in frame
    # a writer that fails leaves no folder behind
    def broken(path):
        raise OSError("disk full")
    with pytest.raises(OSError):
        example_result.save(tmp_path / "broken", extra_files={"report.html": broken})
    assert not (tmp_path / "broken").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
