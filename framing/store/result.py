"""The in-memory outcome of a run, and its files: save it to a run folder, load it back.

A run folder holds ``units.parquet`` (one row per unit), ``documents.parquet`` (the texts the offsets point
into), ``framings.json``, ``run.json`` (the manifest) and the stages' other tables; the run and the CLI add
``report.html`` (``framing.save_run``). Folders are written to a temporary
sibling and moved into place, so an interrupted or failed run never leaves a half-written folder behind.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from ..contrast.analysis import Contrast, json_safe
from ..errors import FramingError
from ..framings.describe import Framing
from ..framings.partition import UNASSIGNED
from ..framings.hierarchy import Hierarchy, level_labels
from ..framings.matching import CENTROIDS_FILE
from .outputs import MANIFEST_FILE, RUN_FILES, atomic_folder, list_files
from ..contrast.over_time import OverTime
from ..events.detect import Events, events_table

__all__ = ["Result", "TableFile", "load_result"]

UNIT_FILE = "units.parquet"
DOCUMENT_FILE = "documents.parquet"
FRAMING_FILE = "framings.json"
HIERARCHY_FILE = "hierarchy.json"
REPORT_FILE = "report.html"
ROW_GROUP_ROWS = 100_000
CONTRAST_FILE = "contrast.json"
FRAMES_FILE = "frames.json"
FRAMES_CONTRAST_FILE = "contrast_frames.json"
TIME_FILE = "contrast_time.csv"
TIME_FIRSTS_FILE = "contrast_time_first.csv"
EVENTS_FILE = "events.json"


class TableFile:
    """A table in Parquet (a run's units or documents), read whole or a few columns at a time.

    A run writes its unit table here one row group at a time (``append``), into an unnamed temporary file, so the
    table of a million units is never whole in memory and nothing is left behind if the process dies; a loaded
    run keeps its ``units.parquet`` and ``documents.parquet`` open here, so the report reads the columns it draws
    and not the texts. Files are held open: a run folder replaced after loading still reads as it was.
    """

    def __init__(self, handle: BinaryIO, name: str) -> None:
        self._handle, self.name = handle, name
        self._writer = None
        self._closer = weakref.finalize(self, handle.close)  # closed with the table, even if nobody closes it

    @classmethod
    def scratch(cls, name: str, folder: str | Path | None = None) -> "TableFile":
        """An empty table to ``append`` to (``name``: the file it will be saved as), in ``folder`` (the system's
        temporary folder without one)."""
        return cls(tempfile.TemporaryFile(dir=folder, prefix=".table-"), name)

    @classmethod
    def open(cls, path: str | Path) -> "TableFile":
        """A saved table (``units.parquet``, ``documents.parquet``), read only."""
        path = Path(path)
        return cls(open(path, "rb"), path.name)

    def append(self, rows: pd.DataFrame) -> None:
        """Write ``rows`` as the next row group; the first call fixes the schema (later rows must match it)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._writer is None:
            self._writer = pq.ParquetWriter(self._handle, pa.Schema.from_pandas(rows, preserve_index=False))
        self._writer.write_table(pa.Table.from_pandas(rows, schema=self._writer.schema, preserve_index=False))

    def finish(self) -> "TableFile":
        """End writing (the file's footer); the table can be read from here on."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return self

    def _parquet(self):
        import pyarrow.parquet as pq

        self._handle.seek(0)
        return pq.ParquetFile(self._handle)

    @property
    def columns(self) -> list[str]:
        return list(self._parquet().schema_arrow.names)

    def __len__(self) -> int:
        return self._parquet().metadata.num_rows

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The table, or these of its columns, as pandas gives them (categoricals and all)."""
        self._handle.seek(0)
        try:
            return pd.read_parquet(self._handle, columns=None if columns is None else list(columns))
        except (OSError, ValueError) as exc:  # pyarrow's errors for a damaged file are ValueErrors
            raise FramingError(f"cannot read {self.name}: {exc}") from None

    def copy_to(self, path: str | Path) -> None:
        """Write the file to ``path`` as it is (a run folder's ``units.parquet``)."""
        self._handle.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(self._handle, out, 1 << 20)

    def close(self) -> None:
        self.finish()
        self._closer()


class _Table:
    """A table of a ``Result``: a DataFrame, or a ``TableFile`` until it is first read whole (then the DataFrame,
    which a user may change, is the table to save)."""

    __slots__ = ("_frame", "_file")

    def __init__(self, table: pd.DataFrame | TableFile) -> None:
        self._frame, self._file = (table, None) if isinstance(table, pd.DataFrame) else (None, table)

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = self._file.read()
            self._file.close()
            self._file = None
        return self._frame

    def columns(self, wanted: Sequence[str]) -> pd.DataFrame:
        wanted = set(wanted)
        names = [name for name in (self._frame.columns if self._file is None else self._file.columns) if name in wanted]
        return self._frame[names] if self._file is None else self._file.read(names)

    def save(self, path: Path) -> None:
        if self._file is None:
            write_parquet(self._frame, path)
        else:
            self._file.copy_to(path)  # written a row group at a time, as it is

    def __len__(self) -> int:
        return len(self._frame) if self._file is None else len(self._file)


class _TableAttribute:
    """A ``Result`` table as an attribute: a DataFrame when read, whichever way it is held (``_Table``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, result: Any, owner: type | None = None) -> Any:
        return self if result is None else getattr(result, self.slot).frame()

    def __set__(self, result: Any, table: pd.DataFrame | TableFile) -> None:
        setattr(result, self.slot, _Table(table))


class Result:
    """What a run found.

    Attributes:
        units: one row per unit (``unit_id, doc_id, source, start, end, text, framing, probability, x, y`` and
            metadata columns); ``framing == -1`` means unassigned. Strings that repeat from row to row (a
            document's id, source, title, date, url and metadata, ``section``, ``framing_label``, frames, time bins)
            are pandas categoricals; ``.astype(str)`` gives plain strings. A run keeps its table on disk (a
            ``TableFile``) until ``units`` is first read; ``unit_columns`` reads a few columns without the rest.
        framings: the described framings, by id (largest first, unless ids were carried over from an earlier run
            whose framings they match: see ``manifest["matching"]``).
        documents: one row per document with its full text, so every unit can be shown in context (on disk, as
            ``units``, until first read).
        manifest: the run's record (config, versions, model fingerprint, input hashes, counts, timings).
        contrast_data: the contrast between sources or groups (``None`` when ``contrast.enabled`` is off);
            ``Result.contrast(...)`` reads it.
        frames_data: the frames stage's summary (what frames.json holds: method, frames, labels, cross-validation,
            shares); ``None`` without ``frames.codebook`` or ``frames.labels``. Per-unit frames are in ``units``.
        frames_contrast: the same contrast with frames in place of framings (``framing`` columns hold frame
            indices, ``label`` their names); ``Result.contrast(..., by="frames")`` reads it.
        over_time_data: shares per time bin and each group's first and peak bin (``None`` with ``time.enabled``
            off); ``Result.over_time(...)`` reads it.
        hierarchy_data: the tree of broader framings above the framings (``None`` with ``hierarchy.enabled`` off
            or fewer than two framings); ``Result.hierarchy()`` and ``Result.at_level()`` read it.
        framing_centroids: each framing's centre (mean unit embedding, unit length), a row per framing in the
            order of ``framings``: what the next run matches its framings to.
        events_data: which documents tell the same story (``None`` with events off): each document's event and each
            event's label, dates, documents, sources and size; ``Result.events`` reads it.
    """

    units = _TableAttribute()
    documents = _TableAttribute()

    def __init__(self, units: pd.DataFrame | TableFile, framings: list[Framing], documents: pd.DataFrame | TableFile,
                 manifest: dict[str, Any] | None = None, contrast_data: Contrast | None = None,
                 frames_data: dict[str, Any] | None = None, frames_contrast: Contrast | None = None,
                 over_time_data: OverTime | None = None, framing_centroids: np.ndarray | None = None,
                 hierarchy_data: Hierarchy | None = None, events_data: Events | None = None) -> None:
        self.units, self.documents = units, documents
        self.framings = framings
        self.manifest = manifest if manifest is not None else {}
        self.contrast_data = contrast_data
        self.frames_data = frames_data
        self.frames_contrast = frames_contrast
        self.over_time_data = over_time_data
        self.framing_centroids = framing_centroids
        self.hierarchy_data = hierarchy_data
        self.events_data = events_data

    def unit_columns(self, columns: Sequence[str]) -> pd.DataFrame:
        """These columns of the unit table (those it has, in its order), without reading the others from disk
        when ``units`` has not been read: the report takes the positions and codes it draws, not the texts."""
        return self._units.columns(columns)

    def __getstate__(self) -> dict[str, Any]:  # a pickled run carries its tables, not open files
        return {**self.__dict__, "_units": _Table(self.units), "_documents": _Table(self.documents)}

    def __repr__(self) -> str:
        return (f"Result({len(self._units):,} units, {len(self.framings)} framings, {len(self._documents):,} "
                f"documents, run {self.manifest.get('config', {}).get('run', {}).get('name', '?')!r})")

    def hierarchy(self) -> pd.DataFrame:
        """The tree above the framings: a row per node (framings and their parents) with its ``parent``,
        ``height`` (0 for a framing), ``size``, ``label``, ``terms`` and, for parents, the ``leaves`` (framing
        ids) below it. Empty when the run has no hierarchy."""
        columns = ["id", "parent", "height", "size", "label", "terms", "leaves"]
        if self.hierarchy_data is None:
            return pd.DataFrame(columns=columns)
        tree = self.hierarchy_data
        rows = [(f.id, tree.parent_of.get(f.id), 0, f.size, f.label, f.terms, [f.id]) for f in self.framings]
        rows += [(p.id, tree.parent_of.get(p.id), p.height, p.size, p.label, p.terms, p.leaves) for p in tree.parents]
        table = pd.DataFrame(rows, columns=columns)
        table["parent"] = table["parent"].astype("Int64")
        return table

    def at_level(self, level: int) -> pd.Series:
        """Each unit's framing at ``level`` of the hierarchy (0: the framings; 1: their parents...), indexed by
        unit id; -1 is unassigned."""
        self._check_level(level)
        labels = self.units["framing"].to_numpy()
        at = level_labels(labels, self.hierarchy_data, level) if level else labels
        return pd.Series(at, index=self.units["unit_id"], name=f"level_{level}")

    def over_time(self, group: str | None = None, framing: int | None = None, by: str = "framings",
                  firsts: bool = False, group_by: str | None = None, groups: dict[str, list[str]] | None = None,
                  level: int | None = None, bin: str | None = None) -> pd.DataFrame:
        """Each framing's share of the distinct units per time bin (``run.json``'s ``time.bin``), with a 95%
        bootstrap interval over documents: rows ``bin, group, framing, label, units, bin_units, share, low, high``.
        ``group``: one contrast group (``"(all)"``: every unit; default: all rows). ``framing``: one framing.
        ``by="frames"``: the frames instead. ``firsts``: per group and framing the first bin it was used and the
        bin of its highest share (who moved first).

        ``group_by`` / ``groups`` (another grouping), ``level`` (the broader framings of a level of the tree) or
        ``bin`` (``day``, ``week``, ``month``): computed from the saved unit table in seconds, nothing embedded or
        clustered again; under the run's own settings, the run's own figures."""
        if by not in ("framings", "frames"):
            raise FramingError(f"over_time by {by!r}: framings or frames")
        if any(x is not None for x in (group_by, groups, level, bin)):
            data = self._regrouped_time(group_by, groups, by, level or 0, bin)
        elif self.over_time_data is None:
            raise FramingError("this run has no shares over time (time.enabled is off)")
        else:
            data = self.over_time_data
        table = data.firsts if firsts else data.shares
        rows = table[table["by"] == by] if "by" in table.columns else table.assign(by=by)
        if group is not None:
            groups = sorted(set(rows["group"].astype(str)))
            if group not in groups:  # an empty table would look like a group with no shares
                raise FramingError(f"over_time: no group {group!r}; groups: {', '.join(groups)}")
            rows = rows[rows["group"] == group]
        if framing is not None:
            rows = rows[rows["framing"] == framing]
        return rows.drop(columns="by").reset_index(drop=True)

    def _regrouped_time(self, group_by: str | None, groups: dict[str, list[str]] | None, by: str, level: int,
                        bin: str | None) -> OverTime:
        """Shares over time under another grouping, level or bin, from the unit table (kept per question)."""
        from ..contrast.regroup import regroup_over_time

        if bin is not None and bin not in ("auto", "day", "week", "month"):
            raise FramingError(f"over_time bin {bin!r}: auto, day, week or month")
        if by == "frames" and not (self.frames_data or {}).get("frames"):
            raise FramingError("this run has no frames (it had no frames.codebook or frames.labels)")
        if by == "frames" and level:
            raise FramingError("a level of the tree groups framings, not frames: by='framings' with level")
        config = self.manifest.get("config", {})
        contrast, time_settings = config.get("contrast", {}), config.get("time", {})
        if group_by is None and groups is None:
            group_by, groups = contrast.get("group_by"), contrast.get("groups")
        key = json.dumps([group_by, groups, by, level, bin], sort_keys=True, default=str)
        cache = self.__dict__.setdefault("_regrouped_times", {})
        if key not in cache:
            labels, names = self._distinct_at_level(level)
            cache[key] = regroup_over_time(
                self.units, names, group_by=group_by, groups=groups, members=contrast.get("members", "all"),
                bin=bin or time_settings.get("bin", "auto"), bootstrap=time_settings.get("bootstrap", 200),
                dayfirst=time_settings.get("dayfirst", False), seed=self.manifest.get("seed", 42),
                frame_names=list(self.frames_data["frames"]) if by == "frames" else None, labels=labels)
        return cache[key]

    @property
    def frame_gaps(self) -> dict[str, list[str]]:
        """What the run's frame labels leave open: ``without_labels`` (frames no label names, so the classifier knows
        them only from the codebook) and ``untested`` (frames with too few labels to be tested by cross-validation).
        Empty lists when every frame is labelled and tested, or the run had no labels."""
        data = self.frames_data or {}
        labels, validation = data.get("labels") or {}, data.get("validation") or {}
        return {"without_labels": list(labels.get("frames_without_labels", [])),
                "untested": list(validation.get("untested_frames", []))}

    @property
    def events(self) -> pd.DataFrame:
        """The events (which documents tell the same story): a row per event with its ``id``, ``label`` (its most
        central title or passage), ``first`` and ``last`` dates, ``documents``, ``sources`` and ``size`` (units).
        Each unit's and document's event is the ``event`` column of ``units`` and ``documents``. An empty table
        when the run found none (``events.enabled`` false, or one source)."""
        if self.events_data is None:
            return pd.DataFrame(columns=["id", "label", "first", "last", "documents", "sources", "size"])
        return events_table(self.events_data)

    @property
    def stability(self) -> pd.DataFrame:
        """Each framing's stability (``framing.framings.stability``): a row per framing with its ``id``, ``label``,
        ``size``, ``core``, ``stability`` (median best Jaccard of its core members over re-clusterings of document
        subsamples, in [0, 1]; NaN where not measured) and ``unstable`` (below ``stability.threshold``), most stable
        first. The run-level figures (mean ARI between re-clusterings, runs, fraction, threshold) are in
        ``manifest["stability"]``; an empty table when the run measured none (``stability.runs`` 0)."""
        columns = ["id", "label", "size", "core", "stability", "unstable"]
        settings = self.manifest.get("stability")
        if not settings:
            return pd.DataFrame(columns=columns)
        rows = [{"id": f.id, "label": f.label, "size": f.size, "core": f.core,
                 "stability": np.nan if f.stability is None else f.stability,
                 "unstable": f.stability is None or f.stability < settings["threshold"]} for f in self.framings]
        return (pd.DataFrame(rows, columns=columns).sort_values(["stability", "id"], ascending=[False, True],
                                                                 kind="stable", na_position="last")
                .reset_index(drop=True))

    def framing(self, framing_id: int) -> Framing:
        """The framing with this id."""
        for framing in self.framings:
            if framing.id == framing_id:
                return framing
        raise KeyError(f"no framing {framing_id}; ids: {[f.id for f in self.framings]}")

    def passages(self, framing_id: int, n: int | None = None) -> pd.DataFrame:
        """The units of a framing, exemplars first, then by membership probability (``-1``: unassigned)."""
        rows = self.units[self.units["framing"] == framing_id]
        if framing_id != UNASSIGNED:
            rank = {unit_id: i for i, unit_id in enumerate(self.framing(framing_id).exemplars)}
            rows = rows.assign(_rank=rows["unit_id"].map(rank).fillna(len(rank)))
            rows = rows.sort_values(["_rank", "probability"], ascending=[True, False], kind="stable")
            rows = rows.drop(columns="_rank")
        return (rows if n is None else rows.head(n)).reset_index(drop=True)

    def context(self, unit_id: str, before: int = 2, after: int = 2) -> pd.DataFrame:
        """The unit with up to ``before``/``after`` neighbouring units of its document."""
        row = self.units.loc[self.units["unit_id"] == unit_id]
        if row.empty:
            raise KeyError(f"no unit {unit_id!r}")
        doc_units = self.units[self.units["doc_id"] == row["doc_id"].iloc[0]].sort_values("start")
        position = doc_units.index.get_loc(row.index[0])
        return doc_units.iloc[max(position - before, 0) : position + after + 1].reset_index(drop=True)

    def contrast(self, group_a: str | None = None, group_b: str | None = None, framing: int | None = None,
                 by: str = "framings", within: str | None = None, group_by: str | None = None,
                 groups: dict[str, list[str]] | None = None, pairs: list[list[str]] | None = None,
                 level: int | None = None, progress: bool | None = False):
        """How sources (or groups) tell the same events differently.

        No arguments: the whole ``Contrast`` (tables, test, divergences, words, narratives, codebook, axes).
        Two groups: a dict with their ``shares`` (framing × group, with 95% intervals), their ``divergence``,
        the ``words`` that separate them (per framing, positive z: ``group_a``) and the ``narratives`` — each
        group's most typical passages of a framing side by side, as text. ``framing`` narrows to one framing.
        ``by="frames"``: the same over the codebook's frames (``framing`` then is a frame's index).

        ``within="events"``: the groups compared within events (how they tell the stories both covered, apart
        from which stories they chose). No groups: everything contrast.json's ``within_events`` holds. Two
        groups: a dict with the stratified ``test``, their ``shares`` per event (event × framing × group), the
        per-event ``divergence``, ``agenda_framing`` (the corpus-wide difference split into the part from their
        event mix and the part from how they tell shared events, with 95% intervals), the ``words`` that separate
        them within events (their own source names left out) and side-by-side ``passages`` per event and framing,
        as text.

        ``group_by`` (a metadata column, ``source`` or ``section``) or ``groups`` (name → sources), with ``pairs``:
        the same questions under another grouping, over framings or (``by="frames"``) frames, computed from the
        saved unit table in seconds — nothing is embedded or clustered again; ``level`` (1, 2, ...): the broader
        framings of that level of the tree compared instead (``0``: the framings), so a regrouped contrast has none; run the corpus with that grouping for them).
        ``progress``: a bar naming the step a regrouping is at (None: on a terminal).
        """
        if by not in ("framings", "frames"):
            raise FramingError(f"contrast by {by!r}: framings or frames")
        if within not in (None, "events"):
            raise FramingError(f"contrast within {within!r}: events, or none for the whole corpus")
        data = self.contrast_data if by == "framings" else self.frames_contrast
        if group_by is not None or groups is not None or level is not None:
            if by == "frames" and not (self.frames_data or {}).get("frames"):
                raise FramingError("this run has no frames to contrast (it had no frames.codebook or frames.labels)")
            if by == "frames" and level:
                raise FramingError("a level of the tree groups framings, not frames: by='framings' with level")
            if group_by is None and groups is None:  # the run's own grouping, at another level
                settings = self.manifest.get("config", {}).get("contrast", {})
                group_by, groups = settings.get("group_by"), settings.get("groups")
            data = self._regrouped(group_by, groups, pairs, by, level or 0, progress)
        if data is None:
            raise FramingError("this run has no contrast" + (" over frames (it has no frames.codebook or "
                                                             "frames.labels)" if by == "frames" else
                                                             " (contrast.enabled was off)"))
        if within == "events":
            return self._within_events(data, group_a, group_b, framing)
        if group_a is None and group_b is None:
            return data
        _check_pair(list(data.groups), group_a, group_b)
        text_of = dict(zip(self.units["unit_id"], self.units["text"]))
        table = data.table[data.table["group"].isin([group_a, group_b])]
        values = ["share", "low", "high"] + (["interval"] if "interval" in table.columns else [])
        shares = table.pivot(index=["framing", "label"], columns="group", values=values)
        framings = [framing] if framing is not None else sorted({int(f) for f in data.words["framing"]} |
                                                                 {n["framing"] for n in data.narratives})
        words = pd.concat([data.words_for(f, group_a, group_b) for f in framings], ignore_index=True) \
            if framings else data.words.iloc[0:0]
        narratives = []
        for item in data.narratives:
            if item["framing"] not in framings or {item["group_a"], item["group_b"]} != {group_a, group_b}:
                continue
            a_key, b_key = ("passages_a", "passages_b") if item["group_a"] == group_a else ("passages_b", "passages_a")
            narratives.append({"framing": item["framing"], "label": item["label"],
                               group_a: [text_of[u] for u in item[a_key]], group_b: [text_of[u] for u in item[b_key]]})
        return {"shares": shares, "divergence": float(data.divergence.loc[group_a, group_b]), "words": words,
                "narratives": narratives, "test": data.test}

    def _check_level(self, level: int) -> None:
        if level and self.hierarchy_data is None:
            raise FramingError("this run has no hierarchy (hierarchy.enabled was off, or it found fewer than two "
                               "framings)")
        if level and level > len(self.hierarchy_data.levels):
            raise FramingError(f"level {level}: this run's hierarchy has levels 0 to {len(self.hierarchy_data.levels)}")

    def _distinct_at_level(self, level: int) -> tuple[np.ndarray | None, dict[int, str]]:
        """The distinct units' labels at ``level`` of the tree (None at level 0: the framings) and every label's
        name (framings and parents)."""
        names = {f.id: f.label for f in self.framings}
        if not level:
            return None, names
        self._check_level(level)
        names.update({p.id: p.label for p in self.hierarchy_data.parents})
        distinct = self.units[self.units["duplicate_of"].astype(str) == ""] if "duplicate_of" in self.units.columns \
            else self.units
        return level_labels(distinct["framing"].to_numpy(), self.hierarchy_data, level), names

    def _regrouped(self, group_by: str | None, groups: dict[str, list[str]] | None,
                   pairs: list[list[str]] | None, by: str = "framings", level: int = 0,
                   progress: bool | None = False) -> Contrast:
        """The contrast under another grouping or level, from the unit table (kept, per question, for this
        Result)."""
        from ..contrast.regroup import regroup

        key = json.dumps([group_by, groups, pairs, by, level], sort_keys=True, default=str)
        cache = self.__dict__.setdefault("_regroupings", {})
        if key not in cache:
            settings = self.manifest.get("config", {}).get("contrast", {})
            labels, names = self._distinct_at_level(level)
            cache[key] = regroup(
                self.units, names, group_by=group_by, groups=groups,
                pairs=pairs, members=settings.get("members", "all"), bootstrap=settings.get("bootstrap", 1000),
                permutations=settings.get("permutations", 1000), min_units=settings.get("min_units", 5),
                top_words=settings.get("top_words", 15), seed=self.manifest.get("seed", 42),
                events=self.events_data.events if self.events_data is not None else None,
                frame_names=list(self.frames_data["frames"]) if by == "frames" else None, labels=labels,
                progress=progress)
        return cache[key]

    def _within_events(self, data: Contrast, group_a: str | None, group_b: str | None, framing: int | None):
        within = data.within_events
        if within is None:
            raise FramingError("this run has no events to compare within (events.enabled was off, or the corpus has "
                               "one source): run it again with events.enabled: true")
        if group_a is None and group_b is None:
            return within
        _check_pair(list(data.groups), group_a, group_b)
        pair = {group_a, group_b}
        text_of = dict(zip(self.units["unit_id"], self.units["text"]))
        shares = pd.DataFrame(within["shares"], columns=["event", "group", "framing", "label", "count", "share"])
        shares = shares[shares["group"].isin(pair)]
        if framing is not None:
            shares = shares[shares["framing"] == framing]

        def flipped(item: dict) -> bool:
            return item["group_a"] != group_a

        parts = next((p for p in within["agenda_framing"] if {p["group_a"], p["group_b"]} == pair), None)
        words = [dict(w, side={"a": "b", "b": "a"}[w["side"]], z=-w["z"]) if flipped(w) else w
                 for w in within["words"] if {w["group_a"], w["group_b"]} == pair]
        passages = []
        for item in within["passages"]:
            if {item["group_a"], item["group_b"]} != pair or (framing is not None and item["framing"] != framing):
                continue
            a_key, b_key = ("passages_b", "passages_a") if flipped(item) else ("passages_a", "passages_b")
            passages.append({"event": item["event"], "event_label": item["event_label"], "framing": item["framing"],
                             "label": item["label"], group_a: [text_of[u] for u in item[a_key]],
                             group_b: [text_of[u] for u in item[b_key]]})
        return {"test": within["test"], "shares": shares.reset_index(drop=True),
                "divergence": pd.DataFrame([d for d in within["divergence"] if {d["group_a"], d["group_b"]} == pair]),
                "agenda_framing": parts, "words": pd.DataFrame(words), "passages": passages}

    def figure(self):
        """The 2-d map as a plotly Figure (one trace per framing; hover shows each unit's text)."""
        from ..report import map_figure

        return map_figure(self)

    def save(self, directory: str | Path, extra_files: Mapping[str, Callable[[Path], Any]] | None = None) -> Path:
        """Write the run's data to the folder ``directory``, atomically; returns its path.

        Saving writes data only; the report is the run's and the CLI's to write (``framing.save_run`` writes both).
        ``extra_files`` (a run-folder file name → a function that writes that file at the path it is given)
        joins the same atomic step, so a folder is never left with data but half a report."""
        directory = Path(directory)
        with atomic_folder(directory) as staging:
            self._units.save(staging / UNIT_FILE)
            self._documents.save(staging / DOCUMENT_FILE)
            (staging / FRAMING_FILE).write_text(
                json.dumps([f.to_dict() for f in self.framings], indent=2, ensure_ascii=False), encoding="utf-8")
            if self.hierarchy_data is not None:
                (staging / HIERARCHY_FILE).write_text(json.dumps(self.hierarchy_data.to_dict(), indent=1,
                                                                 ensure_ascii=False), encoding="utf-8")
            if self.framing_centroids is not None:
                np.save(staging / CENTROIDS_FILE, np.asarray(self.framing_centroids, dtype=np.float32))
            if self.contrast_data is not None:
                _save_contrast(self.contrast_data, staging)
            if self.frames_contrast is not None:
                (staging / FRAMES_CONTRAST_FILE).write_text(json.dumps(self.frames_contrast.to_dict(), indent=1,
                                                                       ensure_ascii=False, allow_nan=False),
                                                            encoding="utf-8")
            if self.over_time_data is not None:
                self.over_time_data.shares.to_csv(staging / TIME_FILE, index=False)
                self.over_time_data.firsts.to_csv(staging / TIME_FIRSTS_FILE, index=False)
            if self.events_data is not None:
                (staging / EVENTS_FILE).write_text(json.dumps(json_safe(self.events_data.to_dict()), indent=1,
                                                              ensure_ascii=False, allow_nan=False), encoding="utf-8")
            if self.frames_data is not None:
                (staging / FRAMES_FILE).write_text(json.dumps(json_safe(self.frames_data), indent=1,
                                                              ensure_ascii=False, allow_nan=False), encoding="utf-8")
            for name, write in (extra_files or {}).items():
                if name not in RUN_FILES:
                    raise ValueError(f"{name!r} is not a run folder's file ({', '.join(sorted(RUN_FILES))})")
                write(staging / name)
            # Last, and listing what was written: a folder is framing's to replace only if it holds just these.
            manifest = {**self.manifest, "files": sorted([*list_files(staging), MANIFEST_FILE])}
            (staging / MANIFEST_FILE).write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        return directory


def _check_pair(names: list[str], group_a: str | None, group_b: str | None) -> None:
    """Two different groups of the contrast, or a KeyError naming the groups there are."""
    for name in (group_a, group_b):
        if name not in names:
            raise KeyError(f"no group {name!r}; groups: {names}")
    if group_a == group_b:
        raise KeyError(f"a contrast compares two different groups; {group_a!r} was given twice (groups: {names})")


def write_parquet(frame: pd.DataFrame, path: Path, rows: int = ROW_GROUP_ROWS) -> None:
    """Write ``frame`` to Parquet one row group of ``rows`` rows at a time: only one group is ever converted to
    Arrow (``DataFrame.to_parquet`` converts the whole table first, a second copy of a million-unit table), and
    readers (framing serve, pyarrow, DuckDB) can take the run a part at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.Schema.from_pandas(frame, preserve_index=False)  # one schema, so no slice infers its own
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, len(frame), rows):
            writer.write_table(pa.Table.from_pandas(frame.iloc[start:start + rows], schema=schema,
                                                    preserve_index=False))


def _save_contrast(contrast: Contrast, folder: Path) -> None:
    (folder / CONTRAST_FILE).write_text(json.dumps(contrast.to_dict(), indent=1, ensure_ascii=False,
                                                   allow_nan=False), encoding="utf-8")
    contrast.table.to_csv(folder / "contrast_table.csv", index=False)
    contrast.divergence.to_csv(folder / "contrast_divergence.csv")
    words = contrast.words.copy()
    words["unit_ids"] = words["unit_ids"].map("; ".join)
    words.to_csv(folder / "contrast_words.csv", index=False)
    if contrast.codebook:
        pd.DataFrame(contrast.codebook["by_framing"]).to_csv(folder / "contrast_codebook.csv", index=False)
    if contrast.axes:
        pd.DataFrame([{"axis": a["name"], **g, "spread": a["spread"], "p_value": a["p_value"]}
                      for a in contrast.axes for g in a["groups"]]).to_csv(folder / "contrast_axes.csv", index=False)


def _load_contrast(path: Path) -> Contrast:
    data = json.loads(path.read_text("utf-8"))
    words = pd.DataFrame(data["words"], columns=["framing", "group_a", "group_b", "side", "word", "z", "delta",
                                                 "count_a", "count_b", "unit_ids"])
    matrix = data["divergence"]
    table = pd.DataFrame(data["table"]).astype({"low": float, "high": float})  # null intervals back to NaN
    if "interval" in table.columns:
        table["interval"] = table["interval"].fillna("")
    return Contrast(groups=data["groups"], grouping=data["grouping"], table=table,
                    test=data["test"],
                    divergence=pd.DataFrame(matrix["matrix"], index=matrix["groups"], columns=matrix["groups"]),
                    words=words, narratives=data["narratives"], subframings=data["subframings"],
                    codebook=data.get("codebook"), axes=data.get("axes", []),
                    members=str(data.get("members", "core and attached")), within_events=data.get("within_events"))


# What every reader of a run folder relies on: a folder without them is damaged, said in one line.
REQUIRED_UNIT_COLUMNS = ("unit_id", "doc_id", "start", "end", "text", "framing", "x", "y")
REQUIRED_DOCUMENT_COLUMNS = ("doc_id", "text")


@contextmanager
def _reading(directory: Path, name: str) -> Iterator[None]:
    """Errors while reading ``name`` of a run folder become "cannot read run folder X: NAME: what is wrong"."""
    try:
        yield
    except FramingError as exc:
        raise FramingError(f"cannot read run folder {directory}: {name}: {exc}") from None
    except (ValueError, OSError, TypeError, KeyError, IndexError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0][:160]
        raise FramingError(f"cannot read run folder {directory}: {name}: {reason or type(exc).__name__}") from None


def _read_json(path: Path) -> Any:
    with open(path, "rb") as handle:
        return json.loads(handle.read())


def _read_framings(path: Path) -> list[Framing]:
    data = _read_json(path)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ValueError("not a list of framings")
    framings = []
    for item in data:
        if not isinstance(item.get("id"), int) or isinstance(item.get("id"), bool):
            raise ValueError("a framing without a whole-number id")
        framings.append(Framing.from_dict(item))
    if len({f.id for f in framings}) != len(framings):
        raise ValueError("two framings share an id")
    return framings


def _check_columns(table: "TableFile", required: Sequence[str]) -> None:
    missing = [name for name in required if name not in table.columns]
    if missing:
        raise ValueError(f"it has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}")


def _check_framing_ids(units: "TableFile", framings: list[Framing]) -> None:
    used = pd.unique(units.read(columns=["framing"])["framing"].to_numpy())
    known = {f.id for f in framings}
    unknown = sorted(int(i) for i in used if int(i) != -1 and int(i) not in known)
    if unknown:
        raise ValueError(f"units.parquet has framing {unknown[0]}{' and more' if len(unknown) > 1 else ''}, which "
                         "framings.json does not list (the two files are not of one run)")


def load_result(directory: str | Path) -> Result:
    """Load a saved run folder back into a ``Result`` (nothing is embedded or clustered again).

    Every file is checked as it is read; a damaged or mismatched one is a ``FramingError`` naming it."""
    directory = Path(directory)
    missing = [name for name in (UNIT_FILE, DOCUMENT_FILE, FRAMING_FILE, MANIFEST_FILE)
               if not (directory / name).is_file()]
    if missing:
        raise FramingError(f"{directory} is not a framing run folder (missing {', '.join(missing)})")
    with _reading(directory, FRAMING_FILE):
        framings = _read_framings(directory / FRAMING_FILE)
    with _reading(directory, MANIFEST_FILE):
        manifest = _read_json(directory / MANIFEST_FILE)
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    # read when asked for; a file that is not Parquet (or lost its end) fails here, a damaged row group when
    # it is read (also a FramingError)
    with _reading(directory, UNIT_FILE):
        units = TableFile.open(directory / UNIT_FILE)
        len(units)
        _check_columns(units, REQUIRED_UNIT_COLUMNS)
    with _reading(directory, FRAMING_FILE):
        _check_framing_ids(units, framings)
    with _reading(directory, DOCUMENT_FILE):
        documents = TableFile.open(directory / DOCUMENT_FILE)
        len(documents)
        _check_columns(documents, REQUIRED_DOCUMENT_COLUMNS)
    contrast = frames = frames_contrast = over_time = centroids = hierarchy = None
    if (directory / CONTRAST_FILE).is_file():
        with _reading(directory, CONTRAST_FILE):
            contrast = _load_contrast(directory / CONTRAST_FILE)
    if (directory / FRAMES_FILE).is_file():
        with _reading(directory, FRAMES_FILE):
            frames = _read_json(directory / FRAMES_FILE)
    if (directory / FRAMES_CONTRAST_FILE).is_file():
        with _reading(directory, FRAMES_CONTRAST_FILE):
            frames_contrast = _load_contrast(directory / FRAMES_CONTRAST_FILE)
    if (directory / TIME_FILE).is_file() and (directory / TIME_FIRSTS_FILE).is_file():
        with _reading(directory, TIME_FILE):
            text = {"bin": str, "group": str, "label": str, "first": str, "peak": str}
            over_time = OverTime(bin=manifest.get("time", {}).get("bin", ""),
                                 shares=pd.read_csv(directory / TIME_FILE, dtype=text, keep_default_na=False,
                                                    na_values=[""]),
                                 firsts=pd.read_csv(directory / TIME_FIRSTS_FILE, dtype=text, keep_default_na=False),
                                 dates=manifest.get("time", {}).get("dates", {}))
    if (directory / CENTROIDS_FILE).is_file():
        with _reading(directory, CENTROIDS_FILE):
            centroids = np.load(directory / CENTROIDS_FILE, allow_pickle=False)
            if centroids.ndim != 2 or centroids.dtype.kind != "f":
                raise ValueError(f"not a matrix of centres (shape {centroids.shape}, dtype {centroids.dtype})")
    if (directory / HIERARCHY_FILE).is_file():
        with _reading(directory, HIERARCHY_FILE):
            hierarchy = Hierarchy.from_dict(_read_json(directory / HIERARCHY_FILE))
    events = None
    if (directory / EVENTS_FILE).is_file():
        with _reading(directory, EVENTS_FILE):
            events = _read_events(directory / EVENTS_FILE, documents)
    return Result(units=units, framings=framings, documents=documents, manifest=manifest, contrast_data=contrast,
                  frames_data=frames, frames_contrast=frames_contrast, over_time_data=over_time,
                  framing_centroids=centroids, hierarchy_data=hierarchy, events_data=events)


def _read_events(path: Path, documents: "TableFile") -> Events:
    """events.json, with each document's event from documents.parquet's ``event`` column."""
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise ValueError("not an events file (an object with a list of events)")
    if "event" not in documents.columns:
        raise ValueError(f"{DOCUMENT_FILE} has no event column")
    doc_event = documents.read(["event"])["event"].to_numpy(dtype=np.int64)
    return Events(doc_event=doc_event, events=data["events"], method=str(data.get("method", "")),
                  settings=dict(data.get("settings") or {}))
