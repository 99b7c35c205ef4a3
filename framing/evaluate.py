"""Score a saved run against hand-coded gold labels: its framings as a partition, its frames as a classifier.

Researchers validate on a sample they coded by hand. A gold file is a CSV with one label per unit (``unit_id``),
per document (``doc_id``: every unit of the document takes it) or per passage (``text``: every unit with that
exact text, whitespace folded), in a ``frame`` (or ``label``) column. Rows that match nothing are counted and
named, never dropped silently.

- **Framings** are clusters, so they are scored as a partition: adjusted mutual information, adjusted Rand index
  and normalised mutual information with the gold labels, once with the unassigned units as one more cluster and
  once over the assigned units alone (with the coverage: the share of gold units that are assigned). Next to each
  figure stands the same score for random partitions with the framings' own cluster sizes (the framing labels
  shuffled over the units, averaged over ``permutations`` shuffles).
- **Frames** (the codebook's top frame per unit, ``frame: NAME`` columns) are a classifier: accuracy, macro-F1,
  per-frame precision and recall and the confusion matrix, beside the majority-class and chance baselines.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import FramingError

__all__ = ["GoldLabels", "read_gold", "match_gold", "partition_scores", "classification_scores", "evaluate_run",
           "EVALUATION_FILE"]

EVALUATION_FILE = "evaluation.json"
_KEYS = ("unit_id", "doc_id", "text")
_LABEL_COLUMNS = ("frame", "label", "gold")
_SPACE = re.compile(r"\s+")
FRAME_PREFIX = "frame: "


@dataclass
class GoldLabels:
    """Gold labels read from a file: the key they are given by, and ``(key value, label)`` rows."""

    key: str
    rows: list[tuple[str, str]]
    source: str = ""


@dataclass
class GoldMatch:
    """Gold labels aligned with a run's units: a label per unit (``None`` where there is none)."""

    labels: list[str | None]
    matched_rows: int
    unmatched: list[str] = field(default_factory=list)
    conflicting_units: int = 0

    @property
    def n_units(self) -> int:
        return sum(label is not None for label in self.labels)


def _fold(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def read_gold(path: str | Path) -> GoldLabels:
    """Read a gold CSV (``unit_id``, ``doc_id`` or ``text``, and ``frame`` or ``label``); one-line errors."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FramingError(f"cannot read gold labels {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FramingError(f"gold labels {path} are not UTF-8 text") from None
    try:
        records = list(csv.DictReader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise FramingError(f"gold labels {path}: not valid CSV ({exc})") from None
    columns = list(records[0]) if records else []
    key = next((k for k in _KEYS if k in columns), None)
    label_column = next((c for c in _LABEL_COLUMNS if c in columns), None)
    if key is None or label_column is None:
        raise FramingError(f"gold labels {path} need a unit_id, doc_id or text column and a frame or label column "
                           f"(columns: {', '.join(columns) or 'none'})")
    rows = [(str(r[key] or ""), str(r[label_column] or "").strip()) for r in records]
    rows = [(k if key != "text" else _fold(k), label) for k, label in rows if k and label]
    if not rows:
        raise FramingError(f"gold labels {path} hold no labelled row")
    return GoldLabels(key=key, rows=rows, source=str(path))


def match_gold(units: pd.DataFrame, gold: GoldLabels) -> GoldMatch:
    """Give each unit of ``units`` its gold label; rows that match no unit are counted and kept by name."""
    column = units[gold.key].astype(str)
    if gold.key == "text":
        column = column.map(_fold)
    positions: dict[str, list[int]] = {}
    for position, value in enumerate(column):
        positions.setdefault(value, []).append(position)
    labels: list[str | None] = [None] * len(units)
    unmatched, matched, conflicts = [], 0, set()
    for value, label in gold.rows:
        found = positions.get(value)
        if not found:
            unmatched.append(value)
            continue
        matched += 1
        for position in found:
            if labels[position] is not None and labels[position] != label:
                conflicts.add(position)
            labels[position] = label
    for position in conflicts:  # one unit given two labels: it is not scored
        labels[position] = None
    return GoldMatch(labels=labels, matched_rows=matched, unmatched=unmatched, conflicting_units=len(conflicts))


def _partition_kernels():
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, normalized_mutual_info_score

    return {"ami": adjusted_mutual_info_score, "ari": adjusted_rand_score, "nmi": normalized_mutual_info_score}


def partition_scores(predicted: Sequence[Any], gold: Sequence[str], *, permutations: int = 100,
                     seed: int = 0) -> dict[str, Any]:
    """AMI, ARI and NMI of a partition with gold labels, and the same for shuffles of the partition."""
    predicted, gold = np.asarray(predicted), np.asarray(gold)
    kernels = _partition_kernels()
    scores = {name: float(kernel(gold, predicted)) for name, kernel in kernels.items()}
    rng = np.random.default_rng(seed)
    shuffled = {name: [] for name in kernels}
    for _ in range(permutations):
        permuted = rng.permutation(predicted)
        for name, kernel in kernels.items():
            shuffled[name].append(kernel(gold, permuted))
    baseline = {name: float(np.mean(values)) if values else float("nan") for name, values in shuffled.items()}
    return {**scores, "random": baseline, "units": int(len(gold)), "clusters": int(len(np.unique(predicted))),
            "gold_classes": int(len(np.unique(gold)))}


def classification_scores(predicted: Sequence[str], gold: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision and recall and the confusion matrix, with the baselines."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    predicted, gold = np.asarray(predicted, dtype=object), np.asarray(gold, dtype=object)
    classes = sorted(set(gold) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=classes,
                                                                     zero_division=0)
    values, counts = np.unique(gold, return_counts=True)
    return {
        "units": int(len(gold)),
        "accuracy": float(np.mean(predicted == gold)),
        "macro_f1": float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro", zero_division=0)),
        "majority_class": str(values[np.argmax(counts)]),
        "majority_accuracy": float(counts.max() / counts.sum()),
        "chance_accuracy": float(np.sum((counts / counts.sum()) ** 2)),  # guessing by the gold label shares
        "per_class": [{"label": c, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for c, p, r, f, s in zip(classes, precision, recall, f1, support)],
        "labels": classes,
        "confusion": confusion_matrix(gold, predicted, labels=classes).tolist(),
    }


def _zero_shot_frames(units: pd.DataFrame) -> np.ndarray | None:
    columns = [c for c in units.columns if c.startswith(FRAME_PREFIX)]
    if not columns:
        return None
    scores = units[columns].to_numpy(dtype=np.float32)
    names = np.array([c[len(FRAME_PREFIX):] for c in columns], dtype=object)
    return names[np.argmax(scores, axis=1)]


def evaluate_run(units: pd.DataFrame, gold: GoldLabels, *, permutations: int = 100, seed: int = 0) -> dict[str, Any]:
    """Score a run's unit table against gold labels; see the module's docstring for what is measured."""
    match = match_gold(units, gold)
    scored = np.array([label is not None for label in match.labels])
    if not scored.any():
        raise FramingError(f"none of the {len(gold.rows)} gold rows matches a unit of this run by {gold.key} "
                           f"(e.g. {gold.rows[0][0][:60]!r})")
    gold_labels = np.array([label for label in match.labels if label is not None], dtype=object)
    framing = units["framing"].to_numpy()[scored]
    assigned = framing != -1
    result: dict[str, Any] = {
        "gold": {"file": gold.source, "key": gold.key, "rows": len(gold.rows), "matched_rows": match.matched_rows,
                 "unmatched_rows": len(match.unmatched), "unmatched_examples": match.unmatched[:10],
                 "conflicting_units": match.conflicting_units, "units_scored": int(scored.sum()),
                 "classes": sorted(set(gold_labels))},
        "framings": {
            "coverage": float(assigned.mean()),
            "unassigned_as_a_cluster": partition_scores(framing, gold_labels, permutations=permutations, seed=seed),
            "assigned_only": (partition_scores(framing[assigned], gold_labels[assigned], permutations=permutations,
                                               seed=seed) if assigned.sum() > 1 else None),
        },
    }
    frames = _zero_shot_frames(units)
    if frames is not None:
        result["frames"] = {"source": "codebook (zero-shot: the frame of highest cosine)",
                            **classification_scores(frames[scored], gold_labels)}
    return result


def format_evaluation(evaluation: dict[str, Any]) -> str:
    """The evaluation as a few readable lines and tables (what ``framing evaluate`` prints)."""
    gold, framings = evaluation["gold"], evaluation["framings"]
    lines = [f"gold: {gold['units_scored']} units scored from {gold['matched_rows']} of {gold['rows']} rows "
             f"(by {gold['key']}); {len(gold['classes'])} classes"]
    if gold["unmatched_rows"]:
        lines.append(f"  {gold['unmatched_rows']} gold row(s) match no unit of this run, e.g. "
                     + ", ".join(repr(v[:40]) for v in gold["unmatched_examples"][:3]))
    if gold["conflicting_units"]:
        lines.append(f"  {gold['conflicting_units']} unit(s) got two different labels and are not scored")
    lines.append(f"\nframings (coverage {framings['coverage']:.0%} of gold units assigned)")
    lines.append(f"  {'':<28}{'AMI':>8}{'ARI':>8}{'NMI':>8}   random partition, same sizes: AMI / ARI / NMI")
    for name, label in (("unassigned_as_a_cluster", "unassigned as one cluster"), ("assigned_only", "assigned only")):
        s = framings[name]
        if s is None:
            continue
        r = s["random"]
        lines.append(f"  {label:<28}{s['ami']:>8.3f}{s['ari']:>8.3f}{s['nmi']:>8.3f}   "
                     f"{r['ami']:.3f} / {r['ari']:.3f} / {r['nmi']:.3f}")
    frames = evaluation.get("frames")
    if frames:
        lines.append(f"\nframes ({frames['source']})")
        lines.append(f"  accuracy {frames['accuracy']:.3f}   macro-F1 {frames['macro_f1']:.3f}   "
                     f"majority class ({frames['majority_class']}) {frames['majority_accuracy']:.3f}   "
                     f"chance {frames['chance_accuracy']:.3f}")
        lines.append(f"  {'frame':<36}{'precision':>10}{'recall':>8}{'support':>9}")
        for row in frames["per_class"]:
            lines.append(f"  {row['label'][:36]:<36}{row['precision']:>10.2f}{row['recall']:>8.2f}{row['support']:>9}")
    return "\n".join(lines)
