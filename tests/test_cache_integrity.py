"""A damaged cache is found, repaired and re-embedded with one warning line; concurrent writers never corrupt it."""
import logging
import multiprocessing
import sqlite3

import numpy as np
import pytest

from framing.embed.cache import EmbeddingCache, embed_texts, text_key

TEXTS = [f"sentence number {i} about the convoy" for i in range(40)]


class KeyedEmbedder:
    """A deterministic stand-in: each text's vector follows from its hash, so any stored vector can be checked."""

    fingerprint = "test:keyed"

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def encode(self, texts):
        self.embedded.extend(texts)
        return np.stack([expected_vector(t) for t in texts]) if texts else np.zeros((0, 8), np.float32)


def expected_vector(text: str) -> np.ndarray:
    vector = np.random.default_rng(int.from_bytes(text_key(text)[:8], "little")).standard_normal(8)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def filled_cache(folder) -> EmbeddingCache:
    cache = EmbeddingCache(folder, KeyedEmbedder.fingerprint)
    embed_texts(TEXTS, KeyedEmbedder(), cache)
    cache.close()
    return cache


def reopen_and_embed(folder, caplog) -> tuple[np.ndarray, KeyedEmbedder, list[str]]:
    embedder = KeyedEmbedder()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="framing"):
        cache = EmbeddingCache(folder, KeyedEmbedder.fingerprint)
        vectors, _ = embed_texts(TEXTS, embedder, cache)
        vectors = np.array(vectors)
        cache.close()
    return vectors, embedder, [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def assert_correct(vectors: np.ndarray) -> None:
    assert np.allclose(vectors, np.stack([expected_vector(t) for t in TEXTS]), atol=1e-6)


def test_a_truncated_vector_file_is_repaired(tmp_path, caplog):
    cache = filled_cache(tmp_path)
    with open(cache.vectors_path, "r+b") as handle:
        handle.truncate(25 * 8 * 4 + 13)  # 25 whole rows and a torn one
    vectors, embedder, warnings = reopen_and_embed(tmp_path, caplog)
    assert_correct(vectors)
    assert embedder.embedded == TEXTS[25:]
    assert len(warnings) == 1 and "vectors.f32 is shorter than its index; 15 vector(s) were dropped" in warnings[0]
    again, embedder, warnings = reopen_and_embed(tmp_path, caplog)
    assert_correct(again) and not embedder.embedded and not warnings


def test_vectors_overwritten_with_other_bytes_fail_their_checksum(tmp_path, caplog):
    cache = filled_cache(tmp_path)
    size = cache.vectors_path.stat().st_size
    garbage = np.random.default_rng(3).standard_normal(size // 4).astype(np.float32)
    garbage[: 10 * 8] = np.fromfile(cache.vectors_path, dtype=np.float32)[: 10 * 8]  # the first 10 rows intact
    garbage.tofile(cache.vectors_path)
    assert cache.vectors_path.stat().st_size == size
    vectors, embedder, warnings = reopen_and_embed(tmp_path, caplog)
    assert_correct(vectors)
    assert embedder.embedded == TEXTS[10:]
    assert len(warnings) == 1 and "30 cached vector(s) failed their checksum" in warnings[0]


@pytest.mark.parametrize("damage", ["truncated", "garbled"])
def test_a_damaged_index_is_reset_and_everything_embedded_again(tmp_path, caplog, damage):
    cache = filled_cache(tmp_path)
    data = cache.index_path.read_bytes()
    if damage == "truncated":
        cache.index_path.write_bytes(data[: len(data) // 2])
    else:
        rng = np.random.default_rng(5)
        cache.index_path.write_bytes(data[:100] + rng.integers(0, 256, len(data) - 100, dtype=np.uint8).tobytes())
    vectors, embedder, warnings = reopen_and_embed(tmp_path, caplog)
    assert_correct(vectors)
    assert sorted(embedder.embedded) == sorted(TEXTS)
    assert len(warnings) == 1 and "its index is damaged" in warnings[0] and "embedded again" in warnings[0]


def test_a_cache_written_before_checksums_is_checked_from_then_on(tmp_path, caplog):
    cache = filled_cache(tmp_path)
    db = sqlite3.connect(cache.index_path)
    db.execute("UPDATE rows SET crc = NULL")  # what an older framing left: rows without checksums
    db.commit()
    db.close()
    vectors, embedder, warnings = reopen_and_embed(tmp_path, caplog)
    assert_correct(vectors) and not embedder.embedded and not warnings
    db = sqlite3.connect(cache.index_path)
    assert db.execute("SELECT COUNT(*) FROM rows WHERE crc IS NULL").fetchone()[0] == 0
    db.close()


def _append_many(folder: str, offset: int, rounds: int) -> None:
    cache = EmbeddingCache(folder, KeyedEmbedder.fingerprint)
    for i in range(rounds):
        # overlapping key sets: both processes try to add some of the same texts
        texts = [f"text {offset + i * 3 + j}" for j in range(6)] + [f"shared {i}"]
        cache.put([text_key(t) for t in texts], np.stack([expected_vector(t) for t in texts]))
    cache.close()


def test_two_processes_appending_at_once_leave_a_consistent_store(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(tmp_path), offset, 60)) for offset in (0, 100000)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    cache = EmbeddingCache(tmp_path, KeyedEmbedder.fingerprint)
    db = sqlite3.connect(cache.index_path)
    rows = sorted(r[0] for r in db.execute("SELECT row FROM rows"))
    db.close()
    texts = sorted({f"text {o + i * 3 + j}" for o in (0, 100000) for i in range(60) for j in range(6)}
                   | {f"shared {i}" for i in range(60)})
    assert len(cache) == len(texts) and rows == list(range(len(texts)))  # every row once, none lost or shared
    found = cache.lookup([text_key(t) for t in texts])
    assert len(found) == len(texts) and not cache.repairs  # every checksum holds
    matrix = cache.matrix()
    assert np.array_equal(matrix[[found[text_key(t)] for t in texts]], np.stack([expected_vector(t) for t in texts]))
    cache.close()


def test_a_full_disk_while_caching_is_one_clear_error(tmp_path, monkeypatch):
    import errno

    from framing.errors import FramingError

    cache = EmbeddingCache(tmp_path, KeyedEmbedder.fingerprint)
    real_open = open

    def full_disk_open(path, *args, **kwargs):
        if str(path).endswith("vectors.f32"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_disk_open)
    with pytest.raises(FramingError, match="cannot write embedding cache .*vectors.f32: the disk is full"):
        embed_texts(TEXTS, KeyedEmbedder(), cache)
    monkeypatch.undo()
    assert len(cache) == 0  # nothing indexed for vectors that were never written
    vectors, _ = embed_texts(TEXTS, KeyedEmbedder(), cache)
    assert_correct(np.array(vectors))
