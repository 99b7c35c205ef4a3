"""The in-memory outcome of a run, and its files: save it to a run folder, load it back.

A run folder holds ``units.parquet`` (one row per unit), ``documents.parquet`` (the texts the offsets point
into), ``framings.json``, ``run.json`` (the manifest) and ``report.html``. Folders are written to a temporary
sibling and moved into place, so an interrupted or failed run never leaves a half-written folder behind.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from .errors import FramingError
from .framings import UNASSIGNED, Framing

__all__ = ["Result", "load_result", "atomic_folder", "write_file_atomically"]

UNIT_FILE = "units.parquet"
DOCUMENT_FILE = "documents.parquet"
FRAMING_FILE = "framings.json"
MANIFEST_FILE = "run.json"
REPORT_FILE = "report.html"


@contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target``, on error it vanishes."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FramingError(f"cannot create output folder {target.parent}: {exc.strerror}") from None
    if target.exists() and not target.is_dir():
        raise FramingError(f"output path {target} exists and is not a folder")
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    # mkdtemp makes a private folder; a run folder gets the permissions of any folder the user creates
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    try:
        yield staging
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            target.rename(retired / target.name)
            staging.rename(target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_file_atomically(target: str | Path, write) -> Path:
    """Call ``write(temporary_path)`` beside ``target``, then move the file into place (never half-written)."""
    target = Path(target)
    if not target.parent.is_dir():
        raise FramingError(f"cannot write {target}: folder {target.parent} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


@dataclass
class Result:
    """What a run found.

    Attributes:
        units: one row per unit (``unit_id, doc_id, source, start, end, text, framing, probability, x, y`` and
            metadata columns); ``framing == -1`` means unassigned.
        framings: the described framings, largest first.
        documents: one row per document with its full text, so every unit can be shown in context.
        manifest: the run's record (config, versions, model fingerprint, input hashes, counts, timings).
    """

    units: pd.DataFrame
    framings: list[Framing]
    documents: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

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

    def figure(self):
        """The 2-d map as a plotly Figure (one trace per framing; hover shows each unit's text)."""
        from .report import map_figure

        return map_figure(self)

    def save(self, directory: str | Path, report: bool = True) -> Path:
        """Write the run folder atomically; returns its path."""
        directory = Path(directory)
        with atomic_folder(directory) as staging:
            self.units.to_parquet(staging / UNIT_FILE, index=False)
            self.documents.to_parquet(staging / DOCUMENT_FILE, index=False)
            (staging / FRAMING_FILE).write_text(
                json.dumps([f.to_dict() for f in self.framings], indent=2, ensure_ascii=False), encoding="utf-8")
            (staging / MANIFEST_FILE).write_text(
                json.dumps(self.manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
            if report:
                from .report import write_report

                write_report(self, staging / REPORT_FILE)
        return directory


def load_result(directory: str | Path) -> Result:
    """Load a saved run folder back into a ``Result`` (nothing is embedded or clustered again)."""
    directory = Path(directory)
    missing = [name for name in (UNIT_FILE, DOCUMENT_FILE, FRAMING_FILE, MANIFEST_FILE)
               if not (directory / name).is_file()]
    if missing:
        raise FramingError(f"{directory} is not a framing run folder (missing {', '.join(missing)})")
    try:
        framings = [Framing.from_dict(item) for item in json.loads((directory / FRAMING_FILE).read_text("utf-8"))]
        manifest = json.loads((directory / MANIFEST_FILE).read_text("utf-8"))
        units = pd.read_parquet(directory / UNIT_FILE)
        documents = pd.read_parquet(directory / DOCUMENT_FILE)
    except (ValueError, OSError, TypeError, KeyError) as exc:
        raise FramingError(f"cannot read run folder {directory}: {exc}") from None
    return Result(units=units, framings=framings, documents=documents, manifest=manifest)
