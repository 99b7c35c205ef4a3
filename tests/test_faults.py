"""Fault tests on the real pipeline: SIGKILL at every stage boundary, damaged caches, a full disk.

Each test runs `framing run` on the bundled example in a subprocess with a cache of its own and checks that the
output folder is never half-written and that the re-run gives the same units and framings as an undisturbed run.
"""
import json
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from framing.store.outputs import is_run_folder

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / "configs" / "example.yaml")

pytestmark = pytest.mark.slow


def run_args(out: Path, cache: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "framing.cli", "-v", "run", CONFIG, "--no-progress", "--out", str(out),
            "--set", f"embedding.cache_dir={cache}", *extra]


def framing_run(out: Path, cache: Path, *extra: str, limit_file_size: int | None = None):
    def limit():  # in the child only: a file-size limit makes writes past it fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.run(run_args(out, cache, *extra), cwd=ROOT, capture_output=True, text=True, timeout=600,
                          preexec_fn=limit if limit_file_size else None)


def outcome(folder: Path) -> tuple[pd.DataFrame, list]:
    """What a run found: its unit table and its framings (the manifest's timings aside)."""
    return pd.read_parquet(folder / "units.parquet"), json.loads((folder / "framings.json").read_text())


def assert_same_outcome(folder: Path, reference: Path) -> None:
    units, framings = outcome(folder)
    ref_units, ref_framings = outcome(reference)
    pd.testing.assert_frame_equal(units, ref_units)
    assert framings == ref_framings


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("framing: WARNING")]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An undisturbed run from an empty cache, and that cache (copied by tests that need it warm)."""
    base = tmp_path_factory.mktemp("reference")
    proc = framing_run(base / "run", base / "cache")
    assert proc.returncode == 0, proc.stderr
    return base / "run", base / "cache"


def kill_when(args: list[str], ready, timeout: float = 300) -> str:
    """Start ``args``; SIGKILL it as soon as ``ready(stderr_so_far)`` is true. Returns the stderr read."""
    process = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    seen = ""
    deadline = time.monotonic() + timeout
    try:
        for line in process.stderr:
            seen += line
            if ready(seen):
                process.send_signal(signal.SIGKILL)
                break
            assert time.monotonic() < deadline, seen
        process.wait(60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, f"finished before the kill:\n{seen}"
    return seen


@pytest.mark.parametrize("stage", ["corpus", "units", "embed", "framings", "contrast"])
def test_sigkill_at_a_stage_boundary_then_rerun_is_identical(tmp_path, reference, stage):
    reference_run, _ = reference
    out, cache = tmp_path / "run", tmp_path / "cache"
    shutil.copytree(reference_run, out)  # an earlier run in place: a killed run must leave it whole
    kill_when(run_args(out, cache), lambda err: f"stage {stage} done" in err)
    assert is_run_folder(out)
    assert_same_outcome(out, reference_run)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # killed before the save
    proc = framing_run(out, cache)
    assert proc.returncode == 0, proc.stderr
    assert_same_outcome(out, reference_run)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "run"]


def test_sigkill_during_the_save_leaves_the_old_folder_and_the_next_save_cleans_up(tmp_path, reference):
    reference_run, reference_cache = reference
    out, cache = tmp_path / "run", tmp_path / "cache"
    shutil.copytree(reference_run, out)
    shutil.copytree(reference_cache, cache)

    def saving(err: str) -> bool:
        if "stage contrast done" not in err:
            return False
        deadline = time.monotonic() + 30
        while not any(p.name.startswith(".run.partial-") for p in tmp_path.iterdir()):
            time.sleep(0.005)
            assert time.monotonic() < deadline
        return True

    kill_when(run_args(out, cache), saving)
    assert is_run_folder(out)
    assert_same_outcome(out, reference_run)
    proc = framing_run(out, cache)
    assert proc.returncode == 0, proc.stderr
    assert_same_outcome(out, reference_run)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "run"]  # the killed save's staging is gone


def _cache_file(cache: Path, name: str) -> Path:
    found = [p for p in (cache / "embeddings").rglob(name) if p.stat().st_size > 100_000 or name != "vectors.f32"]
    return max(found, key=lambda p: p.stat().st_size)


class _Payload:
    """Unpickled, it creates a file: proof that a cache entry ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def _damage_umap(cache: Path, damage: str, marker: Path) -> None:
    import numpy as np

    entries = list((cache / "reductions").glob("*.npz"))
    assert entries, "no UMAP result was cached"
    for entry in entries:
        data = entry.read_bytes()
        if damage == "umap-truncated":
            entry.write_bytes(data[:200])
        elif damage == "umap-flipped":  # 16 bytes inside the arrays: the zip's own checks may not see them
            middle = len(data) // 2
            entry.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 16]) + data[middle + 16:])
        elif damage == "umap-pickle":
            payload = np.empty(1, dtype=object)
            payload[0] = _Payload(marker)
            with open(entry, "wb") as handle:
                np.savez(handle, space=payload, map=payload)
        elif damage == "umap-wrong-shape":
            with open(entry, "wb") as handle:
                np.savez(handle, space=np.full((3, 5), np.nan, np.float32), map=np.zeros(7))
        elif damage == "umap-folder":
            entry.unlink()
            entry.mkdir()
            (entry / "inside").write_text("x")


@pytest.mark.parametrize("damage", ["vectors-garbled", "index-truncated", "index-garbled", "umap-truncated",
                                    "umap-flipped", "umap-pickle", "umap-wrong-shape", "umap-folder"])
def test_a_damaged_cache_gives_the_undisturbed_result_with_one_warning(tmp_path, reference, damage):
    reference_run, reference_cache = reference
    cache = tmp_path / "cache"
    shutil.copytree(reference_cache, cache)
    import numpy as np

    rng = np.random.default_rng(11)
    if damage == "vectors-garbled":  # other bytes of the same size: today's main gave other framings
        vectors = _cache_file(cache, "vectors.f32")
        vectors.write_bytes(rng.standard_normal(vectors.stat().st_size // 4).astype(np.float32).tobytes())
    elif damage.startswith("index"):
        index = _cache_file(cache, "index.sqlite")
        data = index.read_bytes()
        index.write_bytes(data[: len(data) // 2] if damage == "index-truncated"
                          else data[:100] + rng.integers(0, 256, len(data) - 100, dtype=np.uint8).tobytes())
    else:
        _damage_umap(cache, damage, tmp_path / "code-ran")
    proc = framing_run(tmp_path / "run", cache)
    assert not (tmp_path / "code-ran").exists(), "a cache entry was unpickled"
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    found = warnings_of(proc.stderr)
    expected = "UMAP result" if damage.startswith("umap") else "embedding cache"
    assert len(found) == 1 and expected in found[0], proc.stderr
    assert_same_outcome(tmp_path / "run", reference_run)


def test_a_truncated_vector_file_is_repaired_in_a_real_run(tmp_path, reference):
    _, reference_cache = reference
    cache = tmp_path / "cache"
    shutil.copytree(reference_cache, cache)
    vectors = _cache_file(cache, "vectors.f32")
    with open(vectors, "r+b") as handle:
        handle.truncate(vectors.stat().st_size // 2 + 7)
    proc = framing_run(tmp_path / "run", cache)
    assert proc.returncode == 0, proc.stderr
    found = warnings_of(proc.stderr)
    assert len(found) == 1 and "vectors.f32 is shorter than its index" in found[0]
    # re-embedded in other company, every vector is the same bits (fixed forward shapes): the same framings
    assert_same_outcome(tmp_path / "run", reference[0])


def test_a_full_disk_while_writing_the_run_is_one_line_and_leaves_nothing(tmp_path, reference):
    reference_run, reference_cache = reference
    out, cache = tmp_path / "run", tmp_path / "cache"
    shutil.copytree(reference_run, out)
    shutil.copytree(reference_cache, cache)
    # 2 MB per file: the cache and the tables fit, the report (plotly.js alone is 4.6 MB) does not
    proc = framing_run(out, cache, limit_file_size=2_000_000)
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"framing: error: cannot write output folder {out}: a file grew past the size"), last
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "run"]
    assert_same_outcome(out, reference_run)  # the earlier run is untouched


def test_a_full_disk_while_caching_vectors_is_one_line(tmp_path):
    out, cache = tmp_path / "run", tmp_path / "cache"
    proc = framing_run(out, cache, limit_file_size=100_000)  # the example's vectors are 442 kB
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("framing: error: cannot write embedding cache ") and "vectors.f32" in last, last
    assert "Traceback" not in proc.stderr and not out.exists()


# -- every cache file damaged in every way (generated) -------------------------------------------------------------

CACHE_FILES = {"vectors": "embeddings/*/vectors.f32", "index": "embeddings/*/index.sqlite",
               "umap": "reductions/*.npz", "units": "units/*.npz"}
DAMAGES = ("flip", "truncate", "junk", "pickle", "folder")


def damage_file(path: Path, damage: str, marker: Path) -> None:
    """Damage one cache file the way a disk, a crash or a hostile user could."""
    import pickle

    data = path.read_bytes()
    if damage == "flip":  # 16 bytes inverted in the middle: the file still has its size and its header
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 16]) + data[middle + 16:])
    elif damage == "truncate":
        path.write_bytes(data[: len(data) // 3])
    elif damage == "junk":
        path.write_bytes(bytes(range(256)) * (len(data) // 256 + 1))
    elif damage == "pickle":  # a pickle that creates a file when loaded, under the entry's own name
        path.write_bytes(pickle.dumps(_Payload(marker)))
    elif damage == "folder":
        path.unlink()
        path.mkdir()
        (path / "inside").write_text("x")


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("kind", list(CACHE_FILES))
def test_every_cache_file_damaged_in_every_way_gives_the_clean_result_or_one_line(tmp_path, reference, kind,
                                                                                  damage):
    """The property of the fault suite: exit 0 with the same framings as a clean run (a warning allowed), or exit
    2 with one line; never "internal error", never code run from the cache."""
    reference_run, reference_cache = reference
    cache = tmp_path / "cache"
    shutil.copytree(reference_cache, cache)
    targets = sorted(cache.glob(CACHE_FILES[kind]))
    assert targets, f"the reference run cached no {kind}"
    marker = tmp_path / "code-ran"
    for target in targets:
        damage_file(target, damage, marker)
    proc = framing_run(tmp_path / "run", cache)
    assert not marker.exists(), "a cache entry was unpickled"
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    if proc.returncode == 2:
        assert len(proc.stderr.strip().splitlines()) == 1 or proc.stderr.strip().splitlines()[-1].startswith(
            "framing: error:"), proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    assert len(warnings_of(proc.stderr)) <= 2, proc.stderr
    assert_same_outcome(tmp_path / "run", reference_run)
