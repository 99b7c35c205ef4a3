"""Reading one large record file: seconds (median of runs) and peak memory of ``load_corpus`` on a single
``.jsonl``, ``.csv`` or ``.parquet`` file, today's code beside an earlier commit's.

    python bench/corpus_read.py /tmp/c1m --format jsonl --runs 3 --against faa94cb

The first argument is a folder corpus (``bench/make_corpus.py`` writes one); its documents are written once into
``<folder>.<format>`` beside it (one record per document: id, text, source, date and its metadata), which is
then read with ``corpus.id_field: id``. Peak memory is the growth of this process's anonymous memory while one
call runs (sampled every 50 ms), so the file's pages in the kernel's cache are not counted; both versions keep
the documents' texts in a scratch file. Both must give the same documents; the script says whether they do.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from earlier import module_at  # noqa: E402 - bench/ is on the path when a script of it runs


def write_records(folder: Path, kind: str) -> Path:
    """The folder corpus's documents as one record file beside it (written once)."""
    from framing.corpus.load import load_corpus

    target = folder.parent / f"{folder.name}.{kind}"
    if target.exists():
        return target
    documents = load_corpus(folder).documents
    rows = ({"id": d.id, "text": d.text, "source": d.source, "date": d.date, **d.meta} for d in documents)
    partial = target.with_name(target.name + ".partial")
    if kind == "jsonl":
        with open(partial, "w", encoding="utf-8") as file:
            for row in rows:
                file.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif kind == "csv":
        import csv

        with open(partial, "w", encoding="utf-8", newline="") as file:
            writer = csv.DictWriter(file, ["id", "text", "source", "date", *documents[0].meta])
            writer.writeheader()
            writer.writerows(rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = list(rows)
        pq.write_table(pa.Table.from_pylist(rows), partial, row_group_size=2_000)
    partial.rename(target)
    return target


def measure(load, path: Path, runs: int):
    from framing.config import CorpusConfig
    from framing.memory import anonymous_memory_mb, release_free_memory

    config = CorpusConfig(id_field="id")
    seconds, anonymous, documents = [], [], None
    for _ in range(runs):
        release_free_memory()
        base = anonymous_memory_mb() or 0.0
        peak, done = [0.0], threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], (anonymous_memory_mb() or 0.0) - base)
                time.sleep(0.05)

        watcher = threading.Thread(target=sample)
        watcher.start()
        start = time.perf_counter()
        corpus = load(path, config)
        seconds.append(time.perf_counter() - start)
        done.set()
        watcher.join()
        anonymous.append(peak[0])
        documents = [(d.id, d.source, d.date, len(d.text)) for d in corpus.documents]
        del corpus
    return statistics.median(seconds), max(anonymous), seconds, documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--format", choices=["jsonl", "csv", "parquet"], default="jsonl")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", help="a commit whose framing/corpus.py to measure too")
    args = parser.parse_args()

    from framing.corpus.load import load_corpus

    path = write_records(args.corpus, args.format)
    print(f"{path}: {path.stat().st_size / 1e6:,.0f} MB", flush=True)
    versions = {"today": load_corpus}
    if args.against:
        module = module_at(args.against, "corpus")
        versions = {args.against: module.load_corpus, **versions}
    read = {}
    for name, load in versions.items():
        median, anonymous, seconds, documents = measure(load, path, args.runs)
        read[name] = documents
        print(f"{name}: {median:.1f} s (median of {args.runs}: {', '.join(f'{s:.1f}' for s in seconds)}), "
              f"anonymous memory grew by {anonymous:,.0f} MB at most; {len(documents):,} documents", flush=True)
    if len(read) == 2:
        print("same documents:", read[args.against] == read["today"])


if __name__ == "__main__":
    main()
