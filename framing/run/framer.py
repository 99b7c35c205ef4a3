"""``Framer``: framings fitted once, saved, and applied to new documents without changing them.

A study fits its framings on a year of coverage, then places next month's articles, a new outlet or a held-out
sample into the *same* framings — the same ids, names, colours, map positions and frames — as scikit-learn's
``fit``/``transform`` and BERTopic's ``transform``/``save``/``load`` do:

    framer = Framer("configs/example.yaml")
    result = framer.fit()                     # what analyze() does
    framer.save("models/varno")
    new = Framer.load("models/varno").transform("new-articles/")   # units placed, nothing fitted again

A model folder holds ``framer.json`` (the config, the embedding model's name and fingerprint, the framings, the
frames' names and method, the framing tree) and ``framer.npz`` (the fitted units' vectors, clustering-space and
map positions and core framing ids, the framings' centres, the frames classifier's coefficients or the codebook's
centres), plain arrays read with ``allow_pickle=False`` and checked against the SHA-256 that ``framer.json``
records. A corpus embedded by another model is refused: its vectors would not be comparable.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..config import Config, apply_overrides
from ..corpus.documents import Corpus, Document
from ..errors import FramingError
from ..frames.assign import FrameAssignment
from ..framings.hierarchy import Hierarchy
from ..framings.describe import Framing
from ..store.outputs import atomic_folder
from ..store.result import Result
from .pipeline import FittedState, analyze, resolve_config

__all__ = ["Framer", "MODEL_FILE", "ARRAYS_FILE", "is_model_folder", "check_model_target"]

MODEL_FILE = "framer.json"
ARRAYS_FILE = "framer.npz"
FORMAT = "framing-model-1"


class Framer:
    """Fit framings on one corpus and place others into them.

    ``Framer(config=None, **overrides)`` stores the settings (a ``Config``, a dict, a YAML path or ``None`` for the
    defaults, and ``section__key=value`` overrides) and does no work. ``fit(corpus)`` finds the framings (what
    :func:`framing.analyze` does) and keeps what placing needs; ``transform(corpus)`` places a new corpus into the
    fitted framings and frames; ``save(folder)`` and ``Framer.load(folder)`` keep and restore a fitted model.
    """

    def __init__(self, config: Config | dict | str | Path | None = None, **overrides: Any) -> None:
        self.config = config
        self.overrides = overrides

    def _config(self) -> Config:
        return resolve_config(self.config, self.overrides)

    @property
    def fitted(self) -> bool:
        return "state_" in self.__dict__

    def fit(self, corpus: Corpus | Sequence[Document] | str | Path | None = None,
            progress: bool | None = None) -> Result:
        """Find the framings of ``corpus`` (default: the config's ``corpus.path``) and keep what placing new
        units needs; returns the ``Result``, as :func:`framing.analyze` does."""
        config = self._config()
        if config.cluster.within_events:
            raise FramingError("a Framer cannot be fitted with cluster.within_events: placing new units would need "
                               "their events' centres in the fitted space")
        keep: dict[str, Any] = {}
        result = analyze(corpus, config, progress=progress, keep=keep)
        self.keep(config, result, keep)
        return result

    def keep(self, config: Config, result: Result, keep: dict[str, Any]) -> "Framer":
        """Take the fitted state from a run made with ``keep`` (``analyze(..., keep=keep)`` or ``run``): what
        :meth:`fit` does after its run, and ``framing run --save-model`` after its own."""
        model = result.manifest["model"]
        self.config_ = config
        self.state_ = FittedState(placement=keep["placement"], framings=[Framing.from_dict(f.to_dict())
                                                                         for f in result.framings],
                                  fingerprint=model["fingerprint"], model_name=model["name"],
                                  frames=keep.get("frames"), hierarchy=result.hierarchy_data)
        return self

    def transform(self, corpus: Corpus | Sequence[Document] | str | Path, progress: bool | None = None) -> Result:
        """Place ``corpus`` into the fitted framings and frames without changing them: every unit gets a framing
        (by its nearest fitted units' vote, or the nearest centre within ``cluster.reassign_threshold``), a
        membership, a map position and a frame; the framings keep their ids, names and colours. Events, contrast
        and time are computed on the new corpus as a run would."""
        self._check_fitted()
        return analyze(corpus, self.config_, progress=progress, fitted=self.state_)

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise FramingError("this Framer is not fitted: call fit(corpus) or Framer.load(folder) first")

    # ------------------------------------------------------------------ saving

    def save(self, directory: str | Path) -> Path:
        """Write the fitted model to ``directory`` (``framer.json`` and ``framer.npz``), atomically."""
        self._check_fitted()
        directory = Path(directory)
        state = self.state_
        arrays = {f"placement_{k}": v for k, v in state.placement.items()}
        frames_meta = None
        if state.frames is not None:
            frames = state.frames
            arrays["frames_centres"] = np.asarray(frames.centres, dtype=np.float32)
            for key, value in frames.classifier.items():
                arrays[f"frames_classifier_{key}"] = value
            frames_meta = {"names": frames.names, "method": frames.method, "codebook": frames.codebook,
                           "codebook_frames": frames.codebook_frames, "classifier": bool(frames.classifier)}
        with atomic_folder(directory, ours=is_model_folder) as staging:
            np.savez(staging / ARRAYS_FILE, **arrays)
            meta = {"format": FORMAT, "config": self.config_.to_dict(),
                    "model": {"name": state.model_name, "fingerprint": state.fingerprint},
                    "framings": [f.to_dict() for f in state.framings], "frames": frames_meta,
                    "hierarchy": state.hierarchy.to_dict() if state.hierarchy is not None else None,
                    "arrays_sha256": _sha256(staging / ARRAYS_FILE)}
            (staging / MODEL_FILE).write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path, **overrides: Any) -> "Framer":
        """A fitted Framer from a folder written by :meth:`save`. ``overrides`` change settings that do not touch
        the fitted framings (e.g. ``contrast__group_by``, ``embedding__cache_dir``, or a saved setting that this
        version refuses, such as a ``contrast__bootstrap`` above 10,000); the embedding model must stay the fitted
        one."""
        directory = Path(directory)
        meta_path, arrays_path = directory / MODEL_FILE, directory / ARRAYS_FILE
        if not meta_path.is_file() or not arrays_path.is_file():
            raise FramingError(f"{directory} is not a saved framing model (it needs {MODEL_FILE} and {ARRAYS_FILE}; "
                               "write one with framing run --save-model DIR or Framer.save)")
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} file")
            if _sha256(arrays_path) != meta["arrays_sha256"]:
                raise ValueError(f"{ARRAYS_FILE} does not match the checksum {MODEL_FILE} records (damaged or "
                                 "replaced)")
            with np.load(arrays_path, allow_pickle=False) as stored:
                arrays = {key: stored[key] for key in stored.files}
            fitted_model = meta["config"]["embedding"]["model"]
            # the saved settings and the overrides checked together, so that a setting a later version bounds
            # more tightly can be changed on the way in instead of leaving the model unreadable
            config = Config.from_dict(apply_overrides(meta["config"], overrides),
                                      origin=f"{meta_path} (change a setting with --set KEY=VALUE, or "
                                             f"Framer.load(..., section__key=value))")
        except FramingError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FramingError(f"cannot read the model in {directory}: {exc}") from None
        framer = cls(config)
        framer.config_ = config
        if config.embedding.model != fitted_model:
            raise FramingError(f"this model was fitted with embedding.model {fitted_model}; it cannot "
                               f"place units embedded by {config.embedding.model}")
        placement = {key[len("placement_"):]: value for key, value in arrays.items() if key.startswith("placement_")}
        frames = None
        if meta.get("frames"):
            info = meta["frames"]
            classifier = {key[len("frames_classifier_"):]: value for key, value in arrays.items()
                          if key.startswith("frames_classifier_")}
            frames = FrameAssignment(names=list(info["names"]), frame=np.zeros(0, int), probability=np.zeros(0),
                                     origin=np.zeros(0, object), method=info["method"], codebook=info["codebook"],
                                     codebook_frames=list(info["codebook_frames"]),
                                     centres=arrays.get("frames_centres", np.zeros((0, 0), np.float32)),
                                     classifier=classifier)
        framer.state_ = FittedState(
            placement=placement, framings=[Framing.from_dict(f) for f in meta["framings"]],
            fingerprint=meta["model"]["fingerprint"], model_name=meta["model"]["name"], frames=frames,
            hierarchy=Hierarchy.from_dict(meta["hierarchy"]) if meta.get("hierarchy") else None)
        return framer

    def __repr__(self) -> str:
        if not self.fitted:
            return "Framer(not fitted)"
        return (f"Framer({len(self.state_.framings)} framings, {self.state_.placement['vectors'].shape[0]:,} fitted "
                f"units, {self.state_.model_name})")


def check_model_target(directory: str | Path) -> None:
    """Raise before any work unless ``directory`` can take a saved model: missing, empty or a saved model."""
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or (any(directory.iterdir()) and
                                                           not is_model_folder(directory))):
        raise FramingError(f"--save-model {directory} exists and is not a saved model (framing replaces only its "
                           "own model folders): choose another folder")


def is_model_folder(folder: Path) -> bool:
    """True when ``folder`` holds a saved model and nothing else (what :meth:`Framer.save` may replace)."""
    try:
        names = {entry.name for entry in Path(folder).iterdir()}
        meta = json.loads((Path(folder) / MODEL_FILE).read_text("utf-8")) if MODEL_FILE in names else None
    except (OSError, ValueError):
        return False
    return names == {MODEL_FILE, ARRAYS_FILE} and isinstance(meta, dict) and meta.get("format") == FORMAT


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
