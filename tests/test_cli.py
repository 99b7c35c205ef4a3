"""The command line: real subprocesses, exit codes, one-line errors, no half-written output folders."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def framing_cli(*args: str, cwd: Path = ROOT, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "framing.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=600)


def assert_one_line_error(proc: subprocess.CompletedProcess, pattern: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert pattern in lines[0], lines[0]


def no_leftovers(folder: Path) -> bool:
    return not folder.exists() or not any(p.name.startswith(".") or p.name == "run" for p in folder.iterdir())


def test_missing_corpus_path(tmp_path):
    proc = framing_cli("run", "--set", f"corpus.path={tmp_path / 'nowhere'}", "--out", str(tmp_path / "run"))
    assert_one_line_error(proc, "framing: error: corpus not found:")
    assert no_leftovers(tmp_path)


def test_empty_corpus(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "empty.txt").write_text("")
    proc = framing_cli("run", "--set", f"corpus.path={tmp_path / 'docs'}", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("framing: error: no documents in")
    assert "Traceback" not in proc.stderr and not (tmp_path / "run").exists()


def test_bad_config_key_and_value(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("cluster:\n  min_clustr_size: 4\n")
    assert_one_line_error(framing_cli("run", str(config)), "unknown key cluster.min_clustr_size")
    assert_one_line_error(framing_cli("run", "--set", "units.kind=words"), "units.kind")
    assert_one_line_error(framing_cli("run", "--set", "nonsense"), "--set expects key=value")
    assert_one_line_error(framing_cli("run", str(tmp_path / "missing.yaml")), "config file not found")
    config.write_text("units: [oops\n")
    assert_one_line_error(framing_cli("run", str(config)), "not valid YAML")
    assert_one_line_error(framing_cli("frobnicate"), "invalid choice")


def test_too_few_units_says_how_many_are_needed(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The only sentence of this small corpus is here. And a second one follows it.")
    proc = framing_cli("run", "--set", f"corpus.path={docs}", "--out", str(tmp_path / "run"))
    assert_one_line_error(proc, "2 units are too few for UMAP with reduce.n_neighbors=15: need at least 16")
    assert not (tmp_path / "run").exists()


def test_unreadable_file_is_a_user_error(tmp_path, monkeypatch, capsys):
    # CI runs as root, which reads any file whatever its mode, so the OS error is injected in-process.
    from framing import cli

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("text")

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert cli.main(["run", "--set", f"corpus.path={docs}", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"framing: error: cannot read {docs / 'a.txt'}: Permission denied"]
    assert not (tmp_path / "run").exists()


def test_init_writes_a_config_that_loads(tmp_path):
    proc = framing_cli("init", str(tmp_path / "study"))
    assert proc.returncode == 0, proc.stderr
    config_path = tmp_path / "study" / "config.yaml"
    from framing.config import load_config

    config = load_config(config_path)
    assert config.run.name == "study"
    assert Path(config.corpus.path) == (tmp_path / "study" / "corpus").resolve()
    assert_one_line_error(framing_cli("init", str(tmp_path / "study")), "exists already")


@pytest.mark.slow
def test_run_writes_the_run_folder_and_says_where_the_report_is(tmp_path, cache_dir):
    out = tmp_path / "outputs" / "example"
    proc = framing_cli("run", "configs/example.yaml", "--out", str(out), "--set", f"embedding.cache_dir={cache_dir}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"report: {(out / 'report.html').resolve()}"
    assert "Traceback" not in proc.stderr
    assert {p.name for p in out.iterdir()} == {"units.parquet", "documents.parquet", "framings.json", "run.json",
                                               "report.html", "contrast.json", "contrast_table.csv",
                                               "contrast_divergence.csv", "contrast_words.csv",
                                               "contrast_codebook.csv", "contrast_axes.csv"}
    # the second run embeds nothing and replaces the folder atomically
    proc = framing_cli("-v", "run", "configs/example.yaml", "--out", str(out), "--set",
                       f"embedding.cache_dir={cache_dir}")
    assert proc.returncode == 0
    assert "0 embedded" in proc.stderr and "INFO" in proc.stderr
    assert [p.name for p in out.parent.iterdir()] == ["example"]

    # asking how two groups differ, from the saved run
    proc = framing_cli("contrast", str(out))
    assert proc.returncode == 0 and "groups (leaning): opposition = Meridian Observer, Varno Voices" in proc.stdout
    from framing import load_result

    pair = load_result(out).contrast().narratives[0]  # a pair with five units each in some framing
    proc = framing_cli("contrast", str(out), pair["group_a"], pair["group_b"])
    assert proc.returncode == 0
    assert "Jensen-Shannon divergence of their framing use" in proc.stdout
    assert f"{pair['group_a']} tells it:" in proc.stdout and f"{pair['group_b']} tells it:" in proc.stdout
    assert_one_line_error(framing_cli("contrast", str(out), "state", "nobody"), "no group 'nobody'")
    assert_one_line_error(framing_cli("report", str(tmp_path / "missing")), "is not a framing run folder")
    proc = framing_cli("report", str(out))
    assert proc.returncode == 0 and proc.stdout.strip() == f"report: {(out / 'report.html').resolve()}"
