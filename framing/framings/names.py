"""Names for framings that read like framings: phrases from its passages, key phrases, and a caption.

``describe.naming: phrases`` (the default) names a framing with phrases that stand in its own most central
passages, as a researcher would quote them: word sequences that start and end with a content word and may hold
a connective ("siege of the old city" is cut at "the", so "siege" and "old city"; "liberation from terrorists"
stays whole). A candidate scores by its cosine to the framing's centre (the run's model), by how much of the
framing's distinctive vocabulary (class-based TF-IDF) it says and by how many central passages hold it; the
name is the best one and, when there is one, a second that shares no word with it. A parent of the hierarchy is
named by a phrase that at least two of its framings' passages hold (what they share), and never by one of its
children's names; children are named first.

With ``describe.naming: keyphrases``, a framing's label is a few key phrases chosen by maximal marginal relevance (MMR, as KeyBERT and BERTopic's
``MaximalMarginalRelevance`` do it): the candidates are the framing's distinctive n-grams (class-based TF-IDF),
embedded with the run's own model; each pick is the candidate closest to the framing's centre less its
similarity to the phrases already picked, so the label says several things, not one thing three times. The
caption is the framing's most central short passage: the one a reader checks the label against.

Names given by the user (``describe.names`` in the config, by framing id or by a unit id) win over both.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

__all__ = ["mmr", "keyphrase_label", "keyphrase_labels", "central_short_passage", "given_names", "GivenNames",
           "phrase_candidates", "phrase_names", "CONNECTIVES"]

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


# Words a phrase may hold between content words ("siege of civilians", "liberation from terrorists"); never at
# either end of it.
CONNECTIVES = frozenset("of for from against on in over under with without among to by and into across".split())
_PHRASE_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]")
# a phrase never runs across punctuation
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”«»—–/|…]+|\s-\s|'\s|\s'")


def _stem(word: str) -> str:
    """A crude stem, enough to tell that "hospital" and "hospitals" say one thing twice."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def phrase_candidates(passages: Sequence[str], stop_words: frozenset[str], max_words: int = 4
                      ) -> tuple[dict[str, set[int]], dict[str, str]]:
    """Candidate phrases of ``passages``: each phrase (lower case) with the passages that hold it, and the form to
    show (a word keeps its capital where the passages mostly write it with one inside a clause: a name, not a
    sentence's first word). A phrase is 1..``max_words`` words of one clause, starts and ends with a content word
    (not a stop-word, at least three letters or an acronym) and holds no stop-word but ``CONNECTIVES``."""
    held: dict[str, set[int]] = {}
    inside: dict[str, list[int]] = {}  # a word's [capitalised, lower-case] uses inside a clause
    forms: dict[str, str] = {}
    capital_count: dict[str, int] = {}
    form_counts: dict[str, int] = {}  # each capitalised spelling's uses ("Varno" over a headline's "VARNO")
    lower_seen: set[str] = set()
    for number, passage in enumerate(passages):
        for clause in _CLAUSE_BREAK.split(passage):
            words = _PHRASE_WORD.findall(clause)
            long_words = [w for w in words if len(w) >= 4]
            if len(long_words) >= 3 and sum(w[:1].isupper() for w in long_words) >= 0.6 * len(long_words):
                words_for_case: list[str] = []  # a title-case headline says nothing of which words are names
            else:
                words_for_case = words
            for word in words_for_case[1:]:
                counts = inside.setdefault(word.lower(), [0, 0])
                counts[0 if word[:1].isupper() else 1] += 1
            for word in words_for_case:
                if word[:1].isupper():
                    capital_count[word.lower()] = capital_count.get(word.lower(), 0) + 1
                    form_counts[word] = form_counts.get(word, 0) + 1
                else:
                    lower_seen.add(word.lower())
            lowered = [w.lower() for w in words]
            content = [w not in stop_words and (len(w) >= 3 or words[k].isupper()) for k, w in enumerate(lowered)]
            for start in range(len(words)):
                if not content[start]:
                    continue
                for end in range(start, min(start + max_words, len(words))):
                    if not content[end] and lowered[end] not in CONNECTIVES:
                        break
                    if content[end]:
                        held.setdefault(" ".join(lowered[start:end + 1]), set()).add(number)
    # a name: written with a capital more often than not inside clauses, or never in lower case and capitalised
    # more than once (a name that opens its clauses: "Orla Hospital said...")
    for form, count in sorted(form_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        forms.setdefault(form.lower(), form)
    proper = {w: forms[w] for w in forms
              if inside.get(w, [0, 0])[0] > inside.get(w, [0, 0])[1]
              or (w not in lower_seen and capital_count.get(w, 0) >= 2)}
    shown = {phrase: " ".join(proper.get(w, w) for w in phrase.split()) for phrase in held}
    return held, shown


def _distinctiveness(phrase: str, term_scores: Mapping[str, float]) -> float:
    """How much of a framing's distinctive-term weight ``phrase`` says (its terms, whole words, in it)."""
    padded = f" {phrase} "
    return sum(score for term, score in term_scores.items() if f" {term} " in padded)


# How a phrase's length reads as a name: a bare word names less than a phrase; five words read as a sentence.
_LENGTH_SCORE = {1: -0.3, 2: 0.0, 3: 0.0, 4: -0.05}


def phrase_names(passages: Mapping[int, Sequence[str]], terms: Mapping[int, Sequence[tuple[str, float]]],
                 centres: np.ndarray, encode: Callable[[list[str]], np.ndarray], stop_words: frozenset[str], *,
                 n_parts: int = 2, n_candidates: int = 20, owners: Mapping[int, Sequence[int]] | None = None,
                 taken: Iterable[str] = ()) -> dict[int, tuple[str, list[str]]]:
    """A name per id from its central ``passages`` (nearest the centre first): the best phrase and up to
    ``n_parts - 1`` more that share no word with the parts before them, joined by " · "; with the parts.

    A candidate's score: its cosine to ``centres[id]`` (embedded by ``encode``, each candidate once), plus how
    much of the id's distinctive ``terms`` (class-based TF-IDF) it says, how many of its passages hold it and how
    few other ids' passages do, less a bare word's or a long phrase's penalty. Names are given in the order of
    ``passages`` (largest framing first), and no two names share a part. ``owners[id][k]``: which child
    passage ``k`` of a parent came from — a parent's phrase must then be held by two children's passages when
    any is. ``taken``: phrases no part may be (the parts of names given before: the framings', for parents)."""
    found = {key: phrase_candidates(texts, stop_words) for key, texts in passages.items()}
    spread: dict[str, int] = {}  # how many ids' passages hold each phrase
    for held, _ in found.values():
        for phrase in held:
            spread[phrase] = spread.get(phrase, 0) + 1
    n_ids = max(len(passages), 2)
    candidates: dict[int, list[tuple[str, str, float]]] = {}
    for key, (held, shown) in found.items():
        top = dict(terms.get(key, [])[:n_candidates])
        scale = max(top.values(), default=0.0) or 1.0
        term_scores = {t: v / scale for t, v in top.items()}
        term_words = {w for t in top for w in t.split()}

        # passages that hold a phrase; for a parent, its framings whose passages do
        support = {p: len({owners[key][k] for k in rows}) if owners is not None else len(rows)
                   for p, rows in held.items()}
        needed = 2 if any(n >= 2 for n in support.values()) else 1
        recurring = {p for p in held if support[p] >= needed and " " not in p}
        rows = []
        for phrase in held:
            # a phrase recurs, or says a recurring word in its context and ends on a word that recurs or is
            # distinctive ("terrorists hiding among civilians", not "terrorists from total")
            words = phrase.split()
            if support[phrase] < needed and not (recurring & set(words)
                                                 and (words[-1] in recurring or words[-1] in term_words)):
                continue
            rarity = math.log(n_ids / spread[phrase]) / math.log(n_ids)  # 1: only this id's passages hold it
            score = (0.3 * min(_distinctiveness(phrase, term_scores), 1.5) + 0.2 * rarity
                     + 0.2 * len(held[phrase]) / max(len(passages[key]), 1)
                     + _LENGTH_SCORE.get(len(phrase.split()), -0.1))
            rows.append((phrase, shown[phrase], score))
        rows.sort(key=lambda r: (-r[2], r[0]))
        candidates[key] = rows[:n_candidates]
    every = sorted({r[0] for rows in candidates.values() for r in rows})
    vectors = np.asarray(encode(every), dtype=np.float32) if every else np.zeros((0, centres.shape[1]), np.float32)
    row_of = {p: k for k, p in enumerate(every)}
    names: dict[int, tuple[str, list[str]]] = {}
    used = {phrase.lower() for phrase in taken}  # parts given so far: no two names share a phrase
    for key, rows in candidates.items():
        if not rows:
            names[key] = ("(no recurring phrase)", [])
            continue
        score = vectors[[row_of[r[0]] for r in rows]] @ centres[key] + np.array([r[2] for r in rows])
        order = np.argsort(-score, kind="stable")
        parts: list[str] = []
        stems: set[str] = set()
        best = float(score[order[0]])
        for k in order:
            phrase, show = rows[k][0], rows[k][1]
            if phrase in used:
                continue  # a part of another name
            words = {_stem(w) for w in phrase.split()} - CONNECTIVES
            if stems & words:
                continue
            if parts and score[k] < 0.85 * best:
                break  # a weak second part says less than none
            if not parts:
                best = float(score[k])
            parts.append(show)
            stems |= words
            if len(parts) == n_parts:
                break
        if not parts:
            parts = [rows[order[0]][1]]
        used.update(part.lower() for part in parts)
        names[key] = (" · ".join(parts), parts)
    return names


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
