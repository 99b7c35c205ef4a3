"""A framing's record (``Framing``) and its description: size, source and section shares, distinctive terms,
exemplars nearest the centre (core members first), a label and a caption passage."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from .names import central_short_passage
from .partition import UNASSIGNED
from .terms import class_tfidf_terms, term_label
from .vectors import dot_rows, members_of

__all__ = ["Framing", "describe_framings"]


@dataclass
class Framing:
    """One recurring framing.

    ``size`` counts distinct units (a reposted sentence once); ``occurrences`` counts every place they stand.
    ``sources`` maps each source to its share of this framing's units (the shares sum to 1);
    ``source_rates`` maps each source to the share of *that source's* units that fall in this framing, so
    sources of different sizes can be compared; ``sections`` splits the framing into article body ("outlet
    voice") and reader comments ("audience voice"). ``core`` counts the members HDBSCAN put in the framing; the
    rest of ``size`` are attached (outliers given to it by ``cluster.reassign_threshold``), whose membership is
    far less certain (bench/membership.py): exemplars and the caption are core members whenever it has any.
    """

    id: int
    label: str
    size: int
    terms: list[str]
    term_scores: list[float]
    exemplars: list[str]
    sources: dict[str, float]
    source_rates: dict[str, float] = field(default_factory=dict)
    sections: dict[str, float] = field(default_factory=dict)
    occurrences: int = 0
    # the label's key phrases, the unit id of the most central short passage, and where the label came from:
    # "keyphrases", "terms", "config" (names: in the config) or "previous run" (carried over by matching)
    phrases: list[str] = field(default_factory=list)
    caption: str = ""
    named_by: str = "terms"
    core: int | None = None  # None: a run saved before members were told apart
    # median best Jaccard over re-clusterings of document subsamples (framing.framings.stability), in [0, 1];
    # None: not measured (stability.runs 0, a run saved before it, or no core member in any subsample)
    stability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Framing":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def describe_framings(texts: Sequence[str], unit_ids: Sequence[str], sources: Sequence[str], labels: np.ndarray,
                      embeddings: np.ndarray, centroids: np.ndarray, n_terms: int = 10, n_exemplars: int = 5,
                      label_terms: int = 3, ngram_max: int = 2, sections: Sequence[str] | None = None,
                      occurrences: Sequence[int] | None = None,
                      terms: dict[int, list[tuple[str, float]]] | None = None,
                      caption_words: int = 25, attached: np.ndarray | None = None) -> list[Framing]:
    """Describe each framing: size, source and section shares, distinctive terms, exemplars, label, caption.

    ``centroids[f]`` is framing ``f``'s centre (ids need not be consecutive: a row per id up to the largest);
    ``occurrences[i]`` is how many places unit i stands in (1 unless it is a duplicate group's representative);
    ``terms``: the distinctive terms per framing when already computed (``class_tfidf_terms``); the caption is
    the most central passage of at most ``caption_words`` words. ``attached[i]``: unit i was given to its framing
    after clustering; exemplars and the caption are chosen among the core members (all members when none is core).
    """
    labels = np.asarray(labels)
    attached = np.zeros(labels.size, dtype=bool) if attached is None else np.asarray(attached, dtype=bool)
    if terms is None:
        terms = class_tfidf_terms(texts, labels, n_terms=n_terms, ngram_max=ngram_max)
    units_per_source = Counter(sources)
    framings = []
    members_by_framing = members_of(labels)
    for framing_id in sorted(f for f in members_by_framing if f != UNASSIGNED):
        members = members_by_framing[framing_id]
        core = members[~attached[members]]
        shown = core if core.size else members  # what exemplars and the caption are chosen from
        similarity = dot_rows(embeddings, shown, centroids[framing_id])
        exemplars: list[str] = []
        seen_texts: set[str] = set()
        for index in shown[np.argsort(-similarity, kind="stable")]:
            text = texts[index]  # cut from its document once (a UnitColumn)
            if text in seen_texts:
                continue  # a reposted sentence would otherwise fill every exemplar slot
            seen_texts.add(text)
            exemplars.append(unit_ids[index])
            if len(exemplars) == n_exemplars:
                break
        counts = Counter(sources[i] for i in members)
        section_counts = Counter(sections[i] for i in members) if sections is not None else Counter()
        framing_terms = terms.get(framing_id, [])[:n_terms]
        framings.append(Framing(
            id=framing_id,
            label=term_label([t for t, _ in framing_terms], label_terms),
            size=int(members.size),
            terms=[t for t, _ in framing_terms],
            term_scores=[s for _, s in framing_terms],
            exemplars=exemplars,
            sources={s: round(c / members.size, 6) for s, c in counts.most_common()},
            source_rates={s: round(c / units_per_source[s], 6) for s, c in counts.most_common()},
            sections={s: round(c / members.size, 6) for s, c in section_counts.most_common()},
            occurrences=int(sum(occurrences[i] for i in members)) if occurrences is not None else int(members.size),
            caption=unit_ids[central_short_passage(shown, similarity, texts, caption_words)],
            core=int(core.size),
        ))
    return framings
