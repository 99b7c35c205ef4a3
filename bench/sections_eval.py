"""Precision and recall of section detection against the hand labels in tests/fixtures/aleppo_sections.json.

Every non-empty line (block) of the five aleppo pages is scored; "units" rows score only blocks of at least
four words (those that can become units, so they are what the framings see).

    python bench/sections_eval.py [CORPUS_FOLDER]
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from framing.units.sections import classify_blocks  # noqa: E402
from framing.units.segment import text_blocks  # noqa: E402

LABELS = ("body", "comments", "boilerplate", "byline")


def true_label(line: int, spec: dict) -> str:
    if line in spec["byline_lines"]:
        return "byline"
    if line in spec["boilerplate_lines"]:
        return "boilerplate"
    if spec["comments_from_line"] is not None and line >= spec["comments_from_line"]:
        return "comments"
    return "body"


ALEPPO_LABELS = ROOT / "tests" / "fixtures" / "aleppo_sections.json"
OWN_PAGES = ROOT / "tests" / "fixtures" / "pages"


def pairs(folder: Path, min_words: int = 0, labels_file: Path = ALEPPO_LABELS) -> list[tuple[str, str, str]]:
    """(file, true, predicted) for every block."""
    labels = json.loads(labels_file.read_text())["files"]
    out = []
    for name, spec in labels.items():
        text = (folder / name).read_text(encoding="utf-8")
        blocks = text_blocks(text)
        predicted = classify_blocks([text[s:e] for s, e in blocks])
        for (start, end), guess in zip(blocks, predicted):
            if len(text[start:end].split()) < min_words:
                continue
            out.append((name, true_label(text.count("\n", 0, start) + 1, spec), guess))
    return out


def scores(rows: list[tuple[str, str, str]]) -> dict[str, tuple[float, float, int]]:
    result = {}
    for label in LABELS:
        tp = sum(1 for _, t, p in rows if t == label and p == label)
        predicted = sum(1 for _, _, p in rows if p == label)
        actual = sum(1 for _, t, _ in rows if t == label)
        result[label] = (tp / predicted if predicted else 1.0, tp / actual if actual else 1.0, actual)
    return result


def report(title: str, folder: Path, labels_file: Path) -> None:
    print(f"== {title}")
    for heading, min_words in (("all lines", 0), ("units (lines of 4+ words)", 4)):
        rows = pairs(folder, min_words, labels_file)
        print(f"{heading}: {len(rows)} blocks")
        for label, (precision, recall, support) in scores(rows).items():
            print(f"  {label:<12} precision {precision:5.3f}  recall {recall:5.3f}  ({support} labelled)")
    rows = pairs(folder, 4, labels_file)
    print("per file, units:")
    for name in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == name]
        print(f"  {name}: predicted {dict(Counter(p for _, _, p in mine))}  errors (true, predicted) "
              f"{[(t, p) for _, t, p in mine if t != p]}")


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpora" / "aleppo-2016"
    if folder.is_dir():
        report(f"aleppo-2016 ({folder})", folder, ALEPPO_LABELS)
    report("pages written for the tests (WordPress, forum, newsletter, Disqus layouts)", OWN_PAGES, OWN_PAGES / "labels.json")


if __name__ == "__main__":
    main()
