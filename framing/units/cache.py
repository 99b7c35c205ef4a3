"""The units stage's results on disk: a re-run of the same corpus with the same units settings segments nothing
and groups no duplicates again (at a million units that stage takes minutes; loading it takes seconds).

Keyed by the SHA-256 of every document's id, date and text, the units settings, and the source of the modules
that decide units (``units``, ``sections``, ``duplicates``), so any change to the input, the settings or the
rules computes afresh. Stored as one ``.npz`` per key under ``<embedding.cache_dir>/units/``, written to a
temporary name and renamed into place; an entry that cannot be read is computed again (and replaced).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from . import duplicates, sections
from . import segment as units
from ..corpus.documents import Document
from .duplicates import DuplicateGroups
from .segment import UnitTable

__all__ = ["units_key", "load_units", "store_units"]

log = logging.getLogger(__name__)

_FORMAT = 1


def units_key(documents: Sequence[Document], settings: dict) -> str:
    """The cache key of the units of ``documents`` under ``settings`` (the ``units`` config section)."""
    digest = hashlib.sha256(f"framing-units-{_FORMAT}".encode())
    for module in (units, sections, duplicates):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for document in documents:
        for value in (document.id, document.date or "", document.text):
            encoded = value.encode("utf-8", "surrogatepass")
            digest.update(len(encoded).to_bytes(8, "little"))
            digest.update(encoded)
    return digest.hexdigest()[:32]


def _path(cache_dir: str | Path, key: str) -> Path:
    return Path(cache_dir).expanduser() / "units" / f"{key}.npz"


def load_units(cache_dir: str | Path, key: str, documents: Sequence[Document]
               ) -> tuple[UnitTable, np.ndarray, DuplicateGroups] | None:
    """Every unit (all sections), which of them are analysed, and their duplicate groups; None when not stored."""
    path = _path(cache_dir, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        table = UnitTable(documents, arrays["document"], arrays["index"], arrays["start"], arrays["end"],
                          arrays["section"], [str(s) for s in arrays["section_names"]])
        if len(table) and (table.doc.max() >= len(documents) or table.section.max() >= len(table.section_names)):
            raise ValueError("it points past the documents or the section names")
        return table, arrays["analysed"], DuplicateGroups(group=arrays["group"],
                                                         representative=arrays["representative"])
    except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as exc:
        log.warning("the stored units %s could not be read (%s); they are computed again", path, exc)
        return None


def store_units(cache_dir: str | Path, key: str, all_units: UnitTable, analysed: np.ndarray,
                groups: DuplicateGroups) -> None:
    """Store the units stage's results (best effort: a cache that cannot be written is only a warning)."""
    path = _path(cache_dir, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, document=all_units.doc, index=all_units.index, start=all_units.start, end=all_units.end,
                     section=all_units.section.astype(np.int64),
                     section_names=np.array(all_units.section_names, dtype=str),
                     analysed=np.asarray(analysed, dtype=bool), group=groups.group,
                     representative=groups.representative)
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("the units could not be stored in %s (%s); the next run computes them again", path.parent, exc)
