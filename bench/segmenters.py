"""Compare sentence segmenters on a folder of real text (default: ../shared/corpora/aleppo-2016).

There is no gold standard for these pages, so the script counts symptoms a reader would call errors:
- a unit that ends on a known abbreviation ("U.S.", "Dec.", "Gen.") is a false split;
- a unit that starts with a lower-case letter may continue the previous sentence (a false split) — but reader
  comments are often written in lower case, so read these rows by hand before trusting the count;
- a unit over 400 characters usually swallows two sentences (missed split);
and it times each segmenter. Every segmenter runs on the same blocks (framing splits text into lines and
paragraphs first, so headings and list lines never merge into sentences).

    python bench/segmenters.py [FOLDER]
"""
from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

ABBREVIATION_END = re.compile(
    r"\b(?:U\.S|U\.K|U\.N|Mr|Mrs|Ms|Dr|Gen|Maj|Col|Lt|Sgt|Capt|Gov|Sen|Rep|St|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|"
    r"Nov|Dec|No|vs|etc|e\.g|i\.e|approx|Inc|Corp|Ltd)\.$"
)


def _regex(block: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+(?=[A-Z\"'“])", block)


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/corpora/aleppo-2016")
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("*.txt"))]
    if not texts:
        sys.exit(f"no .txt files in {folder}")
    from framing.units.segment import text_blocks  # the same block split the pipeline uses

    blocks = [text[s:e] for text in texts for s, e in text_blocks(text)]

    import blingfire
    import pysbd
    import sentencex
    import syntok.segmenter as syntok_segmenter

    pysbd_segmenter = pysbd.Segmenter(language="en", clean=False)

    def syntok_split(block: str) -> list[str]:
        out = []
        for paragraph in syntok_segmenter.analyze(block):
            for sentence in paragraph:
                out.append(block[sentence[0].offset : sentence[-1].offset + len(sentence[-1].value)])
        return out

    segmenters = {
        "regex": _regex,
        "pysbd": pysbd_segmenter.segment,
        "sentencex": lambda b: list(sentencex.segment("en", b)),
        "blingfire": lambda b: [b[s:e] for s, e in blingfire.text_to_sentences_and_offsets(b)[1]],
        "syntok": syntok_split,
    }
    print(f"{len(texts)} files, {len(blocks)} blocks (lines/paragraphs) from {folder}")
    print(f"{'segmenter':<10} {'units':>6} {'abbrev-split':>12} {'lower-start':>11} {'>400 chars':>10} {'ms (median of 5)':>16}")
    for name, split in segmenters.items():
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            units = [u.strip() for b in blocks for u in split(b) if u.strip()]
            timings.append(time.perf_counter() - start)
        abbreviation_splits = sum(1 for u in units if ABBREVIATION_END.search(u))
        lower_starts = sum(1 for u in units if u[0].islower())
        long_units = sum(1 for u in units if len(u) > 400)
        print(f"{name:<10} {len(units):>6} {abbreviation_splits:>12} {lower_starts:>11} {long_units:>10} "
              f"{statistics.median(timings) * 1000:>16.1f}")


if __name__ == "__main__":
    main()
