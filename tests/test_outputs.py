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
from framing.store.outputs import STAGING_MARKER, atomic_folder, clean_stale_staging, is_run_folder

EXAMPLE_FILES = {"units.parquet": b"u", "documents.parquet": b"d", "framings.json": b"[]", "report.html": b"r"}


@pytest.fixture
def no_analysis(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the analysis ran although the output path is unusable")

    monkeypatch.setattr("framing.run.pipeline.analyze", refuse)


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
    assert code == 2 and len(err) == 1 and "run.name: must be a plain folder name" in err[0], err
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

    monkeypatch.setattr("framing.store.outputs.tempfile.mkstemp", read_only)
    code, err = run_cli(capsys, "run", "--out", str(tmp_path / "new" / "run"))
    assert code == 2 and len(err) == 1, err
    assert err[0] == (f"framing: error: cannot write output folder {tmp_path / 'new' / 'run'}: {tmp_path} is not "
                      "writable (Permission denied)")
    assert not (tmp_path / "new").exists()


def test_too_little_free_space_fails_before_the_analysis(tmp_path, capsys, no_analysis, monkeypatch):
    import shutil

    monkeypatch.chdir(tmp_path)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr("framing.store.outputs.shutil.disk_usage", lambda path: usage._replace(free=1_000_000))
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


def _killed_staging(parent: Path, name: str, kind: str, pid: int) -> Path:
    """A staging folder as framing makes it, by a process ``pid`` that is gone (marked with its token)."""
    token = "0123456789abcdef"
    folder = parent / f".{name}.{kind}-{pid}-{token}"
    folder.mkdir()
    (folder / STAGING_MARKER).write_text(json.dumps({"framing_staging": kind, "pid": pid, "token": token,
                                                     "target": name}))
    return folder


def test_staging_left_by_a_killed_save_is_cleaned_by_the_next_save(tmp_path):
    target = tmp_path / "run"
    dead_pid = 2 ** 22 + 12345  # above pid_max on Linux: no such process
    dead = _killed_staging(tmp_path, "run", "partial", dead_pid)
    (dead / "units.parquet").write_bytes(b"half")
    retired = _killed_staging(tmp_path, "run", "old", dead_pid)
    (retired / "run").mkdir()
    unmarked_empty = tmp_path / f".run.partial-{dead_pid}-fedcba9876543210"  # killed before it was marked
    unmarked_empty.mkdir()
    # killed while marking it (CI once left one: the test_faults kill landed between creating the marker and
    # writing it): a marker that is empty, or the beginning of its text, and nothing else
    for token, written in (("aaaaaaaaaaaaaaaa", ""), ("bbbbbbbbbbbbbbbb", '{"framing_staging": "par')):
        half = tmp_path / f".run.partial-{dead_pid}-{token}"
        half.mkdir()
        (half / STAGING_MARKER).write_text(written)
    not_a_beginning = tmp_path / f".run.partial-{dead_pid}-cccccccccccccccc"  # not what framing writes: kept
    not_a_beginning.mkdir()
    (not_a_beginning / STAGING_MARKER).write_text("my notes")
    alive = _killed_staging(tmp_path, "run", "partial", os.getpid())  # a run still writing: left alone
    unrelated = _killed_staging(tmp_path, "other", "partial", dead_pid)
    with atomic_folder(target) as staging:
        (staging / "run.json").write_text("{}")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([unrelated.name, alive.name, not_a_beginning.name, "run"])
    assert sorted(p.name for p in target.iterdir()) == ["run.json"]  # the marker does not travel into the run
    assert clean_stale_staging(target) == []


@pytest.mark.parametrize("name", [".thesis.old-2019", ".thesis.partial-2019", ".thesis.old-123-0123456789abcdef",
                                  ".thesis.partial-1-notes"])
def test_a_users_folder_named_like_staging_is_never_deleted(tmp_path, capsys, monkeypatch, name):
    """Regression (issue 30, 1a): `.thesis.old-2019/d.txt` beside --out thesis was deleted by the clean-up."""
    monkeypatch.chdir(tmp_path)
    users = tmp_path / "o" / name
    users.mkdir(parents=True)
    (users / "d.txt").write_text("draft")
    forged = tmp_path / "o" / ".thesis.partial-7-0123456789abcdef"  # a marker that does not match its name
    forged.mkdir()
    (forged / ".framing-staging").write_text('{"framing_staging": "partial", "pid": 8, "token": "x"}')
    (forged / "notes.txt").write_text("mine")
    with atomic_folder(tmp_path / "o" / "thesis") as staging:
        (staging / "run.json").write_text("{}")
    assert (users / "d.txt").read_text() == "draft"
    assert (forged / "notes.txt").read_text() == "mine"
    # a single file (a report page) is staged the same way: a user's file named like its staging stays
    from framing.store.outputs import write_file_atomically

    lookalike = tmp_path / "o" / ".page.html.partial-2019"
    lookalike.write_text("mine too")
    write_file_atomically(tmp_path / "o" / "page.html", lambda path: path.write_text("<html></html>"))
    assert lookalike.read_text() == "mine too" and (tmp_path / "o" / "page.html").is_file()
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == sorted([name, forged.name, lookalike.name,
                                                                         "thesis", "page.html"])


def test_a_manifest_listing_other_files_does_not_make_a_run_folder(tmp_path):
    """Regression (issue 30, 1b): a run.json whose "files" listed thesis.docx made a thesis folder replaceable."""
    folder = fake_run_folder(tmp_path / "thesis", files=["run.json", "units.parquet", "thesis.docx"])
    (folder / "thesis.docx").write_bytes(b"four years of work")
    assert not is_run_folder(folder)
    with pytest.raises(FramingError, match="is not a framing run folder"):
        with atomic_folder(folder):
            pass
    assert (folder / "thesis.docx").read_bytes() == b"four years of work"
    # a folder where a run file should be is not framing's either
    odd = fake_run_folder(tmp_path / "odd")
    (odd / "units.parquet").unlink()
    (odd / "units.parquet").mkdir()
    (odd / "units.parquet" / "chapter.tex").write_text("mine")
    assert not is_run_folder(odd)


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

    from framing.store.result import write_parquet

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

    from framing.units import duplicates
    from framing.embed.cache import EmbeddingCache
    from framing.store.outputs import reserve_space

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
    monkeypatch.setattr("framing.embed.cache.GATHER_IN_MEMORY_BYTES", 0)
    with pytest.raises(FramingError, match="the disk is full"):
        cache.gather(np.array([3, 2, 1, 0]))
    cache.close()
    assert not [p for p in (tmp_path / "cache").rglob(".gather-*")]  # the scratch file went with the close
