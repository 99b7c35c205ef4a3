"""Reposts and repeated text: duplicate groups of units, and documents that are mostly a copy of another.

Two units are in one group when their normalised text (case, quotes, dashes, whitespace) is equal, or when they
are near-duplicates: Jaccard similarity of word 3-shingles at least ``threshold``, with candidates found by MinHash
LSH (vectorised in numpy) so the cost grows linearly with the corpus. A group is embedded and clustered once and counted once
(for its earliest occurrence); every occurrence keeps its own document, offsets and source.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import zlib
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from ..store.outputs import disk_error, reserve_space

__all__ = ["normalise", "DuplicateGroups", "find_duplicates", "find_reposts"]

_QUOTES = str.maketrans({c: "'" for c in "‘’‚‛′`´"} | {c: '"' for c in "“”„‟″«»"}
                        | {c: "-" for c in "‐‑‒–—―−"})
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Text as compared for duplicates: NFKC, lower case, one kind of quote and dash, single spaces."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()).strip()


@dataclass(frozen=True)
class DuplicateGroups:
    """``group[i]`` is unit i's group id (0..n_groups-1, numbered by first occurrence); ``representative[g]``
    is the index of the unit that stands for group g (its earliest occurrence)."""

    group: np.ndarray
    representative: np.ndarray

    @property
    def n_groups(self) -> int:
        return int(self.representative.size)

    def is_representative(self) -> np.ndarray:
        mask = np.zeros(self.group.size, dtype=bool)
        mask[self.representative] = True
        return mask


def word_shingles(text: str, size: int = 3) -> set[bytes]:
    words = _WORD.findall(text)
    if len(words) < size:
        return {" ".join(words).encode()}
    return {" ".join(words[i:i + size]).encode() for i in range(len(words) - size + 1)}


def _lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands and rows per band whose S-curve best separates Jaccard above ``threshold`` from below it.

    As datasketch chooses them: the (b, r) with b * r <= num_perm minimising the probability mass of false
    positives below the threshold plus false negatives above it.
    """
    best, best_error = (1, num_perm), float("inf")
    for bands in range(1, num_perm + 1):
        rows = num_perm // bands
        low = np.linspace(0.0, threshold, 200)
        high = np.linspace(threshold, 1.0, 200)
        false_positive = (1 - (1 - low**rows) ** bands).mean() * threshold
        false_negative = ((1 - high**rows) ** bands).mean() * (1.0 - threshold)
        if false_positive + false_negative < best_error:
            best, best_error = (bands, rows), false_positive + false_negative
    return best


SHINGLE_BATCH = 50_000  # texts whose shingle hashes are sorted at a time


def shingle_hashes(texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each text's word 3-shingles as their distinct CRC-32s, sorted, all texts in one flat uint32 array, and how
    many belong to each text. Four bytes a shingle: a million units' shingles as Python sets of bytes took about
    1.6 GB. Sorted ``SHINGLE_BATCH`` texts at a time: the sort's owner and order arrays, 16 bytes a shingle, were
    ~400 MB at once at a million units."""
    out, out_lengths = array("I"), array("q")
    flat, lengths = array("I"), array("q")

    def flush() -> None:
        hashes, counts = np.frombuffer(flat, dtype=np.uint32).copy(), np.frombuffer(lengths, dtype=np.int64).copy()
        del flat[:], lengths[:]  # the batch's arrays are copies: the buffers can be refilled
        owner = np.repeat(np.arange(counts.size), counts)
        order = np.lexsort((hashes, owner))
        hashes, owner = hashes[order], owner[order]
        # two shingles of one text with one CRC-32 (1 in 4 billion) count once, as the set of hashes has it
        keep = np.ones(hashes.size, dtype=bool)
        keep[1:] = (hashes[1:] != hashes[:-1]) | (owner[1:] != owner[:-1])
        out.frombytes(hashes[keep].tobytes())
        out_lengths.frombytes(np.bincount(owner[keep], minlength=counts.size).astype(np.int64).tobytes())

    for text in texts:
        shingles = word_shingles(text)
        lengths.append(len(shingles))
        flat.extend(zlib.crc32(shingle) for shingle in shingles)
        if len(lengths) == SHINGLE_BATCH:
            flush()
    if lengths:
        flush()
    return np.frombuffer(out, dtype=np.uint32), np.frombuffer(out_lengths, dtype=np.int64)


SCRATCH_BYTES = 64 * 2**20  # per-text arrays larger than this are memory-mapped scratch files, not heap


def _scratch_array(shape: tuple[int, ...], dtype, folder: str | os.PathLike | None) -> np.ndarray:
    """An uninitialised array; past ``SCRATCH_BYTES``, backed by an unnamed temporary file in ``folder`` (the
    system's temporary folder when None): its pages are the kernel's to write out and drop under pressure, not
    heap that a larger corpus must fit. The file is gone once the array is."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    if size <= SCRATCH_BYTES:
        return np.empty(shape, dtype=dtype)
    try:
        with tempfile.TemporaryFile(prefix="framing-scratch-", dir=folder) as handle:
            reserve_space(handle.fileno(), size)  # a full disk is an error here, not a SIGBUS later
            return np.memmap(handle, dtype=dtype, mode="w+", shape=shape)  # the map keeps the pages
    except OSError as exc:
        raise disk_error(exc, "a scratch file in", folder or tempfile.gettempdir()) or exc from None


# candidate pairs of one LSH band expanded, checked and merged at a time: at 2M units, 2**21 pairs (and 2**16 in a
# chunk of the MinHash estimate) took 724 MB of anonymous memory where 2**22 (and 2**18) took 852, in the same time
PAIR_CHUNK = 1 << 21


def _starts(lengths: np.ndarray) -> np.ndarray:
    """Where each text's hashes begin in the flat array."""
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)


def minhash_signatures(hashes: np.ndarray, lengths: np.ndarray, threshold: float, num_perm: int, seed: int,
                       scratch: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MinHash LSH of every text: its key in each band, (bands, n) uint64 (texts that share a band's key are
    likely at Jaccard at least ``threshold``), and the low byte of every MinHash value, (n, num_perm) uint8.

    MinHash over each text's shingle hashes (``hashes``, ``lengths`` as from ``shingle_hashes``) with
    ``num_perm`` seeded multiply-shift hashes (``(a * h + b) mod 2**64``, top 32 bits: no division), computed in
    numpy a bounded chunk of texts at a time: on 100k synthetic units ``find_duplicates`` took 23.9 s with
    datasketch's MinHash and LSH, which we used first, and 9.5 s with numpy (both under cProfile), with 256
    hashes instead of 64. Only each chunk's band keys and the values' low bytes are kept (b-bit MinHash, Li &
    König 2010): 256 bytes a text where the full signatures took 1,024. Both are scratch arrays in ``scratch``
    (``_scratch_array``): 420 MB at a million units. Deterministic: CRC-32 and the seeded hash parameters are the
    same in every process.
    """
    n = len(lengths)
    starts = _starts(lengths)
    rng = np.random.RandomState(seed)
    a = rng.randint(0, 1 << 62, size=num_perm, dtype=np.int64).astype(np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.randint(0, 1 << 62, size=num_perm, dtype=np.int64).astype(np.uint64)
    bands, rows = _lsh_bands(threshold, num_perm)
    mixers = np.random.RandomState(seed + 1).randint(1, 1 << 62, size=rows, dtype=np.int64).astype(np.uint64) | 1
    band_keys = _scratch_array((bands, n), np.uint64, scratch)
    low_bytes = _scratch_array((n, num_perm), np.uint8, scratch)
    per_chunk = max(1, (1 << 22) // num_perm)  # shingles per step: bounds the (shingles x num_perm) array
    bounds, first = [], 0
    while first < n:
        last = int(np.searchsorted(starts, starts[first] + per_chunk, side="right"))
        bounds.append((first, min(max(last, first + 1), n)))
        first = bounds[-1][1]
    shift = np.uint64(32)

    def sign(chunk: tuple[int, int]) -> None:
        first, last = chunk
        begin, end = int(starts[first]), int(starts[last - 1] + lengths[last - 1])
        with np.errstate(over="ignore"):  # multiply-shift and the band key are hashes: wrapping is intended
            # (num_perm, shingles): each hash's values lie contiguous, and reduceat along rows is five times
            # faster than down columns
            permuted = (a[:, None] * hashes[None, begin:end].astype(np.uint64) + b[:, None]) >> shift
            signatures = np.minimum.reduceat(permuted, starts[first:last] - begin, axis=1).T
            for band in range(bands):
                band_keys[band, first:last] = (signatures[:, band * rows:(band + 1) * rows] * mixers).sum(axis=1)
        low_bytes[first:last] = signatures.astype(np.uint8)  # the low 8 bits

    # numpy's ufuncs release the GIL on arrays this large: two threads sign two chunks at once
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        list(pool.map(sign, bounds))
    return band_keys, low_bytes


def band_pairs(keys: np.ndarray, limit: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every pair of texts that share a bucket (``keys``: one LSH band's key per text) as ``(left, right)``
    arrays, at most about ``limit`` pairs at a time (a bucket of m texts holds m(m-1)/2 pairs: on templated text
    one band's pairs, expanded at once, took gigabytes at two million units)."""
    n, limit = keys.size, PAIR_CHUNK if limit is None else limit
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    run_starts = np.concatenate([[0], np.flatnonzero(np.diff(sorted_keys)) + 1]) if n else np.zeros(0, np.int64)
    run_ends = np.append(run_starts[1:], n)
    # position p (in key order) pairs with each later position of its bucket
    later = np.repeat(run_ends, run_ends - run_starts) - np.arange(n) - 1
    cumulative = np.cumsum(later)
    first = 0
    while first < n:
        # the positions whose pairs fit in ``limit`` (at least one position)
        last = max(first + 1, int(np.searchsorted(cumulative, cumulative[first] - later[first] + limit, side="right")))
        counts = later[first:last]
        total = int(counts.sum())
        if total:
            owner = np.repeat(np.arange(first, last), counts)
            offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            yield order[owner], order[owner + 1 + offsets]
        first = last


def _merge_groups(root: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Each text's group root (the first text of its group) once ``left[k]`` and ``right[k]`` are linked."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = root.size
    graph = coo_matrix((np.ones(n + left.size, dtype=np.int8),
                        (np.concatenate([np.arange(n), left]), np.concatenate([root, right]))), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    _, first = np.unique(component, return_index=True)  # a component's first text is its lowest position
    return first[component]


def _near_duplicate_roots(hashes: np.ndarray, lengths: np.ndarray, threshold: float, num_perm: int, seed: int,
                          scratch: str | os.PathLike | None = None) -> np.ndarray:
    """Each text's near-duplicate group, as the group's first text: the connected components of the pairs whose
    shingle sets have a Jaccard similarity of at least ``threshold``, among the pairs MinHash LSH proposes.

    LSH proposes pairs from ``threshold - 0.2``; the low bytes' estimate drops those below ``threshold - 0.1`` and
    the exact Jaccard decides. Pairs are taken a band and a chunk at a time, and a pair whose texts are already in
    one group is not checked: what stays is one root per text, not every pair (on templated text, the pairs grow
    with the square of the corpus: 12.5 million distinct candidates at a million units, 50 million at two). The
    groups are those of all the pairs at once: a pair left unchecked would only link what is linked already.
    """
    band_keys, low_bytes = minhash_signatures(hashes, lengths, max(threshold - 0.2, 0.2), num_perm, seed, scratch)
    n = len(lengths)
    root = np.arange(n)
    for keys in band_keys:
        for left, right in band_pairs(np.asarray(keys)):
            apart = root[left] != root[right]
            pairs = np.stack([left[apart], right[apart]], axis=1)  # every check below is symmetric
            likely = likely_pairs(pairs, low_bytes, threshold - 0.1)
            near = likely[jaccard(likely, hashes, lengths) >= threshold]
            if len(near):
                root = _merge_groups(root, near[:, 0], near[:, 1])
    return root


def likely_pairs(pairs: np.ndarray, low_bytes: np.ndarray, threshold: float, chunk: int = 1 << 16) -> np.ndarray:
    """The pairs (an (m, 2) array) whose MinHash estimate of Jaccard is at least ``threshold`` (vectorised, in
    chunks: each chunk gathers 2 x 256 bytes a pair, 32 MB).

    Two texts' low bytes also agree by chance (1 in 256) where their MinHash values differ, so the share that
    agrees, p, estimates Jaccard as (p - 1/256) / (1 - 1/256). With 256 hashes the estimate's standard deviation
    at Jaccard 0.8 is about 0.025, so a cut 0.1 below the real threshold (four deviations) drops almost only pairs
    the exact check would reject; on templated text, where buckets hold many similar sentences, it leaves a small
    fraction of the candidates to check exactly.
    """
    chance = 1 / 256
    kept = [np.zeros((0, 2), dtype=np.int64)]
    for start in range(0, len(pairs), chunk):
        left, right = pairs[start:start + chunk, 0], pairs[start:start + chunk, 1]
        agree = (low_bytes[left] == low_bytes[right]).mean(axis=1)
        keep = (agree - chance) / (1 - chance) >= threshold
        kept.append(np.stack([left[keep], right[keep]], axis=1))
    return np.concatenate(kept)


def jaccard(pairs: np.ndarray, hashes: np.ndarray, lengths: np.ndarray, chunk: int = 1 << 22) -> np.ndarray:
    """Exact Jaccard similarity of each pair's shingle hash sets (sorted and distinct per text, as
    ``shingle_hashes`` makes them), vectorised: a pair's intersection is the number of hashes that appear twice
    when both texts' hashes are put side by side."""
    starts = _starts(lengths)
    out = np.empty(len(pairs), dtype=np.float64)
    first = 0
    while first < len(pairs):
        # as many pairs as keep the gathered hashes near ``chunk``
        sizes = lengths[pairs[first:, 0]] + lengths[pairs[first:, 1]]
        last = first + max(1, int(np.searchsorted(np.cumsum(sizes), chunk)))
        part = pairs[first:last]
        left, right = part[:, 0], part[:, 1]
        count = np.concatenate([lengths[left], lengths[right]])
        begin = np.concatenate([starts[left], starts[right]])
        owner = np.concatenate([np.arange(len(part)), np.arange(len(part))])
        owner = np.repeat(owner, count)
        within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        keys = (owner.astype(np.uint64) << np.uint64(32)) | hashes[np.repeat(begin, count) + within].astype(np.uint64)
        keys.sort()
        twice = keys[1:] == keys[:-1]
        shared = np.bincount((keys[1:][twice] >> np.uint64(32)).astype(np.int64), minlength=len(part))
        out[first:last] = shared / (lengths[left] + lengths[right] - shared)
        first = last
    return out


_DIGEST = np.dtype("V16")


def _digests(texts: Sequence[str], rows: np.ndarray) -> np.ndarray:
    """A 16-byte digest of each of ``texts[rows]``, normalised, in one array: exact matches are equal digests.
    ``texts`` may cut each text when read (``UnitColumn``), and a list of every normalised text cost 160 bytes a
    unit, a dict of digests ~120."""
    buffer = bytearray(_DIGEST.itemsize * len(rows))
    for k, i in enumerate(rows.tolist()):
        normalised = normalise(texts[i]).encode("utf-8", "surrogatepass")
        buffer[_DIGEST.itemsize * k:_DIGEST.itemsize * (k + 1)] = hashlib.blake2b(normalised, digest_size=16).digest()
    return np.frombuffer(buffer, dtype=_DIGEST)


def find_duplicates(texts: Sequence[str], threshold: float | None = 0.8, order: Sequence[int] | None = None,
                    num_perm: int = 256, seed: int = 1, scratch: str | os.PathLike | None = None) -> DuplicateGroups:
    """Group exact (normalised) and near-duplicate texts.

    Args:
        texts: unit texts.
        threshold: Jaccard similarity of word 3-shingles above which two texts are near-duplicates;
            ``None`` groups exact (normalised) matches only.
        order: precedence of units (lower first) for choosing representatives, e.g. by document date;
            default: the order of ``texts``.
        scratch: a folder for the MinHash arrays' scratch files (``None``: the system's temporary folder).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(texts)
    if not n:
        return DuplicateGroups(group=np.zeros(0, dtype=np.int64), representative=np.zeros(0, dtype=np.int64))
    rank = np.arange(n) if order is None else np.asarray(order)
    by_rank = np.argsort(rank, kind="stable")  # units in precedence order: a unit's position is its place here
    # exact matches: each position is linked to the first position with its digest
    _, first, exact_of = np.unique(_digests(texts, by_rank), return_index=True, return_inverse=True)
    links = [(np.arange(n), first[exact_of.ravel()])]
    leaders = np.sort(first)  # the positions of the distinct texts, in precedence order
    del exact_of
    if threshold is not None and leaders.size > 1:
        # LSH only proposes candidates, so it runs below the threshold, and the exact Jaccard below makes every
        # decision. With 256 hashes and candidates from 0.6 (32 bands of 8), a pair at Jaccard 0.8 is proposed
        # with probability 0.997 (0.952 with 64 hashes, as we had first), a pair at 0.5 with 0.12.
        hashes, lengths = shingle_hashes(normalise(texts[i]) for i in by_rank[leaders].tolist())
        # The decision: Jaccard of the shingles' CRC-32s, which differs from the shingles' own only where two
        # different shingles of the pair share a CRC-32 (1 in 4 billion).
        root = _near_duplicate_roots(hashes, lengths, threshold, num_perm, seed, scratch)
        del hashes, lengths
        links.append((leaders, leaders[root]))
    left = np.concatenate([pair[0] for pair in links])
    right = np.concatenate([pair[1] for pair in links])
    graph = coo_matrix((np.ones(left.size, dtype=np.int8), (left, right)), shape=(n, n)).tocsr()
    _, component = connected_components(graph, directed=False)
    # a group's root is its earliest position; groups are numbered by their root, in precedence order
    root = np.full(int(component.max()) + 1, n, dtype=np.int64)
    np.minimum.at(root, component, np.arange(n))
    root_positions, group_of_position = np.unique(root[component], return_inverse=True)
    position = np.empty(n, dtype=np.int64)
    position[by_rank] = np.arange(n)
    return DuplicateGroups(group=group_of_position.ravel()[position].astype(np.int64),
                           representative=by_rank[root_positions])


def find_reposts(doc_ids: Sequence[str], groups: np.ndarray, doc_order: dict[str, int],
                 min_share: float = 0.5, min_units: int = 3) -> list[dict]:
    """Documents most of whose units also stand in one earlier document.

    Returns ``[{"document", "original", "shared_units", "units", "share"}]``: ``share`` of ``document``'s units
    have a duplicate in ``original``, which comes first by ``doc_order`` (date, then corpus order); of two
    earlier documents that share as many, the earlier.

    Works on arrays of (document, group) pairs: a set of groups per document and of documents per group took
    ~460 MB of Python objects at a million units. Only documents enough of whose groups stand in some earlier
    document (a bound on any one earlier document's share) are compared with the documents before them.
    """
    doc_codes, names = pd.factorize(np.asarray(doc_ids, dtype=object))
    groups = np.asarray(groups, dtype=np.int64)
    if not doc_codes.size:
        return []
    rank = np.array([doc_order[name] for name in names], dtype=np.int64)
    units_of = np.bincount(doc_codes, minlength=len(names))
    # each (document, group) once, sorted by group and then by the document's rank
    pairs = np.unique(np.stack([groups, rank[doc_codes], doc_codes]), axis=1)
    pair_group, pair_doc = pairs[0], pairs[2]
    groups_of = np.bincount(pair_doc, minlength=len(names))
    first_of_group = np.flatnonzero(np.r_[True, pair_group[1:] != pair_group[:-1]])
    # a pair whose group stands in an earlier document: the group's first document is not this one
    earliest = np.repeat(pair_doc[first_of_group], np.diff(np.r_[first_of_group, pair_group.size]))
    seen_before = np.bincount(pair_doc[earliest != pair_doc], minlength=len(names))
    candidates = np.flatnonzero((units_of >= min_units) & (seen_before > 0) & (seen_before >= min_share * groups_of))
    if not candidates.size:
        return []
    start_of = np.repeat(first_of_group, np.diff(np.r_[first_of_group, pair_group.size]))
    by_doc = np.argsort(pair_doc, kind="stable")
    doc_starts = np.r_[0, np.cumsum(groups_of)]
    reposts = []
    for d in candidates[np.argsort(rank[candidates], kind="stable")].tolist():
        own = by_doc[doc_starts[d]:doc_starts[d + 1]]
        # the documents before d in each of its groups (pairs of a group are sorted by rank)
        earlier = [pair_doc[start_of[p]:p] for p in own.tolist() if start_of[p] < p]
        if not earlier:
            continue
        shared = np.bincount(np.concatenate(earlier), minlength=len(names))
        best = int(shared.max())
        original = int(min(np.flatnonzero(shared == best), key=lambda o: rank[o]))
        share = best / int(groups_of[d])
        if share >= min_share:
            reposts.append({"document": str(names[d]), "original": str(names[original]), "shared_units": best,
                            "units": int(units_of[d]), "share": round(share, 4)})
    return reposts
