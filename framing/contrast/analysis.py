"""Stage 6: how sources (or groups of sources) tell the same events differently.

Everything here counts distinct units (a reposted sentence once) and treats the *document* as the unit of
resampling: sentences of one article are not independent, so bootstrap intervals resample documents within each
group and the permutation test shuffles group labels over documents.

- ``table``: group × framing counts and shares, with 95% bootstrap intervals;
- ``test``: permutation test of "framing use does not depend on group" (chi-square statistic);
- ``divergence``: pairwise Jensen–Shannon divergence between groups' framing distributions (base 2, 0..1);
- ``words``: per framing and pair of groups, the word choices that separate them — log-odds ratios with an
  informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words"), z-scores, counts, passages;
- ``narratives``: per framing and pair, each group's most typical passages (nearest its own centroid) side by side;
- ``subframings``: inside a framing that mixes groups, a 2-way split of its units and whether it follows the groups;
- ``codebook``: with the frames stage's assignment, each framing's and each group's frame distribution, and each
  group's frame shares corrected for the classifier's confusion (with document-bootstrap intervals);
- ``axes``: FrameAxis-style semantic axes between two poles: unit positions, group means with intervals, a
  permutation test.
"""
from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import FramingError
from ..frames.assign import PREDICTION, FrameAssignment, adjusted_shares
from ..framings.partition import UNASSIGNED
from ..framings.terms import NEWS_STOP_WORDS, TOKEN_PATTERN, count_terms
from ..framings.vectors import dot_rows, members_of, row_chunks

__all__ = ["Contrast", "ContrastInput", "check_group_field", "compute_contrast", "fightin_words", "word_counts"]

log = logging.getLogger(__name__)



@dataclass
class ContrastInput:
    """What the contrast stage reads: distinct units with their document, source, framing and embedding."""

    unit_ids: Sequence[str]
    texts: Sequence[str]
    doc_ids: Sequence[str]
    sources: Sequence[str]
    sections: Sequence[str]
    framings: np.ndarray
    embeddings: np.ndarray | None  # None: a saved run regrouped (no vectors): no narratives, sub-framings or axes
    framing_labels: Mapping[int, str]
    doc_meta: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # word_counts(texts), when the caller already has it: the run contrasts the same units twice (framings,
    # frames), and counting 800k texts' words takes 10 s
    word_counts: tuple[Any, np.ndarray] | None = None


@dataclass
class Contrast:
    """The outcome of the contrast stage (see the module docstring); ``to_dict`` is what contrast.json holds."""

    groups: dict[str, list[str]]
    grouping: str
    table: pd.DataFrame
    test: dict[str, Any]
    divergence: pd.DataFrame
    words: pd.DataFrame
    narratives: list[dict[str, Any]]
    subframings: list[dict[str, Any]]
    codebook: dict[str, Any] | None = None
    axes: list[dict[str, Any]] = field(default_factory=list)
    unit_scores: dict[str, np.ndarray] = field(default_factory=dict)
    members: str = "core and attached"  # which framing members were counted (contrast.members)
    # the same groups compared within events (framing.contrast.within_events); None without events
    within_events: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return json_safe({
            "grouping": self.grouping, "groups": self.groups, "members": self.members,
            "within_events": self.within_events,
            "table": self.table.to_dict(orient="records"), "test": self.test,
            "divergence": {"groups": list(self.divergence.index), "matrix": self.divergence.round(6).values.tolist()},
            "words": self.words.to_dict(orient="records"), "narratives": self.narratives,
            "subframings": self.subframings, "codebook": self.codebook, "axes": self.axes,
        })

    def words_for(self, framing: int, group_a: str, group_b: str) -> pd.DataFrame:
        """Contrast words of one framing between two groups (positive z: used more by ``group_a``)."""
        w = self.words
        same = w[(w["framing"] == framing) & (w["group_a"] == group_a) & (w["group_b"] == group_b)]
        if not same.empty:
            return same.reset_index(drop=True)
        flipped = w[(w["framing"] == framing) & (w["group_a"] == group_b) & (w["group_b"] == group_a)].copy()
        flipped[["group_a", "group_b"]] = flipped[["group_b", "group_a"]].values
        flipped[["count_a", "count_b"]] = flipped[["count_b", "count_a"]].values
        flipped["z"] = -flipped["z"]
        flipped["delta"] = -flipped["delta"]
        flipped["side"] = flipped["side"].map({"a": "b", "b": "a"})
        return flipped.reset_index(drop=True)


def json_safe(value: Any) -> Any:
    """NaN (an interval that does not exist) becomes null; numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if value != value else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


# ---------------------------------------------------------------- groups

def _no_group_field(group_by: str, doc_meta: Mapping[str, Mapping[str, str]]) -> str:
    fields = sorted({k for meta in doc_meta.values() for k in meta})
    return (f"contrast.group_by: no document has a {group_by!r} field "
            f"(fields: {', '.join(fields) or 'none'}; or 'source', 'section')")


def check_group_field(group_by: str | None, doc_meta: Mapping[str, Mapping[str, str]]) -> None:
    """Raise ``FramingError`` when ``group_by`` names a field no document has: checked as soon as the corpus is
    read, so a misspelt field ends a run in seconds, not after the units are embedded and clustered."""
    if group_by in (None, "source", "section"):
        return
    if not any(meta.get(group_by) for meta in doc_meta.values()):
        raise FramingError(_no_group_field(group_by, doc_meta))


def resolve_groups(sources: Sequence[str], doc_ids: Sequence[str], sections: Sequence[str],
                   groups: Mapping[str, Sequence[str]] | None, group_by: str | None,
                   doc_meta: Mapping[str, Mapping[str, str]]) -> tuple[list[str | None], dict[str, list[str]], str]:
    """Group label per unit, the group definitions, and a word for how they were made."""
    if groups:
        of_source: dict[str, str] = {}
        for name, members in groups.items():
            for member in members:
                if member in of_source:
                    raise FramingError(f"contrast.groups: source {member!r} is in both {of_source[member]!r} and {name!r}")
                of_source[member] = name
        unknown = sorted(set(of_source) - set(sources))
        if unknown:
            raise FramingError(f"contrast.groups names sources not in the corpus: {', '.join(unknown)} "
                               f"(sources: {', '.join(sorted(set(sources)))})")
        return [of_source.get(s) for s in sources], {k: list(v) for k, v in groups.items()}, "groups"
    if group_by in (None, "source"):
        return list(sources), {s: [s] for s in sorted(set(sources))}, "source"
    if group_by == "section":
        labels = list(sections)
        return labels, {s: [s] for s in dict.fromkeys(labels)}, "section"
    labels = [doc_meta.get(d, {}).get(group_by) or None for d in doc_ids]
    if all(label is None for label in labels):
        raise FramingError(_no_group_field(group_by, doc_meta))
    members: dict[str, set[str]] = defaultdict(set)
    for label, source in zip(labels, sources):
        if label is not None:
            members[label].add(source)
    return labels, {k: sorted(v) for k, v in sorted(members.items())}, group_by


# ---------------------------------------------------------------- distributions and tests

def doc_counts(doc_index: np.ndarray, columns: np.ndarray, n_docs: int, n_columns: int):
    """Sparse (documents, columns) unit counts: at a million units, 40,000 documents and 2,800 framings the
    dense table would be 900 MB, almost all zeros."""
    from scipy.sparse import csr_matrix

    return csr_matrix((np.ones(doc_index.size), (doc_index, columns)), shape=(n_docs, n_columns))


def _draw_multiplicities(draws: np.ndarray, n: int) -> np.ndarray:
    """``(n_draws, n)`` counts: how many times each bootstrap draw (a row of indices below ``n``) picks each item."""
    n_draws = draws.shape[0]
    flat = (np.arange(n_draws)[:, None] * n + draws).ravel()
    return np.bincount(flat, minlength=n_draws * n).reshape(n_draws, n).astype(np.float64)


BOOTSTRAP_CELLS = 1 << 21  # draws x items per chunk: 16 MB of multiplicities


def bootstrap_draws(rng: np.random.Generator, n: int, bootstrap: int) -> Iterator[np.ndarray]:
    """``bootstrap`` resamples of ``n`` items (rows of indices below ``n``), a chunk of rows at a time.

    The same numbers as one ``rng.integers(0, n, size=(bootstrap, n))``, which with its multiplicities held
    640 MB at a thousand draws over the 20,000 documents of a group at a million units.
    """
    rows = max(1, BOOTSTRAP_CELLS // max(n, 1))
    for start in range(0, bootstrap, rows):
        yield rng.integers(0, n, size=(min(rows, bootstrap - start), n))


def bootstrap_multiplicities(rng: np.random.Generator, n: int, bootstrap: int) -> Iterator[np.ndarray]:
    """``bootstrap_draws`` as ``(draws, n)`` multiplicities: how often each draw picks each item."""
    for draws in bootstrap_draws(rng, n, bootstrap):
        yield _draw_multiplicities(draws, n)


def chi_square(table: np.ndarray) -> float:
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return 0.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    return float(((table - expected) ** 2 / expected).sum())


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    from scipy.spatial.distance import jensenshannon

    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2) ** 2)


# ---------------------------------------------------------------- words

def _vectorizer(ngram_max: int = 1):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    return CountVectorizer(ngram_range=(1, ngram_max), token_pattern=TOKEN_PATTERN, dtype=np.int32,
                           stop_words=sorted(ENGLISH_STOP_WORDS | NEWS_STOP_WORDS))


def fightin_words(counts_a: np.ndarray, counts_b: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008), and its z-score.

    ``prior`` holds background counts of every word (the whole corpus). They are rescaled so that the prior
    weighs as much as one group (alpha_0 = mean of the two groups' word totals): rare words are shrunk towards
    the background, frequent ones speak for themselves. Positive values: used more by ``a``.
    """
    n_a, n_b = counts_a.sum(), counts_b.sum()
    alpha = np.maximum(prior / max(prior.sum(), 1.0) * max((n_a + n_b) / 2.0, 1.0), 1e-3)
    a0 = alpha.sum()
    log_odds_a = np.log((counts_a + alpha) / (n_a + a0 - counts_a - alpha))
    log_odds_b = np.log((counts_b + alpha) / (n_b + a0 - counts_b - alpha))
    delta = log_odds_a - log_odds_b
    variance = 1.0 / (counts_a + alpha) + 1.0 / (counts_b + alpha)
    return delta, delta / np.sqrt(variance)


# ---------------------------------------------------------------- codebooks and axes

# ---------------------------------------------------------------- the stage

@dataclass
class Design:
    """Who is compared: each unit's group, documents (the unit of resampling) and label columns, built once and
    read by every analysis. ``labels`` is any labelling of the units (framings, or frames); -1 is unassigned."""

    names: list[str]
    group_defs: dict[str, list[str]]
    grouping: str
    unit_group: np.ndarray      # (n,) group index, -1 for units in no group
    kept: np.ndarray            # indices of units in a group
    doc_of_unit: np.ndarray     # document index of each kept unit
    doc_group: np.ndarray       # group of each document
    label_ids: list[int]        # the labels compared (assigned ones), in order
    columns: list[int]          # label_ids + [UNASSIGNED]
    per_doc: Any                # (documents, columns) unit counts, scipy.sparse CSR
    assigned_cells: tuple[np.ndarray, np.ndarray, np.ndarray]  # per_doc's non-zero (doc, column, count), assigned

    def members_by_label_group(self, labels: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
        """Units of each (label, group index), in unit order: one sort instead of a scan per label and group."""
        in_group = np.flatnonzero(self.unit_group >= 0)
        n_groups = len(self.names)
        keys = (labels[in_group] - UNASSIGNED) * n_groups + self.unit_group[in_group]  # labels start at -1
        return {(key // n_groups + UNASSIGNED, key % n_groups): in_group[rows]
                for key, rows in members_of(keys).items()}


def design_of(data: ContrastInput, groups: Mapping[str, Sequence[str]] | None, group_by: str | None) -> Design:
    group_of_unit, group_defs, grouping = resolve_groups(data.sources, data.doc_ids, data.sections, groups,
                                                         group_by, data.doc_meta)
    keep = np.array([g is not None for g in group_of_unit])
    names = list(group_defs)
    gidx = {g: i for i, g in enumerate(names)}
    unit_group = np.array([gidx[g] if g is not None else -1 for g in group_of_unit])
    label_ids = sorted(int(f) for f in set(data.framings.tolist()) if f != UNASSIGNED)
    columns = label_ids + [UNASSIGNED]
    column_of = {f: k for k, f in enumerate(columns)}
    unit_column = np.array([column_of[int(f)] for f in data.framings])
    # documents: the unit of resampling (a document belongs to the group of its units; section groups split it)
    doc_keys = [f"{d}\x00{g}" for d, g in zip(data.doc_ids, unit_group)]
    # in sorted order, so that resampling draws the same documents however the units were ordered (a run's
    # distinct units and a saved unit table list them differently)
    doc_names = sorted(set(k for k, ok in zip(doc_keys, keep) if ok))
    doc_index_of = {k: i for i, k in enumerate(doc_names)}
    kept = np.flatnonzero(keep)
    doc_of_unit = np.array([doc_index_of[doc_keys[i]] for i in kept], dtype=np.int64)
    doc_group = np.zeros(len(doc_names), dtype=np.int64)
    doc_group[doc_of_unit] = unit_group[kept]
    per_doc = doc_counts(doc_of_unit, unit_column[kept], len(doc_names), len(columns))
    cells = per_doc.tocoo()
    assigned = cells.col < len(label_ids)
    return Design(names=names, group_defs=group_defs, grouping=grouping, unit_group=unit_group, kept=kept,
                   doc_of_unit=doc_of_unit, doc_group=doc_group, label_ids=label_ids, columns=columns,
                   per_doc=per_doc, assigned_cells=(cells.row[assigned], cells.col[assigned], cells.data[assigned]))


def shares_table(design: Design, label_names: Mapping[int, str], bootstrap: int,
                 rng: np.random.Generator) -> pd.DataFrame:
    """Group × label counts and shares with 95% intervals that resample each group's documents."""
    rows = []
    for g, name in enumerate(design.names):
        docs = np.flatnonzero(design.doc_group == g)
        observed = np.asarray(design.per_doc[docs].sum(axis=0)).ravel()
        total = observed.sum()
        if docs.size >= 2 and bootstrap > 0:  # one document has no between-document variation to resample
            # how often each draw picks each document, times the documents' counts: the same sums as
            # per_doc[docs][draws].sum(axis=1) without a (draws x documents x framings) array, which at 100k
            # units and a thousand framings would not fit in memory
            counts_t = design.per_doc[docs].T
            sampled = np.vstack([(counts_t @ weights.T).T
                                 for weights in bootstrap_multiplicities(rng, docs.size, bootstrap)])
            shares = sampled / np.maximum(sampled.sum(axis=1, keepdims=True), 1.0)
            low, high = np.percentile(shares, [2.5, 97.5], axis=0)
        else:
            low = high = np.full(len(design.columns), np.nan)
        # a missing interval says why, not only NaN
        missing = ("" if docs.size >= 2 and bootstrap > 0 else
                   "no interval: one document, nothing to resample" if docs.size < 2 else
                   "no interval: contrast.bootstrap is 0")
        for k, f in enumerate(design.columns):
            rows.append({"group": name, "framing": f, "label": label_names.get(f, "unassigned"),
                         "count": int(observed[k]), "share": float(observed[k] / total) if total else 0.0,
                         "low": float(low[k]), "high": float(high[k]), "documents": int(docs.size),
                         "interval": missing})
    return pd.DataFrame(rows)


def _group_table(design: Design, doc_group: np.ndarray) -> np.ndarray:
    """Group × assigned-label counts for a given assignment of documents to groups."""
    docs, columns, counts = design.assigned_cells
    n_labels = len(design.label_ids)
    return np.bincount(doc_group[docs] * n_labels + columns, weights=counts,
                       minlength=len(design.names) * n_labels).reshape(len(design.names), n_labels)


def permutation_test(design: Design, permutations: int, rng: np.random.Generator) -> dict[str, Any]:
    """Does label use depend on the group? Chi-square of group × label counts (assigned units), against the same
    statistic with group labels shuffled over documents."""
    observed_stat = chi_square(_group_table(design, design.doc_group))
    if permutations > 0 and len(design.names) > 1 and design.label_ids:
        exceed = sum(chi_square(_group_table(design, rng.permutation(design.doc_group))) >= observed_stat - 1e-12
                     for _ in range(permutations))
        p_value = (1 + exceed) / (1 + permutations)
    else:
        p_value = float("nan")
    return {"statistic": "chi-square of group x framing counts (assigned units)", "value": round(observed_stat, 4),
            "p_value": round(float(p_value), 6), "permutations": permutations,
            "shuffled": "group labels over documents", "documents": int(design.doc_group.size),
            "groups": len(design.names)}


def divergences(design: Design) -> pd.DataFrame:
    """Pairwise Jensen–Shannon divergence (base 2) between the groups' label distributions."""
    dist = _group_table(design, design.doc_group)
    names = design.names
    return pd.DataFrame([[jensen_shannon(dist[i], dist[j]) for j in range(len(names))] for i in range(len(names))],
                        index=names, columns=names)


def group_pairs(design: Design, pairs: Sequence[Sequence[str]] | None) -> list[tuple[str, str]]:
    names = design.names
    if pairs:
        for pair in pairs:
            for name in pair:
                if name not in names:
                    raise FramingError(f"contrast.pairs names group {name!r}; groups: {', '.join(names)}")
        return [tuple(p) for p in pairs]
    pair_list = list(itertools.combinations(names, 2))
    if len(pair_list) > 10:  # many groups: each against the rest would be clearer; keep the largest pairs
        sizes = {g: int((design.unit_group == names.index(g)).sum()) for g in names}
        pair_list = sorted(pair_list, key=lambda p: -min(sizes[p[0]], sizes[p[1]]))[:10]
    return pair_list


def _compared(design: Design, labels: np.ndarray, pair_list, min_units: int):
    """Every (label, pair) with at least ``min_units`` units of each group: ``(label, a, b, units_a, units_b)``."""
    members = design.members_by_label_group(labels)
    none = np.array([], dtype=np.int64)
    for f in design.label_ids:
        for a, b in pair_list:
            ia = members.get((f, design.names.index(a)), none)
            ib = members.get((f, design.names.index(b)), none)
            if ia.size >= min_units and ib.size >= min_units:
                yield f, a, b, ia, ib


def word_counts(texts: Sequence[str]) -> tuple[Any, np.ndarray]:
    """(units × words sparse counts, the words) as the contrast words count them; ``None`` counts when no word
    survives the stop-word list."""
    vectorizer = _vectorizer()
    try:
        # read once, in order, a chunk at a time: a UnitColumn cuts each text as it goes
        return count_terms(texts, vectorizer)
    except ValueError:
        return None, np.array([], dtype=object)


def contrast_words(data: ContrastInput, compared: list, top_words: int) -> pd.DataFrame:
    """Per label and pair, the words that separate the two groups (Fightin' Words z-scores) and their units."""
    term_matrix, vocabulary = data.word_counts if data.word_counts is not None else word_counts(data.texts)
    rows = []
    if term_matrix is not None:
        background = np.asarray(term_matrix.sum(axis=0)).ravel()
        for f, a, b, ia, ib in compared:
            ca = np.asarray(term_matrix[ia].sum(axis=0)).ravel()
            cb = np.asarray(term_matrix[ib].sum(axis=0)).ravel()
            delta, z = fightin_words(ca, cb, background)
            present = (ca + cb) > 0
            for side, order in (("a", np.argsort(-z)), ("b", np.argsort(z))):
                chosen = [w for w in order if present[w] and (z[w] > 0 if side == "a" else z[w] < 0)][:top_words]
                members = ia if side == "a" else ib
                columns = term_matrix[members].tocsc()
                for w in chosen:
                    hits = members[columns.indices[columns.indptr[w]:columns.indptr[w + 1]]]
                    rows.append({"framing": f, "group_a": a, "group_b": b, "side": side,
                                 "word": str(vocabulary[w]), "z": round(float(z[w]), 4),
                                 "delta": round(float(delta[w]), 4), "count_a": int(ca[w]), "count_b": int(cb[w]),
                                 "unit_ids": [data.unit_ids[i] for i in hits[:20]]})
    return pd.DataFrame(rows, columns=["framing", "group_a", "group_b", "side", "word", "z", "delta", "count_a",
                                       "count_b", "unit_ids"])


def narratives(data: ContrastInput, compared: list, n_passages: int) -> list[dict[str, Any]]:
    """Per label and pair, each group's most typical passages (nearest its own centroid), side by side."""
    X = data.embeddings
    return [{"framing": f, "label": data.framing_labels.get(f, ""), "group_a": a, "group_b": b,
             "passages_a": typical_passages(X, ia, data.unit_ids, n_passages),
             "passages_b": typical_passages(X, ib, data.unit_ids, n_passages),
             "units_a": int(ia.size), "units_b": int(ib.size)} for f, a, b, ia, ib in compared]


def subframings(data: ContrastInput, compared: list, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Per label and pair, whether a 2-way split of the label's units follows the groups."""
    return [_subframing(data.embeddings, ia, ib, f, a, b, data, rng) for f, a, b, ia, ib in compared]


def axis_summaries(data: ContrastInput, design: Design, axes: Sequence[Mapping[str, Any]],
                   encode: Callable[[list[str]], np.ndarray], bootstrap: int, permutations: int,
                   rng: np.random.Generator) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """FrameAxis-style axes: each unit's position between two poles, and the groups' means with intervals."""
    out, positions = [], {}
    for axis in axes:
        vector_neg = encode([str(t) for t in axis["negative"]]).mean(axis=0)
        vector_pos = encode([str(t) for t in axis["positive"]]).mean(axis=0)
        direction = vector_pos - vector_neg
        direction /= max(float(np.linalg.norm(direction)), 1e-12)
        position = (data.embeddings @ direction).astype(np.float32)
        positions[f"axis: {axis['name']}"] = position
        out.append(_axis_summary(axis, position, design.unit_group, design.names, design.doc_of_unit, design.kept,
                                 design.doc_group, bootstrap, permutations, rng))
    return out, positions


def compute_contrast(data: ContrastInput, encode: Callable[[list[str]], np.ndarray], *,
                     groups: Mapping[str, Sequence[str]] | None = None, group_by: str | None = None,
                     pairs: Sequence[Sequence[str]] | None = None, bootstrap: int = 1000, permutations: int = 1000,
                     min_units: int = 5, top_words: int = 15, n_passages: int = 3,
                     frames: FrameAssignment | None = None, axes: Sequence[Mapping[str, Any]] = (),
                     seed: int = 42) -> Contrast:
    """Compute the contrast tables, tests, words, narratives, sub-framings, frame shares and axes.

    ``data.framings`` is the labelling compared: framings, or (for the contrast over frames) frame indices.
    ``frames`` (the frames stage's assignment for the same units) adds each framing's and each group's frame
    distribution, with the shares corrected for the classifier's measured confusion when it was validated.
    """
    rng = np.random.default_rng(seed)
    design = design_of(data, groups, group_by)
    table = shares_table(design, data.framing_labels, bootstrap, rng)
    test = permutation_test(design, permutations, rng)
    divergence = divergences(design)
    compared = list(_compared(design, data.framings, group_pairs(design, pairs), min_units))
    words = contrast_words(data, compared, top_words)
    vectors = data.embeddings is not None
    told = narratives(data, compared, n_passages) if vectors else []
    split = subframings(data, compared, rng) if vectors else []
    codebook_out = None
    if frames is not None:
        codebook_out = _frame_summary(frames, data.framings, design.label_ids, design.unit_group, design.names,
                                      design.doc_of_unit, design.kept, design.doc_group, bootstrap, rng)
    axes_out, unit_scores = (axis_summaries(data, design, axes, encode, bootstrap, permutations, rng) if vectors
                             else ([], {}))
    return Contrast(groups=design.group_defs, grouping=design.grouping, table=table, test=test,
                    divergence=divergence, words=words, narratives=told, subframings=split, codebook=codebook_out,
                    axes=axes_out, unit_scores=unit_scores)


def _frame_summary(frames: FrameAssignment, framings: np.ndarray, framing_ids: list[int], unit_group: np.ndarray,
                   names: list[str], doc_of_unit: np.ndarray, kept: np.ndarray, doc_group: np.ndarray,
                   bootstrap: int, rng: np.random.Generator) -> dict[str, Any]:
    """Frame shares per framing and per group; per group also corrected (adjusted classify-and-count) with
    intervals that resample documents, when the frames come from a validated classifier."""
    frame_names = frames.names
    n_frames = len(frame_names)
    distribution = []
    for f in framing_ids + [UNASSIGNED]:
        members = framings == f
        if members.any():
            shares = np.bincount(frames.frame[members], minlength=n_frames) / members.sum()
            distribution.append({"framing": f, **{n: round(float(s), 4) for n, s in zip(frame_names, shares)}})
    by_group, corrected = [], []
    confusion = np.array(frames.validation["confusion"]) if frames.validation is not None else None
    predicted = frames.origin == PREDICTION
    doc_of = np.full(unit_group.size, -1)
    doc_of[kept] = doc_of_unit
    for g, name in enumerate(names):
        members = unit_group == g
        if not members.any():
            continue
        shares = np.bincount(frames.frame[members], minlength=n_frames) / members.sum()
        by_group.append({"group": name, **{n: round(float(s), 4) for n, s in zip(frame_names, shares)}})
        if confusion is None:
            continue
        # per document: frame counts of labelled units (known) and of predicted ones (to be corrected)
        docs = np.flatnonzero(doc_group == g)
        position = np.full(doc_group.size, -1)
        position[docs] = np.arange(docs.size)
        units = kept[unit_group[kept] == g]
        known = np.zeros((docs.size, n_frames))
        guessed = np.zeros((docs.size, n_frames))
        for target, rows in ((known, units[~predicted[units]]), (guessed, units[predicted[units]])):
            np.add.at(target, (position[doc_of[rows]], frames.frame[rows]), 1.0)

        def correct(weights: np.ndarray) -> np.ndarray:
            k, q = weights @ known, weights @ guessed
            total = k + adjusted_shares(q, confusion) * q.sum()
            return total / max(total.sum(), 1e-12)

        point = correct(np.ones(docs.size))
        if docs.size >= 2 and bootstrap > 0:
            drawn = [correct(w) for chunk in bootstrap_multiplicities(rng, docs.size, bootstrap) for w in chunk]
            low, high = np.percentile(np.stack(drawn), [2.5, 97.5], axis=0)
        else:
            low = high = np.full(n_frames, np.nan)
        for k, frame_name in enumerate(frame_names):
            corrected.append({"group": name, "frame": frame_name, "share": round(float(point[k]), 4),
                              "low": round(float(low[k]), 4), "high": round(float(high[k]), 4),
                              "observed": round(float(shares[k]), 4), "documents": int(docs.size)})
    return {"name": frames.codebook, "method": frames.method, "frames": frame_names, "by_framing": distribution,
            "by_group": by_group, "by_group_corrected": corrected,
            "correction": ("adjusted classify-and-count with the cross-validated confusion matrix; labelled units "
                           "count as labelled") if confusion is not None else None}


def typical_passages(X: np.ndarray, members: np.ndarray, unit_ids: Sequence[str], n: int) -> list[str]:
    centre = sum((X[part].sum(axis=0, dtype=np.float64) for part in row_chunks(members)),
                 np.zeros(X.shape[1])) / max(members.size, 1)
    closeness = dot_rows(X, members, centre.astype(X.dtype))
    order = members[np.argsort(-closeness, kind="stable")]
    return [unit_ids[i] for i in order[:n]]


def _pairs(x: np.ndarray) -> np.ndarray:
    return x * (x - 1) / 2.0


def _ari_binary(n11: np.ndarray, a1: int, b1: int, n: int) -> np.ndarray:
    """Adjusted Rand index of two binary labelings from their 2x2 table (vectorized over ``n11``).

    Row and column totals are fixed under a permutation of one labeling, so only ``n11`` varies.
    """
    n10, n01 = a1 - n11, b1 - n11
    n00 = n - a1 - b1 + n11
    index = _pairs(n11) + _pairs(n10) + _pairs(n01) + _pairs(n00)
    rows = _pairs(np.float64(a1)) + _pairs(np.float64(n - a1))
    cols = _pairs(np.float64(b1)) + _pairs(np.float64(n - b1))
    expected = rows * cols / _pairs(np.float64(n))
    maximum = (rows + cols) / 2.0
    return np.where(maximum > expected, (index - expected) / np.maximum(maximum - expected, 1e-12), 0.0)


def two_means(X: np.ndarray, rng: np.random.Generator, n_init: int = 4, max_iter: int = 100,
              fit_rows: int = 2000, rows: np.ndarray | None = None) -> np.ndarray:
    """k-means with k = 2 (k-means++ seeding, Lloyd iterations, best of ``n_init``): a 0/1 label per row of ``X``
    (or per index in ``rows``, read from ``X`` a chunk at a time).

    The same algorithm as scikit-learn's ``KMeans(n_clusters=2, n_init=4)``, written for two centres: a row's
    side is one dot product against the centres' difference. A framing-by-pair contrast at a million units
    makes thousands of such splits, where scikit-learn's per-call validation and threading dominated (27 ms
    a call). Above ``fit_rows`` rows the centres are found on a seeded sample of that many and every row then
    goes to its nearer centre: a framing of 50,000 units would otherwise take half a second per split.
    """
    rows = np.arange(len(X)) if rows is None else np.asarray(rows)
    fit = rows[rng.choice(rows.size, fit_rows, replace=False)] if rows.size > fit_rows else rows
    centres = _two_centres(np.asarray(X[fit], dtype=np.float64), rng, n_init, max_iter)
    if rows.size <= fit_rows:
        return _nearest(np.asarray(X[rows], dtype=np.float64), centres)
    return np.concatenate([_nearest(np.asarray(X[part], dtype=np.float64), centres) for part in row_chunks(rows)])


def _nearest(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return (X @ (centres[1] - centres[0]) > (centres[1] @ centres[1] - centres[0] @ centres[0]) / 2).astype(np.int64)


def _two_centres(X: np.ndarray, rng: np.random.Generator, n_init: int, max_iter: int) -> np.ndarray:
    """The two centres of the best of ``n_init`` k-means runs (lowest within-split squared distance)."""
    norms = np.einsum("ij,ij->i", X, X)
    best, best_inertia = np.stack([X.mean(axis=0)] * 2), np.inf
    for _ in range(n_init):
        first = X[rng.integers(len(X))]
        d2 = np.maximum(norms - 2 * X @ first + first @ first, 0.0)
        second = X[rng.choice(len(X), p=d2 / d2.sum())] if d2.sum() > 0 else first
        centres = np.stack([first, second])
        labels = None
        for _ in range(max_iter):
            new = _nearest(X, centres)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            for k in (0, 1):
                if (labels == k).any():
                    centres[k] = X[labels == k].mean(axis=0)
        inertia = float((norms - 2 * np.einsum("ij,ij->i", X, centres[labels])
                         + np.einsum("ij,ij->i", centres[labels], centres[labels])).sum())
        if inertia < best_inertia - 1e-12:
            best, best_inertia = centres.copy(), inertia
    return best


def split_p_value(ari: float, a1: int, b1: int, n: int) -> float:
    """The exact permutation p-value of a binary split's agreement with binary groups: the chance that shuffling
    the group labels gives an adjusted Rand index at least ``ari``.

    With both margins fixed, a shuffle changes only the 2x2 table's ``n11``, which is hypergeometric (``n``
    units, ``a1`` in group b, ``b1`` in the split's second part), and the index is a function of ``n11``; so the
    whole permutation distribution is a sum over at most ``min(a1, b1) + 1`` values, where drawing 500
    shuffles of a framing's units took 10 of the 17 s that the splits cost at a million units.
    """
    from scipy.special import gammaln  # scipy.stats.hypergeom.pmf costs 20 ms a call in its generic machinery

    def log_choose(total, chosen):
        return gammaln(total + 1.0) - gammaln(chosen + 1.0) - gammaln(total - chosen + 1.0)

    n11 = np.arange(max(0, a1 + b1 - n), min(a1, b1) + 1, dtype=np.float64)
    null = _ari_binary(n11, a1, b1, n)
    log_pmf = log_choose(a1, n11) + log_choose(n - a1, b1 - n11) - log_choose(float(n), float(b1))
    return float(min(1.0, np.exp(log_pmf[null >= ari - 1e-12]).sum()))


def _subframing(X, ia, ib, framing, a, b, data: ContrastInput, rng) -> dict[str, Any]:
    """Split a framing's units of two groups in two (k-means) and test whether the split follows the groups."""
    members = np.concatenate([ia, ib])
    labels = np.concatenate([np.zeros(ia.size, int), np.ones(ib.size, int)])
    split = two_means(X, np.random.default_rng(int(rng.integers(1 << 31))), rows=members)
    n, a1, b1 = members.size, int(labels.sum()), int(split.sum())
    ari = float(_ari_binary(np.float64((labels & split).sum()), a1, b1, n))
    p_value = split_p_value(ari, a1, b1, n)
    supported = bool(p_value < 0.05 and ari > 0.1)
    parts = []
    for k in (0, 1):
        part = members[split == k]
        parts.append({"size": int(part.size),
                      "share_a": round(float((labels[split == k] == 0).mean()), 4) if part.size else 0.0,
                      "passages": typical_passages(X, part, data.unit_ids, 3) if part.size else []})
    return {"framing": framing, "group_a": a, "group_b": b, "adjusted_rand": round(ari, 4),
            "p_value": round(float(p_value), 4), "supported": supported, "parts": parts,
            "verdict": ("the framing splits along the two groups' lines" if supported
                        else "no split along group lines: the data do not support sub-framings here")}


def _axis_summary(axis, position, unit_group, names, doc_of_unit, kept, doc_group, bootstrap, permutations, rng):
    per_doc_sum = np.zeros(doc_group.size)
    per_doc_n = np.zeros(doc_group.size)
    np.add.at(per_doc_sum, doc_of_unit, position[kept])
    np.add.at(per_doc_n, doc_of_unit, 1.0)
    groups = []
    means = []
    for g, name in enumerate(names):
        docs = np.flatnonzero(doc_group == g)
        if not docs.size:
            continue
        mean = per_doc_sum[docs].sum() / per_doc_n[docs].sum()
        means.append(mean)
        if bootstrap > 0 and docs.size >= 2:
            sums, counts = per_doc_sum[docs], per_doc_n[docs]
            boot = np.concatenate([sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
                                   for draws in bootstrap_draws(rng, docs.size, bootstrap)])
            low, high = np.percentile(boot, [2.5, 97.5])
        else:
            low = high = float("nan")
        groups.append({"group": name, "mean": round(float(mean), 5), "low": round(float(low), 5),
                       "high": round(float(high), 5), "documents": int(docs.size)})

    def spread(labels: np.ndarray) -> float:
        sums = np.bincount(labels, weights=per_doc_sum, minlength=len(names))
        counts = np.bincount(labels, weights=per_doc_n, minlength=len(names))
        valid = counts > 0
        return float(np.ptp(sums[valid] / counts[valid])) if valid.sum() > 1 else 0.0

    observed = spread(doc_group)
    exceed = sum(spread(rng.permutation(doc_group)) >= observed - 1e-12 for _ in range(permutations))
    return {"name": axis["name"], "negative": list(axis["negative"]), "positive": list(axis["positive"]),
            "groups": groups, "spread": round(observed, 5),
            "p_value": round((1 + exceed) / (1 + permutations), 6) if permutations else None}
