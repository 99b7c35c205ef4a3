"""The local engine: every step on this machine — segmenting and placing in ``engine.processes`` worker
processes when there is much of it, everything else in this process (the UMAP layouts may use a second
process)."""
from __future__ import annotations

import math
import os
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..config import EngineConfig, UnitsConfig
from ..corpus.documents import Document, text_sizes
from ..corpus.load import read_each
from ..embed.embedders import Embedder
from ..framings.model import FramingModel, place_in_chunks
from ..framings.placement import Placement
from ..progress import progress_bar
from ..units.segment import UnitTable, segment
from . import segment_offsets, segment_options

__all__ = ["LocalEngine"]

# Below these sizes the work is done in this process: starting workers and sending them the corpus or the fitted
# sample (a few seconds) would cost more than it saves.
PARALLEL_SEGMENT_MIN_CHARS = 20_000_000
PARALLEL_PLACE_MIN_UNITS = 200_000


def _numba_cache_on() -> None:
    from .._numba_cache import enable_numba_disk_cache

    enable_numba_disk_cache()


class _NumbaCacheFirst:
    """Sent ahead of the model: unpickling it in the worker turns numba's disk cache on before unpickling the
    model imports pynndescent, which would otherwise compile its search afresh."""

    def __reduce__(self):
        return _numba_cache_on, ()


def _place_part(cache_on: None, model: FramingModel, X: np.ndarray, part: np.ndarray) -> Placement:
    return place_in_chunks(model, X, part, progress=False)


class LocalEngine:
    name = "local"

    def __init__(self, settings: EngineConfig | None = None) -> None:
        self.settings = settings or EngineConfig()
        # never more workers than cores: on one core they would only take turns
        self.processes = min(self.settings.processes, os.cpu_count() or 1)

    def map_files(self, read: Callable[[Any], Iterable[Any]], items: list) -> Iterable[Any]:
        return read_each(read, items)

    def segment(self, documents: Sequence[Document], settings: UnitsConfig, progress: bool | None) -> UnitTable:
        processes = self.processes
        if processes < 2 or int(text_sizes(documents).sum()) < PARALLEL_SEGMENT_MIN_CHARS:
            return UnitTable.from_units(segment(documents, progress=progress, **segment_options(settings)), documents)
        from joblib import delayed

        # a few blocks per process, so one slow block does not leave the other process idle at the end
        size = math.ceil(len(documents) / (8 * processes))
        blocks = [range(start, min(start + size, len(documents))) for start in range(0, len(documents), size)]
        options = segment_options(settings)
        # a generator: joblib reads a block's texts only when it sends the block (the corpus's texts are never
        # all in memory at once)
        parts = self._in_workers((delayed(segment_offsets)(list(block), [documents[k].text for k in block], options)
                                  for block in blocks), [len(block) for block in blocks], progress, "segmenting", "doc")
        rows = {column: np.concatenate([part[column] for part in parts]) for column in parts[0]}
        return UnitTable.from_offsets(documents, rows)

    def embedder(self, local: Embedder) -> Embedder:
        return local

    def place(self, model: FramingModel, X: np.ndarray, rest: np.ndarray, progress: bool | None) -> Placement:
        processes = self.processes
        if processes < 2 or rest.size < PARALLEL_PLACE_MIN_UNITS:
            return place_in_chunks(model, X, rest, progress)
        from joblib import delayed

        # One part per process, cut at a multiple of the chunk size: each part is then placed in the very chunks
        # this process would use (a pynndescent query's result depends on the chunk it is in), so the result is
        # the same as placing in this process.
        per = math.ceil(rest.size / model.chunk_size / processes) * model.chunk_size
        parts = [rest[start:start + per] for start in range(0, rest.size, per)]
        return Placement.concatenate(self._in_workers(
            [delayed(_place_part)(_NumbaCacheFirst(), model, X, part) for part in parts], [part.size for part in parts],
            progress, "placing units", "unit"))

    def _in_workers(self, calls: Iterable, sizes: list[int], progress: bool | None, desc: str, unit: str) -> list:
        """joblib ``delayed`` calls run in ``processes`` loky workers, results in order; the progress bar advances
        by each call's size as it finishes. ``calls`` may be a generator: joblib takes a few calls ahead of the
        workers (``pre_dispatch``), not all."""
        from joblib import Parallel

        results = []
        with progress_bar(progress, total=sum(sizes), desc=desc, unit=unit, leave=False) as bar:
            for size, result in zip(sizes, Parallel(n_jobs=self.processes, backend="loky",
                                                    return_as="generator")(calls)):
                results.append(result)
                bar.update(size)
        return results

    def close(self) -> None:
        pass
