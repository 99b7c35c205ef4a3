"""Stage 1: read a corpus into ``Document`` objects with stable ids and metadata.

Inputs: a folder of ``.txt``/``.md``/``.html`` files (metadata from a sidecar CSV keyed by file name; HTML pages
through trafilatura: main text, reader comments, title, date, author), or a ``.jsonl`` / ``.csv`` / ``.parquet``
file with one document per record (metadata from its other fields), or a pattern of such shards. Text is kept
exactly as decoded — never normalised — because unit offsets point into it."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..config import CorpusConfig
from ..errors import FramingError
from .documents import Corpus, MapFiles, StoredDocuments, example_corpus_path, note_warning
from .pages import folder_files, load_folder
from .records import load_records


_RECORD_SUFFIXES = (".jsonl", ".csv", ".parquet")


def _is_pattern(raw: str | Path) -> bool:
    return any(c in str(raw) for c in "*?[")


def _pattern_root(pattern: str) -> Path:
    """The folder a glob pattern starts from: its parts up to the first one with a wildcard."""
    parts = Path(pattern).expanduser().parts
    fixed = next(k for k, part in enumerate(parts) if _is_pattern(part))
    return Path(*parts[:fixed]) if fixed else Path(".")


def _shard_files(pattern: str) -> list[Path]:
    root = _pattern_root(pattern)
    rest = str(Path(pattern).expanduser().relative_to(root)) if root != Path(".") else pattern
    return sorted(p for p in root.glob(rest) if p.is_file())


def corpus_root(path: str | Path | None, config: CorpusConfig) -> Path:
    """The folder or file a corpus is read from (``None``: ``config.path``, else the bundled example); for a
    pattern of shards (``data/part-*.jsonl``), the folder it starts from."""
    raw = path if path is not None else config.path
    if raw is not None and _is_pattern(raw):
        return _pattern_root(str(raw))
    return Path(raw).expanduser() if raw is not None else example_corpus_path()


def input_bytes(path: str | Path | None = None, config: CorpusConfig | None = None) -> int:
    """The size of the files a corpus would be read from, without reading them (0 when it does not exist)."""
    config = config or CorpusConfig()
    raw = path if path is not None else config.path
    if raw is not None and _is_pattern(raw):
        files = _shard_files(str(raw))
    else:
        root = corpus_root(path, config)
        files = folder_files(root, config) if root.is_dir() else [root]
    total = 0
    for file in files:
        try:
            total += file.stat().st_size
        except OSError:
            pass
    return total


def read_each(read: Callable[[Any], Iterable[Any]], items: Iterable[Any]) -> Iterator[Any]:
    """Every result of ``read(item)``, item after item, in this process: how a corpus is read without an engine.
    ``read`` is a generator, so a large file's parts are used as they are read."""
    for item in items:
        yield from read(item)


def load_corpus(path: str | Path | None = None, config: CorpusConfig | None = None,
                map_files: MapFiles = read_each, scratch: str | Path | None = None) -> Corpus:
    """Read a corpus from a folder, a ``.jsonl``, ``.csv`` or ``.parquet`` file, or shards of them named by a
    pattern (``data/part-*.parquet``); default: the bundled example.

    ``map_files(read, items)`` reads the files (``read_each`` in this process; the Ray engine reads them as a Ray
    Dataset); a record file is parsed as it is read, in parts (``RECORD_PART_CHARS``), never whole;
    everything that decides what a document is runs inside ``read``, so every engine applies the same rules.
    Raises ``FramingError`` for a missing path or a corpus with no readable document. Empty and binary files
    are skipped and listed in a warning; non-UTF-8 files are decoded by detection with a warning. The documents'
    texts are kept in a memory-mapped scratch file in ``scratch`` (the system's temporary folder by default) as
    each file is read, not in memory (``StoredDocuments``).
    """
    config = config or CorpusConfig()
    raw = path if path is not None else config.path
    pattern = raw is not None and _is_pattern(raw)
    if pattern:
        root = _pattern_root(str(raw))
        shards = _shard_files(str(raw))
        if not shards:
            raise FramingError(f"corpus not found: no file matches {raw}")
        odd = [p.name for p in shards if p.suffix.lower() not in _RECORD_SUFFIXES]
        if odd:
            raise FramingError(f"{raw} matches files that are not .jsonl, .csv or .parquet shards: "
                               f"{', '.join(odd[:5])}")
        corpus = Corpus(documents=StoredDocuments(scratch), origin=str(raw))
        load_records(shards, [p.relative_to(root).as_posix() for p in shards], config, corpus, map_files)
    else:
        root = corpus_root(path, config)
        if not root.exists():
            raise FramingError(f"corpus not found: {root}")
        corpus = Corpus(documents=StoredDocuments(scratch), origin=str(root))
        if root.is_dir():
            load_folder(root, config, corpus, map_files)
        elif root.suffix.lower() in _RECORD_SUFFIXES:
            load_records([root], [root.name], config, corpus, map_files)
        else:
            raise FramingError(f"cannot read {root}: expected a folder, a .jsonl, .csv or .parquet file, "
                               "or a pattern of such shards")
    if corpus.skipped:
        note_warning(corpus, f"skipped {len(corpus.skipped)} input(s): "
                      + ", ".join(f"{name} ({why})" for name, why in corpus.skipped[:10]))
    if not corpus.documents:
        where = raw if pattern else root
        if corpus.skipped:  # inputs were found: say why none became a document, not that nothing was there
            reasons = Counter(why.split(" (")[0] for _, why in corpus.skipped)
            shown = ", ".join(f"{n} {why}" for why, n in reasons.most_common(3))
            raise FramingError(f"no documents in {where}: all {len(corpus.skipped)} input(s) were skipped ({shown})")
        what = "records with text" if pattern or not root.is_dir() else f"files matching {', '.join(config.glob)}"
        raise FramingError(f"no documents in {where}: found no {what}")
    return corpus
