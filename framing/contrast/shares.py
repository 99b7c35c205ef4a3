"""Each group's label shares with document-bootstrap intervals, the permutation test of "label use does not depend on
the group" (chi-square statistic, group labels shuffled over documents) and pairwise Jensen–Shannon divergences."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from .design import Design
from .resampling import bootstrap_multiplicities


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
