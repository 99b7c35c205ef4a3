"""Which documents tell the same story: events, given by a metadata column or found from the documents' content.

A comparison of framings across outlets means something only among documents about the same event: otherwise
it mixes how outlets tell a story with which stories they chose (their agenda). Found events are groups of
documents whose mean unit vectors are close: average-linkage agglomerative clustering on cosine distance, cut
where the average similarity falls below ``threshold`` (exact up to 5,000 documents in one connected group); with dates, documents more than ``window_days`` apart are
never joined directly, except that a repost joins its original's event whatever its date. Each event gets a label (its most central title, else its most central passage), its
dates, documents, sources and size. A document with no units, or no value in the event column, is an event of
its own.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..corpus.dates import parse_dates

__all__ = ["Events", "document_vectors", "find_events", "events_from_field", "describe_events", "event_centres",
           "events_table", "join_reposts"]

log = logging.getLogger(__name__)

# Up to this many documents (in one connected group) average linkage is exact: 5,000² / 2 doubles = 100 MB.
_FULL_MATRIX_DOCUMENTS = 5000
_CONNECTIVITY_NEIGHBOURS = 30
# A distance no merge under any threshold reaches: documents further apart in time than the window.
_APART = 4.0


@dataclass
class Events:
    """Each document's event and each event's description.

    ``doc_event`` (n_documents,) the event id of every document, in corpus order; ``events`` one record per event
    (``id, label, first, last, documents, sources, size``: size counts units), by id; ``method`` "field" (from
    ``corpus.event_field``), "found" or "single" (one event: fewer than two documents with units); ``settings``
    what found them (threshold, window_days, field).
    """

    doc_event: np.ndarray
    events: list[dict[str, Any]]
    method: str
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "settings": self.settings, "events": self.events}

    @property
    def n_events(self) -> int:
        return len(self.events)


def document_vectors(unit_doc: np.ndarray, unit_row: np.ndarray, vectors: np.ndarray,
                     n_documents: int) -> tuple[np.ndarray, np.ndarray]:
    """Each document's mean unit vector (unit length) and whether it has any unit: unit ``k`` stands in document
    ``unit_doc[k]`` with vector ``vectors[unit_row[k]]`` (a repost's copies share their original's row). A sparse
    documents × rows count matrix times the vectors: no per-unit copy of the vectors (1.5 GB at a million)."""
    from scipy.sparse import coo_matrix

    counts = coo_matrix((np.ones(unit_doc.size, dtype=np.float32), (unit_doc, unit_row)),
                        shape=(n_documents, vectors.shape[0])).tocsr()
    sums = np.asarray(counts @ vectors, dtype=np.float64)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.maximum(norms, 1e-12)).astype(np.float32), np.bincount(unit_doc, minlength=n_documents) > 0


def _average_linkage(vectors: np.ndarray, days: np.ndarray | None, threshold: float,
                     window_days: float | None) -> np.ndarray:
    """Exact average-linkage clusters of unit-length ``vectors``, cut at average cosine ``threshold`` (scipy's
    nearest-neighbour chain on the condensed distance matrix: n² / 2 doubles)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    n = vectors.shape[0]
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    distances = vectors @ vectors.T  # float32, in place from here: at 5,000 documents each copy is 100 MB
    np.subtract(1.0, distances, out=distances)
    np.clip(distances, 0.0, 2.0, out=distances)
    if _dates_spread_wider_than(days, window_days):
        distances[_apart_in_time(days, days, window_days)] = _APART
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False).astype(np.float64), method="average")
    return (fcluster(tree, t=1.0 - threshold, criterion="distance") - 1).astype(np.int64)


def _cluster_documents(vectors: np.ndarray, days: np.ndarray | None, threshold: float,
                       window_days: float | None, random_state: int = 0) -> np.ndarray:
    """Average-linkage clusters of unit-length ``vectors`` cut at cosine similarity ``threshold``.

    Up to ``_FULL_MATRIX_DOCUMENTS`` documents: exact. Above, the documents are first split into the connected
    groups of a nearest-neighbour graph whose edges have similarity at least ``threshold`` (and fall within the
    window): two average-linkage clusters above the threshold always hold such a pair, so with enough neighbours
    no event spans two groups. Each group is then clustered exactly, or, past the limit, a random
    ``_FULL_MATRIX_DOCUMENTS`` of it is, and the rest join the cluster whose centre is nearest.
    """
    n = vectors.shape[0]
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if n <= _FULL_MATRIX_DOCUMENTS:
        return _average_linkage(vectors, days, threshold, window_days)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    neighbours, similarity = _nearest_documents(vectors, _CONNECTIVITY_NEIGHBOURS, random_state)
    rows = np.repeat(np.arange(n), neighbours.shape[1])
    columns, similar = neighbours.reshape(-1), similarity.reshape(-1)
    keep = (similar >= threshold) & (columns >= 0)
    if _dates_spread_wider_than(days, window_days):
        keep &= ~_apart_in_time(days[rows], days[np.maximum(columns, 0)], window_days, paired=True)
    graph = coo_matrix((np.ones(int(keep.sum()), dtype=np.int8), (rows[keep], columns[keep])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    labels = np.empty(n, dtype=np.int64)
    next_label = 0
    rng = np.random.default_rng(random_state)
    for members in _members(component):
        part_days = days[members] if days is not None else None
        if members.size <= _FULL_MATRIX_DOCUMENTS:
            part = _average_linkage(vectors[members], part_days, threshold, window_days)
        else:
            sample = np.sort(rng.choice(members.size, size=_FULL_MATRIX_DOCUMENTS, replace=False))
            sampled = _average_linkage(vectors[members[sample]], None if part_days is None else part_days[sample],
                                       threshold, window_days)
            centres = np.zeros((int(sampled.max()) + 1, vectors.shape[1]), dtype=np.float64)
            np.add.at(centres, sampled, vectors[members[sample]])
            centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
            part = np.argmax(vectors[members] @ centres.T.astype(np.float32), axis=1)
            part[sample] = sampled
        labels[members] = part + next_label
        next_label += int(part.max()) + 1
    return labels


def _members(labels: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(labels, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)


def _nearest_documents(vectors: np.ndarray, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Each document's ``k`` nearest others by cosine (pynndescent, as UMAP uses), and the similarities."""
    from .._numba_cache import enable_numba_disk_cache

    enable_numba_disk_cache()
    import warnings

    from pynndescent import NNDescent

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Cannot cache compiled function")
        index = NNDescent(vectors, metric="cosine", n_neighbors=k + 1, random_state=random_state, low_memory=True)
        neighbours, distances = index.neighbor_graph
    return neighbours[:, 1:], 1.0 - distances[:, 1:]


def _dates_spread_wider_than(days: np.ndarray | None, window_days: float | None) -> bool:
    """Whether any two dated documents are more than the window apart (else the window changes nothing)."""
    if days is None or window_days is None:
        return False
    dated = days[~np.isnat(days)]
    return bool(dated.size) and float((dated.max() - dated.min()).astype(np.int64)) > window_days


def _apart_in_time(days_a: np.ndarray, days_b: np.ndarray, window_days: float, paired: bool = False) -> np.ndarray:
    """True where two dated documents are more than ``window_days`` apart (undated documents are never apart)."""
    a = days_a.astype("datetime64[D]").astype(np.int64).astype(np.float64)
    b = days_b.astype("datetime64[D]").astype(np.int64).astype(np.float64)
    a[np.isnat(days_a)] = np.nan
    b[np.isnat(days_b)] = np.nan
    gap = np.abs(a - b) if paired else np.abs(a[:, None] - b[None, :])
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(gap, nan=0.0) > window_days


def _numbered_by_first(labels: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Renumber labels 0.. in the order their first document appears in ``order`` (by date, then corpus order)."""
    first: dict[int, int] = {}
    for position in order:
        first.setdefault(int(labels[position]), len(first))
    return np.array([first[int(label)] for label in labels], dtype=np.int64)


def find_events(vectors: np.ndarray, has_units: np.ndarray, dates: Sequence[str], *, threshold: float,
                window_days: float | None, dayfirst: bool = False) -> np.ndarray:
    """Each document's event from its mean unit vector (and date): documents without units are alone."""
    n = vectors.shape[0]
    days, _ = parse_dates(list(dates), dayfirst=dayfirst)
    labels = np.full(n, -1, dtype=np.int64)
    with_units = np.flatnonzero(has_units)
    labels[with_units] = _cluster_documents(vectors[with_units], days[with_units], threshold, window_days)
    alone = np.flatnonzero(labels < 0)
    labels[alone] = labels.max(initial=-1) + 1 + np.arange(alone.size)
    return _numbered_by_first(labels, _date_rank(days))


def join_reposts(doc_event: np.ndarray, reposts: Sequence[tuple[int, int]], dates: Sequence[str],
                 dayfirst: bool = False) -> np.ndarray:
    """Each repost (``(document, original)`` positions) in its original's event, whatever its date: a page that
    copies most of an earlier one tells the same story, even when it was put up years later."""
    out = doc_event.copy()
    for document, original in sorted(reposts, key=lambda pair: pair[0]):
        out[document] = out[original]
    days, _ = parse_dates(list(dates), dayfirst=dayfirst)
    return _numbered_by_first(out, _date_rank(days))


def events_from_field(values: Sequence[Any], dates: Sequence[str], dayfirst: bool = False) -> np.ndarray:
    """Each document's event from a metadata column: one event per distinct value; an empty value is alone."""
    text = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() for v in values]
    codes: dict[str, int] = {}
    labels = np.empty(len(text), dtype=np.int64)
    for k, value in enumerate(text):
        labels[k] = codes.setdefault(value, len(codes)) if value else -(k + 1)
    days, _ = parse_dates(list(dates), dayfirst=dayfirst)
    return _numbered_by_first(labels, _date_rank(days))


def _date_rank(days: np.ndarray) -> np.ndarray:
    """The documents in the order events are numbered by: by date (undated last), then corpus order."""
    as_int = days.astype(np.int64).astype(np.float64)
    as_int[np.isnat(days)] = np.inf
    return np.lexsort((np.arange(days.size), as_int))


def event_centres(doc_event: np.ndarray, doc_vectors: np.ndarray, has_units: np.ndarray) -> np.ndarray:
    """Each event's centre: the mean of its documents' vectors (unit length; zero for events without units)."""
    n_events = int(doc_event.max(initial=-1)) + 1
    sums = np.zeros((n_events, doc_vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, doc_event[has_units], doc_vectors[has_units])
    return (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def describe_events(doc_event: np.ndarray, doc_ids: Sequence[str], sources: Sequence[str], titles: Sequence[str],
                    dates: Sequence[str], unit_counts: np.ndarray, doc_vectors: np.ndarray, has_units: np.ndarray,
                    central_passage: Any = None, dayfirst: bool = False) -> list[dict[str, Any]]:
    """One record per event: ``id, label`` (its most central title; else ``central_passage(event)``'s text, else
    its first document's id), ``first, last`` (ISO days, null when undated), ``documents, sources, size``."""
    days, _ = parse_dates(list(dates), dayfirst=dayfirst)
    centres = event_centres(doc_event, doc_vectors, has_units)
    order = np.argsort(doc_event, kind="stable")
    bounds = np.searchsorted(doc_event[order], np.arange(centres.shape[0] + 1))
    records = []
    for event in range(centres.shape[0]):
        members = order[bounds[event]:bounds[event + 1]]
        nearness = doc_vectors[members] @ centres[event]
        nearness[~has_units[members]] = -np.inf
        ranked = members[np.argsort(-nearness, kind="stable")]
        label = next((str(titles[d]).strip() for d in ranked if str(titles[d]).strip()), "")
        if not label and central_passage is not None:
            label = central_passage(event) or ""
        dated = days[members][~np.isnat(days[members])]
        records.append({
            "id": event, "label": label or str(doc_ids[members[0]]),
            "first": str(dated.min()) if dated.size else None, "last": str(dated.max()) if dated.size else None,
            "documents": [str(doc_ids[d]) for d in members],
            "sources": sorted({str(sources[d]) for d in members}),
            "size": int(unit_counts[members].sum()),
        })
    return records


def events_table(events: Events) -> pd.DataFrame:
    """The events as a table (``Result.events``): a row per event."""
    columns = ["id", "label", "first", "last", "documents", "sources", "size"]
    return pd.DataFrame(events.events, columns=columns)
