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
from typing import Callable, Iterable, Sequence

from .corpus import Document

__all__ = ["Unit", "segment", "text_blocks", "sentence_spans"]

_LIST_LINE = re.compile(r"^\s*(?:[-*•·▪–]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")
_TERMINAL = re.compile(r"[.!?:;…\"'”’)\]]\s*$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Unit:
    """One span of one document: the thing that is embedded, clustered and shown.

    ``start``/``end`` are offsets into ``Document.text``; ``index`` is the unit's position in its document.
    """

    id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str

    @property
    def n_words(self) -> int:
        return len(_WORD.findall(self.text))


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


def sentence_spans(text: str, split: Callable[[str], list[str]] | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` as ``(start, end)`` offsets, whitespace-trimmed, in order.

    ``split`` turns a block into sentence strings (default: sentencex). Its pieces are located in the block
    rather than trusted for offsets, so a segmenter that drops or alters characters can never shift a span.
    """
    split = split or _sentencex_split
    spans: list[tuple[int, int]] = []
    for b_start, b_end in text_blocks(text):
        block = text[b_start:b_end]
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


def _windows(spans: list[tuple[int, int]], size: int, stride: int) -> list[tuple[int, int]]:
    if not spans:
        return []
    last_start = max(len(spans) - size, 0)
    starts = list(range(0, last_start + 1, stride))
    if starts[-1] != last_start:
        starts.append(last_start)  # the tail of the document is always covered
    return [(spans[i][0], spans[min(i + size, len(spans)) - 1][1]) for i in starts]


def segment(
    documents: Iterable[Document],
    kind: str = "sentences",
    min_words: int = 4,
    window: int = 3,
    stride: int | None = None,
) -> list[Unit]:
    """Split documents into units.

    Args:
        documents: the corpus.
        kind: ``"sentences"``, ``"paragraphs"`` (blocks: lines or blank-line paragraphs) or ``"windows"``
            (``window`` consecutive sentences, advancing by ``stride``, default ``window``).
        min_words: units with fewer words are dropped (headings of one or two words, dates, "Reply").
    """
    if kind not in ("sentences", "paragraphs", "windows"):
        raise ValueError(f"unknown unit kind {kind!r}; allowed: sentences, paragraphs, windows")
    units: list[Unit] = []
    for doc in documents:
        if kind == "paragraphs":
            spans = text_blocks(doc.text)
        else:
            spans = sentence_spans(doc.text)
            if kind == "windows":
                spans = _windows(spans, window, stride or window)
        index = 0
        for start, end in spans:
            text = doc.text[start:end]
            if len(_WORD.findall(text)) < min_words:
                continue
            units.append(Unit(f"{doc.id}#{index}", doc.id, index, start, end, text))
            index += 1
    return units
