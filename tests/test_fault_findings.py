"""Named regression tests for the faults a hostile or unlucky user found (issue 30), one or a few per finding.

Each failed on the code before its fix: a traceback ("internal error", exit 1) where one line and exit 2 belong,
a silent wrong answer, or input accepted that should be refused. The data-loss, cache and hang findings have
their tests beside the code they concern (test_outputs.py, test_faults.py, test_embed_backends.py,
test_units.py, test_ray.py, test_report_browser.py).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from framing import cli
from framing.errors import FramingError

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, *args: str) -> tuple[int, list[str]]:
    code = cli.main(list(args))
    return code, capsys.readouterr().err.strip().splitlines()


def one_line(capsys, *args: str) -> str:
    code, err = run_cli(capsys, *args)
    assert code == 2 and len(err) == 1, err
    assert "internal error" not in err[0]
    return err[0]


def example_copy(tmp_path: Path) -> Path:
    from framing.corpus.documents import example_corpus_path

    corpus = tmp_path / "corpus"
    shutil.copytree(example_corpus_path(), corpus)
    return corpus


# -- 5: damaged or odd input accepted silently -------------------------------------------------------------------

def test_a_key_given_twice_in_the_config_is_an_error_naming_it_and_its_line(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("cluster:\n  min_cluster_size: 5\nunits:\n  min_words: 3\ncluster:\n  reassign_threshold: 0.2\n")
    line = one_line(capsys, "run", str(config), "--out", str(tmp_path / "run"))
    assert "line 5" in line and "key 'cluster' is given twice (first on line 1)" in line
    config.write_text("cluster: {min_cluster_size: 5, min_cluster_size: 6}\n")
    assert "key 'min_cluster_size' is given twice" in one_line(capsys, "run", str(config), "--out",
                                                               str(tmp_path / "run"))


def test_metadata_rows_that_disagree_for_one_file_are_warned_about(tmp_path, caplog):
    import framing

    corpus = example_copy(tmp_path)
    rows = (corpus / "metadata.csv").read_text().splitlines()
    first = rows[1].split(",")
    rows.append(",".join([first[0], "Another Outlet", *first[2:]]))
    (corpus / "metadata.csv").write_text("\n".join(rows) + "\n")
    loaded = framing.load_corpus(corpus)
    assert any("disagree for 1 file(s)" in w and first[0] in w for w in loaded.warnings), loaded.warnings


@pytest.mark.parametrize("value, expected", [
    ("[1, 2]", "the id ('id', corpus.id_field) is list, not text or a number"),
    ('{"a": 1}', "is dict, not text or a number"),
    ("true", "is true/false"),
    ("9" * 5001, "not a usable JSON record"),
])
def test_an_id_that_is_not_text_or_a_number_is_an_error_naming_the_record(tmp_path, capsys, value, expected):
    records = tmp_path / "docs.jsonl"
    records.write_text('{"id": "a", "text": "A first record with a few words in it."}\n'
                       f'{{"id": {value}, "text": "A second record with a few words in it."}}\n')
    line = one_line(capsys, "run", "--set", f"corpus.path={records}", "--set", "corpus.id_field=id",
                    "--out", str(tmp_path / "run"))
    assert expected in line and ("record 2" in line or "docs.jsonl:2" in line), line


def test_a_record_nested_100k_deep_is_one_line(tmp_path, capsys):
    records = tmp_path / "docs.jsonl"
    records.write_text('{"text": "words of a record here", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    assert "nested too deeply" in one_line(capsys, "run", "--set", f"corpus.path={records}",
                                           "--out", str(tmp_path / "run"))


def test_a_link_out_of_the_corpus_folder_is_skipped_with_a_warning_unless_asked(tmp_path):
    import framing
    from framing.config import CorpusConfig

    corpus = example_copy(tmp_path)
    secret = tmp_path / "outside" / "private-notes.txt"
    secret.parent.mkdir()
    secret.write_text("Private notes that are not part of the corpus and must not be read into it.")
    (corpus / "notes.txt").symlink_to(secret)
    (corpus / "inside.txt").symlink_to(corpus / "cpa-01-advance.txt")  # a link within the corpus is read
    loaded = framing.load_corpus(corpus)
    ids = [d.id for d in loaded.documents]
    assert "notes.txt" not in ids and "inside.txt" in ids
    assert any("pointing outside the corpus folder: notes.txt" in w for w in loaded.warnings)
    followed = framing.load_corpus(corpus, CorpusConfig(follow_links=True))
    assert "notes.txt" in [d.id for d in followed.documents]


def test_a_saved_run_whose_framings_do_not_match_its_units_is_refused_naming_the_file(tmp_path, capsys,
                                                                                      example_result):
    run = tmp_path / "run"
    example_result.save(run)
    (run / "framings.json").write_text("[]")
    for command in (["report", str(run)], ["contrast", str(run)],
                    ["evaluate", str(run), str(ROOT / "framing/data/labels/example-conflict.csv")]):
        line = one_line(capsys, *command)
        assert line.startswith(f"framing: error: cannot read run folder {run}: framings.json: units.parquet has "
                               "framing"), line


def test_all_nan_saved_centres_are_not_matched(tmp_path):
    from framing.framings.matching import read_previous

    folder = tmp_path / "earlier"
    folder.mkdir()
    (folder / "framings.json").write_text(json.dumps([{"id": 0, "label": "a"}, {"id": 1, "label": "b"}]))
    np.save(folder / "framing_centroids.npy", np.full((2, 384), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="not finite"):
        read_previous(folder)


# -- 6: tracebacks for errors a user causes ----------------------------------------------------------------------

@pytest.mark.parametrize("overrides, expected", [
    (["corpus.glob=[/etc/*.txt]"], "corpus.glob: each pattern names files inside the corpus folder"),
    (["corpus.glob=[../*.txt]"], "corpus.glob: each pattern"),
])
def test_config_values_that_tracebacked_are_one_line(tmp_path, capsys, overrides, expected):
    args = [item for pair in (("--set", o) for o in overrides) for item in pair]
    assert expected in one_line(capsys, "run", *args, "--out", str(tmp_path / "run"))


# Found after CI's whole-run fuzzing was killed for memory, by sweeping every numeric setting's edges
# (bench/edge_runs.py: bootstrap counts from 2**31 took 5 GB and more; permutations hung): the counts that scale the
# resampling are bounded, and no count passes what the C code under them takes.
@pytest.mark.parametrize("override, expected", [
    ("contrast.bootstrap=2147483648", "contrast.bootstrap: Input should be less than or equal to 10000"),
    ("contrast.permutations=2147483648", "contrast.permutations: Input should be less than or equal to 100000"),
    ("time.bootstrap=10001", "time.bootstrap: Input should be less than or equal to 10000"),
    ("cluster.min_cluster_size=9223372036854775808",
     "cluster.min_cluster_size: Input should be less than or equal to 4294967295"),
])
def test_counts_past_what_a_run_can_do_are_one_line_before_any_work(tmp_path, capsys, monkeypatch, override, expected):
    monkeypatch.setattr("framing.run.pipeline.analyze", lambda *a, **k: pytest.fail("the run started"))
    assert expected in one_line(capsys, "run", "--set", override, "--out", str(tmp_path / "run"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_largest_resampling_counts_the_config_takes_run_the_example(cache_dir):
    import framing

    result = framing.analyze(None, None, embedding__cache_dir=str(cache_dir), contrast__bootstrap=10_000,
                             contrast__permutations=100_000, time__bootstrap=10_000, progress=False)
    assert result.contrast_data.test["permutations"] == 100_000
    intervals = result.contrast_data.table[["low", "high"]].dropna()
    assert len(intervals) and (intervals["low"] <= intervals["high"]).all()


def test_a_metadata_date_of_minus_one_is_an_unparseable_date():
    from framing.contrast.over_time import parse_dates

    days, counts = parse_dates(["2016-12-01", "-1", "99999-01-01", ""])
    assert str(days[0]) == "2016-12-01" and np.isnat(days[1]) and np.isnat(days[2])
    assert counts["unparseable"] == 2 and counts["missing"] == 1


def test_an_output_name_too_long_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the corpus was read although the output name is unusable")

    monkeypatch.setattr("framing.run.pipeline.analyze", refuse)
    long_name = "x" * 240
    line = one_line(capsys, "run", "--out", str(tmp_path / long_name))
    assert "is too long" in line and "choose a shorter name" in line
    assert "is too long" in one_line(capsys, "report", str(tmp_path), "--out", str(tmp_path / f"{long_name}.html"))
    assert list(tmp_path.iterdir()) == []
    assert "a name is longer than the file system allows" in one_line(capsys, "init", str(tmp_path / ("y" * 300)))


def test_a_full_disk_under_the_documents_scratch_file_is_one_error_and_no_finalizer_traceback(tmp_path):
    import subprocess
    import sys

    code = (
        "import errno, gc\n"
        "from framing.corpus.documents import Document, StoredDocuments\n"
        "from framing.errors import FramingError\n"
        "stored = StoredDocuments(%r)\n"
        "class Full:\n"
        "    def write(self, data): raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "    def tell(self): return 0\n"
        "    def close(self): raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "real = stored._file\n"
        "stored._file = Full()\n"
        "try:\n"
        "    stored.append(Document('a', 'some text'))\n"
        "except FramingError as exc:\n"
        "    print(exc)\n"
        "real.close()\n"
        "import weakref\n"
        "weakref.finalize(stored, __import__('framing.corpus.documents', fromlist=['x']).close_quietly, Full())\n"
        "del stored; gc.collect()\n"
    ) % str(tmp_path)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"cannot write the documents' scratch file in {tmp_path}: the disk is full " \
                                  "(No space left on device)"
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


@pytest.mark.parametrize("what", ["vectors-folder", "index-folder", "reductions-file"])
def test_a_folder_or_file_where_the_cache_keeps_the_other_is_repaired(tmp_path, cache_dir, example_result, what):
    import framing

    cache = tmp_path / "cache"
    shutil.copytree(cache_dir, cache)
    if what == "reductions-file":
        shutil.rmtree(cache / "reductions", ignore_errors=True)
        (cache / "reductions").write_text("not a folder")
    else:
        name = "vectors.f32" if what == "vectors-folder" else "index.sqlite"
        for path in (cache / "embeddings").rglob(name):
            path.unlink()
            path.mkdir()
            (path / "inside").write_text("x")
    again = framing.analyze(None, str(ROOT / "configs/example.yaml"), embedding__cache_dir=str(cache), progress=False)
    pd.testing.assert_frame_equal(again.units, example_result.units)


def test_report_and_evaluate_on_units_without_their_framing_column_are_one_line(tmp_path, capsys, example_result):
    run = tmp_path / "run"
    example_result.save(run)
    pd.read_parquet(run / "units.parquet").drop(columns=["framing"]).to_parquet(run / "units.parquet")
    assert "units.parquet: it has no framing column" in one_line(capsys, "report", str(run))
    assert "units.parquet: it has no framing column" in one_line(
        capsys, "evaluate", str(run), str(ROOT / "framing/data/labels/example-conflict.csv"))


def test_1500_nested_corpus_folders_are_read(tmp_path):
    import framing

    folder = tmp_path / "corpus"
    folder.mkdir()
    here = os.getcwd()
    try:
        os.chdir(folder)
        for _ in range(1500):
            os.mkdir("d")
            os.chdir("d")
        Path("deep.txt").write_text("A page kept at the bottom of many folders, with words enough to read.")
    finally:
        os.chdir(here)
    try:
        loaded = framing.load_corpus(folder)
        assert len(loaded.documents) == 1 and loaded.documents[0].id.endswith("/d/deep.txt")
    finally:
        _remove_deep(folder)


def _remove_deep(folder: Path) -> None:
    """Remove a folder nested too deeply for shutil.rmtree (and pytest's clean-up of old temporary folders)."""
    here = os.getcwd()
    try:
        os.chdir(folder)
        depth = 0
        while os.path.isdir("d"):
            os.chdir("d")
            depth += 1
        for name in os.listdir("."):
            os.unlink(name)
        for _ in range(depth):
            os.chdir("..")
            os.rmdir("d")
    finally:
        os.chdir(here)


# -- 7: unclear messages -----------------------------------------------------------------------------------------

def test_the_starter_configs_own_names_example_is_accepted():
    from framing.config import Config

    config = Config.from_dict({"describe": {"names": {3: "Liberation from terrorists", "a.txt#2": "Siege"}}})
    assert config.describe.names == {"3": "Liberation from terrorists", "a.txt#2": "Siege"}


def test_too_many_components_is_blamed_on_n_components(tmp_path, capsys):
    line = one_line(capsys, "run", "--set", "reduce.n_components=300", "--out", str(tmp_path / "run"))
    assert "with reduce.n_components=300" in line and "lower reduce.n_components" in line


def test_a_folder_of_empty_files_says_they_were_skipped_not_missing(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("")
    (corpus / "b.txt").write_text("   \n")
    code, err = run_cli(capsys, "run", "--set", f"corpus.path={corpus}", "--out", str(tmp_path / "run"))
    assert code == 2 and err[-1].endswith("all 2 input(s) were skipped (2 empty)"), err


def test_a_damaged_run_file_is_named(tmp_path, capsys, example_result):
    run = tmp_path / "run"
    example_result.save(run)
    (run / "run.json").write_text("{not json")
    assert f"cannot read run folder {run}: run.json: Expecting property name" in one_line(capsys, "report", str(run))


def test_a_contrast_of_a_group_with_itself_is_refused(tmp_path, capsys, example_result):
    run = tmp_path / "run"
    example_result.save(run)
    assert "compares two different groups; 'state' was given twice" in one_line(capsys, "contrast", str(run),
                                                                                "state", "state")


# -- what a new user meets (issue 29), the small traps -------------------------------------------------------------

def test_a_config_key_given_without_its_section_is_named_in_full(tmp_path):
    import framing

    with pytest.raises(FramingError, match=r"did you mean cluster\.min_cluster_size \(a keyword argument: "
                                           r"cluster__min_cluster_size"):
        framing.analyze(None, None, min_cluster_size=10)


def test_over_time_of_an_unknown_group_names_the_groups(example_result):
    with pytest.raises(FramingError, match=r"over_time: no group 'pro-gov'; groups: \(all\), opposition"):
        example_result.over_time(group="pro-gov")
    assert not example_result.over_time(group="state").empty


def test_an_unused_date_column_is_pointed_at(tmp_path, cache_dir, caplog):
    """Issue 29: a `published` column gave "532 of 532 ... no usable date" without pointing at corpus.date_field."""
    import framing

    corpus = example_copy(tmp_path)
    lines = (corpus / "metadata.csv").read_text().splitlines()
    lines[0] = lines[0].replace(",date,", ",published,")
    (corpus / "metadata.csv").write_text("\n".join(lines) + "\n")
    result = framing.analyze(corpus, str(ROOT / "configs/example.yaml"), embedding__cache_dir=str(cache_dir),
                             progress=False)
    assert any("the metadata column 'published' holds dates: set corpus.date_field: published" in w
               for w in result.manifest["warnings"]), result.manifest["warnings"]


def test_the_starter_config_says_where_out_dir_is_taken_from(tmp_path, capsys):
    """Issue 29: corpus.path is relative to the config file, run.out_dir to the current folder: the starter says so."""
    assert cli.main(["init", str(tmp_path / "study")]) == 0
    text = (tmp_path / "study" / "config.yaml").read_text()
    out_dir_line = next(line for line in text.splitlines() if line.strip().startswith("out_dir:"))
    assert "taken from the folder you run framing in, not the config's" in out_dir_line


def test_the_framings_and_contrast_stages_say_what_they_do_and_the_phrases_bar_is_not_the_units_bar(tmp_path, capfd):
    """Issue 29: the framings stage printed nothing for 56 s, and a second "embedding" bar after clustering (the
    names' phrases) looked like the run embedding again. The contrast stage, 34 s at a million units, was silent
    too."""
    import framing

    framing.analyze(None, str(ROOT / "configs/example.yaml"), embedding__cache_dir=str(tmp_path / "cache"),
                    progress=True)
    err = capfd.readouterr().err
    assert "framings: UMAP (neighbour graph, clustering space, map)" in err
    assert "framings: clustering (HDBSCAN)" in err
    assert "embedding names' and frames' phrases" in err
    assert "contrast: permutation test (1,000 permutations)" in err
    assert "contrast: words that separate the groups" in err
    assert "contrast within events: stratified permutation test" in err


def test_frames_without_labels_and_untested_frames_are_in_the_summary_and_the_result(tmp_path, cache_dir, capsys):
    """Issue 29: 14 labels left 3 frames without labels and 4 untested; the report said so, the terminal and the
    API did not."""
    rows = (ROOT / "framing/data/labels/example-conflict.csv").read_text().splitlines()
    few = tmp_path / "few.csv"
    few.write_text("\n".join(rows[:5] + rows[99:110] + rows[199:206]) + "\n")
    code = cli.main(["run", str(ROOT / "configs/example.yaml"), "--no-progress", "--out", str(tmp_path / "run"),
                     "--set", f"frames.labels={few}", "--set", f"embedding.cache_dir={cache_dir}"])
    err = capsys.readouterr().err
    assert code == 0
    from framing.store.result import load_result

    gaps = load_result(tmp_path / "run").frame_gaps
    assert gaps["without_labels"] and gaps["untested"]
    line = next(line for line in err.splitlines() if line.startswith("frames: "))
    assert f"{len(gaps['without_labels'])} without labels ({', '.join(gaps['without_labels'])})" in line
    assert f"{len(gaps['untested'])} too few to test" in line
