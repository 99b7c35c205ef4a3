"""Stage 3: turn unit texts into L2-normalised float32 vectors, with a content-addressed disk cache.

The plug-in contract (``framing.embed.embedders.Embedder``) is one method: an embedder has ``encode(texts) ->
np.ndarray`` (float32, shape ``(n, d)``, rows L2-normalised) and a ``fingerprint`` string that changes whenever
its vectors could change. ``make_embedder`` builds ours (torch in ``embedders``, ONNX in ``embed_onnx``). The cache is keyed by (fingerprint, SHA-256 of the text), so a re-run — or a run with other clustering
settings — embeds nothing again, and a different model never reads another model's vectors.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .embedders import (PACKAGED_MODEL_NAMES, VECTOR_SCHEME, Embedder, SentenceTransformerEmbedder,
                        l2_normalise, resolve_model_path)
from ..errors import FramingError
from ..store.outputs import disk_error, is_stale, reserve_space

__all__ = [
    "Embedder",
    "SentenceTransformerEmbedder",
    "EmbeddingCache",
    "EmbeddingStats",
    "embed_texts",
    "make_embedder",
    "vector_key",
    "resolve_model_path",
    "BACKENDS",
]

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx", "onnx-int8")
CPU_ONLY_BACKENDS = ("onnx", "onnx-int8")  # onnxruntime's CPU provider: only torch runs on cuda
EMBED_CHUNK = 50_000  # texts embedded and stored at a time
GATHER_PREFIX = ".gather-"  # scratch files of vectors read out of the cache's order (EmbeddingCache.gather)
GATHER_IN_MEMORY_BYTES = 64 * 2**20  # out-of-order vectors up to this size are copied into memory instead
GATHER_CHUNK_ROWS = 65_536
KEY = np.dtype("V32")  # a text's key: the SHA-256 of its UTF-8 (text_key), as one array item
FIND_CHUNK = 50_000  # keys looked up in the index at a time


def make_embedder(model: str = PACKAGED_MODEL_NAMES[0], backend: str = "torch", device: str = "cpu",
                  progress: bool | None = None,
                  cache_dir: str | Path | None = "~/.cache/framing") -> Embedder:
    """Build an embedding back-end; its ``encode(texts)`` returns L2-normalised float32 rows.

    Args:
        model: a sentence-transformers name or local path; the default is the packaged offline copy.
        backend: ``torch`` (sentence-transformers), ``onnx`` (the model exported to ONNX, run by onnxruntime:
            same vectors to cosine 0.9999) or ``onnx-int8`` (dynamic int8 quantisation: faster, agrees less).
            The ONNX back-ends need ``pip install 'framing[onnx]'``.
        device: where torch runs (``cpu``, ``cuda`` ...); the ONNX back-ends run on the CPU.
        progress: show a progress bar (``None``: only on a terminal).
        cache_dir: where the ONNX export is kept (exported once per model); ``None``: a temporary folder.
    """
    if backend == "torch":
        return SentenceTransformerEmbedder(model=model, device=device, progress=progress)
    if backend in CPU_ONLY_BACKENDS:
        if device != "cpu":
            raise FramingError(f"embedding.backend {backend} runs on the CPU; for device {device!r} use "
                               "embedding.backend: torch")
        from .onnx_backend import OnnxEmbedder

        return OnnxEmbedder(model, quantized=backend == "onnx-int8", progress=progress,
                            cache_dir=cache_dir)
    raise FramingError(f"unknown embedding.backend {backend!r}; allowed: {', '.join(BACKENDS)}")


def vector_key(embedder: Embedder) -> str:
    """What an embedder's cached vectors are filed under: its fingerprint, how its forward passes are shaped
    (``VECTOR_SCHEME``) and, off the CPU, the kind of device: each gives other bits for the same text, and a
    cache that mixed them would make a run depend on what was cached before."""
    device = str(getattr(embedder, "device", "cpu")).split(":")[0]
    return f"{embedder.fingerprint}|{VECTOR_SCHEME}" + ("" if device == "cpu" else f"|{device}")


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Vectors on disk keyed by (embedder fingerprint, text hash), one folder per fingerprint.

    The vectors are rows of one raw float32 file, appended to and memory-mapped for reading; a SQLite index maps
    each text hash to its row and the row's CRC-32. Appends happen inside a SQLite write transaction, so
    concurrent runs take turns and a killed run leaves at most unindexed bytes past the last row, which the next
    append overwrites.

    Damage is found and repaired, never passed on: an index that fails SQLite's ``quick_check`` is reset, index
    rows past the end of a truncated vector file are dropped, and a vector whose bytes no longer match its CRC is
    dropped when it is looked up (``lookup``), so the caller embeds it again. Each repair is one warning line.
    """

    def __init__(self, cache_dir: str | Path, fingerprint: str) -> None:
        folder = Path(cache_dir).expanduser() / "embeddings" / hashlib.sha256(fingerprint.encode()).hexdigest()[:24]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FramingError(f"cannot create embedding cache {folder}: {exc.strerror} (embedding.cache_dir)") from None
        self.folder = folder
        self.vectors_path = folder / "vectors.f32"
        self.index_path = folder / "index.sqlite"
        self.fingerprint = fingerprint
        self._repairs: dict[str, int] = {}
        self._scratch: list[Path] = []
        for entry in folder.glob(f"{GATHER_PREFIX}*"):  # left by a run that was killed
            if is_stale(entry, GATHER_PREFIX):
                entry.unlink(missing_ok=True)
        for path in (self.vectors_path, self.index_path):
            self._remove_if_not_a_file(path)
        try:
            self._db = self._open_index()
            self._drop_rows_past_the_file()
        except sqlite3.OperationalError as exc:
            raise _cache_error(exc, folder) from None

    # -- opening and repair -------------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.index_path, timeout=600, isolation_level=None)

    def _open_index(self) -> sqlite3.Connection:
        db = self._connect()
        try:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            problem = None if verdict == "ok" else verdict
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            problem = str(exc)
        if problem is not None:
            db.close()
            self._reset(f"its index is damaged ({str(problem).splitlines()[0]})")
            db = self._connect()
        db.execute("CREATE TABLE IF NOT EXISTS rows (key BLOB PRIMARY KEY, row INTEGER NOT NULL, crc INTEGER) "
                   "WITHOUT ROWID")
        db.execute("CREATE TABLE IF NOT EXISTS info (fingerprint TEXT, dimension INTEGER)")
        columns = {row[1] for row in db.execute("PRAGMA table_info(rows)")}
        if "crc" not in columns:  # a cache written before rows carried checksums: they are added on first read
            db.execute("ALTER TABLE rows ADD COLUMN crc INTEGER")
        if db.execute("SELECT COUNT(*) FROM info").fetchone()[0] == 0:
            db.execute("INSERT INTO info VALUES (?, NULL)", (self.fingerprint,))
        return db

    def _reset(self, why: str) -> None:
        for path in (self.index_path, self.vectors_path, self.index_path.with_name("index.sqlite-journal"),
                     self.index_path.with_name("index.sqlite-wal"), self.index_path.with_name("index.sqlite-shm")):
            path.unlink(missing_ok=True)
        self._repaired(f"{why}; it was emptied and its texts are embedded again", 0)

    def _remove_if_not_a_file(self, path: Path) -> None:
        """A folder, link or device where the cache keeps a plain file is removed (what it stood for is embedded
        again): opened as it is, it ended the run with a traceback."""
        if path.is_symlink() or (path.exists() and not path.is_file()):
            try:
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            except OSError as exc:
                raise FramingError(f"embedding cache {self.folder}: {path.name} is not a file and cannot be removed "
                                   f"({exc.strerror}); remove it or choose another embedding.cache_dir") from None
            self._repaired(f"{path.name} was not a file; it was removed and its vectors are embedded again", 0)

    _REPAIRS = {"short": "vectors.f32 is shorter than its index; {n} vector(s) were dropped and are embedded again",
                "checksum": "{n} cached vector(s) failed their checksum; they were dropped and are embedded again"}

    def _repaired(self, kind: str, count: int) -> None:
        """Record a repair; the first of an open cache is a warning, later ones only add to its count."""
        first = not self._repairs
        self._repairs[kind] = self._repairs.get(kind, 0) + count
        message = self._describe_repair(kind, count)
        (log.warning if first else log.info)(message)

    def _describe_repair(self, kind: str, count: int) -> str:
        template = self._REPAIRS.get(kind)
        return f"embedding cache {self.folder}: " + (template.format(n=count) if template else kind)

    @property
    def repairs(self) -> list[str]:
        """What was found damaged and repaired since this cache was opened, one line per kind of damage."""
        return [self._describe_repair(kind, count) for kind, count in self._repairs.items()]

    def _drop_rows_past_the_file(self) -> None:
        dimension = self.dimension
        if dimension is None:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            on_disk = self.vectors_path.stat().st_size // (4 * dimension) if self.vectors_path.exists() else 0
            lost = self._db.execute("SELECT COUNT(*) FROM rows WHERE row >= ?", (on_disk,)).fetchone()[0]
            if lost:
                self._db.execute("DELETE FROM rows WHERE row >= ?", (on_disk,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        if lost:
            self._repaired("short", lost)

    # -- reading ------------------------------------------------------------------------------------------------
    @property
    def dimension(self) -> int | None:
        value = self._db.execute("SELECT dimension FROM info").fetchone()[0]
        return None if value is None else int(value)

    def _end_row(self) -> int:
        """One past the highest indexed row: where the next append goes, and the memory map's length."""
        value = self._db.execute("SELECT MAX(row) FROM rows").fetchone()[0]
        return 0 if value is None else int(value) + 1

    def _entries(self, keys: Sequence[bytes]) -> dict[bytes, tuple[int, int | None]]:
        found: dict[bytes, tuple[int, int | None]] = {}
        for start in range(0, len(keys), 500):  # SQLite caps the number of bound parameters
            chunk = keys[start : start + 500]
            found.update((key, (row, crc)) for key, row, crc in self._db.execute(
                f"SELECT key, row, crc FROM rows WHERE key IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def rows(self, keys: Sequence[bytes]) -> dict[bytes, int]:
        """The row of every key that is cached (unverified; ``lookup`` checks the vectors too)."""
        return {key: row for key, (row, _) in self._entries(keys).items()}

    def find(self, keys: np.ndarray, verify: bool = True) -> np.ndarray:
        """The row of each of ``keys`` (an array of ``KEY`` items), -1 where it is not cached; with ``verify``
        (``lookup``) a damaged vector is dropped and counts as not cached. Read ``FIND_CHUNK`` keys at a time."""
        out = np.full(len(keys), -1, dtype=np.int64)
        read = self.lookup if verify else self.rows
        for start in range(0, len(keys), FIND_CHUNK):
            chunk = [key.tobytes() for key in keys[start:start + FIND_CHUNK]]
            found = read(chunk)
            out[start:start + len(chunk)] = [found.get(key, -1) for key in chunk]
        return out

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, int]:
        """The row of every key whose cached vector is intact; damaged ones are dropped from the index."""
        entries = self._entries(keys)
        if not entries:
            return {}
        matrix = self.matrix()
        damaged: list[bytes] = []
        unchecked: list[tuple[int, bytes]] = []
        for key, (row, crc) in entries.items():
            actual = zlib.crc32(matrix[row].data) if row < matrix.shape[0] else None
            if actual is None or (crc is not None and actual != crc):
                damaged.append(key)
            elif crc is None:
                unchecked.append((actual, key))
        if unchecked or damaged:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("UPDATE rows SET crc = ? WHERE key = ? AND crc IS NULL", unchecked)
                self._db.executemany("DELETE FROM rows WHERE key = ?", ((key,) for key in damaged))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        if damaged:
            self._repaired("checksum", len(damaged))
        dropped = set(damaged)
        return {key: row for key, (row, _) in entries.items() if key not in dropped}

    def matrix(self) -> np.ndarray:
        """Every indexed row, memory-mapped read-only: rows that later appends add are not visible."""
        n_rows = self._end_row()
        dimension = self.dimension
        if not n_rows or dimension is None:
            return np.zeros((0, dimension or 0), dtype=np.float32)
        return np.memmap(self.vectors_path, dtype=np.float32, mode="r", shape=(n_rows, dimension))

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of ``rows``, in that order.

        A run whose texts lie in the cache out of order (a corpus that grew, or whose documents moved) would copy
        its whole matrix into memory, 1.26 GB at a million units; past ``GATHER_IN_MEMORY_BYTES`` the rows are
        written, a chunk at a time, to a scratch file in the cache's folder that is mapped read-only instead. It
        is removed when the cache is closed (joblib's workers open a memory map by its file name), or by the
        next run to open the cache if this one is killed.
        """
        matrix = self.matrix()
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size * matrix.shape[1] * 4 <= GATHER_IN_MEMORY_BYTES:
            return np.asarray(matrix[rows])
        handle, name = tempfile.mkstemp(prefix=f"{GATHER_PREFIX}{os.getpid()}-", suffix=".f32", dir=self.folder)
        path = Path(name)
        self._scratch.append(path)
        shape = (rows.size, matrix.shape[1])
        try:
            try:
                reserve_space(handle, rows.size * matrix.shape[1] * 4)  # a full disk: an error, not a SIGBUS
            finally:
                os.close(handle)
            out = np.memmap(path, dtype=np.float32, mode="w+", shape=shape)
            for start in range(0, rows.size, GATHER_CHUNK_ROWS):
                out[start:start + GATHER_CHUNK_ROWS] = matrix[rows[start:start + GATHER_CHUNK_ROWS]]
            out.flush()
            del out
        except OSError as exc:
            raise disk_error(exc, "embedding cache", path) or exc from None
        return np.memmap(path, dtype=np.float32, mode="r", shape=shape)

    # -- writing ------------------------------------------------------------------------------------------------
    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Append vectors for keys not cached yet (another process may have added some meanwhile)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(keys) != vectors.shape[0]:
            raise ValueError(f"{len(keys)} keys for {vectors.shape[0]} vectors")
        if not len(keys):
            return
        try:
            self._append(keys, vectors)
        except OSError as exc:
            raise disk_error(exc, "embedding cache", self.vectors_path) or exc from None
        except sqlite3.OperationalError as exc:
            raise _cache_error(exc, self.folder) from None

    def _append(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        self._db.execute("BEGIN IMMEDIATE")  # one writer at a time, from here to COMMIT
        try:
            dimension = self.dimension
            if dimension is None:
                self._db.execute("UPDATE info SET dimension = ?", (vectors.shape[1],))
            elif dimension != vectors.shape[1]:
                raise ValueError(f"cache holds {dimension}-d vectors, got {vectors.shape[1]}-d")
            known = self.rows(list(keys))
            first_of: dict[bytes, int] = {}
            for i, key in enumerate(keys):
                if key not in known:
                    first_of.setdefault(key, i)
            new = list(first_of.values())
            first_row = self._end_row()
            block = vectors[new]
            with open(self.vectors_path, "r+b" if self.vectors_path.exists() else "w+b") as handle:
                handle.seek(first_row * vectors.shape[1] * 4)
                handle.write(block.tobytes())
                handle.flush()
                os.fsync(handle.fileno())
            self._db.executemany("INSERT INTO rows VALUES (?, ?, ?)",
                                 ((keys[i], first_row + n, zlib.crc32(block[n].data)) for n, i in enumerate(new)))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0]

    def close(self) -> None:
        """Close the index and remove scratch files (a memory map of one stays valid: POSIX keeps the pages)."""
        self._db.close()
        for path in self._scratch:
            try:
                path.unlink(missing_ok=True)
            except OSError:  # Windows will not remove a mapped file; the next run that opens the cache does
                pass
        self._scratch.clear()


def _cache_error(exc: sqlite3.OperationalError, folder: Path) -> FramingError:
    return FramingError(f"cannot use the embedding cache {folder}: {str(exc).splitlines()[0]} "
                        "(free some space, fix its permissions, or set embedding.cache_dir)")


@dataclass(frozen=True)
class EmbeddingStats:
    """How a set of texts was embedded: how many came from the cache and how many were computed."""

    n_texts: int
    n_unique: int
    n_cached: int
    n_computed: int
    dimension: int
    fingerprint: str


def _text_keys(texts: Sequence[str]) -> np.ndarray:
    """Each text's cache key (``text_key``) in one array of 32-byte items instead of a bytes object per text:
    a million keys take 32 MB instead of ~75 MB, and are told apart by sorting rather than in a dict."""
    buffer = bytearray(KEY.itemsize * len(texts))
    for position, text in enumerate(texts):
        buffer[KEY.itemsize * position:KEY.itemsize * (position + 1)] = text_key(text)
    return np.frombuffer(buffer, dtype=KEY)


def embed_texts(texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None = None
                ) -> tuple[np.ndarray, EmbeddingStats]:
    """Embed ``texts`` through the cache: each distinct text is embedded at most once, ever, per embedder.

    With a cache the result is read from it: when the texts' rows lie in order, one after another (a re-run of
    the same corpus, or a first run, which appends them so), it is a read-only memory map of the cache file and
    costs no memory of its own; otherwise a memory map of the rows gathered in order (``EmbeddingCache.gather``).
    Keys and rows are arrays, not dicts: the dicts of a million keys held ~400 MB while this stage ran.
    """
    if not len(texts):
        return np.zeros((0, 0), dtype=np.float32), EmbeddingStats(0, 0, 0, 0, 0, embedder.fingerprint)
    keys = _text_keys(texts)
    # each distinct text once, in the order it first appears (a first run appends them to the cache so)
    distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    distinct, first = distinct[order], first[order]
    slot = np.empty(order.size, dtype=np.int64)
    slot[order] = np.arange(order.size)
    of_text = slot[inverse.ravel()]  # each text's distinct text
    del inverse, order, slot
    if cache is None:
        vectors = embedder.encode([texts[i] for i in first.tolist()])
        _check_count(vectors, first.size)
        vectors = l2_normalise(vectors)
        stats = EmbeddingStats(len(texts), first.size, 0, first.size, vectors.shape[1], embedder.fingerprint)
        return (vectors if first.size == len(texts) else vectors[of_text]), stats
    rows = cache.find(distinct)
    missing = np.flatnonzero(rows < 0)
    if missing.size:
        log.info("embedding %d new texts (%d from cache)", missing.size, first.size - missing.size)
        # In chunks, each stored as soon as it is done: memory holds one chunk of vectors, and a run stopped
        # half-way keeps what it embedded (the next run starts where it stopped).
        for start in range(0, missing.size, EMBED_CHUNK):
            chunk = missing[start:start + EMBED_CHUNK]
            computed = embedder.encode([texts[i] for i in first[chunk].tolist()])
            _check_count(computed, chunk.size)
            cache.put([key.tobytes() for key in distinct[chunk]], l2_normalise(computed))
            del computed
            if missing.size > EMBED_CHUNK:
                log.info("embedded %d of %d new texts", min(start + EMBED_CHUNK, missing.size), missing.size)
        rows[missing] = cache.find(distinct[missing], verify=False)
    indices = rows[of_text]
    first_row = int(indices[0])
    if np.array_equal(indices, np.arange(first_row, first_row + len(indices))):
        vectors = cache.matrix()[first_row : first_row + len(indices)]  # a view: memory-mapped, nothing copied
    else:
        vectors = cache.gather(indices)
    stats = EmbeddingStats(len(texts), first.size, first.size - missing.size, missing.size, vectors.shape[1],
                           embedder.fingerprint)
    return vectors, stats


def _check_count(vectors: np.ndarray, expected: int) -> None:
    if vectors.shape[0] != expected:
        raise RuntimeError(f"embedder returned {vectors.shape[0]} vectors for {expected} texts")
