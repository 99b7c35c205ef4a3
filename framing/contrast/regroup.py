"""The contrast of a saved run under another grouping, from its unit table alone: no embedding, no clustering.

A run answers one grouping (``contrast.groups`` / ``contrast.group_by``); trying another — outlets by country, by
leaning, comments against articles — should not mean running the corpus again. Everything the contrast counts
is in ``units.parquet``: each distinct unit's document, source, section, framing, membership, event and the
documents' metadata columns. What needs the unit vectors (narratives, sub-framing splits, axes, side-by-side
passages within events) is left out here; a run with that grouping computes them.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import FramingError
from ..framings.partition import UNASSIGNED
from .analysis import Contrast, compute_contrast
from .design import ContrastInput, check_group_field
from .within_events import within_events

__all__ = ["regroup", "UNIT_TABLE_COLUMNS"]

# The unit table's own columns (units.parquet): every other column is a document's metadata.
UNIT_TABLE_COLUMNS = frozenset({"unit_id", "doc_id", "index", "source", "title", "date", "url", "section", "start", "end", "text",
                "framing", "framing_label", "probability", "reassigned", "membership", "centre_cosine", "fitted",
                "dup_group", "duplicate_of", "x", "y", "frame", "frame_probability", "frame_origin", "time_bin",
                "group", "event"})


def regroup(units: pd.DataFrame, framing_labels: Mapping[int, str], *, group_by: str | None = None,
            groups: Mapping[str, Sequence[str]] | None = None, pairs: Sequence[Sequence[str]] | None = None,
            members: str = "all", bootstrap: int = 1000, permutations: int = 1000, min_units: int = 5,
            top_words: int = 15, seed: int = 42, events: Sequence[Mapping[str, Any]] | None = None,
            frame_names: Sequence[str] | None = None) -> Contrast:
    """The contrast of a saved unit table under ``group_by`` (a metadata column, ``source`` or ``section``) or
    ``groups`` (name → sources): shares with intervals, the permutation test, divergences and contrast words, and
    — when the table has an ``event`` column and ``events`` are given — everything within events except the
    side-by-side passages. ``members``: ``all`` or ``core``, as ``contrast.members``.

    ``frame_names`` (the run's frames, in order): the same contrast over the ``frame`` column instead of the
    framings — what a run's frames contrast is (every unit with a frame; not within events, as in a run)."""
    distinct = units[units["duplicate_of"].astype(str) == ""] if "duplicate_of" in units.columns else units
    distinct = distinct.reset_index(drop=True)
    meta_columns = [c for c in distinct.columns if c not in UNIT_TABLE_COLUMNS and not c.startswith(("frame: ", "axis: "))]
    first = distinct.drop_duplicates("doc_id")
    doc_meta = {str(row["doc_id"]): {**{c: ("" if pd.isna(row[c]) else str(row[c])) for c in meta_columns},
                                     "source": str(row["source"]), "date": str(row.get("date", "") or "")}
                for _, row in first.iterrows()}
    check_group_field(group_by, doc_meta)
    if frame_names is not None:
        framings = _frame_indices(distinct, frame_names)
        framing_labels, members, events = dict(enumerate(frame_names)), "frames", None
    else:
        framings = distinct["framing"].to_numpy(dtype=np.int64)
        if members == "core" and "membership" in distinct.columns:
            framings = np.where(distinct["membership"].astype(str) == "core", framings, UNASSIGNED)
    data = ContrastInput(unit_ids=distinct["unit_id"].astype(str).tolist(), texts=distinct["text"].astype(str).tolist(),
                         doc_ids=distinct["doc_id"].astype(str).tolist(), sources=distinct["source"].astype(str).tolist(),
                         sections=distinct["section"].astype(str).tolist() if "section" in distinct.columns
                         else ["body"] * len(distinct),
                         framings=framings, embeddings=None, framing_labels=dict(framing_labels), doc_meta=doc_meta)
    contrast = compute_contrast(data, lambda texts: np.zeros((len(texts), 0)), groups=groups, group_by=group_by,
                                pairs=pairs, bootstrap=bootstrap, permutations=permutations, min_units=min_units,
                                top_words=top_words, seed=seed)
    contrast.members = {"all": "core and attached", "core": "core only", "frames": "every unit with a frame"}[members]
    if events is not None and "event" in distinct.columns:
        contrast.within_events = within_events(
            data, distinct["event"].to_numpy(dtype=np.int64), events, groups=groups, group_by=group_by, pairs=pairs,
            permutations=permutations, bootstrap=bootstrap, min_units=min_units, top_words=top_words, seed=seed)
    return contrast


def _frame_indices(distinct: pd.DataFrame, frame_names: Sequence[str]) -> np.ndarray:
    """Each distinct unit's frame as an index into ``frame_names`` (UNASSIGNED where the unit has none)."""
    if "frame" not in distinct.columns:
        raise FramingError("this run has no frames to contrast (its unit table has no frame column)")
    index = {name: k for k, name in enumerate(frame_names)}
    return np.array([index.get(str(f), UNASSIGNED) if isinstance(f, str) else UNASSIGNED
                     for f in distinct["frame"].astype(object)], dtype=np.int64)
