"""Named float arrays kept on disk under a content key, verified before use, never unpickled.

An entry is one ``.npz`` (read with ``allow_pickle=False``: a crafted entry in a shared cache folder cannot run
code) holding the arrays and a SHA-256 over their names, dtypes, shapes and bytes. Loading checks the digest, the
names, dtypes and shapes the caller expects, and that every value is finite; an entry that fails any check is
reported (the reason, for one warning line) and removed, so the caller computes it again and stores it anew.
Written to a temporary name and renamed into place, so a killed write never leaves half an entry.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Mapping

import numpy as np

__all__ = ["ArrayEntry", "array_digest"]

log = logging.getLogger(__name__)

_DIGEST = "__sha256__"


def array_digest(arrays: Mapping[str, np.ndarray]) -> bytes:
    """SHA-256 over each array's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.digest()


class ArrayEntry:
    """One cache entry: ``folder/<key>.npz``.

    ``expected`` maps each array's name to its dtype and shape (``None`` in a shape: any length there).
    """

    def __init__(self, folder: str | Path, key: str, expected: Mapping[str, tuple[np.dtype, tuple]]) -> None:
        self.path = Path(folder).expanduser() / f"{key}.npz"
        self.expected = {name: (np.dtype(dtype), tuple(shape)) for name, (dtype, shape) in expected.items()}

    def load(self) -> tuple[dict[str, np.ndarray] | None, str | None]:
        """The stored arrays, or ``None``; with the reason when an entry was there but failed a check (it is
        then removed)."""
        if not self.path.exists() and not self.path.is_symlink():
            return None, None
        try:
            arrays = self._read()
            problem = self._problem(arrays)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            problem = f"unreadable ({type(exc).__name__})"
        if problem is None:
            return {name: arrays[name] for name in self.expected}, None
        self._remove()
        return None, problem

    def _read(self) -> dict[str, np.ndarray]:
        if self.path.is_symlink() or not self.path.is_file():
            raise ValueError("not a plain file")
        with np.load(self.path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}

    def _problem(self, arrays: dict[str, np.ndarray]) -> str | None:
        stored_digest = arrays.pop(_DIGEST, None)
        if set(arrays) != set(self.expected):
            return "other arrays than expected"
        if stored_digest is None or stored_digest.tobytes() != array_digest(arrays):
            return "its checksum does not match"
        for name, (dtype, shape) in self.expected.items():
            array = arrays[name]
            if array.dtype != dtype or array.ndim != len(shape) or any(
                    want is not None and got != want for got, want in zip(array.shape, shape)):
                return f"{name} has dtype {array.dtype} and shape {array.shape}"
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                return f"{name} holds values that are not finite"
        return None

    def _remove(self) -> None:
        try:
            if self.path.is_dir() and not self.path.is_symlink():
                import shutil

                shutil.rmtree(self.path)
            else:
                self.path.unlink(missing_ok=True)
        except OSError as exc:
            log.info("could not remove the damaged cache entry %s: %s", self.path, exc)

    def store(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Store ``arrays`` (best effort: a cache that cannot be written is logged, and the run goes on)."""
        arrays = {name: np.ascontiguousarray(array) for name, array in arrays.items()}
        try:
            folder = self.path.parent
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                folder.unlink()  # a file where the cache's folder should be: the cache's own, never a user's
            folder.mkdir(parents=True, exist_ok=True)
            if self.path.is_dir() and not self.path.is_symlink():
                self._remove()
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".entry-", suffix=".partial")
            try:
                with os.fdopen(handle, "wb") as out:
                    np.savez(out, **arrays, **{_DIGEST: np.frombuffer(array_digest(arrays), dtype=np.uint8)})
                os.replace(temporary, self.path)
            finally:
                Path(temporary).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not store %s in the cache (%s); the next run computes it again", self.path.name,
                        exc.strerror or exc)
