"""Each group's most typical passages of a label (nearest its own centroid), side by side."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..framings.vectors import dot_rows, row_chunks
from .design import ContrastInput


def typical_passages(X: np.ndarray, members: np.ndarray, unit_ids: Sequence[str], n: int) -> list[str]:
    centre = sum((X[part].sum(axis=0, dtype=np.float64) for part in row_chunks(members)),
                 np.zeros(X.shape[1])) / max(members.size, 1)
    closeness = dot_rows(X, members, centre.astype(X.dtype))
    order = members[np.argsort(-closeness, kind="stable")]
    return [unit_ids[i] for i in order[:n]]


def narratives(data: ContrastInput, compared: list, n_passages: int) -> list[dict[str, Any]]:
    """Per label and pair, each group's most typical passages (nearest its own centroid), side by side."""
    X = data.embeddings
    return [{"framing": f, "label": data.framing_labels.get(f, ""), "group_a": a, "group_b": b,
             "passages_a": typical_passages(X, ia, data.unit_ids, n_passages),
             "passages_b": typical_passages(X, ib, data.unit_ids, n_passages),
             "units_a": int(ia.size), "units_b": int(ib.size)} for f, a, b, ia, ib in compared]
