"""The hand-labelled sets the validity benchmarks score against: (corpus name, config, corpus folder or None for
the bundled example, label file). Aleppo's labels are ids and frames only (its text is third-party)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALEPPO = ROOT.parent / "shared" / "corpora" / "aleppo-2016"
_EXAMPLE_LABELS = ROOT / "framing" / "data" / "labels"
SETS = [("example", ROOT / "configs" / "example.yaml", None, _EXAMPLE_LABELS / "example-conflict.csv"),
        ("example", ROOT / "configs" / "example.yaml", None, _EXAMPLE_LABELS / "example-policy-frames.csv"),
        ("aleppo-2016", ROOT / "configs" / "aleppo-2016.yaml", ALEPPO, ROOT / "bench" / "labels" / "aleppo-2016-conflict.csv"),
        ("aleppo-2016", ROOT / "configs" / "aleppo-2016.yaml", ALEPPO,
         ROOT / "bench" / "labels" / "aleppo-2016-policy-frames.csv")]
