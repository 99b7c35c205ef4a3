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
- **Frames** (the run's ``frame`` column: zero-shot or from a classifier; units the classifier was trained on are
  left out) are scored as a classifier: accuracy, macro-F1, per-frame precision and recall and the confusion
  matrix, beside the majority-class and chance baselines.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import FramingError
from .assign import FRAME_PREFIX
from .labels import LabelFile, match_labels, read_labels

__all__ = ["read_gold", "partition_scores", "classification_scores", "evaluate_run", "EVALUATION_FILE"]

EVALUATION_FILE = "evaluation.json"


def read_gold(path: str) -> LabelFile:
    """Read a gold CSV (``unit_id``, ``doc_id`` or ``text``, and ``frame`` or ``label``); one-line errors."""
    return read_labels(path, what="gold labels")


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


# below this many scored units, an evaluation's figures carry a caution
FEW_GOLD_UNITS = 30
_ALWAYS_ALLOWED = {"none", "other"}


def _frame_names(units: pd.DataFrame) -> set[str]:
    """Every frame the run could give a unit (a codebook's frames, used or not)."""
    if "frame" in units.columns:
        column = units["frame"]
        values = column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype) else column.unique()
        return {str(v) for v in values}
    return {c[len(FRAME_PREFIX):] for c in units.columns if c.startswith(FRAME_PREFIX)}


def _run_frames(units: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str] | None:
    """The run's frame per unit, which units may be scored (not the run's own training labels), and a word on
    where the frames came from; ``None`` when the run has no frames."""
    if "frame" in units.columns:
        origin = units["frame_origin"].astype(str).to_numpy() if "frame_origin" in units.columns \
            else np.full(len(units), "zero-shot", dtype=object)
        method = "classifier trained on the run's labels" if (origin != "zero-shot").any() else \
            "codebook (zero-shot: the frame of highest cosine)"
        return units["frame"].astype(str).to_numpy(dtype=object), origin != "label", method
    columns = [c for c in units.columns if c.startswith(FRAME_PREFIX)]
    if not columns:
        return None
    scores = units[columns].to_numpy(dtype=np.float32)
    names = np.array([c[len(FRAME_PREFIX):] for c in columns], dtype=object)
    return names[np.argmax(scores, axis=1)], np.ones(len(units), bool), "codebook (zero-shot: the frame of highest cosine)"


def evaluate_run(units: pd.DataFrame, gold: LabelFile, *, permutations: int = 100, seed: int = 0) -> dict[str, Any]:
    """Score a run's unit table against gold labels; see the module's docstring for what is measured."""
    match = match_labels(units, gold)
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
    result["cautions"] = cautions = []
    if scored.sum() < FEW_GOLD_UNITS:
        cautions.append(f"only {int(scored.sum())} gold unit(s) are scored: scores from fewer than about "
                        f"{FEW_GOLD_UNITS} units say little (two units can give AMI 1.000)")
    run_frames = _run_frames(units)
    if run_frames is not None:
        known = _frame_names(units) | _ALWAYS_ALLOWED
        unknown = sorted(set(gold_labels) - known)
        if unknown:
            cautions.append(f"{len(unknown)} gold frame(s) are not frames of this run and are scored as errors: "
                            + ", ".join(repr(name[:40]) for name in unknown[:5]) + (" ..." if len(unknown) > 5 else ""))
        frames, scorable, method = run_frames
        # units the run was trained on would score the classifier on its own answers: they are left out
        rows = scorable[scored]
        if rows.any():
            result["frames"] = {"source": method, "left_out_as_training_labels": int((~rows).sum()),
                                **classification_scores(frames[scored][rows], gold_labels[rows])}
    return result


def format_evaluation(evaluation: dict[str, Any]) -> str:
    """The evaluation as a few readable lines and tables (what ``framing evaluate`` prints)."""
    gold, framings = evaluation["gold"], evaluation["framings"]
    lines = [f"gold: {gold['units_scored']} units scored from {gold['matched_rows']} of {gold['rows']} rows "
             f"(by {gold['key']}); {len(gold['classes'])} classes"]
    lines += [f"  caution: {caution}" for caution in evaluation.get("cautions", [])]
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
        held = f"; {frames['left_out_as_training_labels']} units left out: the run was trained on them" \
            if frames.get("left_out_as_training_labels") else ""
        lines.append(f"\nframes ({frames['source']}{held})")
        lines.append(f"  accuracy {frames['accuracy']:.3f}   macro-F1 {frames['macro_f1']:.3f}   "
                     f"majority class ({frames['majority_class']}) {frames['majority_accuracy']:.3f}   "
                     f"chance {frames['chance_accuracy']:.3f}")
        lines.append(f"  {'frame':<36}{'precision':>10}{'recall':>8}{'support':>9}")
        for row in frames["per_class"]:
            lines.append(f"  {row['label'][:36]:<36}{row['precision']:>10.2f}{row['recall']:>8.2f}{row['support']:>9}")
    return "\n".join(lines)
