"""FrameAxis-style semantic axes between two poles: unit positions, group means with document-bootstrap intervals,
a permutation test."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .design import ContrastInput, Design
from .resampling import bootstrap_draws


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
