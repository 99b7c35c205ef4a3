"""Framings over time: each framing's share of the distinct units per time bin, over all units and per group, with
bootstrap intervals over documents; and, per group, the bin where it first used each framing and the bin where
its use peaked ("who moved first").

Dates come from the documents' metadata in any common format (ISO 8601, "7 December 2016", "Dec 7, 2016",
"12/07/2016" — month first unless ``time.dayfirst``); missing and unparseable dates are counted and their units
left out of this analysis only. Bins are days, ISO weeks (starting Monday) or calendar months, chosen from the
corpus's span unless set. Units are the distinct units (a repost's copies count once, at the earliest
occurrence), as everywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..corpus.dates import parse_dates
from .design import resolve_groups
from .resampling import bootstrap_multiplicities, doc_counts

__all__ = ["OverTime", "parse_dates", "choose_bin", "bin_starts", "compute_over_time", "ALL_GROUPS"]

ALL_GROUPS = "(all)"  # the group name of the rows over every unit
BINS = ("day", "week", "month")


@dataclass
class OverTime:
    """Shares per bin (``shares``: bin, group, framing, label, units, bin_units, share, low, high), each group's
    first and peak bin per framing (``firsts``), the bin used and what happened to the dates (``dates``).

    ``unit_bins`` and ``unit_groups`` give, per unit of the input, the bin it was counted in (``""``: undated)
    and its group (``""``: none), so that a bin's passages can be listed (the report and the unit table).
    """

    bin: str
    shares: pd.DataFrame
    firsts: pd.DataFrame
    dates: dict[str, Any] = field(default_factory=dict)
    unit_bins: list[str] = field(default_factory=list, repr=False)
    unit_groups: list[str] = field(default_factory=list, repr=False)


def choose_bin(days: np.ndarray) -> str:
    """Days for a span of up to 31 days, weeks up to 26 weeks, months beyond."""
    known = days[~np.isnat(days)]
    if not known.size:
        return "day"
    span = int((known.max() - known.min()).astype(int))
    return "day" if span <= 31 else "week" if span <= 26 * 7 else "month"


def bin_starts(days: np.ndarray, bin: str) -> np.ndarray:
    """The first day of each date's bin (a week starts on Monday: 1970-01-01 was a Thursday)."""
    if bin == "day":
        return days
    if bin == "week":
        return days - ((days.astype(np.int64) + 3) % 7).astype("timedelta64[D]")
    return days.astype("datetime64[M]").astype("datetime64[D]")


def _label(start: np.datetime64, bin: str) -> str:
    return str(start)[:7] if bin == "month" else str(start)


def compute_over_time(doc_ids: Sequence[str], labels: np.ndarray, label_names: Mapping[int, str],
                      documents: Mapping[str, Mapping[str, Any]], *, sources: Sequence[str],
                      sections: Sequence[str], groups: Mapping[str, Sequence[str]] | None = None,
                      group_by: str | None = None, bin: str = "auto", bootstrap: int = 200, dayfirst: bool = False,
                      seed: int = 0) -> OverTime:
    """Shares of each label per time bin, overall and per group (grouped as the contrast groups them).

    Args:
        doc_ids, labels, sources, sections: one entry per distinct unit (its document, framing or frame, source,
            section); ``-1`` is unassigned and counts in a bin's units but gets no rows.
        label_names: names of the labels.
        documents: per document id its metadata, with ``date``.
        bin: ``auto``, ``day``, ``week`` or ``month``.
        bootstrap: resamples of a bin's documents for the 95% intervals (0: none).
    """
    labels = np.asarray(labels)
    doc_ids = list(doc_ids)
    doc_names = sorted(set(doc_ids))
    doc_days, report = parse_dates([documents.get(d, {}).get("date", "") for d in doc_names], dayfirst=dayfirst)
    chosen = choose_bin(doc_days) if bin == "auto" else bin
    day_of_doc = dict(zip(doc_names, bin_starts(doc_days, chosen)))
    unit_bins = np.array([day_of_doc[d] for d in doc_ids], dtype="datetime64[D]")
    dated = ~np.isnat(unit_bins)
    report = {**report, "documents": len(doc_names), "units_dated": int(dated.sum()),
              "units_undated": int((~dated).sum())}
    group_of, _, _ = resolve_groups(sources, doc_ids, sections, groups, group_by,
                                    {d: dict(documents.get(d, {})) for d in doc_names})
    group_names = sorted({g for g in group_of if g is not None})
    group_code = {name: k for k, name in enumerate(group_names)}
    unit_group = np.array([group_code.get(g, -1) if g is not None else -1 for g in group_of], dtype=np.int64)
    unit_doc = np.unique(np.array(doc_ids, dtype=object), return_inverse=True)[1].ravel()
    assigned = sorted({int(k) for k in np.unique(labels) if k >= 0})
    column_of = np.full(max(assigned, default=0) + 2, -1, dtype=np.int64)  # label -> column; -1 (last) stays -1
    column_of[assigned] = np.arange(len(assigned))
    unit_column = column_of[labels]
    rng = np.random.default_rng(seed)
    rows = []
    scopes = [(ALL_GROUPS, dated)] + [(name, dated & (unit_group == k)) for name, k in group_code.items()]
    bins = np.unique(unit_bins[dated]) if dated.any() else np.array([], dtype="datetime64[D]")
    for group, in_group in scopes:
        for start in bins:
            members = np.flatnonzero(in_group & (unit_bins == start))
            if not members.size:
                continue
            rows += _bin_rows(unit_doc[members], unit_column[members], assigned, label_names, group,
                              _label(start, chosen), bootstrap, rng)
    shares = pd.DataFrame(rows, columns=["bin", "group", "framing", "label", "units", "bin_units", "share", "low",
                                         "high"])
    label_of_bin = {start: _label(start, chosen) for start in bins}
    return OverTime(bin=chosen, shares=shares, firsts=first_and_peak(shares), dates=report,
                    unit_bins=[label_of_bin[b] if ok else "" for b, ok in zip(unit_bins, dated)],
                    unit_groups=[g or "" for g in group_of])


def _bin_rows(member_docs: np.ndarray, member_columns: np.ndarray, assigned: list[int],
              label_names: Mapping[int, str], group: str, bin_label: str, bootstrap: int,
              rng: np.random.Generator) -> list[tuple]:
    """One row per assigned label for one (group, bin) — its units (documents ``member_docs``, label columns
    ``member_columns``, -1 unassigned): units, share of the bin's units, bootstrap interval over documents."""
    docs, doc_index = np.unique(member_docs, return_inverse=True)
    doc_index = doc_index.ravel()
    keep = member_columns >= 0
    counts = doc_counts(doc_index[keep], member_columns[keep], docs.size, len(assigned))
    per_doc_units = np.bincount(doc_index, minlength=docs.size).astype(np.float64)
    units = np.asarray(counts.sum(axis=0)).ravel()
    total = float(member_docs.size)
    low = high = np.full(len(assigned), np.nan)
    if bootstrap > 0 and docs.size >= 2:
        counts_t = counts.T
        drawn = np.vstack([np.asarray((counts_t @ weights.T).T) / (weights @ per_doc_units)[:, None]
                           for weights in bootstrap_multiplicities(rng, docs.size, bootstrap)])
        low, high = np.percentile(drawn, [2.5, 97.5], axis=0)
    return [(bin_label, group, k, label_names.get(k, ""), int(units[c]), int(total), round(units[c] / total, 6),
             round(float(low[c]), 6), round(float(high[c]), 6)) for c, k in enumerate(assigned)]


def first_and_peak(shares: pd.DataFrame) -> pd.DataFrame:
    """Per group and label: the first bin with a unit of it, the bin of its highest share (the earliest, on a
    tie), and that share."""
    used = shares[shares["units"] > 0].sort_values(["group", "framing", "bin"], kind="stable")
    keys = ["group", "framing"]
    first = used.groupby(keys, sort=True).agg(label=("label", "first"), first=("bin", "first"))
    # highest share first, then earliest bin: the first row of each (group, label) is its peak
    peak = used.sort_values(keys + ["share", "bin"], ascending=[True, True, False, True], kind="stable") \
        .groupby(keys, sort=True).agg(peak=("bin", "first"), peak_share=("share", "first"))
    table = first.join(peak).reset_index()
    return table[["framing", "label", "group", "first", "peak", "peak_share"]].sort_values(
        ["group", "framing"], kind="stable").reset_index(drop=True)
