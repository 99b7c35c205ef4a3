"""The ONNX Runtime embedding back-ends (``embedding.backend: onnx`` and ``onnx-int8``).

A sentence-transformers model made of a Transformer, a Pooling (mean, cls or max) and optionally a Normalize
module is exported once, offline, with ``torch.onnx`` — pooling inside the graph, batch and sequence axes
dynamic — and cached under ``<cache_dir>/onnx/``; ``onnx-int8`` adds onnxruntime's dynamic int8 quantisation of
the matrix multiplications. Later runs load the cached file and never touch torch.

Texts are tokenised with the model's own tokenizer, padded only to the longest text of each batch: the
packaged ``tokenizer.json`` of all-MiniLM-L6-v2 pads to a fixed 128 tokens, which would both slow the model and
change mean-pooled vectors if it were used as saved.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import FramingError, MissingExtra

log = logging.getLogger(__name__)

BACKENDS = ("onnx", "onnx-int8")
_FORMAT = 2  # bump when the exported graph changes, so stale exports are not reused
_POOLING = ("mean", "cls", "max")
META_FILE = "framing-onnx.json"
INT8_META_FILE = "framing-onnx-int8.json"
# Embedded by torch at export and by the export at every load: an export that no longer gives the model's vector
# for it (a damaged file that still loads) is made again. int8 agrees less with torch (bench/embed_backends.py).
PROBE = "The convoy waited at the crossing while both sides argued over who had broken the ceasefire."
_PROBE_COSINE = {False: 0.9999, True: 0.97}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` but framing's own notes, by relative path."""
    return {path.relative_to(folder).as_posix(): _sha256(path) for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name not in (META_FILE, INT8_META_FILE)}


def _read_meta(path: Path) -> dict | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        meta = json.loads(path.read_bytes()[:1 << 20])
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def export_problem(folder: Path) -> str | None:
    """Why the export in ``folder`` cannot be used (``"missing"`` when there is none); ``None`` when its files are
    the ones written at export, byte for byte."""
    if not folder.exists() and not folder.is_symlink():
        return "missing"
    meta = _read_meta(folder / META_FILE)
    if meta is None:
        return f"{META_FILE} is missing or unreadable"
    required = {"format": int, "inputs": list, "pooling": str, "max_seq_length": int, "dimension": int,
                "probe": list, "files": dict}
    if any(not isinstance(meta.get(key), kind) for key, kind in required.items()) or meta["format"] != _FORMAT:
        return f"{META_FILE} is not this version's"
    if "model.onnx" not in meta["files"] or not any(name.startswith("tokenizer/") for name in meta["files"]):
        return f"{META_FILE} lists no model or tokenizer"
    found = _file_digests(folder)
    for name, digest in meta["files"].items():
        if found.get(name) != digest:
            return f"{name} is missing or changed"
    return None


def int8_problem(folder: Path) -> str | None:
    """As :func:`export_problem`, for the int8 model beside the export."""
    if not (folder / "model-int8.onnx").exists():
        return "missing"
    meta = _read_meta(folder / INT8_META_FILE)
    if meta is None or not isinstance(meta.get("sha256"), str):
        return f"{INT8_META_FILE} is missing or unreadable"
    model = folder / "model-int8.onnx"
    if model.is_symlink() or not model.is_file() or _sha256(model) != meta["sha256"]:
        return "model-int8.onnx is changed"
    return None


def _require_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise MissingExtra(
            "embedding.backend onnx / onnx-int8 needs onnxruntime and onnx: pip install 'framing[onnx]' "
            "(or use embedding.backend: torch)"
        ) from None
    return onnxruntime


def _require_onnx():
    try:
        import onnx  # noqa: F401  (torch.onnx and the quantiser both need it)
    except ImportError:
        raise MissingExtra(
            "exporting a model to ONNX needs the onnx package: pip install 'framing[onnx]' "
            "(or use embedding.backend: torch)"
        ) from None


def _pooling_mode(module) -> str:
    config = module.get_config_dict() if hasattr(module, "get_config_dict") else {}
    if "pooling_mode" in config:  # sentence-transformers >= 5
        return str(config["pooling_mode"])
    for mode in _POOLING:  # older releases: one boolean per mode
        key = "pooling_mode_" + {"mean": "mean_tokens", "cls": "cls_token", "max": "max_tokens"}[mode]
        if config.get(key):
            return mode
    return "unknown"


def export_onnx(sentence_transformer, folder: Path, model_name: str) -> None:
    """Write ``model.onnx``, the tokenizer and ``framing-onnx.json`` for a loaded sentence-transformers model."""
    import torch

    _require_onnx()
    modules = list(sentence_transformer)
    kinds = [type(m).__name__ for m in modules]
    if len(modules) < 2 or kinds[0] != "Transformer" or kinds[1] != "Pooling" or any(
            k != "Normalize" for k in kinds[2:]):
        raise FramingError(
            f"embedding.backend onnx supports models made of Transformer, Pooling and Normalize; {model_name!r} "
            f"has {', '.join(kinds)} (use embedding.backend: torch)"
        )
    mode = _pooling_mode(modules[1])
    if mode not in _POOLING:
        raise FramingError(f"embedding.backend onnx supports {', '.join(_POOLING)} pooling; {model_name!r} uses "
                           f"{mode} (use embedding.backend: torch)")
    transformer = modules[0]
    tokenizer = transformer.tokenizer
    encoder = transformer.auto_model.eval()
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer.model_input_names]

    class Pooled(torch.nn.Module):
        """Encoder plus pooling with a positional signature (BertModel's keyword forward does not trace)."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, *inputs):
            named = dict(zip(names, inputs))
            hidden = self.encoder(**named)[0]
            mask = named["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            if mode == "cls":
                return hidden[:, 0]
            if mode == "max":
                return hidden.masked_fill(mask == 0, torch.finfo(hidden.dtype).min).max(dim=1).values
            return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)

    sample = tokenizer(["A first sentence.", "A second, somewhat longer sentence for tracing."], padding=True,
                       return_tensors="pt")
    import warnings

    # the tracer's notes on Python control flow and index ops concern graphs we do not build (fixed shapes,
    # negative indices); the agreement with torch is tested instead
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(), tuple(sample[n] for n in names), str(folder / "model.onnx"), input_names=names,
            output_names=["sentence_embedding"], opset_version=17, dynamo=False,
            dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "sentence_embedding": {0: "batch"}},
        )
    tokenizer.save_pretrained(str(folder / "tokenizer"))
    probe = sentence_transformer.encode([PROBE], convert_to_numpy=True, normalize_embeddings=True)[0]
    meta = {"format": _FORMAT, "inputs": names, "pooling": mode,
            "max_seq_length": int(sentence_transformer.max_seq_length or tokenizer.model_max_length),
            "dimension": int(modules[1].get_config_dict().get("embedding_dimension")
                             or encoder.config.hidden_size),
            "probe": [float(v) for v in probe], "files": _file_digests(folder)}
    (folder / META_FILE).write_text(json.dumps(meta, indent=1))


def _quantize(fp32: Path, int8: Path) -> None:
    _require_onnx()

    class _NoPreprocessingAdvice(logging.Filter):  # the quantiser logs this advice on the root logger
        def filter(self, record: logging.LogRecord) -> bool:
            return "pre-processing before quantization" not in record.getMessage()

    advice = _NoPreprocessingAdvice()
    logging.getLogger().addFilter(advice)
    try:
        _quantize_dynamic(fp32, int8)
    finally:
        logging.getLogger().removeFilter(advice)


def _quantize_dynamic(fp32: Path, int8: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Weights of the matrix multiplications only, per output channel: with onnxruntime's default settings
    # (per-tensor, embedding table too) the aleppo units kept a mean cosine of 0.958 to torch, with these 0.991.
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"])


class OnnxEmbedder:
    """Embeds with a sentence-transformers model exported to ONNX and run by onnxruntime on the CPU.

    Args:
        model: a sentence-transformers name or local path (as for the torch back-end).
        quantized: use the dynamic int8 model (faster; vectors agree less, see docs/architecture.md).
        progress: show a progress bar (``None``: only on a terminal).
        cache_dir: where exports are kept (``<cache_dir>/onnx/``); ``None`` exports to a temporary folder
            that lives as long as this object.
        threads: onnxruntime intra-op threads; ``None`` lets onnxruntime choose (the physical cores).
    """

    def __init__(self, model: str, quantized: bool = False, progress: bool | None = None,
                 cache_dir: str | Path | None = "~/.cache/framing", threads: int | None = None) -> None:
        from .embedders import model_fingerprint, resolve_model_path

        _require_onnxruntime()
        self.model = model
        self.quantized = quantized
        self.backend = "onnx-int8" if quantized else "onnx"
        self.progress = progress
        self.progress_desc = "embedding"  # what the progress bar says (the run's later phrases: another word)
        self.threads = threads
        self.model_path = resolve_model_path(model)
        self.model_fingerprint = model_fingerprint(self.model_path)
        # Different arithmetic, different vectors (by ~1e-6 for fp32): never share cache entries with torch.
        self.fingerprint = f"{self.model_fingerprint}|{self.backend}"
        self._cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self._temporary: tempfile.TemporaryDirectory | None = None
        self._session = None
        self._tokenizer = None
        self._meta: dict | None = None

    def export_folder(self) -> Path:
        """The folder holding this model's export (created on first use)."""
        if self._cache_dir is None:
            if self._temporary is None:
                self._temporary = tempfile.TemporaryDirectory(prefix="framing-onnx-")
            return Path(self._temporary.name)
        key = hashlib.sha256(f"{self.model_fingerprint}|format{_FORMAT}".encode()).hexdigest()[:24]
        return self._cache_dir / "onnx" / key

    def _ensure_exported(self) -> Path:
        """The export folder, with a verified export (and int8 model): made when missing, made again when damaged."""
        folder = self.export_folder()
        problem = export_problem(folder)
        if problem not in (None, "missing"):
            self._discard(folder, problem)
        if problem is not None:
            self._export(folder, announce=problem == "missing")  # a damaged one was announced already
        if self.quantized:
            problem = int8_problem(folder)
            if problem not in (None, "missing"):
                log.warning("the cached int8 model in %s is damaged (%s); it is quantised again", folder, problem)
            if problem is not None:
                self._quantise(folder)
        return folder

    def _discard(self, folder: Path, problem: str) -> None:
        log.warning("the cached ONNX export in %s is damaged (%s); %s is exported again", folder, problem, self.model)
        if folder.is_symlink() or not folder.is_dir():
            folder.unlink(missing_ok=True)
        else:
            # renamed first, so a run reading it at this moment keeps its open files and another exporter
            # never sees half a folder
            retired = Path(tempfile.mkdtemp(prefix=".damaged-", dir=folder.parent))
            try:
                os.replace(folder, retired / "export")
            except OSError:
                pass
            shutil.rmtree(retired, ignore_errors=True)

    def _export(self, folder: Path, announce: bool = True) -> None:
        from .embedders import SentenceTransformerEmbedder

        (log.warning if announce else log.info)("exporting %s to ONNX (once per model; kept in %s)", self.model,
                                                folder)
        loaded = SentenceTransformerEmbedder(self.model, device="cpu")._load()
        folder.parent.mkdir(parents=True, exist_ok=True)
        # Export beside the target and rename: a killed export never leaves a half-written model behind,
        # and of two processes exporting at once the first rename wins.
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
        try:
            export_onnx(loaded, staging, self.model)
            try:
                os.replace(staging, folder)
            except OSError:
                if export_problem(folder) is not None:
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _quantise(self, folder: Path) -> None:
        log.warning("quantising the ONNX export of %s to int8 (once per model)", self.model)
        handle, staging_file = tempfile.mkstemp(prefix=".int8-", suffix=".onnx", dir=folder)
        os.close(handle)
        try:
            _quantize(folder / "model.onnx", Path(staging_file))
            digest = _sha256(Path(staging_file))
            if (folder / "model-int8.onnx").is_dir():  # a folder in its place (only damage puts one there)
                shutil.rmtree(folder / "model-int8.onnx")
            os.replace(staging_file, folder / "model-int8.onnx")
            (folder / INT8_META_FILE).write_text(json.dumps({"sha256": digest}))
        finally:
            Path(staging_file).unlink(missing_ok=True)

    def _load(self):
        if self._session is None:
            self._session = self._open_session()
            if not self._probe_agrees():
                # its files match their digests, yet it no longer gives the model's vectors: made anew, once
                folder = self.export_folder()
                self._discard(folder, "its vector of a probe sentence is not the model's")
                self._export(folder, announce=False)
                self._session = self._open_session()
                if not self._probe_agrees():
                    self._session = None
                    raise FramingError(f"the ONNX export of {self.model!r} does not give the model's vectors "
                                       f"(in {folder}); use embedding.backend: torch")
        return self._session

    def _open_session(self):
        ort = _require_onnxruntime()
        from transformers import AutoTokenizer

        folder = self._ensure_exported()
        self._meta = _read_meta(folder / META_FILE)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # its graph-optimiser notices are not for our users
        if self.threads:
            options.intra_op_num_threads = self.threads
        model_file = folder / ("model-int8.onnx" if self.quantized else "model.onnx")
        log.info("loading %s", model_file)
        session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder / "tokenizer"))
        return session

    def _probe_agrees(self) -> bool:
        """Whether the export gives (nearly) the vector torch gave for ``PROBE`` when it was exported."""
        vector = self._encode_with(self._session, [PROBE])[0]
        expected = np.asarray(self._meta["probe"], dtype=np.float32)
        if vector.shape != expected.shape or not np.isfinite(vector).all():
            return False
        return float(vector @ expected) >= _PROBE_COSINE[self.quantized]

    @property
    def dimension(self) -> int:
        self._load()
        return int(self._meta["dimension"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; returns float32 ``(n, d)`` with unit-length rows, each the same bits whatever texts it
        is embedded with (forward passes of fixed shapes: ``framing.embed.embedders.encode_in_fixed_shapes``)."""
        return self._encode_with(self._load(), texts, self.progress)

    def _encode_with(self, session, texts: Sequence[str], progress: bool | None = False) -> np.ndarray:
        from .embedders import encode_in_fixed_shapes

        names = self._meta["inputs"]
        if not len(texts):
            return np.zeros((0, self.dimension), dtype=np.float32)

        def tokenize(batch_texts: list[str]) -> dict[str, np.ndarray]:
            batch = self._tokenizer(batch_texts, padding="longest", truncation=True,
                                    max_length=self._meta["max_seq_length"], return_tensors="np")
            return {name: np.asarray(batch[name], dtype=np.int64) for name in names}

        def forward(arrays: dict[str, np.ndarray]) -> np.ndarray:
            return session.run(None, arrays)[0]

        return encode_in_fixed_shapes(texts, int(self._meta["dimension"]), tokenize, forward,
                                      pad_id=int(self._tokenizer.pad_token_id or 0),
                                      left_padded=self._tokenizer.padding_side == "left",
                                      max_length=int(self._meta["max_seq_length"]),
                                      # the int8 model quantises each product's activations by the batch's
                                      # largest (padding too): a text's vector would depend on its company
                                      one_text_per_pass=self.quantized, progress=progress,
                                      desc=self.progress_desc)
