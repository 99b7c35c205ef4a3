"""Which documents tell the same story: events, given by a metadata column or found from the documents' content.

A comparison of framings across outlets means something only among documents about the same event: otherwise
it mixes how outlets tell a story with which stories they chose (their agenda). Found events are groups of
documents whose mean unit vectors are close: average-linkage agglomerative clustering on cosine distance, cut
where the average similarity falls below ``threshold`` (exact up to 5,000 documents; above, rounds of a sample
clustered exactly and the rest joining the nearest cluster); with dates, documents more than ``window_days`` apart
are never joined directly, except that a repost joins its original's event whatever its date. Each event gets a
label (its most central title, else its most central passage), its dates, documents, sources and size. A
document with no units, or no value in the event column, is an event of its own.
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

# Up to this many documents average linkage is exact: 5,000² / 2 doubles = 100 MB; above, a sample of this many.
FULL_MATRIX_DOCUMENTS = 5000
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

    Up to ``FULL_MATRIX_DOCUMENTS`` documents: exact. Above: a random ``FULL_MATRIX_DOCUMENTS`` of them are
    clustered exactly, every other document joins the cluster whose centre is nearest when its cosine to it reaches
    ``threshold`` (and its date falls within the window of the cluster's dates), and the documents left over are
    clustered the same way in turn — a sample's clusters and one matrix product per round instead of a neighbour
    graph over all documents (at 40,000 documents pynndescent's graph alone took 14 s).
    """
    n = vectors.shape[0]
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if n <= FULL_MATRIX_DOCUMENTS:
        return _average_linkage(vectors, days, threshold, window_days)
    rng = np.random.default_rng(random_state)
    labels = np.full(n, -1, dtype=np.int64)
    remaining = np.arange(n)
    next_label = 0
    dated = _dates_spread_wider_than(days, window_days)
    while remaining.size:
        if remaining.size <= FULL_MATRIX_DOCUMENTS:
            part = _average_linkage(vectors[remaining], days[remaining] if days is not None else None, threshold,
                                    window_days)
            labels[remaining] = part + next_label
            break
        sample = np.sort(rng.choice(remaining, size=FULL_MATRIX_DOCUMENTS, replace=False))
        sampled = _average_linkage(vectors[sample], days[sample] if days is not None else None, threshold, window_days)
        n_clusters = int(sampled.max()) + 1
        centres = np.zeros((n_clusters, vectors.shape[1]), dtype=np.float64)
        np.add.at(centres, sampled, vectors[sample])
        centres = (centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)).astype(np.float32)
        rest = np.setdiff1d(remaining, sample, assume_unique=True)
        best = np.empty(rest.size, dtype=np.int64)
        similar = np.empty(rest.size, dtype=np.float32)
        for start in range(0, rest.size, 8192):  # bounded: documents x clusters floats
            block = vectors[rest[start:start + 8192]] @ centres.T
            best[start:start + 8192] = block.argmax(axis=1)
            similar[start:start + 8192] = block[np.arange(block.shape[0]), best[start:start + 8192]]
        joins = similar >= threshold
        if dated:
            as_days = days.astype("datetime64[D]").astype(np.int64).astype(np.float64)
            as_days[np.isnat(days)] = np.nan
            first = np.full(n_clusters, np.inf)
            last = np.full(n_clusters, -np.inf)
            np.fmin.at(first, sampled, as_days[sample])
            np.fmax.at(last, sampled, as_days[sample])
            day = as_days[rest]
            with np.errstate(invalid="ignore"):
                apart = (day < first[best] - window_days) | (day > last[best] + window_days)
            joins &= ~apart  # an undated document (NaN) is never apart: both comparisons are false
        labels[sample] = sampled + next_label
        labels[rest[joins]] = best[joins] + next_label
        next_label += n_clusters
        remaining = rest[~joins]
    return labels


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
    from scipy.sparse import csr_matrix

    n_events = int(doc_event.max(initial=-1)) + 1
    rows = np.flatnonzero(has_units)
    indicator = csr_matrix((np.ones(rows.size, dtype=np.float32), (doc_event[rows], np.arange(rows.size))),
                           shape=(n_events, rows.size))  # np.add.at over 40,000 documents took half a second
    sums = np.asarray(indicator @ doc_vectors[rows], dtype=np.float64)
    return (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def describe_events(doc_event: np.ndarray, doc_ids: Sequence[str], sources: Sequence[str], titles: Sequence[str],
                    dates: Sequence[str], unit_counts: np.ndarray, doc_vectors: np.ndarray, has_units: np.ndarray,
                    central_passage: Any = None, dayfirst: bool = False,
                    centres: np.ndarray | None = None) -> list[dict[str, Any]]:
    """One record per event: ``id, label`` (its most central title; else ``central_passage(event)``'s text, else
    its first document's id), ``first, last`` (ISO days, null when undated), ``documents, sources, size``.
    ``centres``: :func:`event_centres`, when the caller has them already."""
    days, _ = parse_dates(list(dates), dayfirst=dayfirst)
    if centres is None:
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
