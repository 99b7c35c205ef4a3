"""The run's two tables as the run folder holds them: a row per unit (``units.parquet``: its document, offsets,
text, framing, membership, map position, frame, scores, time bin, group and event, and its document's metadata)
and a row per document (``documents.parquet``), each written to a scratch Parquet file one row group at a time."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..contrast.analysis import Contrast
from ..contrast.over_time import OverTime
from ..contrast.regroup import UNIT_TABLE_COLUMNS
from ..corpus.documents import Document, document_values
from ..events.detect import Events
from ..frames.assign import FRAME_PREFIX, FrameAssignment
from ..framings.model import FramingModel
from ..framings.partition import UNASSIGNED
from ..store.result import ROW_GROUP_ROWS, TableFile
from ..units.duplicates import DuplicateGroups
from ..units.segment import UnitColumn, UnitTable

__all__ = ["unit_table", "document_table", "write_table", "row_groups", "MEMBERSHIPS"]

# A row group of documents.parquet holds at most this much text.
DOCUMENT_GROUP_BYTES = 16 << 20


# Metadata keys that would collide with the unit table's own columns get this prefix.
_RESERVED = UNIT_TABLE_COLUMNS


MEMBERSHIPS = ("core", "attached", "none")


def unit_table(units: UnitTable, groups: DuplicateGroups, model: FramingModel, labels: np.ndarray,
                centre_cosine: np.ndarray, framing_labels: dict[int, str], frames: FrameAssignment | None,
                contrast: Contrast | None, over_time: OverTime | None, events: Events | None = None,
                unit_groups: list[str] | None = None) -> dict[str, Callable[[slice], Any]]:
    """The unit table's columns, each a function of a slice of rows: one row per unit; duplicates take their
    group representative's framing, map position, frame, scores and time bin (``labels`` and the model's arrays
    are per distinct unit). Strings that repeat (a document's id, source, title, date, url and metadata; section;
    framing label; frame, origin, bin and group) are categoricals whose categories are the whole table's."""
    documents = units.documents
    group = groups.group
    unit_ids, texts = units.id_column(), units.text_column()
    per_document = lambda values: _categorical_column(values, units.doc)  # noqa: E731 - a document's value
    per_distinct = lambda values: lambda rows: values[group[rows]]  # noqa: E731 - copies share their group's

    def duplicate_of(rows: slice) -> Any:
        representative = groups.representative[group[rows]]
        copies = np.flatnonzero(representative != np.arange(rows.start, rows.stop))
        ids = np.full(rows.stop - rows.start, "", dtype=object)
        ids[copies] = [unit_ids[r] for r in representative[copies].tolist()]
        return _string_column(ids)

    names = {**{int(f): name for f, name in framing_labels.items()}, UNASSIGNED: "unassigned"}
    membership = np.where(labels == UNASSIGNED, 2, np.where(model.reassigned_, 1, 0))  # MEMBERSHIPS' order
    framing_ids = np.unique(labels)
    columns: dict[str, Callable[[slice], Any]] = {
        "unit_id": lambda rows: _string_column(unit_ids[rows]),
        "doc_id": per_document(document_values(documents, "id")),
        "index": lambda rows: units.index[rows],
        "source": per_document(document_values(documents, "source")),
        "title": per_document(document_values(documents, "title")),
        "date": per_document(document_values(documents, "date")),
        "url": per_document(document_values(documents, "url")),
        "section": _categorical_column(units.section_names, units.section),
        "start": lambda rows: units.start[rows],
        "end": lambda rows: units.end[rows],
        "text": lambda rows: _string_column(texts[rows]),
        "framing": per_distinct(labels.astype(np.int64)),
        "framing_label": _categorical_column([names.get(int(f), "unassigned") for f in framing_ids],
                                             group, np.searchsorted(framing_ids, labels)),
        "probability": per_distinct(model.probabilities_.astype(np.float32)),
        "reassigned": per_distinct(model.reassigned_),
        # core: HDBSCAN put the unit in its framing; attached: an outlier given to it by cluster.reassign_threshold
        "membership": _categorical_column(list(MEMBERSHIPS), group, membership),
        "centre_cosine": per_distinct(centre_cosine),
        "fitted": per_distinct(model.fitted_),
        "dup_group": lambda rows: group[rows].astype(np.int64),
        "duplicate_of": duplicate_of,
        "x": per_distinct(model.map_[:, 0]),
        "y": per_distinct(model.map_[:, 1]),
    }
    metas = document_values(documents, "meta")
    for key in sorted({k for meta in metas for k in meta}):
        columns[f"meta_{key}" if key in _RESERVED else key] = per_document([meta.get(key, "") for meta in metas])
    if events is not None:  # a unit's event is its document's
        columns["event"] = lambda rows: events.doc_event[units.doc[rows]]
    if frames is not None:
        columns["frame"] = _categorical_column(frames.names, group, frames.frame)
        columns["frame_probability"] = per_distinct(frames.probability)
        columns["frame_origin"] = _categorical_column(frames.origin, group)  # already strings
        for k, name in enumerate(frames.codebook_frames):
            columns[f"{FRAME_PREFIX}{name}"] = per_distinct(frames.similarity[:, k])
    if contrast is not None:
        for column, scores in contrast.unit_scores.items():
            columns[column] = per_distinct(scores)
    if over_time is not None:  # the bin and group each unit is counted in: a bin's passages can be listed
        columns["time_bin"] = _categorical_column(over_time.unit_bins, group)
        columns["group"] = _categorical_column(over_time.unit_groups, group)
    elif unit_groups is not None:  # the contrast group of each unit, for the events view, without time
        columns["group"] = _categorical_column(unit_groups, group)
    return columns


def document_table(documents: Sequence[Document], events: Events | None = None
                    ) -> dict[str, Callable[[slice], Any]]:
    """The documents' table (what documents.parquet holds): each document's id, source, title, date, url, text and
    (with events) event, as functions of a slice of rows (texts are read a part at a time: they may be on disk)."""
    positions = lambda rows: range(len(documents))[rows]  # noqa: E731
    columns = {name: (lambda rows, field=field: document_values(documents, field, positions(rows)))
               for name, field in (("doc_id", "id"), ("source", "source"), ("title", "title"), ("date", "date"),
                                   ("url", "url"), ("text", "text"))}
    if events is not None:
        columns["event"] = lambda rows: events.doc_event[rows]
    return columns


def write_table(name: str, columns: dict[str, Callable[[slice], Any]], bounds: Sequence[int], scratch: Path | None
                 ) -> TableFile:
    """A table written to a scratch Parquet file one row group (``bounds[k]:bounds[k + 1]``) at a time: it is
    never whole in memory (at a million units the unit table took ~300 bytes a unit, the run's peak)."""
    table = TableFile.scratch(name, scratch)
    try:
        for start, stop in zip(bounds[:-1], bounds[1:]):
            part = slice(start, stop)
            table.append(pd.DataFrame({column: values(part) for column, values in columns.items()}))
        return table.finish()
    except BaseException:
        table.close()
        raise


def row_groups(n_rows: int, sizes: np.ndarray | None = None) -> list[int]:
    """Where row groups start, and the end: ``ROW_GROUP_ROWS`` rows each, or, with ``sizes`` (each row's bytes),
    also no more than ``DOCUMENT_GROUP_BYTES`` (but at least one row): a thousand scraped pages can be 50 MB."""
    if sizes is None:
        return [*range(0, n_rows, ROW_GROUP_ROWS), n_rows]
    bounds, total, budget = [0], 0, DOCUMENT_GROUP_BYTES
    for row, size in enumerate(np.asarray(sizes).tolist()):
        if row > bounds[-1] and (total + size > budget or row - bounds[-1] >= ROW_GROUP_ROWS):
            bounds.append(row)
            total = 0
        total += size
    return [*bounds, n_rows] if n_rows else [0]


def _string_dtype():
    """The dtype pandas gives a column of strings: Arrow-backed ``str`` in pandas 3, ``object`` before."""
    return pd.Series(["x"]).dtype


def _categorical_column(values: Sequence[str], rows: np.ndarray, codes: np.ndarray | None = None
                        ) -> Callable[[slice], pd.Categorical]:
    """A column of ``values[codes[rows[part]]]`` (``codes`` defaults to every value's own position) as
    categoricals for any part of the rows: each distinct string is held once, every row is a small code (a
    million rows of a document's title, source or url took 20-30 bytes each as strings, 1-4 as codes), and every
    part has the whole column's categories, so the parts of a table agree."""
    categories, positions = np.unique(np.asarray(values, dtype=object), return_inverse=True)
    positions = positions.ravel() if codes is None else positions.ravel()[np.asarray(codes, dtype=np.int64)]
    categories = pd.Index(categories, dtype=_string_dtype())
    return lambda part: pd.Categorical.from_codes(positions[np.asarray(rows[part], dtype=np.int64)],
                                                  categories=categories)


def _string_column(column: Sequence[str]):
    """A column of strings as pandas keeps it, built a chunk at a time: pandas 3 keeps strings in Arrow, so the
    million texts and ids of a large run are never a list of Python strings on the way (200 bytes a unit);
    earlier pandas keeps Python objects."""
    dtype = _string_dtype()
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return list(column)
    import pyarrow as pa

    step = UnitColumn.CHUNK
    chunks = [pa.array(column[start:start + step], type=pa.large_string()) for start in range(0, len(column), step)]
    return pd.arrays.ArrowStringArray(pa.chunked_array(chunks, type=pa.large_string()), dtype=dtype)
