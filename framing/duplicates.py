"""Reposts and repeated text: duplicate groups of units, and documents that are mostly a copy of another.

Two units are in one group when their normalised text (case, quotes, dashes, whitespace) is equal, or when they
are near-duplicates: Jaccard similarity of word 3-shingles at least ``threshold``, found with MinHash LSH
(datasketch) so the cost grows linearly with the corpus. A group is embedded and clustered once and counted once
(for its earliest occurrence); every occurrence keeps its own document, offsets and source.
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

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


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)  # the earlier unit stays the root


def _shingles(text: str, size: int = 3) -> set[bytes]:
    words = _WORD.findall(text)
    if len(words) < size:
        return {" ".join(words).encode()}
    return {" ".join(words[i:i + size]).encode() for i in range(len(words) - size + 1)}


def find_duplicates(texts: Sequence[str], threshold: float | None = 0.8, order: Sequence[int] | None = None,
                    num_perm: int = 64, seed: int = 1) -> DuplicateGroups:
    """Group exact (normalised) and near-duplicate texts.

    Args:
        texts: unit texts.
        threshold: Jaccard similarity of word 3-shingles above which two texts are near-duplicates;
            ``None`` groups exact (normalised) matches only.
        order: precedence of units (lower first) for choosing representatives, e.g. by document date;
            default: the order of ``texts``.
    """
    n = len(texts)
    rank = np.arange(n) if order is None else np.asarray(order)
    by_rank = np.argsort(rank, kind="stable")
    position = np.empty(n, dtype=np.int64)
    position[by_rank] = np.arange(n)  # union-find roots are the earliest by precedence
    forest = _UnionFind(n)
    normalised = [normalise(t) for t in texts]
    first_seen: dict[str, int] = {}
    for i in by_rank:
        key = normalised[i]
        if key in first_seen:
            forest.union(position[first_seen[key]], position[i])
        else:
            first_seen[key] = i
    if threshold is not None and len(first_seen) > 1:
        from datasketch import MinHash, MinHashLSH

        distinct = list(first_seen.values())
        shingle_sets = [_shingles(normalised[i]) for i in distinct]
        sketches = MinHash.bulk(shingle_sets, num_perm=num_perm, seed=seed)
        # LSH only proposes candidates, so it runs below the threshold: pairs just above it are not lost to
        # hashing luck, and the exact Jaccard below makes every decision.
        lsh = MinHashLSH(threshold=max(threshold - 0.2, 0.2), num_perm=num_perm)
        for key, sketch in enumerate(sketches):
            lsh.insert(key, sketch)
        for key, sketch in enumerate(sketches):
            for other in lsh.query(sketch):
                if other <= key:
                    continue
                a, b = shingle_sets[key], shingle_sets[other]
                if len(a & b) / len(a | b) >= threshold:
                    forest.union(position[distinct[key]], position[distinct[other]])
    roots = [forest.find(position[i]) for i in range(n)]  # roots are positions in precedence order
    root_to_group: dict[int, int] = {}
    for root in sorted(set(roots)):
        root_to_group[root] = len(root_to_group)
    group = np.array([root_to_group[r] for r in roots], dtype=np.int64)
    representative = np.array([by_rank[root] for root in sorted(root_to_group)], dtype=np.int64)
    return DuplicateGroups(group=group, representative=representative)


def find_reposts(doc_ids: Sequence[str], groups: np.ndarray, doc_order: dict[str, int],
                 min_share: float = 0.5, min_units: int = 3) -> list[dict]:
    """Documents most of whose units also stand in one earlier document.

    Returns ``[{"document", "original", "shared_units", "units", "share"}]``: ``share`` of ``document``'s units
    have a duplicate in ``original``, which comes first by ``doc_order`` (date, then corpus order).
    """
    groups_of: dict[str, set[int]] = defaultdict(set)
    units_of: dict[str, int] = defaultdict(int)
    for doc_id, group in zip(doc_ids, groups):
        groups_of[doc_id].add(int(group))
        units_of[doc_id] += 1
    docs_with: dict[int, set[str]] = defaultdict(set)
    for doc_id, doc_groups in groups_of.items():
        for group in doc_groups:
            docs_with[group].add(doc_id)
    reposts = []
    for doc_id in sorted(groups_of, key=lambda d: doc_order[d]):
        if units_of[doc_id] < min_units:
            continue
        overlap: dict[str, int] = defaultdict(int)
        for group in groups_of[doc_id]:
            for other in docs_with[group]:
                if other != doc_id and doc_order[other] < doc_order[doc_id]:
                    overlap[other] += 1
        if not overlap:
            continue
        original, shared = max(overlap.items(), key=lambda item: (item[1], -doc_order[item[0]]))
        share = shared / len(groups_of[doc_id])
        if share >= min_share:
            reposts.append({"document": doc_id, "original": original, "shared_units": shared,
                            "units": units_of[doc_id], "share": round(share, 4)})
    return reposts
