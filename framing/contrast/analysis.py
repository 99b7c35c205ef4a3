"""Stage 6: how sources (or groups of sources) tell the same events differently.

Everything here counts distinct units (a reposted sentence once) and treats the *document* as the unit of
resampling: sentences of one article are not independent, so bootstrap intervals resample documents within each
group and the permutation test shuffles group labels over documents.

``compute_contrast`` validates the groups (``design``), then calls one module per statistic:

- ``table``: group × framing counts and shares, with 95% bootstrap intervals (``shares``, ``resampling``);
- ``test``: permutation test of "framing use does not depend on group" (chi-square statistic; ``shares``);
- ``divergence``: pairwise Jensen–Shannon divergence between groups' framing distributions (base 2, 0..1);
- ``words``: per framing and pair of groups, the word choices that separate them — log-odds ratios with an
  informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words"), z-scores, counts, passages
  (``words``);
- ``narratives``: per framing and pair, each group's most typical passages (nearest its own centroid) side by side;
- ``subframings``: inside a framing that mixes groups, a 2-way split of its units and whether it follows the groups;
- ``codebook``: with the frames stage's assignment, each framing's and each group's frame distribution, and each
  group's frame shares corrected for the classifier's confusion (with document-bootstrap intervals; here);
- ``axes``: FrameAxis-style semantic axes between two poles: unit positions, group means with intervals, a
  permutation test (``axes``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..frames.assign import PREDICTION, FrameAssignment, adjusted_shares
from ..framings.partition import UNASSIGNED
from ..progress import step_bar
from .axes import axis_summaries
from .design import ContrastInput, Design, design_of, group_pairs
from .narratives import narratives
from .resampling import bootstrap_multiplicities
from .shares import divergences, permutation_test, shares_table
from .subframings import subframings
from .words import contrast_words

__all__ = ["Contrast", "compute_contrast", "json_safe"]


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


def compute_contrast(data: ContrastInput, encode: Callable[[list[str]], np.ndarray], *,
                     groups: Mapping[str, Sequence[str]] | None = None, group_by: str | None = None,
                     pairs: Sequence[Sequence[str]] | None = None, bootstrap: int = 1000, permutations: int = 1000,
                     min_units: int = 5, top_words: int = 15, n_passages: int = 3,
                     frames: FrameAssignment | None = None, axes: Sequence[Mapping[str, Any]] = (),
                     seed: int = 42, progress: bool | None = False, stage: str = "contrast") -> Contrast:
    """Compute the contrast tables, tests, words, narratives, sub-framings, frame shares and axes.

    ``data.framings`` is the labelling compared: framings, or (for the contrast over frames) frame indices.
    ``frames`` (the frames stage's assignment for the same units) adds each framing's and each group's frame
    distribution, with the shares corrected for the classifier's measured confusion when it was validated.
    ``progress``: a bar naming the step that runs (None: on a terminal), headed ``stage``.
    """
    rng = np.random.default_rng(seed)
    vectors = data.embeddings is not None
    steps = 3 + 2 * vectors + (frames is not None) + bool(axes and vectors)
    with step_bar(progress, stage, steps) as step:
        step("groups and bootstrap intervals of the shares")
        design = design_of(data, groups, group_by)
        table = shares_table(design, data.framing_labels, bootstrap, rng)
        step(f"permutation test ({permutations:,} permutations)")
        test = permutation_test(design, permutations, rng)
        divergence = divergences(design)
        compared = list(_compared(design, data.framings, group_pairs(design, pairs), min_units))
        step(f"words that separate the groups ({len(compared):,} comparisons of a pair in a framing)")
        words = contrast_words(data, compared, top_words)
        told, split = [], []
        if vectors:
            step("each group's typical passages")
            told = narratives(data, compared, n_passages)
            step("sub-framings that follow the groups")
            split = subframings(data, compared, rng)
        codebook_out = None
        if frames is not None:
            step("frame shares")
            codebook_out = _frame_summary(frames, data.framings, design.label_ids, design.unit_group, design.names,
                                          design.doc_of_unit, design.kept, design.doc_group, bootstrap, rng)
        axes_out, unit_scores = [], {}
        if axes and vectors:
            step("semantic axes")
            axes_out, unit_scores = axis_summaries(data, design, axes, encode, bootstrap, permutations, rng)
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
