"""Names for framings that read like framings: key phrases and a caption.

A framing's label is a few key phrases chosen by maximal marginal relevance (MMR, as KeyBERT and BERTopic's
``MaximalMarginalRelevance`` do it): the candidates are the framing's distinctive n-grams (class-based TF-IDF),
embedded with the run's own model; each pick is the candidate closest to the framing's centre less its
similarity to the phrases already picked, so the label says several things, not one thing three times. The
caption is the framing's most central short passage: the one a reader checks the label against.

Names given by the user (``describe.names`` in the config, by framing id or by a unit id) win over both.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

__all__ = ["mmr", "keyphrase_label", "keyphrase_labels", "central_short_passage", "given_names", "GivenNames"]

log = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")


def mmr(candidates: np.ndarray, centre: np.ndarray, k: int, diversity: float) -> list[int]:
    """Indices of ``k`` candidates (rows of unit-length vectors) by maximal marginal relevance to ``centre``.

    Each step takes the candidate maximising ``(1 - diversity) * cos(candidate, centre) - diversity *
    max cos(candidate, chosen)``; ``diversity`` 0 is plain relevance, 1 is all diversity.
    """
    if not len(candidates) or k <= 0:
        return []
    relevance = candidates @ centre
    chosen = [int(np.argmax(relevance))]
    closest = candidates @ candidates[chosen[0]]  # each candidate's highest similarity to a chosen one
    while len(chosen) < min(k, len(candidates)):
        score = (1.0 - diversity) * relevance - diversity * closest
        score[chosen] = -np.inf
        pick = int(np.argmax(score))
        chosen.append(pick)
        closest = np.maximum(closest, candidates @ candidates[pick])
    return chosen


def _redundant(phrase: str, chosen: Sequence[str]) -> bool:
    """A phrase whose words a chosen phrase already says ("siege" after "the siege of varno")."""
    words = set(phrase.split())
    return any(words <= set(other.split()) or set(other.split()) <= words for other in chosen)


def keyphrase_label(candidates: Sequence[str], vectors: np.ndarray, centre: np.ndarray, n_phrases: int,
                    diversity: float) -> tuple[str, list[str]]:
    """The label (phrases joined by " · ") and the phrases, chosen by MMR among ``candidates`` (in the order
    they were picked). Phrases contained in one already picked are passed over."""
    order = mmr(vectors, centre, len(candidates), diversity)
    phrases: list[str] = []
    for index in order:
        if not _redundant(candidates[index], phrases):
            phrases.append(candidates[index])
        if len(phrases) == n_phrases:
            break
    return (" · ".join(phrases) if phrases else "(no distinctive terms)"), phrases


def keyphrase_labels(terms: Mapping[int, Sequence[tuple[str, float]]], centres: np.ndarray,
                     encode: Callable[[list[str]], np.ndarray], n_candidates: int, n_phrases: int,
                     diversity: float) -> dict[int, tuple[str, list[str]]]:
    """A key-phrase label per id: MMR among its top ``n_candidates`` terms for relevance to ``centres[id]``.
    Every distinct candidate is embedded once, by ``encode`` (the run's model, through its cache, which gives
    unit-length rows)."""
    candidates = {k: [t for t, _ in values[:n_candidates]] for k, values in terms.items()}
    phrases = sorted({t for values in candidates.values() for t in values})
    vectors = np.asarray(encode(phrases), dtype=np.float32) if phrases else np.zeros((0, centres.shape[1]))
    row_of = {t: k for k, t in enumerate(phrases)}
    return {k: keyphrase_label(values, vectors[[row_of[t] for t in values]], centres[k], n_phrases, diversity)
            for k, values in candidates.items()}


def central_short_passage(members: np.ndarray, similarity: np.ndarray, texts: Sequence[str],
                          max_words: int) -> int:
    """The member nearest the centre among those of at most ``max_words`` words (the nearest of all when none
    is that short); ``similarity`` is each member's cosine to the centre."""
    order = members[np.argsort(-similarity, kind="stable")]
    for index in order:
        if len(_WORD.findall(texts[index])) <= max_words:
            return int(index)
    return int(order[0])


@dataclass
class GivenNames:
    """User-given names resolved to framing ids, and what could not be used."""

    names: dict[int, str]
    unknown: list[str]
    conflicts: list[str]


def given_names(names: Mapping[str, str], framing_ids: Sequence[int], unit_framing: Callable[[str], int | None]
                ) -> GivenNames:
    """Resolve ``names`` (a framing id, or a unit id whose framing takes the name) to framing ids.

    A unit id names the framing its unit is in (so a name follows its passage into any re-run); an id names
    that framing. Keys that name nothing (an unknown id or unit, an unassigned unit) are listed in ``unknown``;
    when two keys name one framing, the unit's name wins over the id's and the clash is listed in ``conflicts``.
    """
    known = set(int(f) for f in framing_ids)
    by_id: dict[int, str] = {}
    by_unit: dict[int, tuple[str, str]] = {}
    unknown: list[str] = []
    conflicts: list[str] = []
    for key, name in names.items():
        key = str(key).strip()
        if re.fullmatch(r"-?\d+", key):
            if int(key) in known:
                by_id[int(key)] = name
            else:
                unknown.append(key)
            continue
        framing = unit_framing(key)
        if framing is None or framing not in known:
            unknown.append(key)
        elif framing in by_unit and by_unit[framing][1] != name:
            conflicts.append(f"{by_unit[framing][0]} and {key} both name framing {framing}")
        else:
            by_unit[framing] = (key, name)
    resolved = dict(by_id)
    for framing, (key, name) in by_unit.items():
        if framing in by_id and by_id[framing] != name:
            conflicts.append(f"framing {framing} is named both {by_id[framing]!r} (by id) and {name!r} (by {key})")
        resolved[framing] = name
    return GivenNames(names=resolved, unknown=unknown, conflicts=conflicts)
