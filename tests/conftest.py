"""Shared fixtures. End-to-end fixtures run the real packaged model, UMAP and HDBSCAN once per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Every hypothesis test draws the same inputs on every run, so that a CI run fails for a change, not for a draw (a
# random whole run once took CI's memory: likely a bootstrap count from 2**31, what bench/edge_runs.py found).
# bench/fuzz.py sets FRAMING_FUZZ_RANDOM=1 to draw new ones by the thousand.
settings.register_profile("framing", derandomize=not os.environ.get("FRAMING_FUZZ_RANDOM"))
settings.load_profile("framing")

ALEPPO = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "aleppo-2016"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One embedding cache for the whole session, outside the user's home."""
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def aleppo_path() -> Path:
    if not (ALEPPO / "sources.csv").is_file():
        pytest.skip(f"the aleppo-2016 corpus is not beside this checkout ({ALEPPO})")
    return ALEPPO


@pytest.fixture(scope="session")
def example_result(cache_dir):
    import framing

    return framing.analyze(None, "configs/example.yaml" if Path("configs/example.yaml").is_file()
                           else Path(__file__).resolve().parents[1] / "configs" / "example.yaml",
                           embedding__cache_dir=str(cache_dir), progress=False)
