"""The ONNX back-ends against torch, their export cache, and the memory-mapped vector cache."""
import sys

import numpy as np
import pytest

from framing.embed.cache import EmbeddingCache, embed_texts, make_embedder, text_key
from framing.errors import FramingError

onnxruntime = pytest.importorskip("onnxruntime", reason="the ONNX back-ends need pip install 'framing[onnx]'")


@pytest.fixture(scope="module")
def example_texts():
    import framing
    from framing.units.segment import segment

    corpus = framing.load_corpus(None)
    return [u.text for u in segment(corpus.documents)]


@pytest.fixture(scope="module")
def torch_vectors(example_texts):
    return make_embedder(backend="torch", progress=False).encode(example_texts)


@pytest.mark.slow
def test_onnx_matches_torch_on_every_unit(example_texts, torch_vectors, cache_dir):
    embedder = make_embedder(backend="onnx", progress=False, cache_dir=cache_dir)
    vectors = embedder.encode(example_texts)
    assert vectors.dtype == np.float32 and vectors.shape == torch_vectors.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.min() >= 0.999, f"lowest cosine to torch {cosine.min():.5f}"
    # different arithmetic, so never the same cache entries as torch
    assert embedder.fingerprint != make_embedder(backend="torch").fingerprint


@pytest.mark.slow
def test_onnx_int8_agrees_as_documented(example_texts, torch_vectors, cache_dir):
    vectors = make_embedder(backend="onnx-int8", progress=False, cache_dir=cache_dir).encode(example_texts)
    cosine = (vectors * torch_vectors).sum(axis=1)
    # docs/architecture.md quotes the agreement measured by bench/embed_backends.py; these bounds sit under it
    assert cosine.mean() >= 0.97 and cosine.min() >= 0.85, (cosine.mean(), cosine.min())
    # and neighbours stay neighbours: each unit's nearest other unit is mostly the same as with torch
    def nearest(v):
        similarity = v @ v.T
        np.fill_diagonal(similarity, -2)
        return similarity.argmax(axis=1)

    assert (nearest(vectors) == nearest(torch_vectors)).mean() >= 0.8


@pytest.mark.slow
def test_the_export_is_made_once_and_reused(cache_dir, monkeypatch):
    import framing.embed.onnx_backend as embed_onnx

    first = make_embedder(backend="onnx", progress=False, cache_dir=cache_dir)
    first.encode(["A sentence to make sure the export exists."])
    model_file = first.export_folder() / "model.onnx"
    stamp = model_file.stat().st_mtime_ns

    def must_not_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(embed_onnx, "export_onnx", must_not_export)
    second = make_embedder(backend="onnx", progress=False, cache_dir=cache_dir)
    assert second.export_folder() == first.export_folder()
    assert np.allclose(second.encode(["The convoy waited."]), first.encode(["The convoy waited."]), atol=1e-6)
    assert model_file.stat().st_mtime_ns == stamp


def _damage_export(folder, damage: str) -> None:
    import shutil

    model = folder / "model.onnx"
    data = bytearray(model.read_bytes())
    if damage == "xor-64k":  # the file still loads, and gave unrelated vectors before exports were verified
        start = len(data) // 2
        data[start:start + 65536] = bytes(b ^ 0x5A for b in data[start:start + 65536])
        model.write_bytes(bytes(data))
    elif damage == "truncated":
        model.write_bytes(bytes(data[: len(data) // 3]))
    elif damage == "junk-meta":
        (folder / "framing-onnx.json").write_text("{not json")
    elif damage == "no-tokenizer":
        shutil.rmtree(folder / "tokenizer")
    elif damage == "meta-is-a-folder":
        (folder / "framing-onnx.json").unlink()
        (folder / "framing-onnx.json").mkdir()


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["xor-64k", "truncated", "junk-meta", "no-tokenizer", "meta-is-a-folder"])
def test_a_damaged_export_is_made_again_with_one_warning(tmp_path, caplog, damage):
    """Regression (issue 30, 2): a damaged model.onnx was used as is, and its garbage vectors were cached."""
    import shutil

    texts = ["The convoy waited at the crossing.", "Bread prices rose twentyfold during the siege."]
    clean = make_embedder(backend="onnx", progress=False, cache_dir=tmp_path / "clean")
    expected = clean.encode(texts)
    cache = tmp_path / "damaged"
    shutil.copytree(tmp_path / "clean", cache)
    folder = make_embedder(backend="onnx", progress=False, cache_dir=cache).export_folder()
    _damage_export(folder, damage)
    caplog.clear()
    vectors = make_embedder(backend="onnx", progress=False, cache_dir=cache).encode(texts)
    assert np.array_equal(vectors, expected)  # the same bits as from the undamaged export
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "damaged" in r.getMessage()]
    assert len(warned) == 1 and "exported again" in warned[0], warned


@pytest.mark.slow
def test_a_damaged_int8_model_is_quantised_again(tmp_path, caplog):
    texts = ["The convoy waited at the crossing."]
    expected = make_embedder(backend="onnx-int8", progress=False, cache_dir=tmp_path).encode(texts)
    folder = make_embedder(backend="onnx-int8", progress=False, cache_dir=tmp_path).export_folder()
    (folder / "model-int8.onnx").write_bytes((folder / "model-int8.onnx").read_bytes()[:5000])
    caplog.clear()
    assert np.array_equal(make_embedder(backend="onnx-int8", progress=False, cache_dir=tmp_path).encode(texts), expected)
    assert any("int8 model" in r.getMessage() and "damaged" in r.getMessage() for r in caplog.records)


def test_missing_onnxruntime_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(ImportError, match=r"pip install 'framing\[onnx\]'"):
        make_embedder(backend="onnx")


def test_unknown_backend_and_onnx_on_a_gpu_are_user_errors():
    with pytest.raises(FramingError, match="allowed: torch, onnx, onnx-int8"):
        make_embedder(backend="tensorrt")
    with pytest.raises(FramingError, match="runs on the CPU"):
        make_embedder(backend="onnx", device="cuda")


class _Recorder:
    """A real plug-in for the contract: vectors made from the text bytes, and a log of what it was asked."""

    fingerprint = "test:recorder"

    def __init__(self):
        self.calls = []

    def encode(self, texts):
        self.calls.append(list(texts))
        rng = [np.random.default_rng(int.from_bytes(text_key(t)[:8], "little")) for t in texts]
        return np.stack([r.standard_normal(8) for r in rng]).astype(np.float32)


def test_cached_vectors_are_memory_mapped_and_nothing_is_embedded_twice(tmp_path):
    texts = [f"sentence number {i}" for i in range(50)]
    recorder = _Recorder()
    first, stats = embed_texts(texts, recorder, EmbeddingCache(tmp_path, recorder.fingerprint))
    assert stats.n_computed == 50 and len(recorder.calls) == 1
    again, stats = embed_texts(texts, recorder, EmbeddingCache(tmp_path, recorder.fingerprint))
    assert stats.n_computed == 0 and stats.n_cached == 50 and len(recorder.calls) == 1
    assert isinstance(again.base, np.memmap) or isinstance(again, np.memmap)  # read from the file, not copied
    assert not again.flags.writeable
    assert np.array_equal(first, again)
    shuffled = texts[::-1] + texts[:3]  # rows out of order and repeated: gathered into memory instead
    gathered, stats = embed_texts(shuffled, recorder, EmbeddingCache(tmp_path, recorder.fingerprint))
    assert stats.n_computed == 0 and np.array_equal(gathered, np.concatenate([first[::-1], first[:3]]))


def test_a_torn_append_is_overwritten_by_the_next(tmp_path):
    recorder = _Recorder()
    cache = EmbeddingCache(tmp_path, recorder.fingerprint)
    first, _ = embed_texts(["one text here", "two texts here"], recorder, cache)
    with open(cache.vectors_path, "ab") as handle:  # a run killed between writing vectors and indexing them
        handle.write(b"\xff" * 20)
    more, stats = embed_texts(["three texts here", "one text here"], recorder, cache)
    assert stats.n_computed == 1
    expected = recorder.encode(["three texts here"])[0]
    assert np.allclose(more[0], expected / np.linalg.norm(expected))
    assert np.array_equal(more[1], first[0])
    assert len(cache) == 3 and cache.vectors_path.stat().st_size >= 3 * 8 * 4
