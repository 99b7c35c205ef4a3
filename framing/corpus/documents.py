"""Stage 1's records: ``Document`` (stable id, exact text, metadata), ``StoredDocuments`` (texts in a memory-mapped
scratch file, a Document made when read) and ``Corpus`` (the documents, what was skipped and why, warnings, input
hashes); the notes one file's reading gathers (``FileNotes``) and how they join the run's corpus."""
from __future__ import annotations

import dataclasses
import logging
import mmap
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..config import CorpusConfig
from ..errors import FramingError, disk_error
from .text import SURROGATE, replace_lone_surrogates, short

log = logging.getLogger(__name__)


UNKNOWN_SOURCE = "unknown"


# map_files(read, items) -> every result ``read(item)`` yields, item after item, in the items' order:
# ``read_each`` here; an engine may spread the items over workers (Ray Data)
MapFiles = Callable[[Callable[[Any], Iterable[Any]], list], Iterable[Any]]


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


def close_quietly(file) -> None:
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
        weakref.finalize(self, close_quietly, self._file)  # with the corpus (its map closes itself when freed)

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
            if any(SURROGATE.search(value) for value in (*fields.values(), *map(str, doc.meta), *map(str, doc.meta.values()))):
                replaced = {name: replace_lone_surrogates(value)[0] for name, value in fields.items()}
                meta = {replace_lone_surrogates(str(k))[0]: replace_lone_surrogates(str(v))[0] for k, v in doc.meta.items()}
                doc = dataclasses.replace(doc, **replaced, meta=meta)
                note_warning(corpus, f"{short(doc.id)}: unpaired surrogate code points replaced with U+FFFD")
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


class FileNotes(Corpus):
    """What reading one input file found (skips, warnings, its hash), gathered where the file is read — in this
    process or on a worker — and added to the run's corpus, which logs the warnings, in input order."""

    def __init__(self) -> None:
        super().__init__(documents=[])


def note_warning(corpus: Corpus, message: str) -> None:
    if not isinstance(corpus, FileNotes):
        log.warning(message)
    corpus.warnings.append(message)


def merge_notes(corpus: Corpus, notes: Corpus) -> None:
    corpus.skipped.extend(notes.skipped)
    corpus.input_hashes.update(notes.input_hashes)
    for message in notes.warnings:
        note_warning(corpus, message)


def make_document(doc_id: str, text: str, meta: dict[str, Any], config: CorpusConfig, corpus: Corpus) -> Document:
    replaced = 0

    def clean(value: Any) -> str:
        nonlocal replaced
        cleaned, n = replace_lone_surrogates("" if value is None else str(value))
        replaced += n
        return cleaned

    meta = {clean(k): clean(v) for k, v in meta.items()}
    doc_id, text = clean(doc_id), clean(text)
    if replaced:
        note_warning(corpus, f"{short(doc_id)}: {replaced} unpaired surrogate code point(s) replaced with U+FFFD")
    return Document(
        id=doc_id,
        text=text,
        source=meta.pop(config.source_field, "") or UNKNOWN_SOURCE,
        title=meta.pop(config.title_field, ""),
        date=meta.pop(config.date_field, ""),
        url=meta.pop(config.url_field, ""),
        meta=meta,
    )
