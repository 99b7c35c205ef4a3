"""The units stage's time grows linearly with its input: one big document, and long runs of punctuation.

Writes each input to a temporary corpus folder, reads it with ``framing.load_corpus`` (texts stored on disk,
as a run holds them), then times what the units stage does: ``engine.segment`` (blocks, sections, bylines,
sentences) and ``find_duplicates`` over the analysed units (exact digests, then near-duplicates). Inputs:
a plain-text document of 1, 10 and 50 MB made of varied synthetic news sentences (bench/make_corpus.py), a line
of 10k / 40k / 200k ``&``, and an HTML page holding 200k ``&amp;``. Issue 30 measured, before: 2 MB 42 s,
5 MB 196 s, 50 MB unfinished after 10 min; 40,000 ``&`` 102 s; 200k ``&amp;`` unfinished after 300 s.

    python bench/units_linear.py [--runs 3] [--sizes 1 10 50]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def big_text(megabytes: float) -> str:
    from make_corpus import sentences

    lines, size, k = [], 0, 0
    while size < megabytes * 1e6:
        batch = [text for _, text in sentences(2000, seed=k)]
        paragraph = "\n\n".join(" ".join(batch[i:i + 5]) for i in range(0, len(batch), 5))
        lines.append(paragraph)
        size += len(paragraph) + 2
        k += 1
    return "\n\n".join(lines)[: int(megabytes * 1e6)]


def units_stage_seconds(folder: Path, name: str, text: str) -> tuple[float, int]:
    import framing
    from framing.config import Config
    from framing.units.duplicates import find_duplicates
    from framing.engines import make_engine

    for old in folder.iterdir():
        old.unlink()
    (folder / name).write_text(text, encoding="utf-8")
    config = Config()
    corpus = framing.load_corpus(folder)
    engine = make_engine(config.engine, config.embedding)
    start = time.perf_counter()
    units = engine.segment(corpus.documents, config.units, False)
    groups = find_duplicates(units.text_column(), threshold=config.units.near_duplicates)
    return time.perf_counter() - start, len(units)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=float, nargs="*", default=[1, 10, 50])
    parser.add_argument("--runs-of", type=int, nargs="*", default=[10_000, 40_000, 200_000],
                        help="lengths of the lines of '&'")
    parser.add_argument("--no-html", action="store_true", help="leave out the page of 200k '&amp;'")
    args = parser.parse_args()
    inputs = [(f"one document of {size:g} MB", "big.txt", big_text(size)) for size in args.sizes]
    inputs += [(f"a line of {n // 1000}k '&'", "amp.txt", "A short first line.\n" + "&" * n + "\nA last line.")
               for n in args.runs_of]
    if not args.no_html:
        inputs.append(("an HTML page of 200k '&amp;'", "page.html",
                       "<html><body><p>A paragraph before.</p><p>" + "&amp;" * 200_000 + "</p></body></html>"))
    print(f"medians of {args.runs} runs")
    with tempfile.TemporaryDirectory() as folder:
        for label, name, text in inputs:
            timings = []
            for _ in range(args.runs):
                seconds, n_units = units_stage_seconds(Path(folder), name, text)
                timings.append(seconds)
            print(f"{label:<34} {len(text) / 1e6:7.2f} MB  {n_units:8d} units  {statistics.median(timings):8.2f} s",
                  flush=True)


if __name__ == "__main__":
    main()
