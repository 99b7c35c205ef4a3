"""Groups compared within events: how they tell the same stories, apart from which stories they chose.

Across a whole corpus, a difference between two outlets' framing shares mixes two things: which events each
covered (agenda) and how each told the events (framing). Here everything is conditioned on the event
(``framing.events``):

- **shares within events**: each group's label shares in each event told by at least two groups;
- **one test** of "does the label depend on the group, given the event": the sum over events of the chi-square
  of each event's group × label counts, against the same sum with group labels permuted among the documents of
  each event (a stratified permutation test: the event mix of every group is held fixed, so agenda cannot make
  it significant);
- **per-event divergence** between the groups of each pair (Jensen–Shannon, base 2);
- **words within events**: Fightin' Words z-scores computed event by event and combined by inverse variance, with
  the groups' own source names left out (an outlet's name says who wrote a text, not how);
- **side-by-side passages**: for an event and a label, each group's most typical passages;
- **agenda against framing**: Kitagawa's decomposition of the difference between two groups' label shares into
  the part that comes from their event mix and the part that comes from their shares within events, each
  summarised as a total variation distance, with bootstrap intervals over documents.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import numpy as np

from ..framings.vectors import members_of
from ..progress import step_bar
from .design import ContrastInput, Design, design_of, group_pairs
from .narratives import typical_passages
from .resampling import bootstrap_multiplicities
from .shares import jensen_shannon
from .words import fightin_words

__all__ = ["within_events", "kitagawa", "kitagawa_by_pairs", "stratified_permutation_test", "combined_fightin_words", "permute_within",
           "source_words"]


def event_tables(design: Design, design_doc_event: np.ndarray, doc_group: np.ndarray, n_events: int
                  ) -> np.ndarray:
    """(events, groups, labels) counts of assigned units for an assignment of documents to groups."""
    docs, columns, counts = design.assigned_cells
    n_groups, n_labels = len(design.names), len(design.label_ids)
    keys = (design_doc_event[docs] * n_groups + doc_group[docs]) * n_labels + columns
    return np.bincount(keys, weights=counts, minlength=n_events * n_groups * n_labels).reshape(
        n_events, n_groups, n_labels)


def _told_by_several(design: Design, design_doc_event: np.ndarray, n_events: int) -> np.ndarray:
    """The events whose documents come from at least two groups."""
    seen = np.zeros((n_events, len(design.names)), dtype=bool)
    seen[design_doc_event, design.doc_group] = True
    return np.flatnonzero(seen.sum(axis=1) >= 2)


class StratifiedChiSquare:
    """The sum over events of each event's group × label chi-square, fast enough to recompute a thousand times at a
    million units: only non-zero cells are summed (chi-square = N * sum(O² / (R * C)) - N, which is the textbook
    statistic over the table's non-empty rows and columns), and the (event, label) pairs, their column totals and
    the events' totals do not change when groups are permuted within events."""

    def __init__(self, design: Design, design_doc_event: np.ndarray, n_events: int, events: np.ndarray) -> None:
        docs, columns, counts = design.assigned_cells
        self.docs, self.counts = docs, counts
        self.n_groups = len(design.names)
        self.n_events = n_events
        self.event = design_doc_event[docs]
        pairs, self.pair = np.unique(self.event * max(len(design.label_ids), 1) + columns, return_inverse=True)
        self.pair_event = pairs // max(len(design.label_ids), 1)
        self.pair_total = np.bincount(self.pair, weights=counts, minlength=pairs.size)
        self.event_total = np.bincount(self.event, weights=counts, minlength=n_events)
        self.included = np.zeros(n_events, dtype=bool)
        self.included[events] = True

    def __call__(self, doc_group: np.ndarray) -> float:
        g = doc_group[self.docs]
        observed = np.bincount(self.pair * self.n_groups + g, weights=self.counts,
                               minlength=self.pair_total.size * self.n_groups)
        row_total = np.bincount(self.event * self.n_groups + g, weights=self.counts,
                                minlength=self.n_events * self.n_groups)
        cells = np.flatnonzero(observed)
        pair, group = np.divmod(cells, self.n_groups)
        event = self.pair_event[pair]
        terms = observed[cells] ** 2 / (row_total[event * self.n_groups + group] * self.pair_total[pair])
        per_event = self.event_total * np.bincount(event, weights=terms, minlength=self.n_events) - self.event_total
        return float(np.clip(per_event[self.included], 0.0, None).sum())


def permute_within(doc_group: np.ndarray, doc_event: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``doc_group`` shuffled among the documents of each event (one sort for all events)."""
    by_event = np.argsort(doc_event, kind="stable")
    shuffled = np.lexsort((rng.random(doc_event.size), doc_event))
    out = np.empty_like(doc_group)
    out[by_event] = doc_group[shuffled]
    return out


def stratified_permutation_test(design: Design, design_doc_event: np.ndarray, n_events: int, permutations: int,
                                rng: np.random.Generator) -> dict[str, Any]:
    """Sum over events of the chi-square of group × label counts, against group labels permuted within events."""
    shared = _told_by_several(design, design_doc_event, n_events)
    statistic = StratifiedChiSquare(design, design_doc_event, n_events, shared)
    observed = statistic(design.doc_group)
    p_value, done = float("nan"), 0
    if permutations > 0 and shared.size and design.label_ids:
        exceed = 0
        while done < permutations:
            batch = min(_PERMUTATION_BATCH, permutations - done)
            exceed += sum(statistic(permute_within(design.doc_group, design_doc_event, rng)) >= observed - 1e-9
                          for _ in range(batch))
            done += batch
            if done >= _PERMUTATION_MINIMUM and _settled(exceed, done):
                break
        p_value = (1 + exceed) / (1 + done)
    return {"statistic": "sum over events of the chi-square of group x label counts (assigned units)",
            "value": round(observed, 4), "p_value": None if np.isnan(p_value) else round(p_value, 6),
            "permutations": done, "permutations_asked": permutations,
            "stopping": "at most the permutations asked; stopped once a 99% interval of p lies wholly below 0.05 or "
                        "above 0.2 (at least 200)",
            "shuffled": "group labels among the documents of each event",
            "events": int(shared.size), "documents": int(np.isin(design_doc_event, shared).sum())}


# Sequential Monte Carlo p-value (after Besag & Clifford 1991): permutations in batches, stopped once p is settled
# on one side of the usual 0.05 (a 99% Clopper–Pearson interval below 0.05 or above 0.2). A clear difference, or a
# clear absence of one, needs a few hundred permutations, not a thousand: at a million units each one is a pass
# over about a million (document, framing) cells.
_PERMUTATION_BATCH = 100
_PERMUTATION_MINIMUM = 200


def _settled(exceed: int, done: int, level: float = 0.01) -> bool:
    """Whether the Clopper–Pearson interval of p (``exceed`` of ``done`` permutations) lies below 0.05 or above 0.2."""
    from scipy.stats import beta

    low = 0.0 if exceed == 0 else float(beta.ppf(level / 2, exceed, done - exceed + 1))
    high = 1.0 if exceed == done else float(beta.ppf(1 - level / 2, exceed + 1, done - exceed))
    return high < 0.05 or low > 0.2


def kitagawa(counts_a: np.ndarray, counts_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kitagawa's (1955) decomposition of two groups' label shares over events.

    ``counts_a`` and ``counts_b``: (events, labels) unit counts. With ``pi_g(e)`` a group's share of its units in
    event ``e`` and ``p_g(l | e)`` its label shares there, the difference of the overall shares
    ``sum_e pi_a p_a - pi_b p_b`` is exactly ``sum_e (pi_a - pi_b) * mean(p)`` (agenda: which events) plus
    ``sum_e mean(pi) * (p_a - p_b)`` (framing: how). Where only one group told an event, its shares stand for
    both (how the other would have told it is unknown: that event adds to the agenda part only). Returns the
    total, agenda and framing difference per label.
    """
    total_a, total_b = counts_a.sum(), counts_b.sum()
    pi_a = counts_a.sum(axis=1) / max(total_a, 1.0)
    pi_b = counts_b.sum(axis=1) / max(total_b, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_a = counts_a / counts_a.sum(axis=1, keepdims=True)
        p_b = counts_b / counts_b.sum(axis=1, keepdims=True)
    told_a, told_b = counts_a.sum(axis=1) > 0, counts_b.sum(axis=1) > 0
    p_a = np.where(told_a[:, None], p_a, np.where(told_b[:, None], p_b, 0.0))
    p_b = np.where(told_b[:, None], p_b, p_a)
    agenda = ((pi_a - pi_b)[:, None] * (p_a + p_b) / 2.0).sum(axis=0)
    framing = (((pi_a + pi_b) / 2.0)[:, None] * (p_a - p_b)).sum(axis=0)
    return agenda + framing, agenda, framing


def _variation(difference: np.ndarray) -> float:
    return float(0.5 * np.abs(difference).sum())


def kitagawa_by_pairs(counts_a: np.ndarray, counts_b: np.ndarray, pair_event: np.ndarray, pair_label: np.ndarray,
                      n_events: int, n_labels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`kitagawa` over (event, label) pairs instead of a dense events × labels table, for many draws at once.

    ``counts_a``, ``counts_b``: (pairs, draws) counts; ``pair_event``, ``pair_label``: each pair's event and label.
    Returns (labels, draws) total, agenda and framing differences. At a thousand events and a thousand framings
    the dense table of one draw has a million cells, nearly all empty; the pairs are only those with units.
    """
    from scipy.sparse import csr_matrix

    n_pairs = pair_event.size
    to_event = csr_matrix((np.ones(n_pairs), (pair_event, np.arange(n_pairs))), shape=(n_events, n_pairs))
    to_label = csr_matrix((np.ones(n_pairs), (pair_label, np.arange(n_pairs))), shape=(n_labels, n_pairs))
    rows_a, rows_b = to_event @ counts_a, to_event @ counts_b  # (events, draws)
    pi_a = rows_a / np.maximum(rows_a.sum(axis=0, keepdims=True), 1.0)
    pi_b = rows_b / np.maximum(rows_b.sum(axis=0, keepdims=True), 1.0)
    told_a, told_b = rows_a[pair_event] > 0, rows_b[pair_event] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        p_a = np.where(told_a, counts_a / rows_a[pair_event], 0.0)
        p_b = np.where(told_b, counts_b / rows_b[pair_event], 0.0)
    # where one group did not tell an event, its shares stand for both (that event adds to the agenda part only)
    p_a, p_b = np.where(told_a, p_a, p_b), np.where(told_b, p_b, p_a)
    agenda = to_label @ ((pi_a - pi_b)[pair_event] * (p_a + p_b) / 2.0)
    framing = to_label @ (((pi_a + pi_b) / 2.0)[pair_event] * (p_a - p_b))
    return agenda + framing, agenda, framing


_SPLIT_DRAWS_PER_CHUNK = 100


def _agenda_and_framing(design: Design, design_doc_event: np.ndarray, n_events: int, a: int, b: int,
                        bootstrap: int, rng: np.random.Generator, label_names: Mapping[int, str]) -> dict[str, Any]:
    """The pair's difference split into agenda and framing parts (total variation distances) with 95% intervals
    that resample each group's documents (a hundred draws at a time, as sparse products)."""
    from scipy.sparse import csr_matrix

    per_doc = design.per_doc[:, :len(design.label_ids)].tocoo()  # assigned units only, as the test counts
    n_labels = len(design.label_ids)
    docs_a = np.flatnonzero(design.doc_group == a)
    docs_b = np.flatnonzero(design.doc_group == b)
    in_pair = np.isin(per_doc.row, np.concatenate([docs_a, docs_b]))
    cell_doc, cell_label, cell_count = per_doc.row[in_pair], per_doc.col[in_pair], per_doc.data[in_pair]
    pairs, cell_pair = np.unique(design_doc_event[cell_doc] * max(n_labels, 1) + cell_label, return_inverse=True)
    pair_event, pair_label = pairs // max(n_labels, 1), pairs % max(n_labels, 1)

    def counts_matrix(docs: np.ndarray):
        """(pairs, docs) counts of the group's documents: times (docs, draws) weights gives each draw's counts."""
        local = np.full(design.doc_group.size, -1, dtype=np.int64)
        local[docs] = np.arange(docs.size)
        mine = local[cell_doc] >= 0
        return csr_matrix((cell_count[mine], (cell_pair[mine], local[cell_doc[mine]])), shape=(pairs.size, docs.size))

    matrix_a, matrix_b = counts_matrix(docs_a), counts_matrix(docs_b)
    split = lambda wa, wb: kitagawa_by_pairs(matrix_a @ wa, matrix_b @ wb, pair_event, pair_label,  # noqa: E731
                                             n_events, n_labels)
    total, agenda, framing = (part[:, 0] for part in split(np.ones((docs_a.size, 1)), np.ones((docs_b.size, 1))))
    figures = {"total": _variation(total), "agenda": _variation(agenda), "framing": _variation(framing)}
    draws: dict[str, list[float]] = {k: [] for k in figures}
    if bootstrap > 0 and docs_a.size >= 2 and docs_b.size >= 2:
        for start in range(0, bootstrap, _SPLIT_DRAWS_PER_CHUNK):
            size = min(_SPLIT_DRAWS_PER_CHUNK, bootstrap - start)
            weights_a = np.vstack(list(bootstrap_multiplicities(rng, docs_a.size, size))).T
            weights_b = np.vstack(list(bootstrap_multiplicities(rng, docs_b.size, size))).T
            for key, part in zip(("total", "agenda", "framing"), split(weights_a, weights_b)):
                draws[key].extend((0.5 * np.abs(part).sum(axis=0)).tolist())
    out: dict[str, Any] = {"group_a": design.names[a], "group_b": design.names[b],
                           "measure": "total variation distance between the groups' label shares (assigned units)"}
    for key, value in figures.items():
        # A distance between shares is biased upwards when resampled (noise only adds to it): the interval is the
        # bootstrap's 95% spread around its median, laid around the estimate, not the raw percentiles (which can
        # lie wholly above the estimate).
        low = high = np.nan
        if draws[key]:
            q_low, q_mid, q_high = np.percentile(draws[key], [2.5, 50, 97.5])
            low, high = max(0.0, value - (q_mid - q_low)), value + (q_high - q_mid)
        out[key] = {"value": round(value, 6), "low": None if np.isnan(low) else round(float(low), 6),
                    "high": None if np.isnan(high) else round(float(high), 6)}
    out["labels"] = [{"framing": f, "label": label_names.get(f, ""), "total": round(float(t), 6),
                      "agenda": round(float(g), 6), "framing_part": round(float(h), 6)}
                     for f, t, g, h in zip(design.label_ids, total, agenda, framing)]
    return out


def source_words(names: Sequence[str]) -> set[str]:
    """The lower-case words of source and group names (left out of the contrast words by default)."""
    return {w for name in names for w in re.findall(r"[^\W\d_]+", str(name).lower())}


def combined_fightin_words(term_matrix, rows_by_event: list[tuple[np.ndarray, np.ndarray]],
                           background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fightin' Words computed event by event (``rows_by_event``: each event's units of group a and of group b)
    and combined by inverse variance: the combined log-odds ratio and its z-score (0 for words no event uses)."""
    weight_sum = np.zeros(term_matrix.shape[1])
    weighted = np.zeros(term_matrix.shape[1])
    for rows_a, rows_b in rows_by_event:
        ca = np.asarray(term_matrix[rows_a].sum(axis=0)).ravel()
        cb = np.asarray(term_matrix[rows_b].sum(axis=0)).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):  # a one-word vocabulary has no odds: weight 0
            delta, z = fightin_words(ca, cb, background)
            variance = np.where(z != 0, (delta / z) ** 2, np.inf)
        used = ((ca + cb) > 0) & np.isfinite(delta) & np.isfinite(variance)
        weight = np.where(used, 1.0 / variance, 0.0)
        weight_sum += weight
        weighted += weight * np.where(used, delta, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(weight_sum > 0, weighted / weight_sum, 0.0)
        z = delta * np.sqrt(weight_sum)
    return delta, z


def within_events(data: ContrastInput, unit_events: np.ndarray, events: Sequence[Mapping[str, Any]], *,
                  groups: Mapping[str, Sequence[str]] | None = None, group_by: str | None = None,
                  pairs: Sequence[Sequence[str]] | None = None, permutations: int = 1000, bootstrap: int = 1000,
                  min_units: int = 5, top_words: int = 15, n_passages: int = 3, seed: int = 42,
                  keep_source_words: bool = False, progress: bool | None = False) -> dict[str, Any]:
    """Everything compared within events (see the module docstring): what contrast.json's ``within_events`` holds.

    ``unit_events`` (n,) each distinct unit's event; ``events`` the events' records (``id``, ``label``). The groups
    are those of the corpus-wide contrast (``groups`` / ``group_by``); the words leave out the words of the groups'
    and sources' names unless ``keep_source_words``. ``progress``: a bar naming the step that runs (None: on a
    terminal).
    """
    with step_bar(progress, "contrast within events", 5) as step:
        rng = np.random.default_rng([seed, 7])  # its own stream: the corpus-wide contrast's draws are unchanged
        design = design_of(data, groups, group_by)
        pair_list = group_pairs(design, pairs)
        n_events = max(int(unit_events.max(initial=-1)) + 1, len(events))
        design_doc_event = np.zeros(design.doc_group.size, dtype=np.int64)
        design_doc_event[design.doc_of_unit] = unit_events[design.kept]
        label_of_event = {int(e["id"]): str(e.get("label", "")) for e in events}
        shared = _told_by_several(design, design_doc_event, n_events)
        step(f"stratified permutation test ({permutations:,} permutations)")
        test = stratified_permutation_test(design, design_doc_event, n_events, permutations, rng)
        step("shares and divergences per event")
        tables = event_tables(design, design_doc_event, design.doc_group, n_events)
        shares = []
        for e in shared:
            for g, group in enumerate(design.names):
                total = tables[e, g].sum()
                for k, f in enumerate(design.label_ids):
                    if total and tables[e, g, k]:
                        shares.append({"event": int(e), "group": group, "framing": f,
                                       "label": data.framing_labels.get(f, ""), "count": int(tables[e, g, k]),
                                       "share": round(float(tables[e, g, k] / total), 6)})
        divergence = []
        for a, b in pair_list:
            ia, ib = design.names.index(a), design.names.index(b)
            for e in shared:
                if tables[e, ia].sum() and tables[e, ib].sum():
                    divergence.append({"event": int(e), "label": label_of_event.get(int(e), ""), "group_a": a,
                                       "group_b": b, "jsd": round(jensen_shannon(tables[e, ia], tables[e, ib]), 6),
                                       "units_a": int(tables[e, ia].sum()),
                                       "units_b": int(tables[e, ib].sum())})
        step("agenda and framing, with bootstrap intervals")
        parts = [_agenda_and_framing(design, design_doc_event, n_events, design.names.index(a),
                                     design.names.index(b), bootstrap, rng, data.framing_labels) for a, b in pair_list]
        names = list(design.names) + [s for members in design.group_defs.values() for s in members]
        exclude = set() if keep_source_words else source_words(names + list(set(data.sources)))
        step("words that separate the groups within events")
        words = _words(data, design, unit_events, shared, pair_list, top_words, exclude)
        step("side-by-side passages")
        passages = _passages(data, design, unit_events, shared, pair_list, min_units, n_passages, label_of_event)
    return {"test": test, "events": [int(e) for e in shared], "shares": shares, "divergence": divergence,
            "agenda_framing": parts, "words": words, "passages": passages, "words_left_out": sorted(exclude)}


def _words(data: ContrastInput, design: Design, unit_events: np.ndarray, shared: np.ndarray,
           pair_list: list[tuple[str, str]], top_words: int, exclude: set[str]) -> list[dict[str, Any]]:
    from .words import word_counts

    term_matrix, vocabulary = data.word_counts if data.word_counts is not None else word_counts(data.texts)
    if term_matrix is None:
        return []
    background = np.asarray(term_matrix.sum(axis=0)).ravel()
    allowed = np.array([str(w).lower() not in exclude and not (set(str(w).lower().split()) & exclude)
                        for w in vocabulary], dtype=bool)
    rows = []
    n_groups = len(design.names)
    # each (event, group)'s units, from one sort: a scan of every unit per event and pair is events x units
    by_cell = members_of(np.where(design.unit_group >= 0, unit_events * n_groups + design.unit_group, -1))
    none = np.array([], dtype=np.int64)
    for a, b in pair_list:
        ia, ib = design.names.index(a), design.names.index(b)
        by_event = []
        for e in shared:
            rows_a = by_cell.get(int(e) * n_groups + ia, none)
            rows_b = by_cell.get(int(e) * n_groups + ib, none)
            if rows_a.size and rows_b.size:
                by_event.append((rows_a, rows_b))
        if not by_event:
            continue
        delta, z = combined_fightin_words(term_matrix, by_event, background)
        members_a = np.concatenate([r for r, _ in by_event])
        members_b = np.concatenate([r for _, r in by_event])
        for side, order, members in (("a", np.argsort(-z), members_a), ("b", np.argsort(z), members_b)):
            chosen = [w for w in order if allowed[w] and (z[w] > 0 if side == "a" else z[w] < 0)][:top_words]
            columns = term_matrix[members].tocsc()
            for w in chosen:
                hits = members[columns.indices[columns.indptr[w]:columns.indptr[w + 1]]]
                rows.append({"group_a": a, "group_b": b, "side": side, "word": str(vocabulary[w]),
                             "z": round(float(z[w]), 4), "delta": round(float(delta[w]), 4),
                             "events": len(by_event), "unit_ids": [data.unit_ids[i] for i in hits[:20]]})
    return rows


def _passages(data: ContrastInput, design: Design, unit_events: np.ndarray, shared: np.ndarray,
              pair_list: list[tuple[str, str]], min_units: int, n_passages: int,
              label_of_event: Mapping[int, str]) -> list[dict[str, Any]]:
    """For each shared event and label that both groups of a pair use (at least ``min_units`` units each, or any
    unit when the event is small), each group's most typical passages, side by side."""
    out: list[dict[str, Any]] = []
    if data.embeddings is None:  # a saved run regrouped: no vectors to find typical passages by
        return out
    labels = data.framings
    n_groups = len(design.names)
    # each (event, label, group)'s units, from one sort: scanning every unit per event and label is
    # events x labels x units (a thousand of each at 100k units: 10^11)
    ids = np.asarray(design.label_ids, dtype=np.int64)  # sorted
    if not ids.size:
        return out
    column = np.minimum(np.searchsorted(ids, labels), ids.size - 1)
    valid = (design.unit_group >= 0) & (ids[column] == labels)
    by_cell = members_of(np.where(valid, (unit_events * len(design.label_ids) + column) * n_groups
                                  + design.unit_group, -1))
    none = np.array([], dtype=np.int64)
    for a, b in pair_list:
        ia, ib = design.names.index(a), design.names.index(b)
        for e in shared:
            for k, f in enumerate(design.label_ids):
                cell = (int(e) * len(design.label_ids) + k) * n_groups
                rows_a, rows_b = by_cell.get(cell + ia, none), by_cell.get(cell + ib, none)
                if rows_a.size >= min(min_units, 1) and rows_b.size >= min(min_units, 1) and rows_a.size + \
                        rows_b.size >= min_units:
                    out.append({"event": int(e), "event_label": label_of_event.get(int(e), ""), "framing": f,
                                "label": data.framing_labels.get(f, ""), "group_a": a, "group_b": b,
                                "passages_a": typical_passages(data.embeddings, rows_a, data.unit_ids, n_passages),
                                "passages_b": typical_passages(data.embeddings, rows_b, data.unit_ids, n_passages),
                                "units_a": int(rows_a.size), "units_b": int(rows_b.size)})
    return out
