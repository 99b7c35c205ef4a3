"""The contrast of a saved run under another grouping, from its unit table alone: no embedding, no clustering.

A run answers one grouping (``contrast.groups`` / ``contrast.group_by``); trying another — outlets by country, by
leaning, comments against articles — should not mean running the corpus again. Everything the contrast counts
is in ``units.parquet``: each distinct unit's document, source, section, framing, membership, frame, event and
the documents' metadata columns; the tree's levels are in ``hierarchy.json``. The same holds for the shares over
time. What needs the unit vectors (narratives, sub-framing splits, axes, side-by-side
passages within events) is left out here; a run with that grouping computes them.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import FramingError
from ..framings.partition import UNASSIGNED
from .analysis import Contrast, compute_contrast
from .over_time import OverTime, compute_over_time
from .design import ContrastInput, check_group_field
from .within_events import within_events

__all__ = ["regroup", "regroup_over_time", "UNIT_TABLE_COLUMNS"]

# The unit table's own columns (units.parquet): every other column is a document's metadata.
UNIT_TABLE_COLUMNS = frozenset({"unit_id", "doc_id", "index", "source", "title", "date", "url", "section", "start", "end", "text",
                "framing", "framing_label", "probability", "reassigned", "membership", "centre_cosine", "fitted",
                "dup_group", "duplicate_of", "x", "y", "frame", "frame_probability", "frame_origin", "time_bin",
                "group", "event"})


def _distinct(units: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """The distinct units of a saved unit table (each duplicate group's representative, in table order) and each
    document's metadata with its source and date, as the run read them."""
    distinct = units[units["duplicate_of"].astype(str) == ""] if "duplicate_of" in units.columns else units
    distinct = distinct.reset_index(drop=True)
    meta_columns = [c for c in distinct.columns if c not in UNIT_TABLE_COLUMNS and not c.startswith(("frame: ", "axis: "))]
    first = distinct.drop_duplicates("doc_id")
    doc_meta = {str(row["doc_id"]): {**{c: ("" if pd.isna(row[c]) else str(row[c])) for c in meta_columns},
                                     "source": str(row["source"]), "date": str(row.get("date", "") or "")}
                for _, row in first.iterrows()}
    return distinct, doc_meta


def _compared(distinct: pd.DataFrame, framing_labels: Mapping[int, str], members: str,
              frame_names: Sequence[str] | None, labels: np.ndarray | None
              ) -> tuple[np.ndarray, dict[int, str], str]:
    """What is compared, per distinct unit: the framings (or ``labels``, e.g. a level of the tree, named by
    ``framing_labels``), with only core members when ``members`` is ``core``; or the frames."""
    if frame_names is not None:
        return _frame_indices(distinct, frame_names), dict(enumerate(frame_names)), "frames"
    compared = distinct["framing"].to_numpy(dtype=np.int64) if labels is None else np.asarray(labels, dtype=np.int64)
    if members == "core" and "membership" in distinct.columns:
        compared = np.where(distinct["membership"].astype(str) == "core", compared, UNASSIGNED)
    return compared, dict(framing_labels), members


def regroup(units: pd.DataFrame, framing_labels: Mapping[int, str], *, group_by: str | None = None,
            groups: Mapping[str, Sequence[str]] | None = None, pairs: Sequence[Sequence[str]] | None = None,
            members: str = "all", bootstrap: int = 1000, permutations: int = 1000, min_units: int = 5,
            top_words: int = 15, seed: int = 42, events: Sequence[Mapping[str, Any]] | None = None,
            frame_names: Sequence[str] | None = None, labels: np.ndarray | None = None,
            progress: bool | None = False) -> Contrast:
    """The contrast of a saved unit table under ``group_by`` (a metadata column, ``source`` or ``section``) or
    ``groups`` (name → sources): shares with intervals, the permutation test, divergences and contrast words, and
    — when the table has an ``event`` column and ``events`` are given — everything within events except the
    side-by-side passages. ``members``: ``all`` or ``core``, as ``contrast.members``.

    ``frame_names`` (the run's frames, in order): the same contrast over the ``frame`` column instead of the
    framings — what a run's frames contrast is (every unit with a frame; not within events, as in a run).
    ``labels``: a label per distinct unit (in the table's order) to compare instead of the framings, e.g. the
    broader framings of a level of the tree, named by ``framing_labels``. ``progress``: a bar naming the step that
    runs (None: on a terminal)."""
    distinct, doc_meta = _distinct(units)
    check_group_field(group_by, doc_meta)
    compared, names, members = _compared(distinct, framing_labels, members, frame_names, labels)
    if members == "frames":
        events = None
    data = ContrastInput(unit_ids=distinct["unit_id"].astype(str).tolist(), texts=distinct["text"].astype(str).tolist(),
                         doc_ids=distinct["doc_id"].astype(str).tolist(), sources=distinct["source"].astype(str).tolist(),
                         sections=distinct["section"].astype(str).tolist() if "section" in distinct.columns
                         else ["body"] * len(distinct),
                         framings=compared, embeddings=None, framing_labels=names, doc_meta=doc_meta)
    contrast = compute_contrast(data, lambda texts: np.zeros((len(texts), 0)), groups=groups, group_by=group_by,
                                pairs=pairs, bootstrap=bootstrap, permutations=permutations, min_units=min_units,
                                top_words=top_words, seed=seed, progress=progress)
    contrast.members = {"all": "core and attached", "core": "core only", "frames": "every unit with a frame"}[members]
    if events is not None and "event" in distinct.columns:
        contrast.within_events = within_events(
            data, distinct["event"].to_numpy(dtype=np.int64), events, groups=groups, group_by=group_by, pairs=pairs,
            permutations=permutations, bootstrap=bootstrap, min_units=min_units, top_words=top_words, seed=seed,
            progress=progress)
    return contrast


def regroup_over_time(units: pd.DataFrame, framing_labels: Mapping[int, str], *, group_by: str | None = None,
                      groups: Mapping[str, Sequence[str]] | None = None, members: str = "all", bin: str = "auto",
                      bootstrap: int = 200, dayfirst: bool = False, seed: int = 42,
                      frame_names: Sequence[str] | None = None, labels: np.ndarray | None = None) -> OverTime:
    """Shares over time of a saved unit table under another grouping, time bin or labelling (a level of the tree:
    ``labels``; the frames: ``frame_names``), as the run's time stage computes them (``compute_over_time``)."""
    distinct, doc_meta = _distinct(units)
    check_group_field(group_by, doc_meta)
    compared, names, _ = _compared(distinct, framing_labels, members, frame_names, labels)
    return compute_over_time(distinct["doc_id"].astype(str).tolist(), compared, names, doc_meta,
                             sources=distinct["source"].astype(str).tolist(),
                             sections=distinct["section"].astype(str).tolist() if "section" in distinct.columns
                             else ["body"] * len(distinct),
                             groups=groups, group_by=group_by, bin=bin, bootstrap=bootstrap, dayfirst=dayfirst,
                             seed=seed)


def _frame_indices(distinct: pd.DataFrame, frame_names: Sequence[str]) -> np.ndarray:
    """Each distinct unit's frame as an index into ``frame_names`` (UNASSIGNED where the unit has none)."""
    if "frame" not in distinct.columns:
        raise FramingError("this run has no frames to contrast (its unit table has no frame column)")
    index = {name: k for k, name in enumerate(frame_names)}
    return np.array([index.get(str(f), UNASSIGNED) if isinstance(f, str) else UNASSIGNED
                     for f in distinct["frame"].astype(object)], dtype=np.int64)
