"""Who is compared: the contrast's input (distinct units with their document, source, labelling and vectors),
each unit's group (by source, section, a metadata field or named groups) and the documents resampled."""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import FramingError
from ..framings.partition import UNASSIGNED
from ..framings.vectors import members_of
from .resampling import doc_counts


@dataclass
class ContrastInput:
    """What the contrast stage reads: distinct units with their document, source, framing and embedding."""

    unit_ids: Sequence[str]
    texts: Sequence[str]
    doc_ids: Sequence[str]
    sources: Sequence[str]
    sections: Sequence[str]
    framings: np.ndarray
    embeddings: np.ndarray | None  # None: a saved run regrouped (no vectors): no narratives, sub-framings or axes
    framing_labels: Mapping[int, str]
    doc_meta: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # word_counts(texts), when the caller already has it: the run contrasts the same units twice (framings,
    # frames), and counting 800k texts' words takes 10 s
    word_counts: tuple[Any, np.ndarray] | None = None


@dataclass
class Design:
    """Who is compared: each unit's group, documents (the unit of resampling) and label columns, built once and
    read by every analysis. ``labels`` is any labelling of the units (framings, or frames); -1 is unassigned."""

    names: list[str]
    group_defs: dict[str, list[str]]
    grouping: str
    unit_group: np.ndarray      # (n,) group index, -1 for units in no group
    kept: np.ndarray            # indices of units in a group
    doc_of_unit: np.ndarray     # document index of each kept unit
    doc_group: np.ndarray       # group of each document
    label_ids: list[int]        # the labels compared (assigned ones), in order
    columns: list[int]          # label_ids + [UNASSIGNED]
    per_doc: Any                # (documents, columns) unit counts, scipy.sparse CSR
    assigned_cells: tuple[np.ndarray, np.ndarray, np.ndarray]  # per_doc's non-zero (doc, column, count), assigned

    def members_by_label_group(self, labels: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
        """Units of each (label, group index), in unit order: one sort instead of a scan per label and group."""
        in_group = np.flatnonzero(self.unit_group >= 0)
        n_groups = len(self.names)
        keys = (labels[in_group] - UNASSIGNED) * n_groups + self.unit_group[in_group]  # labels start at -1
        return {(key // n_groups + UNASSIGNED, key % n_groups): in_group[rows]
                for key, rows in members_of(keys).items()}


def design_of(data: ContrastInput, groups: Mapping[str, Sequence[str]] | None, group_by: str | None) -> Design:
    group_of_unit, group_defs, grouping = resolve_groups(data.sources, data.doc_ids, data.sections, groups,
                                                         group_by, data.doc_meta)
    keep = np.array([g is not None for g in group_of_unit])
    names = list(group_defs)
    gidx = {g: i for i, g in enumerate(names)}
    unit_group = np.array([gidx[g] if g is not None else -1 for g in group_of_unit])
    label_ids = sorted(int(f) for f in set(data.framings.tolist()) if f != UNASSIGNED)
    columns = label_ids + [UNASSIGNED]
    column_of = {f: k for k, f in enumerate(columns)}
    unit_column = np.array([column_of[int(f)] for f in data.framings])
    # documents: the unit of resampling (a document belongs to the group of its units; section groups split it)
    doc_keys = [f"{d}\x00{g}" for d, g in zip(data.doc_ids, unit_group)]
    # in sorted order, so that resampling draws the same documents however the units were ordered (a run's
    # distinct units and a saved unit table list them differently)
    doc_names = sorted(set(k for k, ok in zip(doc_keys, keep) if ok))
    doc_index_of = {k: i for i, k in enumerate(doc_names)}
    kept = np.flatnonzero(keep)
    doc_of_unit = np.array([doc_index_of[doc_keys[i]] for i in kept], dtype=np.int64)
    doc_group = np.zeros(len(doc_names), dtype=np.int64)
    doc_group[doc_of_unit] = unit_group[kept]
    per_doc = doc_counts(doc_of_unit, unit_column[kept], len(doc_names), len(columns))
    cells = per_doc.tocoo()
    assigned = cells.col < len(label_ids)
    return Design(names=names, group_defs=group_defs, grouping=grouping, unit_group=unit_group, kept=kept,
                   doc_of_unit=doc_of_unit, doc_group=doc_group, label_ids=label_ids, columns=columns,
                   per_doc=per_doc, assigned_cells=(cells.row[assigned], cells.col[assigned], cells.data[assigned]))


def resolve_groups(sources: Sequence[str], doc_ids: Sequence[str], sections: Sequence[str],
                   groups: Mapping[str, Sequence[str]] | None, group_by: str | None,
                   doc_meta: Mapping[str, Mapping[str, str]]) -> tuple[list[str | None], dict[str, list[str]], str]:
    """Group label per unit, the group definitions, and a word for how they were made."""
    if groups:
        of_source: dict[str, str] = {}
        for name, members in groups.items():
            for member in members:
                if member in of_source:
                    raise FramingError(f"contrast.groups: source {member!r} is in both {of_source[member]!r} and {name!r}")
                of_source[member] = name
        unknown = sorted(set(of_source) - set(sources))
        if unknown:
            raise FramingError(f"contrast.groups names sources not in the corpus: {', '.join(unknown)} "
                               f"(sources: {', '.join(sorted(set(sources)))})")
        return [of_source.get(s) for s in sources], {k: list(v) for k, v in groups.items()}, "groups"
    if group_by in (None, "source"):
        return list(sources), {s: [s] for s in sorted(set(sources))}, "source"
    if group_by == "section":
        labels = list(sections)
        return labels, {s: [s] for s in dict.fromkeys(labels)}, "section"
    labels = [doc_meta.get(d, {}).get(group_by) or None for d in doc_ids]
    if all(label is None for label in labels):
        raise FramingError(_no_group_field(group_by, doc_meta))
    members: dict[str, set[str]] = defaultdict(set)
    for label, source in zip(labels, sources):
        if label is not None:
            members[label].add(source)
    return labels, {k: sorted(v) for k, v in sorted(members.items())}, group_by


def check_group_field(group_by: str | None, doc_meta: Mapping[str, Mapping[str, str]]) -> None:
    """Raise ``FramingError`` when ``group_by`` names a field no document has: checked as soon as the corpus is
    read, so a misspelt field ends a run in seconds, not after the units are embedded and clustered."""
    if group_by in (None, "source", "section"):
        return
    if not any(meta.get(group_by) for meta in doc_meta.values()):
        raise FramingError(_no_group_field(group_by, doc_meta))


def _no_group_field(group_by: str, doc_meta: Mapping[str, Mapping[str, str]]) -> str:
    fields = sorted({k for meta in doc_meta.values() for k in meta})
    return (f"contrast.group_by: no document has a {group_by!r} field "
            f"(fields: {', '.join(fields) or 'none'}; or 'source', 'section')")


def group_pairs(design: Design, pairs: Sequence[Sequence[str]] | None) -> list[tuple[str, str]]:
    names = design.names
    if pairs:
        for pair in pairs:
            for name in pair:
                if name not in names:
                    raise FramingError(f"contrast.pairs names group {name!r}; groups: {', '.join(names)}")
        return [tuple(p) for p in pairs]
    pair_list = list(itertools.combinations(names, 2))
    if len(pair_list) > 10:  # many groups: each against the rest would be clearer; keep the largest pairs
        sizes = {g: int((design.unit_group == names.index(g)).sum()) for g in names}
        pair_list = sorted(pair_list, key=lambda p: -min(sizes[p[0]], sizes[p[1]]))[:10]
    return pair_list
