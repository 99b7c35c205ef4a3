"""Output safety: a run replaces only its own earlier run folder, and output-path problems are found before any work.

Every refusal here is checked before the corpus is even read: `analyze` is replaced by a function that fails the
test if it is called.
"""
import json
import os
from pathlib import Path

import pytest

from framing import cli
from framing.errors import FramingError
from framing.outputs import atomic_folder, clean_stale_staging, is_run_folder

EXAMPLE_FILES = {"units.parquet": b"u", "documents.parquet": b"d", "framings.json": b"[]", "report.html": b"r"}


@pytest.fixture
def no_analysis(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the analysis ran although the output path is unusable")

    monkeypatch.setattr("framing.pipeline.analyze", refuse)


def run_cli(capsys, *args: str) -> tuple[int, list[str]]:
    code = cli.main(list(args))
    return code, capsys.readouterr().err.strip().splitlines()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fake_run_folder(folder: Path, files: list[str] | None = None, **extra) -> Path:
    folder.mkdir(parents=True)
    for name, data in EXAMPLE_FILES.items():
        (folder / name).write_bytes(data)
    manifest = {"framing_version": "0.1.0", "config": {}, **extra}
    if files is not None:
        manifest["files"] = files
    (folder / "run.json").write_text(json.dumps(manifest))
    return folder


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("A document that someone spent a long time writing by hand.")
    (folder / "metadata.csv").write_text("file,source\na.txt,X\n")
    return folder


def test_out_naming_the_corpus_folder_deletes_nothing(tmp_path, capsys, no_analysis, monkeypatch):
    monkeypatch.chdir(tmp_path)
    victim = make_corpus(tmp_path / "in" / "victim")
    before = snapshot(victim)
    code, err = run_cli(capsys, "run", "--set", "corpus.path=in/victim", "--out", "in/victim")
    assert code == 2 and len(err) == 1 and "holds the corpus" in err[0], err
    assert snapshot(victim) == before


def test_out_inside_the_corpus_or_holding_it_is_refused(tmp_path, capsys, no_analysis, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_corpus(tmp_path / "in" / "victim")
    code, err = run_cli(capsys, "run", "--set", "corpus.path=in/victim", "--out", "in/victim/run")
    assert code == 2 and "is inside the corpus folder" in err[0], err
    assert not (tmp_path / "in" / "victim" / "run").exists()
    code, err = run_cli(capsys, "run", "--set", "corpus.path=in/victim", "--out", "in")
    assert code == 2 and "holds the corpus" in err[0], err


def test_an_existing_folder_of_other_files_is_never_replaced(tmp_path, capsys, no_analysis, monkeypatch):
    monkeypatch.chdir(tmp_path)
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("months of work")
    code, err = run_cli(capsys, "run", "--out", str(thesis))
    assert code == 2 and len(err) == 1, err
    assert f"output folder {thesis} is not a framing run folder (it holds chapter1.tex)" in err[0]
    assert (thesis / "chapter1.tex").read_text() == "months of work"
    # a run folder the user added a file to is not framing's to delete either
    run = fake_run_folder(tmp_path / "outputs" / "old", files=sorted([*EXAMPLE_FILES, "run.json"]))
    (run / "notes.md").write_text("my notes")
    code, err = run_cli(capsys, "run", "--out", str(run))
    assert code == 2 and "also holds files framing did not write (notes.md)" in err[0], err
    assert (run / "notes.md").exists()
    # a run.json that is not framing's manifest does not make a folder a run
    other = tmp_path / "other"
    other.mkdir()
    (other / "run.json").write_text('{"name": "my own run.json"}')
    code, err = run_cli(capsys, "run", "--out", str(other))
    assert code == 2 and "is not a framing run folder" in err[0]


@pytest.mark.parametrize("name", [".", "..", "../other", "a/b", "a\\b"])
def test_run_name_must_be_a_plain_folder_name(tmp_path, capsys, no_analysis, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    earlier = fake_run_folder(tmp_path / "outputs" / "earlier")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("keep")
    before = snapshot(tmp_path)
    code, err = run_cli(capsys, "run", "--set", f"run.name={name}")
    assert code == 2 and len(err) == 1 and "run.name: Value error, must be a plain folder name" in err[0], err
    assert snapshot(tmp_path) == before and earlier.is_dir()


@pytest.mark.parametrize("out", [".", "..", "{cwd}"])
def test_out_may_not_be_the_current_folder_or_contain_it(tmp_path, capsys, no_analysis, monkeypatch, out):
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.csv").write_text("x")
    monkeypatch.chdir(work)
    code, err = run_cli(capsys, "run", "--out", out.format(cwd=work))
    assert code == 2 and len(err) == 1 and "is the current folder or contains it" in err[0], err
    assert (work / "data.csv").read_text() == "x"


def test_out_holding_the_embedding_cache_is_refused(tmp_path, capsys, no_analysis, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(capsys, "run", "--set", f"embedding.cache_dir={tmp_path / 'out' / 'cache'}",
                        "--out", str(tmp_path / "out"))
    assert code == 2 and "holds the embedding cache" in err[0], err


def test_an_output_path_that_is_a_file_or_unwritable_fails_before_the_analysis(tmp_path, capsys, no_analysis,
                                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    code, err = run_cli(capsys, "run", "--out", str(tmp_path / "file"))
    assert code == 2 and "exists and is not a folder" in err[0]
    code, err = run_cli(capsys, "run", "--out", str(tmp_path / "file" / "run"))
    assert code == 2 and "is not a folder" in err[0]

    # CI runs as root, which may write anywhere, so the refusal of the file system is injected.
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("framing.outputs.tempfile.mkstemp", read_only)
    code, err = run_cli(capsys, "run", "--out", str(tmp_path / "new" / "run"))
    assert code == 2 and len(err) == 1, err
    assert err[0] == (f"framing: error: cannot write output folder {tmp_path / 'new' / 'run'}: {tmp_path} is not "
                      "writable (Permission denied)")
    assert not (tmp_path / "new").exists()


def test_too_little_free_space_fails_before_the_analysis(tmp_path, capsys, no_analysis, monkeypatch):
    import shutil

    monkeypatch.chdir(tmp_path)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr("framing.outputs.shutil.disk_usage", lambda path: usage._replace(free=1_000_000))
    code, err = run_cli(capsys, "run", "--out", str(tmp_path / "run"))
    assert code == 2 and len(err) == 1, err
    assert "not enough free space for output folder" in err[0] and "1.0 MB free" in err[0]


def test_a_run_folder_replaces_only_its_own_kind(tmp_path):
    old = fake_run_folder(tmp_path / "old")
    assert is_run_folder(old)  # a manifest without a file list: the names framing has always written
    listed = fake_run_folder(tmp_path / "listed", files=["units.parquet", "run.json"], extra=1)
    assert not is_run_folder(listed)  # it holds files its own manifest does not list
    with atomic_folder(old) as staging:
        (staging / "run.json").write_text('{"framing_version": "x", "config": {}}')
    assert [p.name for p in old.iterdir()] == ["run.json"]
    with pytest.raises(FramingError, match="is not a framing run folder"):
        with atomic_folder(tmp_path / "listed" / "..") as staging:
            pass


def test_staging_left_by_a_killed_save_is_cleaned_by_the_next_save(tmp_path):
    target = tmp_path / "run"
    dead_pid = 2 ** 22 + 12345  # above pid_max on Linux: no such process
    dead = tmp_path / f".run.partial-{dead_pid}-abcd"
    dead.mkdir()
    (dead / "units.parquet").write_bytes(b"half")
    retired = tmp_path / f".run.old-{dead_pid}-efgh"
    (retired / "run").mkdir(parents=True)
    legacy = tmp_path / ".run.partial-k3j2h1g0"  # written before staging names carried a process id
    legacy.mkdir()
    alive = tmp_path / f".run.partial-{os.getpid()}-live"  # a run still writing: left alone
    alive.mkdir()
    unrelated = tmp_path / ".other.partial-1-x"
    unrelated.mkdir()
    with atomic_folder(target) as staging:
        (staging / "run.json").write_text("{}")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([".other.partial-1-x", alive.name, "run"])
    assert clean_stale_staging(target) == []


def test_report_out_refuses_a_folder_and_a_file_framing_did_not_write(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = fake_run_folder(tmp_path / "run")
    folder = tmp_path / "existing"
    folder.mkdir()
    code, err = run_cli(capsys, "report", str(run), "--out", str(folder))
    assert code == 2 and len(err) == 1 and "is a folder; give the page's file name" in err[0], err
    page = tmp_path / "page.html"
    page.write_text("<html>my own page</html>")
    code, err = run_cli(capsys, "report", str(run), "--out", str(page))
    assert code == 2 and "exists and was not written by framing; not replacing it" in err[0], err
    assert page.read_text() == "<html>my own page</html>"


def test_tables_are_written_one_row_group_at_a_time_with_one_schema(tmp_path):
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from framing.result import write_parquet

    # a column that is empty in the first row group and text later must keep one type throughout
    frame = pd.DataFrame({"unit_id": [f"d#{i}" for i in range(250)], "x": np.arange(250, dtype=np.float32),
                          "date": [None] * 120 + ["2016-12-07"] * 130})
    write_parquet(frame, tmp_path / "units.parquet", rows=100)
    stored = pq.ParquetFile(tmp_path / "units.parquet")
    assert stored.metadata.num_row_groups == 3
    assert [stored.metadata.row_group(k).num_rows for k in range(3)] == [100, 100, 50]
    back = pd.read_parquet(tmp_path / "units.parquet")
    assert back["date"].isna().sum() == 120 and (back["date"][120:] == "2016-12-07").all()
    assert back["unit_id"].tolist() == frame["unit_id"].tolist() and back["x"].dtype == np.float32
    write_parquet(frame.iloc[:0], tmp_path / "empty.parquet")
    assert list(pd.read_parquet(tmp_path / "empty.parquet").columns) == ["unit_id", "x", "date"]


def test_reserved_space_is_allocated_now_and_a_full_disk_is_a_clear_error_for_every_scratch_file(tmp_path,
                                                                                                  monkeypatch):
    """Scratch files are memory-mapped: on a sparse file a full disk would kill the run with SIGBUS when a page
    is written, so their space is reserved first and a full disk is one line."""
    import errno

    import numpy as np

    from framing import duplicates
    from framing.embed import EmbeddingCache
    from framing.outputs import reserve_space

    path = tmp_path / "reserved"
    with open(path, "wb") as handle:
        reserve_space(handle.fileno(), 1 << 20)
    stat = os.stat(path)
    assert stat.st_size == 1 << 20 and stat.st_blocks * 512 >= 1 << 20  # allocated, not a hole

    def full(fd, offset, size):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    monkeypatch.setattr(duplicates, "SCRATCH_BYTES", 0)
    with pytest.raises(FramingError, match="the disk is full"):
        duplicates.find_duplicates([f"sentence number {i} of the scratch test" for i in range(20)], scratch=tmp_path)
    cache = EmbeddingCache(tmp_path / "cache", "test-reserve")
    cache.put([bytes([k]) * 32 for k in range(4)], np.eye(4, dtype=np.float32))
    monkeypatch.setattr("framing.embed.GATHER_IN_MEMORY_BYTES", 0)
    with pytest.raises(FramingError, match="the disk is full"):
        cache.gather(np.array([3, 2, 1, 0]))
    cache.close()
    assert not [p for p in (tmp_path / "cache").rglob(".gather-*")]  # the scratch file went with the close
