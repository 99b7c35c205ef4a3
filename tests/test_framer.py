"""Framer (issue 28): framings fitted once, saved, loaded in a fresh process and applied to other documents."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import framing
from framing.run.framer import ARRAYS_FILE, MODEL_FILE

from test_cli import assert_one_line_error, framing_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "framing" / "data" / "example"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def split_corpus(tmp_path_factory):
    """The example split in two: the herald, meridian, cpa and ledger pages to fit on, the others to apply to."""
    fit, other = tmp_path_factory.mktemp("fit"), tmp_path_factory.mktemp("other")
    metadata = pd.read_csv(EXAMPLE / "metadata.csv")
    fitted = metadata["file"].str.match(r"(herald|meridian|cpa|ledger)")
    for folder, rows in ((fit, metadata[fitted]), (other, metadata[~fitted])):
        for name in rows["file"]:
            (folder / name).write_bytes((EXAMPLE / name).read_bytes())
        rows.to_csv(folder / "metadata.csv", index=False)
    return fit, other


@pytest.fixture(scope="module")
def fitted(split_corpus, cache_dir, tmp_path_factory):
    fit, _ = split_corpus
    framer = framing.Framer(ROOT / "configs" / "example.yaml", embedding__cache_dir=str(cache_dir),
                            cluster__min_cluster_size=5)
    result = framer.fit(str(fit), progress=False)
    folder = framer.save(tmp_path_factory.mktemp("model") / "model")
    return framer, result, folder


def test_a_model_applied_to_its_own_corpus_gives_back_its_core_members_framings(fitted, split_corpus):
    framer, result, _ = fitted
    again = framer.transform(str(split_corpus[0]), progress=False)
    before, after = result.units.set_index("unit_id"), again.units.set_index("unit_id")
    core = before.index[before["membership"].astype(str) == "core"]
    agreement = float((before.loc[core, "framing"] == after.loc[core, "framing"]).mean())
    assert agreement >= 0.95, agreement
    assert again.manifest["applied"]["framings"] == len(result.framings)
    assert [f.label for f in again.framings] == [f.label for f in result.framings if f.id in {g.id for g in again.framings}]


def test_saved_loaded_in_a_fresh_process_and_applied_to_other_documents(fitted, split_corpus, cache_dir, tmp_path):
    _, result, folder = fitted
    names = {f.id: f.label for f in result.framings}
    script = (
        "import json, sys, framing\n"
        f"framer = framing.Framer.load({str(folder)!r}, embedding__cache_dir={str(cache_dir)!r})\n"
        f"applied = framer.transform({str(split_corpus[1])!r}, progress=False)\n"
        f"applied.save({str(tmp_path / 'applied')!r})\n"
        "print(json.dumps({f.id: f.label for f in applied.framings}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    applied_names = {int(k): v for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}
    assert applied_names and all(names[k] == v for k, v in applied_names.items())  # same ids, same names
    applied = framing.load_result(tmp_path / "applied")
    units = applied.units
    assert set(units["doc_id"]) == {p.name for p in split_corpus[1].glob("*.txt")}
    assert set(units["framing"]) - {-1} <= set(names)
    assert set(units["membership"].astype(str)) <= {"core", "attached", "none"}
    assert (units["fitted"] == False).all()  # noqa: E712 - nothing was fitted on these units
    # frames come from the fitted classifier: the fitted run's frame names
    assert set(units["frame"].astype(str)) <= set(result.frames_data["frames"])
    # a unit placed among the fitted units lands where its nearest fitted units are on the map
    fitted_units = result.units
    assert units["x"].between(fitted_units["x"].min() - 1, fitted_units["x"].max() + 1).all()


def test_a_model_fitted_with_another_embedding_model_or_damaged_is_refused_in_one_line(fitted, split_corpus,
                                                                                       cache_dir, tmp_path):
    _, _, folder = fitted
    other = tmp_path / "other-model"
    other.mkdir()
    meta = json.loads((folder / MODEL_FILE).read_text())
    meta["model"]["fingerprint"] = "sha256:" + "0" * 64  # as if fitted with another model's weights
    (other / MODEL_FILE).write_text(json.dumps(meta))
    (other / ARRAYS_FILE).write_bytes((folder / ARRAYS_FILE).read_bytes())
    proc = framing_cli("apply", str(other), str(split_corpus[1]), "--out", str(tmp_path / "run"), "--set",
                       f"embedding.cache_dir={cache_dir}")
    assert_one_line_error(proc, "fitted with another embedding model")
    assert not (tmp_path / "run").exists()
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / MODEL_FILE).write_text((folder / MODEL_FILE).read_text())
    (damaged / ARRAYS_FILE).write_bytes((folder / ARRAYS_FILE).read_bytes()[:-100])
    with pytest.raises(framing.FramingError, match="does not match the checksum"):
        framing.Framer.load(damaged)
    with pytest.raises(framing.FramingError, match="not a saved framing model"):
        framing.Framer.load(tmp_path)
    with pytest.raises(framing.FramingError, match="is not fitted"):
        framing.Framer().transform(str(split_corpus[1]))


def test_a_model_saved_with_a_setting_now_refused_loads_with_that_setting_given(fitted, tmp_path):
    """contrast.bootstrap above 10,000 was taken before it was bounded: such a model is not left unreadable."""
    _, _, folder = fitted
    older = tmp_path / "older-model"
    older.mkdir()
    meta = json.loads((folder / MODEL_FILE).read_text())
    meta["config"]["contrast"]["bootstrap"] = 20_000
    (older / MODEL_FILE).write_text(json.dumps(meta))
    (older / ARRAYS_FILE).write_bytes((folder / ARRAYS_FILE).read_bytes())
    with pytest.raises(framing.FramingError) as refused:
        framing.Framer.load(older)
    message = str(refused.value)
    assert MODEL_FILE in message and "--set" in message and "contrast.bootstrap" in message and "\n" not in message
    loaded = framing.Framer.load(older, contrast__bootstrap=1000)
    assert loaded.config_.contrast.bootstrap == 1000 and loaded.fitted


def test_run_saves_a_model_and_apply_writes_a_run_folder(split_corpus, cache_dir, tmp_path):
    fit, other = split_corpus
    proc = framing_cli("run", "configs/example.yaml", "--set", f"corpus.path={fit}", "--set",
                       f"embedding.cache_dir={cache_dir}", "--set", "cluster.min_cluster_size=5", "--no-progress",
                       "--out", str(tmp_path / "fitted"), "--save-model", str(tmp_path / "model"))
    assert proc.returncode == 0, proc.stderr
    assert f"model: {(tmp_path / 'model').resolve()}" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [MODEL_FILE, ARRAYS_FILE]
    proc = framing_cli("apply", str(tmp_path / "model"), str(other), "--out", str(tmp_path / "applied"), "--set",
                       f"embedding.cache_dir={cache_dir}", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"report: {(tmp_path / 'applied' / 'report.html').resolve()}"
    assert "placed into the saved model's" in proc.stderr and "nothing fitted again" in proc.stderr
    assert "fitted on a sample of 0" not in proc.stderr  # what the summary said of an applied run before
    applied = framing.load_result(tmp_path / "applied")
    fitted_names = {f.id: f.label for f in framing.load_result(tmp_path / "fitted").framings}
    assert all(fitted_names[f.id] == f.label for f in applied.framings)
    # a folder of other files is never replaced by a model
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    proc = framing_cli("run", "configs/example.yaml", "--set", f"embedding.cache_dir={cache_dir}", "--out",
                       str(tmp_path / "again"), "--save-model", str(tmp_path / "mine"))
    assert_one_line_error(proc, "is not a saved model")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me" and not (tmp_path / "again").exists()
