"""The command line: real subprocesses, exit codes, one-line errors, no half-written output folders."""
import json
import os
import re
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
    # the closing summary: what was found, seconds per stage, peak memory (also kept in run.json)
    saved = json.loads((out / "run.json").read_text())
    lines = proc.stderr.strip().splitlines()
    first = next(k for k, line in enumerate(lines) if line.startswith(f"{saved['counts']['documents']:,} documents"))
    summary = lines[first:]
    stability = saved["stability"]
    events = saved["events"]
    within = saved["contrast"]["within_events"]
    n_events = within["test"]["events"]
    assert summary[3] == (f"events: {events['events']} ({events['method']}; {events['alone']} of one document); within "
                          f"events, framing depends on group? permutation p = {within['test']['p_value']} over "
                          f"{n_events} event{'' if n_events == 1 else 's'} told by two or more groups")
    assert all(line.startswith("  ") and "agenda" in line for line in summary[4:])
    assert summary[2] == (f"stability: mean ARI {stability['mean_ari']:.2f} between {stability['runs']} "
                          f"re-clusterings of 80% of the documents; {len(stability['unstable'])} of "
                          f"{saved['counts']['framings']} framings unstable (below {stability['threshold']}): "
                          f"{', '.join(map(str, stability['unstable'])) or 'none'}")
    assert summary[0].startswith(f"{saved['counts']['documents']:,} documents, {saved['counts']['units']:,} units")
    assert all(f"{stage} " in summary[1] for stage in saved["seconds"]) and "peak memory" in summary[1]
    assert 100 < saved["peak_memory_mb"]["process"] < 8000
    # memory per stage: the peak so far never falls, and what stays resident after a stage is below it
    peaks = [saved["memory_mb"][stage]["peak"] for stage in saved["seconds"]]
    assert peaks == sorted(peaks) and peaks[-1] <= saved["peak_memory_mb"]["process"]
    assert all(0 < saved["memory_mb"][stage]["after"] <= saved["memory_mb"][stage]["peak"]
               for stage in saved["seconds"])
    # anonymous memory (without mapped files): each stage's own sampled peak, below the process's peak then
    anonymous = [saved["memory_mb"][stage]["anonymous_peak"] for stage in saved["seconds"]]
    assert all(0 < a <= saved["memory_mb"][stage]["peak"] for a, stage in zip(anonymous, saved["seconds"]))
    assert saved["peak_memory_mb"]["anonymous"] == max(anonymous)
    assert f"anonymous memory at most {max(anonymous):,.0f} MB" in summary[1]
    # the summary's peak is the whole run's, writing included, which run.json (written before that ends) cannot hold
    said = float(re.search(r"peak memory ([\d,]+) MB", summary[1]).group(1).replace(",", ""))
    assert said >= round(saved["peak_memory_mb"]["process"])
    assert saved["fit"] == {"sample": saved["counts"]["distinct_units"], "of": saved["counts"]["distinct_units"],
                            "min_cluster_size": saved["config"]["cluster"]["min_cluster_size"], "assign": "vote"}
    assert {p.name for p in out.iterdir()} == {"units.parquet", "documents.parquet", "framings.json", "run.json",
                                               "report.html", "contrast.json", "contrast_table.csv",
                                               "contrast_divergence.csv", "contrast_words.csv",
                                               "contrast_codebook.csv", "contrast_axes.csv", "frames.json", "contrast_frames.json",
                                               "contrast_time.csv", "contrast_time_first.csv", "framing_centroids.npy",
                                               "hierarchy.json", "events.json"}
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


def _alias_bomb(tmp: Path) -> list[str]:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{c}: &{c} [{', '.join(['*' + chr(ord(c) - 1)] * 9)}]" for c in "bcdefghi"] + ["run:\n  name: *i"]
    (tmp / "bomb.yaml").write_text("\n".join(lines) + "\n")
    return ["run", str(tmp / "bomb.yaml")]


def _broken_csv(tmp: Path) -> list[str]:
    rows = ["id,text,source"] + [f"{i},Record {i} about the convoy at the gate,S{i % 3}" for i in range(1, 41)]
    rows[5] = '5,"Record 5 opens a quote that never closes,S2'
    (tmp / "docs.csv").write_text("\n".join(rows) + "\n")
    return ["run", "--set", f"corpus.path={tmp / 'docs.csv'}", "--out", str(tmp / "out")]


def _victim(tmp: Path) -> list[str]:
    (tmp / "victim").mkdir()
    (tmp / "victim" / "a.txt").write_text("precious")
    return ["run", "--set", f"corpus.path={tmp / 'victim'}", "--out", str(tmp / "victim")]


def _thesis(tmp: Path) -> list[str]:
    (tmp / "thesis").mkdir()
    (tmp / "thesis" / "chapter.tex").write_text("precious")
    return ["run", "--out", str(tmp / "thesis")]


def _report_into_folder(tmp: Path) -> list[str]:
    (tmp / "existing").mkdir()
    return ["report", str(tmp / "existing"), "--out", str(tmp / "existing")]


def _latin1_config(tmp: Path) -> list[str]:
    (tmp / "c.yaml").write_bytes("run:\n  name: café\n".encode("latin-1"))
    return ["run", str(tmp / "c.yaml")]


# The user errors of the reliability issue, walked through the real command: one line, exit 2, nothing written.
USER_ERRORS = {
    "alias bomb": (_alias_bomb, "aliases (*name) are not allowed in a config"),
    "config not UTF-8": (_latin1_config, "line 2: not UTF-8 text"),
    "CSV quote never closes": (_broken_csv, "line 6"),
    "--out the corpus": (_victim, "holds the corpus"),
    "--out a folder of other files": (_thesis, "is not a framing run folder"),
    "--out .": (lambda tmp: ["run", "--out", "."], "is the current folder or contains it"),
    "run.name=.": (lambda tmp: ["run", "--set", "run.name=."], "must be a plain folder name"),
    "run.name=../other": (lambda tmp: ["run", "--set", "run.name=../other"], "must be a plain folder name"),
    "report --out an existing folder": (_report_into_folder, "is a folder; give the page's file name"),
    "contrast.group_by a field no document has": (
        lambda tmp: ["run", "--set", "contrast.group_by=stance", "--out", str(tmp / "out")],
        "contrast.group_by: no document has a 'stance' field"),
    "GPU embedding actors with an ONNX back-end": (
        lambda tmp: ["run", "--set", "engine.name=ray", "--set", "engine.gpus_per_actor=1", "--set",
                     "embedding.backend=onnx-int8", "--out", str(tmp / "out")],
        "engine.gpus_per_actor 1 needs embedding.backend torch"),
}


@pytest.mark.parametrize("case", list(USER_ERRORS))
def test_every_user_error_is_one_line_and_exit_2(tmp_path, case):
    build, expected = USER_ERRORS[case]
    args = build(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    proc = framing_cli(*args, cwd=tmp_path)
    assert_one_line_error(proc, expected)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written or deleted


@pytest.mark.slow
def test_inputs_that_used_to_fail_now_run(tmp_path, cache_dir):
    """A CSV field over 128 kB and a JSON string with a lone surrogate: exit 0, said in a warning at most."""
    from framing.corpus.documents import example_corpus_path

    texts = [p.read_text() for p in sorted(example_corpus_path().glob("*.txt"))]
    long_text = " ".join(texts * 5)  # over the csv module's default field limit of 128 kB
    assert len(long_text) > 131072
    import csv

    with open(tmp_path / "docs.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([["id", "text", "source"], ["long", long_text, "A"],
                          *[[f"d{i}", t, "B"] for i, t in enumerate(texts)]])
    proc = framing_cli("run", "--set", f"corpus.path={tmp_path / 'docs.csv'}", "--out", str(tmp_path / "csv-run"),
                       "--set", f"embedding.cache_dir={cache_dir}", "--set", "report.enabled=false")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    import json

    records = [{"id": f"d{i}", "text": t, "source": "A"} for i, t in enumerate(texts)]
    records[0]["text"] = "A broken emoji \ud83d stands in this line of text. " + records[0]["text"]
    (tmp_path / "docs.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    proc = framing_cli("run", "--set", f"corpus.path={tmp_path / 'docs.jsonl'}", "--set", "corpus.id_field=id",
                       "--out", str(tmp_path / "jsonl-run"), "--set", f"embedding.cache_dir={cache_dir}",
                       "--set", "report.enabled=false")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "d0: 1 unpaired surrogate code point(s) replaced with U+FFFD" in proc.stderr
    import pandas as pd

    units = pd.read_parquet(tmp_path / "jsonl-run" / "units.parquet")
    assert units["text"].str.contains("\ufffd").any()


def test_serve_refuses_what_is_not_a_run_folder_and_a_taken_port(tmp_path, example_result):
    proc = framing_cli("serve", str(tmp_path))
    assert_one_line_error(proc, "is not a framing run folder")
    import socket

    run = example_result.save(tmp_path / "run")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = framing_cli("serve", str(run), "--port", str(taken.getsockname()[1]))
    assert_one_line_error(proc, "cannot listen on 127.0.0.1")


def test_the_summary_says_when_writing_the_run_folder_set_the_peak():
    from framing.cli import run_summary

    manifest = {"counts": {"documents": 3, "units": 30, "distinct_units": 30, "framings": 2, "unassigned": 4},
                "embedding": {"computed": 30, "cached": 0}, "seconds": {"units": 1.0, "table": 0.5},
                "peak_memory_mb": {"process": 900.0},
                "memory_mb": {"units": {"peak": 800.0}, "table": {"peak": 900.0}}}
    assert "peak memory 900 MB (reached in the table stage)" in run_summary(manifest, 2.0)
    assert "peak memory 900 MB (reached in the table stage)" in run_summary(manifest, 2.0, 900.2)
    assert "peak memory 1,060 MB (reached while writing the run folder)" in run_summary(manifest, 2.0, 1060.0)


@pytest.mark.parametrize("args, pattern", [
    (["run", "--set", "run.seed=-1"], "run.seed: Input should be greater than or equal to 0"),
    (["run", "--set", "run.seed=4294967296"], "run.seed: Input should be less than 4294967296"),
    (["serve", "outputs/example", "--port", "70000"], "--port: 70000 is out of range"),
    (["contrast", "outputs/example", "a", "b", "--words", "-3"], "--words: -3 is out of range"),
    (["evaluate", "outputs/example", "gold.csv", "--permutations", "2147483648"],
     "--permutations: 2147483648 is out of range: give a number from 0 to 100000"),
])
def test_out_of_range_numbers_are_refused_before_any_work(tmp_path, args, pattern):
    """Regression (issue 30, 6 and 7): a seed of -1 or 2**32 was a traceback after embedding; --port 70000 and
    --words -3 were taken."""
    out = ["--out", str(tmp_path / "run")] if args[0] == "run" else []
    proc = framing_cli(*args, *out)
    assert_one_line_error(proc, pattern)
    assert not (tmp_path / "run").exists()
