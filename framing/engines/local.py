"""The local engine: every step in this process (the UMAP layouts may use a second process)."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..config import UnitsConfig
from ..corpus import Document
from ..embedders import Embedder
from ..framings import FramingModel, Placement, place_in_chunks
from ..units import Unit, segment
from . import segment_options

__all__ = ["LocalEngine"]


class LocalEngine:
    name = "local"

    def map_files(self, read: Callable[[Any], Any], items: list) -> Iterable[Any]:
        return map(read, items)

    def segment(self, documents: Sequence[Document], settings: UnitsConfig, progress: bool | None) -> list[Unit]:
        return segment(documents, progress=progress, **segment_options(settings))

    def embedder(self, local: Embedder) -> Embedder:
        return local

    def place(self, model: FramingModel, X: np.ndarray, rest: np.ndarray, progress: bool | None) -> Placement:
        return place_in_chunks(model, X, rest, progress)

    def close(self) -> None:
        pass
