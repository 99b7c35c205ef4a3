"""Framings that last across runs: match this run's framings to an earlier run's, so ids, names and colours carry
over when a user re-runs with other settings.

Framings are matched one to one by their centres (the mean unit embedding, unit length): the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``) pairs them for the highest total cosine, and a pair below the
threshold is no match. The rest is said, not hidden: a framing paired with an earlier one is *matched*, and
*merged* when most units of another, unpaired earlier framing are now in it; an unpaired framing most of whose
units were in one earlier framing is *split* from it; otherwise it is *new*; an earlier framing that nothing took
is *gone*. Units tell splits and merges apart when both runs have them (the same corpus); across corpora the
centres do (the nearest one, above the threshold).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..embed.embedders import l2_normalise

__all__ = ["PreviousFramings", "Matching", "match_framings", "read_previous", "overlap_counts", "CENTROIDS_FILE", "USER_NAMED"]

# Names a user gave (in the config, or carried over from a run where a user gave them): these carry over; names
# made from the framing's own words are made again from its units in the new run.
USER_NAMED = frozenset({"config", "previous run"})


@dataclass
class PreviousFramings:
    """What an earlier run says of its framings: ids, labels (names), whether a user gave each name, centres."""

    ids: list[int]
    labels: list[str]
    named_by: list[str]
    centroids: np.ndarray
    run: str = ""
    model: str = ""  # the fingerprint of the model that embedded the earlier run ("" when unknown)
    # the earlier run's distinct units and their framing ids (for splits and merges; None: not known), or the
    # units.parquet they are read from when needed (a million ids take 300 MB: not held through a run)
    unit_ids: np.ndarray | None = None
    unit_framings: np.ndarray | None = None
    units_file: Path | None = None

    def units(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The earlier run's distinct unit ids and their framings, read now if need be (``None``: unknown)."""
        if self.unit_ids is not None:
            return self.unit_ids, self.unit_framings
        if self.units_file is None:
            return None
        try:
            table = pd.read_parquet(self.units_file, columns=["unit_id", "framing", "duplicate_of"])
        except (OSError, ValueError, KeyError, ImportError):
            return None  # splits and merges are then told by the centres alone
        table = table[table["duplicate_of"] == ""]
        return table["unit_id"].to_numpy(), table["framing"].to_numpy(dtype=np.int64)


@dataclass
class Matching:
    """``ids[k]``: the id this run's framing ``k`` takes; ``previous[k]``: the earlier framing it carries over
    (``None`` when it is new or split); ``table``: a row per framing (and per gone earlier one) with its status."""

    ids: np.ndarray
    previous: list[int | None]
    table: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        statuses = ("matched", "split", "merged", "new", "gone")
        return {s: sum(row["status"] == s for row in self.table) for s in statuses}


def overlap_counts(unit_ids: Sequence[str], labels: np.ndarray, n_framings: int,
                   previous: PreviousFramings) -> np.ndarray | None:
    """Units shared by this run's framing ``k`` (``labels`` of ``unit_ids``, this run's order) and the earlier
    run's framing ``o``: an ``(n_framings, earlier framings)`` count matrix; ``None`` when the runs share no unit."""
    known_units = previous.units()
    if known_units is None:
        return None
    column = {framing_id: o for o, framing_id in enumerate(previous.ids)}
    before = pd.Series(known_units[1], index=known_units[0])
    before = before[~before.index.duplicated()]
    old = before.reindex(pd.Index(list(unit_ids))).to_numpy()
    known = ~pd.isna(old) & (np.asarray(labels) >= 0)
    if not known.any():
        return None
    old_columns = np.array([column.get(int(f), -1) for f in old[known]], dtype=np.int64)
    new_rows = np.asarray(labels)[known]
    keep = old_columns >= 0
    counts = np.zeros((n_framings, len(previous.ids)), dtype=np.int64)
    np.add.at(counts, (new_rows[keep], old_columns[keep]), 1)
    return counts


def match_framings(centroids: np.ndarray, previous: PreviousFramings, threshold: float,
                   overlap: np.ndarray | None = None) -> Matching:
    """Match this run's framing centres (rows, unit length, in this run's order) to an earlier run's;
    ``overlap``: units shared by each pair (``overlap_counts``), which decides splits and merges when given."""
    from scipy.optimize import linear_sum_assignment

    n_new, n_old = centroids.shape[0], previous.centroids.shape[0]
    if previous.centroids.shape[1:] != centroids.shape[1:]:
        raise ValueError(f"the earlier run's framing centres have {previous.centroids.shape[1:]} dimensions, "
                         f"this run's {centroids.shape[1:]}: were they embedded with another model?")
    cosine = centroids @ previous.centroids.T if n_new and n_old else np.zeros((n_new, n_old))
    # Pairs below the threshold weigh nothing: they must not steer which pairs above it are chosen.
    weight = np.where(cosine >= threshold, cosine, 0.0)
    rows, cols = linear_sum_assignment(-weight) if n_new and n_old else (np.array([], int), np.array([], int))
    paired = {int(r): int(c) for r, c in zip(rows, cols) if cosine[r, c] >= threshold}
    taken = set(paired.values())
    next_id = max(previous.ids, default=-1) + 1
    ids = np.empty(n_new, dtype=np.int64)
    carried: list[int | None] = []
    table: list[dict[str, Any]] = []
    for k in range(n_new):
        if k in paired:
            old = paired[k]
            ids[k] = previous.ids[old]
            carried.append(old)
            merged = [previous.ids[o] for o in range(n_old) if o not in taken and _part_of(k, o, cosine, overlap,
                                                                                           threshold, along=0)]
            table.append({"id": int(ids[k]), "status": "merged" if merged else "matched",
                          "previous": [previous.ids[old], *merged], "cosine": round(float(cosine[k, old]), 4)})
            continue
        ids[k] = next_id
        next_id += 1
        carried.append(None)
        nearest = int(np.argmax(cosine[k] if overlap is None else overlap[k])) if n_old else -1
        if nearest >= 0 and _part_of(k, nearest, cosine, overlap, threshold, along=1):
            table.append({"id": int(ids[k]), "status": "split", "previous": [previous.ids[nearest]],
                          "cosine": round(float(cosine[k, nearest]), 4)})
        else:
            table.append({"id": int(ids[k]), "status": "new", "previous": [],
                          "cosine": round(float(cosine[k, nearest]), 4) if nearest >= 0 else None})
    absorbed = {p for row in table if row["status"] == "merged" for p in row["previous"][1:]}
    for o in range(n_old):
        if o not in taken and previous.ids[o] not in absorbed:
            best = int(np.argmax(cosine[:, o])) if n_new else -1
            table.append({"id": previous.ids[o], "status": "gone", "previous": [previous.ids[o]],
                          "cosine": round(float(cosine[best, o]), 4) if best >= 0 else None})
    return Matching(ids=ids, previous=carried, table=table)


def _part_of(k: int, o: int, cosine: np.ndarray, overlap: np.ndarray | None, threshold: float, along: int) -> bool:
    """Whether most units of earlier framing ``o`` went to framing ``k`` (``along=0``: a merge), or most units of
    framing ``k`` came from ``o`` (``along=1``: a split); without units, whether ``k`` and ``o`` are each other's
    nearest in that direction above the threshold."""
    if overlap is None:
        nearest = int(np.argmax(cosine[:, o])) == k if along == 0 else int(np.argmax(cosine[k])) == o
        return nearest and cosine[k, o] >= threshold
    total = overlap[:, o].sum() if along == 0 else overlap[k].sum()
    return total > 0 and overlap[k, o] / total > 0.5


CENTROIDS_FILE = "framing_centroids.npy"  # a run folder's framing centres, a row per framing of framings.json
_FRAMINGS_FILE = "framings.json"
_UNITS_FILE = "units.parquet"


def read_previous(folder: str | Path) -> PreviousFramings | None:
    """The framings of the run in ``folder`` (``None`` when it has none, or was written before centres were
    saved); a damaged file raises ``ValueError``."""
    folder = Path(folder)
    if not (folder / _FRAMINGS_FILE).is_file() or not (folder / CENTROIDS_FILE).is_file():
        return None
    try:
        records = json.loads((folder / _FRAMINGS_FILE).read_text("utf-8"))
        centroids = np.load(folder / CENTROIDS_FILE, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the framings of {folder}: {exc}") from None
    if centroids.ndim != 2 or centroids.shape[0] != len(records):
        raise ValueError(f"{folder / CENTROIDS_FILE} has {centroids.shape[0]} rows for {len(records)} framings")
    if centroids.dtype.kind != "f" or not np.isfinite(centroids).all():
        raise ValueError(f"{folder / CENTROIDS_FILE} holds values that are not finite numbers")
    model = ""
    try:
        model = str(json.loads((folder / "run.json").read_text("utf-8")).get("model", {}).get("fingerprint", ""))
    except (OSError, ValueError, AttributeError):
        pass  # the centres' dimension is still checked
    return PreviousFramings(ids=[int(r["id"]) for r in records], labels=[str(r["label"]) for r in records],
                            named_by=[str(r.get("named_by", "")) for r in records],
                            centroids=l2_normalise(centroids), run=str(folder),
                            model=model, units_file=folder / _UNITS_FILE if (folder / _UNITS_FILE).is_file() else None)
