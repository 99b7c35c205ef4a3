"""Where the heavy steps of a run execute: this process (``local``) or a Ray cluster (``ray``).

An engine is a module behind one small contract, as BERTopic's back-ends are: it reads the input files (with the
corpus stage's own per-file function), segments documents into units, runs an embedder's ``encode`` and places
the units a sampled fit did not see. Everything else — near-duplicate
groups, the cache, the sample's UMAP and HDBSCAN fit, descriptions, contrast, the run folder — runs in the
driving process for every engine, so a run folder has the same contract whichever engine wrote it. Engines import
earlier stages only; the pipeline imports engines.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:
    from ..config import EngineConfig, UnitsConfig
    from ..corpus.documents import Document
    from ..embed.embedders import Embedder
    from ..framings.model import FramingModel
    from ..framings.placement import Placement
    from ..units.segment import UnitTable

__all__ = ["Engine", "make_engine", "segment_options", "segment_offsets"]


class Engine(Protocol):
    """What the pipeline asks of an engine."""

    name: str

    def map_files(self, read: Callable[[Any], Iterable[Any]], items: list) -> Iterable[Any]:
        """Every result ``read(item)`` yields for every item (one input file each: a page gives one result, a
        record file one per part), item after item and in the order ``read`` yields them, given as they come
        (never all held at once); a ``FramingError`` raised by ``read`` reaches the caller as itself."""
        ...

    def segment(self, documents: Sequence["Document"], settings: "UnitsConfig", progress: bool | None
                ) -> "UnitTable":
        """Units of every section of every document, in corpus order (as ``framing.units.segment.segment``), as columns
        over ``documents``."""
        ...

    def embedder(self, local: "Embedder") -> "Embedder":
        """An embedder with ``local``'s fingerprint whose ``encode`` runs on this engine."""
        ...

    def place(self, model: "FramingModel", X: np.ndarray, rest: np.ndarray, progress: bool | None
              ) -> "Placement":
        """``model.place`` for the rows ``rest`` of ``X``, in that order."""
        ...

    def close(self) -> None:
        """Release what the engine started."""
        ...


def segment_offsets(positions: Sequence[int], texts: Sequence[str], options: dict) -> dict[str, np.ndarray]:
    """Segment a block of documents where they are (a worker process, a Ray task) and send back only where the
    units lie: one row per unit (document position, index, offsets, section). The caller keeps them as columns over
    its own documents (``UnitTable.from_offsets``), so every unit is still ``document.text[start:end]`` and no
    text travels twice."""
    from ..corpus.documents import Document
    from ..units.segment import segment

    units = segment([Document(id=str(p), text=str(t)) for p, t in zip(positions, texts)], progress=False, **options)
    return {"position": np.array([int(u.doc_id) for u in units], dtype=np.int64),
            "index": np.array([u.index for u in units], dtype=np.int64),
            "start": np.array([u.start for u in units], dtype=np.int64),
            "end": np.array([u.end for u in units], dtype=np.int64),
            "section": np.array([u.section for u in units], dtype=object)}


def segment_options(settings: "UnitsConfig") -> dict:
    """The units settings as ``framing.units.segment.segment``'s keyword arguments (sections are chosen afterwards)."""
    return {"kind": settings.kind, "min_words": settings.min_words, "window": settings.window,
            "stride": settings.stride, "detect_sections": settings.detect_sections}


def make_engine(settings: "EngineConfig", embedding_settings=None) -> Engine:
    """The engine a config names (``engine.name``)."""
    if settings.name == "ray":
        from .ray import RayEngine

        return RayEngine(settings, embedding_settings)
    from .local import LocalEngine

    return LocalEngine(settings)
