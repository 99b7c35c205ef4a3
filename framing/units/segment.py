"""Stage 2: split documents into units (sentences, paragraphs or sentence windows) with exact offsets.

Every unit keeps the character offsets of its text in the document as read from its file, so that
``doc.text[unit.start:unit.end] == unit.text`` holds without exception: we never normalise the text we cut,
we only choose where to cut it.

Splitting happens in two steps. First the text is cut into *blocks* — lines and paragraphs — because scraped
pages are full of headings, bylines and list lines that carry no final full stop and must not be glued onto the
next sentence. Then each block goes through a sentence segmenter: sentencex, chosen with ``bench/segmenters.py``
on the aleppo pages — it handles abbreviations such as "U.S.", "Dec. 7" and "Maj. Gen." as well as pysbd, splits
lower-case comment sentences that a regex misses, and runs about 400 times faster than pysbd.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from ..corpus.documents import Document, document_values
from .sections import BYLINE, classify_blocks

__all__ = ["Unit", "UnitColumn", "UnitTable", "segment", "text_blocks", "sentence_spans", "unit_id"]

_LIST_LINE = re.compile(r"^\s*(?:[-*•·▪–]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")
_TERMINAL = re.compile(r"[.!?:;…\"'”’)\]]\s*$")
_WORD = re.compile(r"\w+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Unit:
    """One span of one document: the thing that is embedded, clustered and shown.

    ``start``/``end`` are offsets into ``Document.text``; ``index`` is the unit's position in its document;
    ``section`` is ``body``, ``comments`` or ``boilerplate`` (see ``framing.units.sections``).
    """

    id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    section: str = "body"

    @property
    def n_words(self) -> int:
        return len(_WORD.findall(self.text))


def unit_id(doc_id: str, index: int) -> str:
    """A unit's id: its document's id and its position there (``doc-7.txt#12``)."""
    return f"{doc_id}#{index}"


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_hard_wrapped(lines: Sequence[str]) -> bool:
    """True when a paragraph's lines look like prose wrapped at a fixed width (e-mail or plain-text style)."""
    if len(lines) < 3:
        return False
    body = [len(line.rstrip()) for line in lines[:-1]]
    if min(body) < 40 or any(_LIST_LINE.match(line) for line in lines):
        return False
    return max(body) - min(body) <= 25 and sum(1 for line in lines[:-1] if not _TERMINAL.search(line)) >= len(body) / 2


def text_blocks(text: str) -> list[tuple[int, int]]:
    """Cut ``text`` into blocks: paragraphs of hard-wrapped prose, otherwise single lines.

    Returns ``(start, end)`` spans with surrounding whitespace removed, in order, never overlapping.
    """
    blocks: list[tuple[int, int]] = []
    # Paragraphs are separated by blank lines; positions are tracked so offsets stay exact.
    for paragraph in re.finditer(r"(?:[^\n]|\n(?![ \t\r\f\v]*\n))+", text):
        p_start = paragraph.start()
        lines = paragraph.group().split("\n")
        if _is_hard_wrapped([line for line in lines if line.strip()]):
            span = _strip_span(text, p_start, paragraph.end())
            if span[0] < span[1]:
                blocks.append(span)
            continue
        offset = p_start
        for line in lines:
            span = _strip_span(text, offset, offset + len(line))
            if span[0] < span[1]:
                blocks.append(span)
            offset += len(line) + 1
    return blocks


def _sentencex_split(block: str) -> list[str]:
    import sentencex

    return list(sentencex.segment("en", block))


def _block_sentences(text: str, b_start: int, b_end: int, split: Callable[[str], list[str]]
                     ) -> list[tuple[int, int]]:
    # Segmenters may fail on unpaired surrogates; U+FFFD stands in for each, one code point for one.
    block = _SURROGATE.sub("\ufffd", text[b_start:b_end])
    spans: list[tuple[int, int]] = []
    # A list marker ("1.", "a)", "-") belongs to its line's first sentence; segmenters take "1." for one.
    marker = _LIST_LINE.match(block)
    cursor = marker.end() if marker else 0
    pending_start = 0 if marker else None  # where the next span starts, if not where its piece is found
    for piece in split(block[cursor:]):
        piece = piece.strip()
        if not piece:
            continue
        found = block.find(piece, cursor)
        if found < 0:
            # The segmenter rewrote the text; keep the rest of the block as one span rather than guess.
            break
        if pending_start is None and block[cursor:found].strip():
            # Text the segmenter skipped becomes its own span so nothing is silently lost.
            spans.append(_strip_span(text, b_start + cursor, b_start + found))
        start = found if pending_start is None else pending_start
        pending_start = None
        cursor = found + len(piece)
        spans.append((b_start + start, b_start + cursor))
    if block[cursor:].strip():
        tail_start = cursor if pending_start is None else pending_start
        spans.append(_strip_span(text, b_start + tail_start, b_end))
    return spans


def sentence_spans(text: str, split: Callable[[str], list[str]] | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` as ``(start, end)`` offsets, whitespace-trimmed, in order.

    ``split`` turns a block into sentence strings (default: sentencex). Its pieces are located in the block
    rather than trusted for offsets, so a segmenter that drops or alters characters can never shift a span.
    """
    split = split or _sentencex_split
    return [span for b_start, b_end in text_blocks(text) for span in _block_sentences(text, b_start, b_end, split)]


def _windows(spans: list[tuple[int, int]], size: int, stride: int) -> list[tuple[int, int]]:
    if not spans:
        return []
    last_start = max(len(spans) - size, 0)
    starts = list(range(0, last_start + 1, stride))
    if starts[-1] != last_start:
        starts.append(last_start)  # the tail of the document is always covered
    return [(spans[i][0], spans[min(i + size, len(spans)) - 1][1]) for i in starts]


def _labelled_blocks(text: str, detect_sections: bool) -> list[tuple[int, int, str]]:
    blocks = text_blocks(text)
    if not detect_sections:
        return [(start, end, "body") for start, end in blocks]
    labels = classify_blocks([text[start:end] for start, end in blocks])
    return [(start, end, label) for (start, end), label in zip(blocks, labels)]


def segment(
    documents: Iterable[Document],
    kind: str = "sentences",
    min_words: int = 4,
    window: int = 3,
    stride: int | None = None,
    detect_sections: bool = True,
    progress: bool | None = False,
) -> list[Unit]:
    """Split documents into units, each labelled with its section.

    Args:
        documents: the corpus.
        kind: ``"sentences"``, ``"paragraphs"`` (blocks: lines or blank-line paragraphs) or ``"windows"``
            (``window`` consecutive sentences of one section, advancing by ``stride``, default ``window``).
        min_words: units with fewer words are dropped (headings of one or two words, dates, "Reply").
        detect_sections: label blocks body / comments / boilerplate and drop bylines (``framing.units.sections``);
            when off, every unit is ``body``.
        progress: a progress bar over documents (``None``: only on a terminal).

    Units of every section are returned; choosing which sections to analyse is the caller's business.
    """
    if kind not in ("sentences", "paragraphs", "windows"):
        raise ValueError(f"unknown unit kind {kind!r}; allowed: sentences, paragraphs, windows")
    from ..progress import progress_bar

    units: list[Unit] = []
    for doc in progress_bar(progress, iterable=documents, desc="segmenting", unit="doc", leave=False):
        spans: list[tuple[int, int, str]] = []
        run: list[tuple[int, int]] = []  # sentences of the current run of one section (for windows)
        run_section = None
        for b_start, b_end, section in _labelled_blocks(doc.text, detect_sections):
            if section == BYLINE:
                continue
            if kind == "paragraphs":
                spans.append((b_start, b_end, section))
                continue
            sentences = _block_sentences(doc.text, b_start, b_end, _sentencex_split)
            if kind == "sentences":
                spans.extend((start, end, section) for start, end in sentences)
                continue
            if section != run_section and run:
                spans.extend((start, end, run_section) for start, end in _windows(run, window, stride or window))
                run = []
            run_section = section
            run.extend(sentences)
        if run:
            spans.extend((start, end, run_section) for start, end in _windows(run, window, stride or window))
        index = 0
        for start, end, section in spans:
            text = doc.text[start:end]
            if len(_WORD.findall(text)) < min_words:
                continue
            units.append(Unit(unit_id(doc.id, index), doc.id, index, start, end, text, section))
            index += 1
    return units


class UnitTable:
    """Many units as columns: each unit's document (a position in ``documents``), index, offsets and section.

    A ``Unit`` object per unit took about 750 bytes at a million units (its id, its text, the object); a row here
    costs 34, and a unit's text and id are made when asked for (``texts``, ``ids``) from the documents, which
    are held once.
    Iterating or indexing gives ``Unit`` objects, for code that wants them one at a time.
    """

    __slots__ = ("documents", "doc", "index", "start", "end", "section", "section_names")

    def __init__(self, documents: Sequence[Document], doc: np.ndarray, index: np.ndarray, start: np.ndarray,
                 end: np.ndarray, section: np.ndarray, section_names: Sequence[str]):
        self.documents = documents
        self.doc = np.asarray(doc, dtype=np.int64)
        self.index = np.asarray(index, dtype=np.int64)
        self.start = np.asarray(start, dtype=np.int64)
        self.end = np.asarray(end, dtype=np.int64)
        self.section = np.asarray(section, dtype=np.int16)
        self.section_names = tuple(section_names)

    @classmethod
    def from_units(cls, units: Sequence[Unit], documents: Sequence[Document]) -> "UnitTable":
        """The table of ``units`` (whose documents are among ``documents``)."""
        position = {document.id: k for k, document in enumerate(documents)}
        names = sorted({u.section for u in units})
        code = {name: k for k, name in enumerate(names)}
        return cls(documents, np.array([position[u.doc_id] for u in units], dtype=np.int64),
                   np.array([u.index for u in units], dtype=np.int64), np.array([u.start for u in units], dtype=np.int64),
                   np.array([u.end for u in units], dtype=np.int64), np.array([code[u.section] for u in units]), names)

    @classmethod
    def from_offsets(cls, documents: Sequence[Document], rows: dict) -> "UnitTable":
        """The table from per-unit ``position`` (in ``documents``), ``index``, ``start``, ``end`` and ``section``
        (names) columns, as ``framing.engines.segment_offsets`` sends them."""
        names, codes = np.unique(np.asarray(rows["section"], dtype=str), return_inverse=True)
        return cls(documents, rows["position"], rows["index"], rows["start"], rows["end"], codes.ravel(),
                   [str(n) for n in names])

    def __len__(self) -> int:
        return int(self.doc.size)

    def take(self, rows: np.ndarray) -> "UnitTable":
        """The units at ``rows`` (positions, or a boolean mask), in that order."""
        return UnitTable(self.documents, self.doc[rows], self.index[rows], self.start[rows], self.end[rows],
                         self.section[rows], self.section_names)

    def texts(self) -> list[str]:
        """Each unit's text, cut from its document (each document read once: a corpus's texts may be on disk)."""
        text_of = {d: self.documents[d].text for d in np.unique(self.doc).tolist()}
        return [text_of[d][s:e] for d, s, e in zip(self.doc.tolist(), self.start.tolist(), self.end.tolist())]

    def ids(self) -> list[str]:
        """Each unit's id (``unit_id``)."""
        needed = np.unique(self.doc).tolist()
        id_of = dict(zip(needed, document_values(self.documents, "id", needed)))
        return [unit_id(id_of[d], i) for d, i in zip(self.doc.tolist(), self.index.tolist())]

    def text_column(self) -> "UnitColumn":
        """Each unit's text as a sequence that cuts it from its document when read (``texts`` makes a list)."""
        return UnitColumn(self, "text")

    def id_column(self) -> "UnitColumn":
        """Each unit's id as a sequence that makes it when read (``ids`` makes a list)."""
        return UnitColumn(self, "id")

    def doc_ids(self) -> list[str]:
        """Each unit's document id (the same string object for every unit of a document)."""
        ids = document_values(self.documents, "id")
        return [ids[d] for d in self.doc.tolist()]

    def sections(self) -> list[str]:
        """Each unit's section name."""
        names = self.section_names
        return [names[c] for c in self.section.tolist()]

    def __getitem__(self, row: int) -> Unit:
        d, index = int(self.doc[row]), int(self.index[row])
        document = self.documents[d]
        start, end = int(self.start[row]), int(self.end[row])
        return Unit(unit_id(document.id, index), document.id, index, start, end, document.text[start:end],
                    self.section_names[int(self.section[row])])

    def __iter__(self) -> Iterator[Unit]:
        return (self[row] for row in range(len(self)))


class UnitColumn(Sequence[str]):
    """The texts (or ids) of a ``UnitTable`` as a read-only sequence that makes each one when it is read.

    Stages that read every unit's text once (embedding keys, word counts) iterate it, a chunk of
    ``UnitColumn.CHUNK`` at a time; stages that read a few (exemplars, passages) index it. A list of a million
    texts and ids held through a run cost about 200 bytes a unit.
    """

    CHUNK = 50_000
    __slots__ = ("_table", "_kind")

    def __init__(self, table: UnitTable, kind: str) -> None:
        if kind not in ("text", "id"):
            raise ValueError(f"a unit column is text or id, not {kind!r}")
        self._table, self._kind = table, kind

    def __len__(self) -> int:
        return len(self._table)

    def _cut(self, table: UnitTable) -> list[str]:
        return table.texts() if self._kind == "text" else table.ids()

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return self._cut(self._table.take(row))
        table = self._table
        row = range(len(table))[row]  # an int (or numpy integer); negative counts from the end; IndexError past it
        document = table.documents[int(table.doc[row])]
        if self._kind == "text":
            return document.text[int(table.start[row]):int(table.end[row])]
        return unit_id(document.id, int(table.index[row]))

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self._table), self.CHUNK):
            yield from self._cut(self._table.take(slice(start, start + self.CHUNK)))
