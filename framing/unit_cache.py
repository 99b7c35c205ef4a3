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

from . import duplicates, sections, units
from .corpus import Document
from .duplicates import DuplicateGroups
from .units import Unit, unit_id

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
               ) -> tuple[list[Unit], np.ndarray, DuplicateGroups] | None:
    """Every unit (all sections), which of them are analysed, and their duplicate groups; None when not stored."""
    path = _path(cache_dir, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        names = [str(s) for s in arrays["section_names"]]
        all_units = [Unit(unit_id(documents[d].id, int(i)), documents[d].id, int(i), int(s), int(e),
                          documents[d].text[s:e], names[c])
                     for d, i, s, e, c in zip(arrays["document"].tolist(), arrays["index"].tolist(),
                                              arrays["start"].tolist(), arrays["end"].tolist(),
                                              arrays["section"].tolist())]
        return all_units, arrays["analysed"], DuplicateGroups(group=arrays["group"],
                                                             representative=arrays["representative"])
    except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as exc:
        log.warning("the stored units %s could not be read (%s); they are computed again", path, exc)
        return None


def store_units(cache_dir: str | Path, key: str, documents: Sequence[Document], all_units: Sequence[Unit],
                analysed: np.ndarray, groups: DuplicateGroups) -> None:
    """Store the units stage's results (best effort: a cache that cannot be written is only a warning)."""
    path = _path(cache_dir, key)
    position = {document.id: k for k, document in enumerate(documents)}
    names = sorted({u.section for u in all_units})
    code = {name: k for k, name in enumerate(names)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, document=np.array([position[u.doc_id] for u in all_units], dtype=np.int64),
                     index=np.array([u.index for u in all_units], dtype=np.int64),
                     start=np.array([u.start for u in all_units], dtype=np.int64),
                     end=np.array([u.end for u in all_units], dtype=np.int64),
                     section=np.array([code[u.section] for u in all_units], dtype=np.int64),
                     section_names=np.array(names, dtype=str), analysed=np.asarray(analysed, dtype=bool),
                     group=groups.group, representative=groups.representative)
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("the units could not be stored in %s (%s); the next run computes them again", path.parent, exc)
