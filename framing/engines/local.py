"""The local engine: every step on this machine — segmenting in ``engine.processes`` worker processes when the
corpus is large, everything else in this process (the UMAP layouts may use a second process)."""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..config import EngineConfig, UnitsConfig
from ..corpus import Document
from ..embedders import Embedder
from ..framings import FramingModel, Placement, place_in_chunks
from ..progress import progress_bar
from ..units import Unit, segment
from . import segment_offsets, segment_options, units_from_offsets

__all__ = ["LocalEngine"]

# Below this many characters of text, segmenting in this process is faster than starting workers (about 1 s).
PARALLEL_SEGMENT_MIN_CHARS = 20_000_000


class LocalEngine:
    name = "local"

    def __init__(self, settings: EngineConfig | None = None) -> None:
        self.settings = settings or EngineConfig()

    def map_files(self, read: Callable[[Any], Any], items: list) -> Iterable[Any]:
        return map(read, items)

    def segment(self, documents: Sequence[Document], settings: UnitsConfig, progress: bool | None) -> list[Unit]:
        processes = self.settings.processes
        if processes < 2 or sum(len(d.text) for d in documents) < PARALLEL_SEGMENT_MIN_CHARS:
            return segment(documents, progress=progress, **segment_options(settings))
        from joblib import Parallel, delayed

        # a few blocks per process, so one slow block does not leave the other process idle at the end
        size = math.ceil(len(documents) / (8 * processes))
        blocks = [range(start, min(start + size, len(documents))) for start in range(0, len(documents), size)]
        options = segment_options(settings)
        parts = []
        with progress_bar(progress, total=len(documents), desc="segmenting", unit="doc", leave=False) as bar:
            for block, rows in zip(blocks, Parallel(n_jobs=processes, backend="loky", return_as="generator")(
                    delayed(segment_offsets)(list(block), [documents[k].text for k in block], options)
                    for block in blocks)):
                parts.append(rows)
                bar.update(len(block))
        rows = {column: np.concatenate([part[column] for part in parts]) for column in parts[0]}
        return units_from_offsets(documents, rows)

    def embedder(self, local: Embedder) -> Embedder:
        return local

    def place(self, model: FramingModel, X: np.ndarray, rest: np.ndarray, progress: bool | None) -> Placement:
        return place_in_chunks(model, X, rest, progress)

    def close(self) -> None:
        pass
