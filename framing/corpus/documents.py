"""Stage 1: read a corpus into ``Document`` objects with stable ids and metadata.

Inputs: a folder of ``.txt``/``.md``/``.html`` files (metadata from a sidecar CSV keyed by file name; HTML pages
through trafilatura: main text, reader comments, title, date, author), or a ``.jsonl`` / ``.csv`` / ``.parquet``
file with one document per record (metadata from its other fields). Text is kept exactly as decoded —
never normalised — because unit offsets point into it.
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import fnmatch
import hashlib
import io
import json
import logging
import mmap
import os
import re
import tempfile
import weakref
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..config import CorpusConfig
from ..errors import FramingError, disk_error

__all__ = ["Document", "Corpus", "StoredDocuments", "document_values", "text_sizes", "load_corpus", "read_each",
           "example_corpus_path", "corpus_root", "input_bytes"]

log = logging.getLogger(__name__)

_SIDECAR_NAMES = ("metadata.csv", "sources.csv")
_RECORD_SUFFIXES = (".jsonl", ".csv", ".parquet")
# map_files(read, items) -> every result ``read(item)`` yields, item after item, in the items' order:
# ``read_each`` here; an engine may spread the items over workers (Ray Data)
MapFiles = Callable[[Callable[[Any], Iterable[Any]], list], Iterable[Any]]
UNKNOWN_SOURCE = "unknown"
_LATIN_SINGLE_BYTE = frozenset(
    "cp1250 cp1252 cp1254 cp1257 cp1258 latin_1 iso8859_2 iso8859_3 iso8859_4 iso8859_9 iso8859_10 iso8859_13 "
    "iso8859_14 iso8859_15 iso8859_16 mac_latin2 mac_roman mac_iceland mac_turkish cp437 cp775 cp850 cp852 cp858 "
    "cp860 cp861 cp863 cp865".split()
)
_NON_WESTERN_LATIN_LANGUAGES = frozenset(
    "Czech Polish Slovak Hungarian Croatian Slovene Romanian Lithuanian Latvian Estonian Turkish".split()
)


@dataclass(frozen=True)
class Document:
    """One document. ``text`` is exactly what was decoded from the input; units are offsets into it."""

    id: str
    text: str
    source: str = UNKNOWN_SOURCE
    title: str = ""
    date: str = ""
    url: str = ""
    meta: Mapping[str, str] = field(default_factory=dict)


def _close_quietly(file) -> None:
    """Close a scratch file whose contents no longer matter: a full disk while flushing it is not worth a word
    (the run has already said so, or is over)."""
    try:
        file.close()
    except OSError:
        pass


class StoredDocuments(Sequence[Document]):
    """The documents of a corpus read from files, with their texts in a memory-mapped scratch file.

    A list of ``Document`` that holds each text in memory keeps the whole corpus in the process for the whole run
    (about 145 bytes a unit at a million units); here texts are written to an unnamed temporary file as files are
    read (UTF-8, back to back) and each ``Document`` is made when it is read, its text decoded from the file's
    pages, which the kernel can drop and read again. Ids, sources, titles, dates, urls and metadata stay in memory
    (they are per document, and every stage groups by them). Nothing is left on disk, even if the process dies.
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        self._folder = Path(folder) if folder is not None else Path(tempfile.gettempdir())
        self._file = tempfile.TemporaryFile(dir=folder, prefix=".documents-")
        self._ends: list[int] = []  # where each text's bytes end in the file
        self._fields: list[tuple[str, str, str, str, str, Mapping[str, str]]] = []
        self._map: mmap.mmap | None = None
        # the last text read: stages that read a document's units one after another decode it once, not once a
        # unit (a 2 MB page has ~20,000 units: that was 42 s of decoding, 5 MB 196 s)
        self._last: tuple[int, str] = (-1, "")
        weakref.finalize(self, _close_quietly, self._file)  # with the corpus (its map closes itself when freed)

    def append(self, document: Document) -> None:
        try:
            self._file.write(document.text.encode("utf-8", "surrogatepass"))
            self._ends.append(self._file.tell())
        except OSError as exc:
            raise disk_error(exc, "the documents' scratch file in", self._folder) or exc from None
        self._fields.append((document.id, document.source, document.title, document.date, document.url,
                             document.meta))

    def extend(self, documents: Iterable[Document]) -> None:
        for document in documents:
            self.append(document)

    def __len__(self) -> int:
        return len(self._ends)

    def values(self, name: str, positions: Iterable[int] | None = None) -> list:
        """One field (``id``, ``source``, ``title``, ``date``, ``url``, ``meta``, ``text``) of every document, or of
        those at ``positions``; only ``text`` reads the file."""
        if name == "text":
            return [self.text(k) for k in (range(len(self)) if positions is None else positions)]
        column = _STORED_FIELDS.index(name)
        fields = self._fields
        return [row[column] for row in fields] if positions is None else [fields[k][column] for k in positions]

    def text_sizes(self) -> np.ndarray:
        """Each text's size in bytes (UTF-8), without reading it."""
        return np.diff(np.asarray([0, *self._ends], dtype=np.int64))

    def text(self, position: int) -> str:
        """The text of the document at ``position``, read from the file."""
        last = self._last
        if last[0] == position:
            return last[1]
        start, end = self._ends[position - 1] if position else 0, self._ends[position]
        if start == end:
            return ""
        if self._map is None or len(self._map) < end:  # documents were added since the file was mapped
            self._file.flush()
            if self._map is not None:
                self._map.close()
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        text = self._map[start:end].decode("utf-8", "surrogatepass")
        self._last = (position, text)
        return text

    def __getitem__(self, position):  # type: ignore[override]
        if isinstance(position, slice):
            return [self[k] for k in range(len(self))[position]]
        position = range(len(self))[position]  # negative counts from the end; IndexError past it
        doc_id, source, title, date, url, meta = self._fields[position]
        return Document(doc_id, self.text(position), source=source, title=title, date=date, url=url, meta=meta)

    def __eq__(self, other: object) -> bool:  # as the list of documents it stands for
        if not isinstance(other, (list, StoredDocuments)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment] - mutable, like a list

    def __reduce__(self):  # pickled (e.g. to a worker), a corpus travels as the plain list it stands for
        return list, (list(self),)


_STORED_FIELDS = ("id", "source", "title", "date", "url", "meta")


def document_values(documents: Sequence[Document], name: str, positions: Iterable[int] | None = None) -> list:
    """One field of every document (or of those at ``positions``): read from ``StoredDocuments`` without their
    texts, from a list as it is."""
    if isinstance(documents, StoredDocuments):
        return documents.values(name, positions)
    return [getattr(d, name) for d in documents] if positions is None else \
        [getattr(documents[k], name) for k in positions]


def text_sizes(documents: Sequence[Document]) -> np.ndarray:
    """Each document's text size: bytes of UTF-8 for ``StoredDocuments`` (without reading the texts),
    characters for a list."""
    if isinstance(documents, StoredDocuments):
        return documents.text_sizes()
    return np.array([len(d.text) for d in documents], dtype=np.int64)


@dataclass
class Corpus:
    """The documents of a run, plus what was skipped and why, and the hashes of the input files."""

    documents: list[Document] | StoredDocuments
    skipped: list[tuple[str, str]] = field(default_factory=list)
    input_hashes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    origin: str = ""

    def __len__(self) -> int:
        return len(self.documents)

    def __iter__(self):
        return iter(self.documents)

    @classmethod
    def from_documents(cls, documents: Iterable[Document]) -> "Corpus":
        """A corpus of documents made in memory; unpaired surrogates in them are replaced (with a warning)."""
        corpus = cls([], origin="memory")
        for doc in documents:
            fields = {name: str(getattr(doc, name)) for name in ("id", "text", "source", "title", "date", "url")}
            if any(_SURROGATE.search(value) for value in (*fields.values(), *map(str, doc.meta), *map(str, doc.meta.values()))):
                replaced = {name: replace_lone_surrogates(value)[0] for name, value in fields.items()}
                meta = {replace_lone_surrogates(str(k))[0]: replace_lone_surrogates(str(v))[0] for k, v in doc.meta.items()}
                doc = dataclasses.replace(doc, **replaced, meta=meta)
                _warn(corpus, f"{_short(doc.id)}: unpaired surrogate code points replaced with U+FFFD")
            corpus.documents.append(doc)
        return corpus

    @classmethod
    def from_texts(cls, texts: Iterable[str], sources: Iterable[str] | None = None) -> "Corpus":
        """Build a corpus in memory: ids ``doc-0``, ``doc-1``, ...; sources default to ``unknown``."""
        texts = list(texts)
        sources = list(sources) if sources is not None else [UNKNOWN_SOURCE] * len(texts)
        if len(sources) != len(texts):
            raise FramingError(f"{len(texts)} texts but {len(sources)} sources")
        return cls.from_documents(Document(f"doc-{i}", t, source=str(s)) for i, (t, s) in enumerate(zip(texts, sources)))


def example_corpus_path() -> Path:
    """The folder of the bundled example corpus (written for this project; see its README)."""
    return Path(__file__).resolve().parents[1] / "data" / "example"


class _FileNotes(Corpus):
    """What reading one input file found (skips, warnings, its hash), gathered where the file is read — in this
    process or on a worker — and added to the run's corpus, which logs the warnings, in input order."""

    def __init__(self) -> None:
        super().__init__(documents=[])


def _warn(corpus: Corpus, message: str) -> None:
    if not isinstance(corpus, _FileNotes):
        log.warning(message)
    corpus.warnings.append(message)


def _merge_notes(corpus: Corpus, notes: Corpus) -> None:
    corpus.skipped.extend(notes.skipped)
    corpus.input_hashes.update(notes.input_hashes)
    for message in notes.warnings:
        _warn(corpus, message)


# Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Share of control characters (other than whitespace) and U+FFFD above which decoded "text" is taken for binary
# data: prose has next to none, while random bytes decoded as Windows-1252 have about 12% and as UTF-8 over 50%.
_BINARY_SHARE = 0.05
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _binary_share(text: str) -> float:
    sample = text[:65536]
    return len(_CONTROL.findall(sample)) / max(len(sample), 1)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a byte-order mark: NUL bytes nearly all on one side of each byte pair."""
    sample = data[:8192 - (min(len(data), 8192) % 2)]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if len(data) % 2 or max(even, odd) < 0.3 * len(sample) / 2 or min(even, odd) > 0.02 * len(sample) / 2:
        return None
    try:
        return data.decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return None


def _decode_bytes(data: bytes) -> tuple[str | None, str]:
    """``(text, encoding)``; ``text`` is ``None`` for binary data. Never raises."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    if b"\x00" in data[:8192]:
        text = _utf16_without_bom(data)
        return (text, "utf-16") if text is not None and _binary_share(text) <= _BINARY_SHARE else (None, "binary")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or not best.encoding:
        return data.decode("utf-8", errors="replace"), "utf-8 with undecodable bytes replaced"
    encoding = best.encoding
    # On short Latin-script text detectors pick Baltic or DOS code pages at random (a French paragraph comes
    # back as cp1257); like browsers, fall back to Windows-1252 unless the language needs another Latin page.
    if encoding in _LATIN_SINGLE_BYTE and best.language not in _NON_WESTERN_LATIN_LANGUAGES:
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return str(best), encoding


def _decode(data: bytes, name: str, corpus: Corpus) -> str | None:
    """Decode bytes (byte-order mark, UTF-8, else detection, with a warning); ``None`` for binary data.

    Binary is told by content: NUL bytes that are not UTF-16, or decoded text with more than 5% control
    characters and undecodable bytes.
    """
    text, encoding = _decode_bytes(data)
    if text is None or _binary_share(text) > _BINARY_SHARE:
        corpus.skipped.append((name, "binary"))
        return None
    if encoding not in ("utf-8", "utf-8-sig"):
        _warn(corpus, f"{name}: not UTF-8; decoded as {encoding}")
    return text


def replace_lone_surrogates(text: str) -> tuple[str, int]:
    """Replace unpaired UTF-16 surrogates (which JSON's ``\\ud83d`` escapes can produce) with U+FFFD.

    One code point for one, so offsets into the text stay valid; returns the text and how many were replaced.
    """
    if not _SURROGATE.search(text):
        return text, 0
    return _SURROGATE.subn("\ufffd", text)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FramingError(f"cannot read {path}: {exc.strerror or exc}") from None


def _csv_records(lines: Iterable[str], path: Path, corpus: Corpus, size: int) -> Iterator[dict[str, str]]:
    """Records of a CSV text given as lines with their line ends (``newline=""``), read strictly and as they come:
    a broken quote or a wrong number of fields is an error naming the line where its record starts; a quoted field
    that swallows lines looking like records of their own is warned about. The field-size limit follows the data
    (``size``: the text's length or more), so one long article is not an error."""
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(max(previous_limit, size + 1))
    reader = csv.reader(lines, strict=True)
    record_line = 1
    swallowing, more_lines = 0, []  # records whose quoted field may have swallowed records; lines of some
    try:
        header = next(reader, None)
        if header is None:
            return
        record_line = reader.line_num + 1
        for fields in reader:
            if fields:
                if len(fields) != len(header):
                    raise FramingError(f"{path}: line {record_line}: {len(fields)} field(s) where the header has "
                                       f"{len(header)}; check the quotes and commas of that record")
                spanned = _swallowed_lines(fields, header)
                if spanned:
                    swallowing += 1
                    if swallowing <= _SWALLOWED_WARNINGS:
                        _warn(corpus, f"{path.name}: line {record_line}: a quoted field spans {spanned} lines that "
                                      "look like records of their own; check its quotes")
                    elif len(more_lines) < 3:
                        more_lines.append(record_line)
                yield dict(zip(header, fields))
            record_line = reader.line_num + 1
        if swallowing > _SWALLOWED_WARNINGS:
            more = swallowing - _SWALLOWED_WARNINGS
            _warn(corpus, f"{path.name}: {more:,} more quoted field(s) span lines that look like records of their "
                          f"own (lines {', '.join(map(str, more_lines))}{' ...' if more > 3 else ''}); if the texts "
                          "hold such lines, ignore this")
    except csv.Error as exc:
        where = f"line {record_line}" + (f" (read to line {reader.line_num})" if reader.line_num > record_line else "")
        raise FramingError(f"{path}: {where}: not valid CSV ({exc}); a quote opened in the record of line "
                           f"{record_line} may not be closed") from None
    finally:
        csv.field_size_limit(previous_limit)


# Warnings for quoted fields that may have swallowed records, per file; past these, one line counts the rest (a
# text column of paragraphs with as many commas as the header has can look like that in every record).
_SWALLOWED_WARNINGS = 3


def _swallowed_lines(fields: list[str], header: list[str]) -> int:
    """How many lines a quoted field spans when most of them, two at least, parse as records of their own (what a
    quote left open in one record makes of the records after it); 0 otherwise."""
    for field_text in fields:
        inner = [row for row in field_text.split("\n")[1:] if row.strip()]
        if len(header) < 2 or len(inner) < 2:
            continue
        record_like = sum(1 for row in inner if len(next(csv.reader([row]), [])) == len(header))
        if record_like >= 2 and record_like * 3 >= len(inner) * 2:
            return len(inner) + 1
    return 0


def _read_sidecar(path: Path, key: str, corpus: Corpus) -> dict[str, dict[str, str]]:
    text = _decode(_read_bytes(path), path.name, corpus) or ""
    rows = list(_csv_records(io.StringIO(text, newline=""), path, corpus, len(text)))
    if rows and key not in rows[0]:
        raise FramingError(
            f"metadata file {path} has no column {key!r} (set corpus.metadata_key; columns: {', '.join(rows[0])})"
        )
    sidecar: dict[str, dict[str, str]] = {}
    conflicting: list[str] = []
    for row in rows:
        name = str(row[key]).strip()
        values = {k: (v or "").strip() for k, v in row.items() if k and k != key}
        if name in sidecar and sidecar[name] != values:
            conflicting.append(name)  # the last row wins, as before, but never silently
        sidecar[name] = values
    if conflicting:
        shown = ", ".join(sorted(set(conflicting))[:5]) + (" ..." if len(set(conflicting)) > 5 else "")
        _warn(corpus, f"{path.name} has rows that disagree for {len(set(conflicting))} file(s): {shown}; the last "
                      "row of each is used")
    return sidecar


_HTML_SUFFIXES = (".html", ".htm")
# Placed between an extracted page's main text and its reader comments, so the section stage sees the thread.
COMMENTS_MARKER = "Comments"


def extract_html(page: str) -> tuple[str, dict[str, str]] | None:
    """Main text (then reader comments) and metadata of an HTML page, by trafilatura; ``None`` if nothing.

    The returned text is what units point into; the raw page is never kept or rendered.
    """
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - trafilatura is a core dependency
        raise FramingError("reading .html needs trafilatura: pip install trafilatura") from None
    extracted = trafilatura.bare_extraction(page, include_comments=True, with_metadata=True, include_tables=True)
    if extracted is None or not (extracted.text or "").strip():
        return None
    text = extracted.text.strip()
    if (extracted.comments or "").strip():
        text = f"{text}\n\n{COMMENTS_MARKER}\n\n{extracted.comments.strip()}"
    meta = {key: str(getattr(extracted, key) or "") for key in ("title", "date", "author", "url", "sitename")}
    return text, {k: v for k, v in meta.items() if v}


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _no_text_reason(text: Any, field_name: str) -> str:
    if text is None:
        return f"no {field_name!r} field"
    if not isinstance(text, str):
        return f"{field_name!r} is {type(text).__name__}, not text"
    return "" if text.strip() else "empty"


def _document(doc_id: str, text: str, meta: dict[str, Any], config: CorpusConfig, corpus: Corpus) -> Document:
    replaced = 0

    def clean(value: Any) -> str:
        nonlocal replaced
        cleaned, n = replace_lone_surrogates("" if value is None else str(value))
        replaced += n
        return cleaned

    meta = {clean(k): clean(v) for k, v in meta.items()}
    doc_id, text = clean(doc_id), clean(text)
    if replaced:
        _warn(corpus, f"{_short(doc_id)}: {replaced} unpaired surrogate code point(s) replaced with U+FFFD")
    return Document(
        id=doc_id,
        text=text,
        source=meta.pop(config.source_field, "") or UNKNOWN_SOURCE,
        title=meta.pop(config.title_field, ""),
        date=meta.pop(config.date_field, ""),
        url=meta.pop(config.url_field, ""),
        meta=meta,
    )


def _folder_files(root: Path, config: CorpusConfig, outside: list[str] | None = None) -> list[Path]:
    """The files under ``root`` that a pattern of ``corpus.glob`` matches (as ``Path.rglob`` would: the pattern
    against the end of the relative path) and ``corpus.exclude`` does not, sorted. Walked with a stack, not
    recursion (1,500 nested folders raised RecursionError); a folder reached twice through links is read once.
    Symbolic links whose target lies outside ``root`` are left out unless ``corpus.follow_links``; their relative
    paths go to ``outside``."""
    real_root = root.resolve()
    found: set[Path] = set()
    seen_folders = {real_root}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    target = path.resolve()
                    if not config.follow_links and not target.is_relative_to(real_root):
                        if outside is not None:
                            outside.append(path.relative_to(root).as_posix())
                        continue
                if entry.is_dir():
                    real = path.resolve()
                    if real not in seen_folders:
                        seen_folders.add(real)
                        stack.append(path)
                elif entry.is_file() and not any(fnmatch.fnmatch(entry.name, skip) for skip in config.exclude):
                    relative = PurePosixPath(path.relative_to(root).as_posix())
                    if any(relative.match(pattern) for pattern in config.glob):
                        found.add(path)
            except (OSError, RuntimeError):  # a link loop, or a file gone while listed
                continue
    return sorted(found)


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
        files = _folder_files(root, config) if root.is_dir() else [root]
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


def _read_page(item: tuple[str, str]) -> Iterator[tuple[str | None, dict[str, str], Corpus]]:
    """One file of a folder corpus, as one result: its text (``None`` when skipped), what an HTML page says of
    itself, and notes.

    A module-level function of plain arguments, so an engine can run it on workers (the Ray engine does).
    """
    yield _page(Path(item[0]), item[1])


def _page(path: Path, rel: str) -> tuple[str | None, dict[str, str], Corpus]:
    notes = _FileNotes()
    data = _read_bytes(path)
    notes.input_hashes[rel] = hashlib.sha256(data).hexdigest()
    text = _decode(data, rel, notes)
    if text is None:
        return None, {}, notes
    page_meta: dict[str, str] = {}
    if path.suffix.lower() in _HTML_SUFFIXES and text.strip():
        extracted = extract_html(text)
        if extracted is None:
            notes.skipped.append((rel, "no main text in the page"))
            return None, {}, notes
        text, page_meta = extracted
    if not text.strip():
        notes.skipped.append((rel, "empty"))
        return None, {}, notes
    return text, page_meta, notes


def _load_folder(root: Path, config: CorpusConfig, corpus: Corpus, map_files: MapFiles) -> None:
    outside: list[str] = []
    files = _folder_files(root, config, outside)
    if outside:
        _warn(corpus, f"skipped {len(outside)} symbolic link(s) pointing outside the corpus folder: "
                      f"{', '.join(sorted(outside)[:5])}{' ...' if len(outside) > 5 else ''} (corpus.follow_links "
                      "reads them)")
    names = [path.relative_to(root).as_posix() for path in files]
    sidecar_path = Path(config.metadata) if config.metadata else next(
        (root / name for name in _SIDECAR_NAMES if (root / name).is_file()), None
    )
    if config.metadata and not sidecar_path.is_file():
        raise FramingError(f"metadata file not found: {config.metadata} (corpus.metadata)")
    sidecar = _read_sidecar(sidecar_path, config.metadata_key, corpus) if sidecar_path else {}
    matched: set[str] = set()
    without_metadata = []
    for rel, page in zip(names, map_files(_read_page, [(str(path), rel) for path, rel in zip(files, names)])):
        text, page_meta, notes = page
        _merge_notes(corpus, notes)
        if text is None:
            continue
        key = rel if rel in sidecar else Path(rel).name
        meta = sidecar.get(key)
        if meta is None:
            without_metadata.append(rel)
            meta = {}
        else:
            matched.add(key)
        # The sidecar wins over what the page says of itself; the site's name stands in for a missing source.
        meta = {**_page_fields(page_meta, config), **{k: v for k, v in meta.items() if v}}
        meta.setdefault(config.title_field, "")
        corpus.documents.append(_document(rel, text, meta, config, corpus))
    if sidecar and without_metadata:
        _warn(corpus, f"{len(without_metadata)} file(s) have no row in {sidecar_path.name}: "
                      f"{', '.join(without_metadata[:5])}{' ...' if len(without_metadata) > 5 else ''}")
    unmatched = sorted(set(sidecar) - matched)
    if unmatched:
        _warn(corpus, f"{len(unmatched)} row(s) of {sidecar_path.name} match no file: "
                      f"{', '.join(unmatched[:5])}{' ...' if len(unmatched) > 5 else ''}")


def _page_fields(page_meta: dict[str, str], config: CorpusConfig) -> dict[str, str]:
    fields = {config.title_field: page_meta.get("title", ""), config.date_field: page_meta.get("date", ""),
              config.url_field: page_meta.get("url", ""), config.source_field: page_meta.get("sitename", ""),
              "author": page_meta.get("author", "")}
    return {k: v for k, v in fields.items() if v}


# A record file is parsed as it is read and handed on in parts of about this much text (characters), so that one
# file of ten million records never passes through memory whole; a part is also where a worker's results travel.
RECORD_PART_CHARS = 16 << 20
_SCAN_BYTES = 1 << 20  # how much of a file is read at once while it is hashed and its encoding is checked
_PARQUET_BATCH_ROWS = 1_000


def _file_sha256(path: Path) -> str:
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as exc:
        raise FramingError(f"cannot read {path}: {exc.strerror or exc}") from None


def _stream_encoding(path: Path, name: str, notes: Corpus) -> str | None:
    """Hash a record file (into ``notes``) and say how its text can be read as a stream: the codec of its
    byte-order mark, or ``utf-8`` when every byte is UTF-8. ``None`` when it must be decoded whole, as a page is
    (its encoding detected, or UTF-16 without a mark). Raises for binary data."""
    digest, utf8 = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")()

    def utf8_text(data: bytes, final: bool = False) -> str | None:
        try:
            return utf8.decode(data, final)
        except UnicodeDecodeError:
            return None

    try:
        with open(path, "rb") as file:
            block = file.read(_SCAN_BYTES)
            digest.update(block)
            encoding = next((codec for bom, codec in _BOMS if block.startswith(bom)), None)
            if encoding is None and b"\x00" not in block[:8192]:
                encoding = "utf-8"
            if encoding is not None:
                head = utf8_text(block) if encoding == "utf-8" else block.decode(encoding, "replace")
                if head is None:
                    encoding = None  # not UTF-8: decoded whole, by detection
                elif _binary_share(head) > _BINARY_SHARE:
                    raise FramingError(f"{path} is a binary file, not {path.suffix[1:]}")
                del head
            while block := file.read(_SCAN_BYTES):
                digest.update(block)  # the whole file is hashed whatever its encoding
                if encoding == "utf-8" and utf8_text(block) is None:  # checked only: read again a part at a time
                    encoding = None
            if encoding == "utf-8" and utf8_text(b"", final=True) is None:
                encoding = None
    except OSError as exc:
        raise FramingError(f"cannot read {path}: {exc.strerror or exc}") from None
    notes.input_hashes[name] = digest.hexdigest()
    return encoding


def _text_lines(path: Path, name: str, notes: Corpus) -> Iterator[str]:
    """The lines of a record file's text with their line ends (``\\n``, ``\\r\\n`` or ``\\r``), read as they are
    needed when the encoding allows (UTF-8, or a byte-order mark); otherwise decoded whole, as a page is."""
    encoding = _stream_encoding(path, name, notes)
    if encoding is None:
        text = _decode(_read_bytes(path), name, notes)
        if text is None:
            raise FramingError(f"{path} is a binary file, not {path.suffix[1:]}")
        yield from io.StringIO(text, newline="")
        return
    if encoding not in ("utf-8", "utf-8-sig"):
        _warn(notes, f"{name}: not UTF-8; decoded as {encoding}")
    try:
        with open(path, encoding=encoding, errors="strict" if encoding == "utf-8" else "replace",
                  newline="") as file:
            yield from file
    except OSError as exc:
        raise FramingError(f"cannot read {path}: {exc.strerror or exc}") from None


def _jsonl_records(lines: Iterable[str], path: Path) -> Iterator[dict[str, Any]]:
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FramingError(f"{path}:{line_no}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise FramingError(f"{path}:{line_no}: nested too deeply to be a record") from None
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            raise FramingError(f"{path}:{line_no}: not a usable JSON record ({str(exc).splitlines()[0][:80]})") \
                from None
        if not isinstance(record, dict):
            raise FramingError(f"{path}:{line_no}: each line must be a JSON object")
        yield record


def _parquet_records(path: Path, name: str, notes: Corpus) -> Iterator[dict[str, Any]]:
    """A Parquet file's rows, a batch at a time; a null or NaN value is ``None``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    notes.input_hashes[name] = _file_sha256(path)
    pool = pa.default_memory_pool()
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=_PARQUET_BATCH_ROWS):
            rows = batch.to_pylist()
            pool.release_unused()  # Arrow's allocator would keep each decoded batch's pages (~4x the batch here)
            yield from ({k: (None if v is None or v != v else v) for k, v in row.items()} for row in rows)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise FramingError(f"cannot read {path} as parquet: {str(exc).splitlines()[0]}") from None


def _records(path: Path, name: str, notes: Corpus) -> Iterator[dict[str, Any]]:
    """The records of a ``.jsonl``, ``.csv`` or ``.parquet`` file, parsed as the file is read."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_records(path, name, notes)
    lines = _text_lines(path, name, notes)
    if suffix == ".csv":
        try:
            size = path.stat().st_size  # a text never has more characters than its file has bytes
        except OSError:
            size = 0
        return _csv_records(lines, path, notes, size)
    return _jsonl_records(lines, path)


_MAX_ID_CHARS = 1000


def _record_id(value: Any, path: Path, row_no: int, field: str) -> str:
    """A record's id as text: a string, a whole number, or a number; anything else (a list, an object, true) is an
    error naming the record: ``[1, 2]`` used to become the id ``'[1, 2]'``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FramingError(f"{path}: record {row_no}: the id ({field!r}, corpus.id_field) is "
                           f"{type(value).__name__ if not isinstance(value, bool) else 'true/false'}, not text or a "
                           "number")
    try:
        text = str(value)
    except ValueError:  # an int past Python's 4,300-digit limit for str()
        text = ""
    if not text or len(text) > _MAX_ID_CHARS:
        raise FramingError(f"{path}: record {row_no}: the id ({field!r}, corpus.id_field) is empty or longer than "
                           f"{_MAX_ID_CHARS} characters")
    return text


def _take_part(notes: Corpus, documents: list[Document]) -> Corpus:
    """What a record file gave since the last part: these documents, and the notes gathered meanwhile."""
    part = _FileNotes()
    part.documents = documents
    part.skipped, notes.skipped = notes.skipped, []
    part.warnings, notes.warnings = notes.warnings, []
    part.input_hashes, notes.input_hashes = notes.input_hashes, {}
    return part


def _read_records(item: tuple[str, str, CorpusConfig, int]) -> Iterator[Corpus]:
    """The documents of one record file (a ``.jsonl``, ``.csv`` or ``.parquet`` file, or one shard of many), and
    its notes, in parts of about ``item[3]`` characters of text, each given as soon as it is read (the last part
    may be empty; it carries the file's last notes). Without ``corpus.id_field`` a document is ``<name>:<row>``.
    Runs on workers too."""
    path, name, config, part_chars = Path(item[0]), item[1], item[2], item[3]
    notes = _FileNotes()
    documents: list[Document] = []
    chars, first_fields, has_text_field = 0, None, False
    seen: set[str] = set()
    for row_no, record in enumerate(_records(path, name, notes), 1):
        if first_fields is None:
            first_fields = list(record)[:20]
        has_text_field = has_text_field or config.text_field in record
        text = record.pop(config.text_field, None)
        doc_id = _record_id(record.pop(config.id_field), path, row_no, config.id_field) \
            if config.id_field and record.get(config.id_field) is not None else f"{name}:{row_no}"
        if doc_id in seen:
            raise FramingError(f"{path}: duplicate document id {_short(doc_id)!r} in {config.id_field!r}")
        seen.add(doc_id)
        reason = _no_text_reason(text, config.text_field)
        if reason:
            notes.skipped.append((doc_id, reason))
            continue
        documents.append(_document(doc_id, text, record, config, notes))
        chars += len(text)
        if chars >= part_chars:
            yield _take_part(notes, documents)
            documents, chars = [], 0
    if first_fields is not None and not has_text_field:
        fields = ", ".join(_short(str(k)) for k in first_fields)
        raise FramingError(f"{path} has no field {config.text_field!r} (set corpus.text_field; fields: {fields})")
    yield _take_part(notes, documents)


def _load_records(files: list[Path], names: list[str], config: CorpusConfig, corpus: Corpus,
                  map_files: MapFiles) -> None:
    for part in map_files(_read_records, [(str(path), name, config, RECORD_PART_CHARS)
                                          for path, name in zip(files, names)]):
        _merge_notes(corpus, part)
        corpus.documents.extend(part.documents)


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
        _load_records(shards, [p.relative_to(root).as_posix() for p in shards], config, corpus, map_files)
    else:
        root = corpus_root(path, config)
        if not root.exists():
            raise FramingError(f"corpus not found: {root}")
        corpus = Corpus(documents=StoredDocuments(scratch), origin=str(root))
        if root.is_dir():
            _load_folder(root, config, corpus, map_files)
        elif root.suffix.lower() in _RECORD_SUFFIXES:
            _load_records([root], [root.name], config, corpus, map_files)
        else:
            raise FramingError(f"cannot read {root}: expected a folder, a .jsonl, .csv or .parquet file, "
                               "or a pattern of such shards")
    if corpus.skipped:
        _warn(corpus, f"skipped {len(corpus.skipped)} input(s): "
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
