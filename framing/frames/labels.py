"""Labels given to units by hand, read from a CSV: training labels for frames, gold labels for evaluation.

A label file has one label per unit (``unit_id``), per document (``doc_id``: every unit of the document takes
it) or per passage (``text``: every unit with that exact text, whitespace folded), in a ``frame`` (or ``label``)
column. Rows that match no unit are counted and named, never dropped silently.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from ..errors import FramingError

__all__ = ["LabelFile", "LabelMatch", "read_labels", "match_labels", "labels_per_group", "LABEL_KEYS"]

LABEL_KEYS = ("unit_id", "doc_id", "text")
_LABEL_COLUMNS = ("frame", "label", "gold")
_SPACE = re.compile(r"\s+")


@dataclass
class LabelFile:
    """Labels read from a CSV file: the key they are given by, and ``(key value, label)`` rows."""

    key: str
    rows: list[tuple[str, str]]
    source: str = ""


@dataclass
class LabelMatch:
    """Labels aligned with units: a label per unit (``None`` where there is none)."""

    labels: list[str | None]
    matched_rows: int
    unmatched: list[str] = field(default_factory=list)
    conflicting_units: int = 0

    @property
    def n_units(self) -> int:
        return sum(label is not None for label in self.labels)


def _fold(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def read_labels(path: str | Path, what: str = "labels") -> LabelFile:
    """Read a label CSV (``unit_id``, ``doc_id`` or ``text``, and ``frame`` or ``label``); one-line errors that
    call the file ``what``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FramingError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FramingError(f"{what} {path} are not UTF-8 text") from None
    try:
        records = list(csv.DictReader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise FramingError(f"{what} {path}: not valid CSV ({exc})") from None
    columns = list(records[0]) if records else []
    key = next((k for k in LABEL_KEYS if k in columns), None)
    label_column = next((c for c in _LABEL_COLUMNS if c in columns), None)
    if key is None or label_column is None:
        raise FramingError(f"{what} {path} need a unit_id, doc_id or text column and a frame or label column "
                           f"(columns: {', '.join(columns) or 'none'})")
    rows = [(str(r[key] or ""), str(r[label_column] or "").strip()) for r in records]
    rows = [(k if key != "text" else _fold(k), label) for k, label in rows if k and label]
    if not rows:
        raise FramingError(f"{what} {path} hold no labelled row")
    return LabelFile(key=key, rows=rows, source=str(path))


def match_labels(units: pd.DataFrame, labels: LabelFile) -> LabelMatch:
    """Give each unit of ``units`` (columns ``unit_id``, ``doc_id``, ``text``) its label; rows that match no unit
    are counted and kept by name, and a unit given two different labels gets none."""
    column = units[labels.key].astype(str)
    if labels.key == "text":
        column = column.map(_fold)
    positions: dict[str, list[int]] = {}
    for position, value in enumerate(column):
        positions.setdefault(value, []).append(position)
    aligned: list[str | None] = [None] * len(units)
    unmatched, matched, conflicts = [], 0, set()
    for value, label in labels.rows:
        found = positions.get(value)
        if not found:
            unmatched.append(value)
            continue
        matched += 1
        for position in found:
            if aligned[position] is not None and aligned[position] != label:
                conflicts.add(position)
            aligned[position] = label
    for position in conflicts:  # one unit given two different labels: it gets none
        aligned[position] = None
    return LabelMatch(labels=aligned, matched_rows=matched, unmatched=unmatched, conflicting_units=len(conflicts))


def labels_per_group(labels: Sequence[str | None], group_of_unit: Sequence[int], n_groups: int
                     ) -> tuple[list[str | None], int]:
    """One label per group of units (copies of one text): the first label of its units; and how many units
    carried a different one (two copies labelled differently)."""
    per_group: list[str | None] = [None] * n_groups
    conflicts = 0
    for label, group in zip(labels, group_of_unit):
        if label is None:
            continue
        if per_group[group] is None:
            per_group[group] = label
        elif per_group[group] != label:
            conflicts += 1
    return per_group, conflicts
