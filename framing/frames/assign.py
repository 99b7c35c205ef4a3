"""Stage 5: frames — every distinct unit gets one frame of a codebook, zero-shot or learned from labels.

Framings are found (clusters); frames are given (a codebook: policy-frames, conflict, or your own YAML). Without
labels, a unit's frame is the codebook frame whose centre (the mean embedding of its description and example
phrases) is nearest: zero-shot, as good as the frames' wording. With labels (``frames.labels``: a CSV of
``unit_id``, ``doc_id`` or ``text`` and ``frame``), a class-weighted logistic regression on the same embeddings
learns the frames, labelled units keep their label, and every other unit gets the classifier's frame and its
probability. ``none`` and ``other`` are frames a user may always label.

How well it holds is measured, never assumed: stratified k-fold cross-validation on the labelled units
(accuracy, macro-F1, per-frame precision and recall, the confusion matrix, the zero-shot codebook scored on the
same units) and a learning curve (the same scores with 25%, 50% and 100% of the training folds), so a user sees
whether more labels would help. The confusion matrix also corrects frame shares for the classifier's errors
(``adjusted_shares``: adjusted classify-and-count).

The kernels are small named functions — ``zero_shot``, ``fit_classifier``, ``cross_validate``,
``adjusted_shares`` — and ``assign_frames`` validates its input, then calls them.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..config import FramesConfig
from ..errors import FramingError

__all__ = ["FrameAssignment", "assign_frames", "predict_frames", "load_codebook", "frame_centres", "codebook_passages",
           "zero_shot", "fit_classifier",
           "cross_validate", "adjusted_shares", "propose_to_label", "BUILTIN_CODEBOOKS", "FREE_FRAMES", "FRAME_PREFIX"]

log = logging.getLogger(__name__)

_CODEBOOKS = resources.files("framing") / "data" / "codebooks"
# The codebooks packaged with framing, by name: the files are the list.
BUILTIN_CODEBOOKS = tuple(sorted(p.name[: -len(".yaml")] for p in _CODEBOOKS.iterdir() if p.name.endswith(".yaml")))
# Frames a labeller may always use, whatever the codebook: a passage that fits none of its frames.
FREE_FRAMES = ("none", "other")
LEARNING_CURVE = (0.25, 0.5, 1.0)
ZERO_SHOT, CLASSIFIER = "zero-shot", "logistic-regression"
LABEL, PREDICTION = "label", "prediction"
# The unit table's columns of cosines to each codebook frame: "frame: NAME".
FRAME_PREFIX = "frame: "
# The defaults of the kernels are the config's: one place (FramesConfig's fields) for each.
_DEFAULTS = FramesConfig()


# ---------------------------------------------------------------- codebooks

def load_codebook(spec: str) -> dict[str, Any]:
    """A codebook by built-in name (``policy-frames``, ``conflict``) or YAML path: ``{name, frames: [...]}``."""
    import yaml

    if spec in BUILTIN_CODEBOOKS:
        text = (_CODEBOOKS / f"{spec}.yaml").read_text(encoding="utf-8")
        origin = spec
    else:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise FramingError(f"frames.codebook: no such file {spec} (or a built-in: {', '.join(BUILTIN_CODEBOOKS)})")
        try:
            text, origin = path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise FramingError(f"frames.codebook: cannot read {path} as UTF-8 text ({exc})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise FramingError(f"frames.codebook {origin}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    frames = data.get("frames") if isinstance(data, dict) else None
    if not frames or not all(isinstance(f, dict) and f.get("name") and (f.get("description") or f.get("examples"))
                             for f in frames):
        raise FramingError(f"frames.codebook {origin}: needs 'frames', each with a name and a description "
                           "or examples")
    names = [str(f["name"]) for f in frames]
    if len(set(names)) != len(names):
        raise FramingError(f"frames.codebook {origin}: frame names must be unique")
    return {"name": data.get("name", origin), "frames": frames}


def codebook_passages(frames: Sequence[Mapping[str, Any]], encode: Callable[[list[str]], np.ndarray]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's description and example phrases, embedded ``(m, d)``, and the frame index of each ``(m,)``."""
    texts, owner = [], []
    for k, frame in enumerate(frames):
        for text in ([frame["description"]] if frame.get("description") else []) + list(frame.get("examples", [])):
            texts.append(str(text))
            owner.append(k)
    return np.asarray(encode(texts), dtype=np.float32), np.asarray(owner)


def frame_centres(frames: Sequence[Mapping[str, Any]], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Unit-length mean embedding of each frame's description and example phrases, ``(k, d)``."""
    vectors, owner = codebook_passages(frames, encode)
    return _centres(vectors, owner, len(frames))


def _centres(vectors: np.ndarray, owner: np.ndarray, n_frames: int) -> np.ndarray:
    centres = np.stack([vectors[owner == k].mean(axis=0) for k in range(n_frames)])
    return centres / np.linalg.norm(centres, axis=1, keepdims=True)


# ---------------------------------------------------------------- kernels

def zero_shot(X: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest frame centre (index) and its cosine to every centre ``(n, k)``."""
    similarity = (X @ centres.T).astype(np.float32)
    return similarity.argmax(axis=1), similarity


def fit_classifier(X: np.ndarray, y: np.ndarray, *, regularization: float = _DEFAULTS.regularization, seed: int = 0):
    """A class-weighted logistic regression of frame indices ``y`` on embeddings ``X`` (scikit-learn)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=regularization, class_weight="balanced", max_iter=2000, random_state=seed)
    return model.fit(X, y)


def _scores(true: np.ndarray, predicted: np.ndarray, n_frames: int) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    present = sorted(set(true.tolist()))
    precision, recall, _, support = precision_recall_fscore_support(true, predicted, labels=list(range(n_frames)),
                                                                    zero_division=0)
    return {"accuracy": float(np.mean(true == predicted)),
            "macro_f1": float(f1_score(true, predicted, labels=present, average="macro", zero_division=0)),
            "precision": precision.tolist(), "recall": recall.tolist(), "support": support.tolist(),
            "confusion": confusion_matrix(true, predicted, labels=list(range(n_frames))).tolist()}


def _folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds; a frame with fewer labels than folds is only ever trained on (never tested)."""
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(y.tolist())
    testable = np.array([counts[label] >= n_folds for label in y.tolist()])
    always_train = np.flatnonzero(~testable)
    rows = np.flatnonzero(testable)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [(np.concatenate([rows[train], always_train]), rows[test]) for train, test in splitter.split(rows, y[rows])]


def _subsample(train: np.ndarray, y: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A stratified share of ``train`` (at least one row of each frame it holds)."""
    if fraction >= 1.0:
        return train
    kept = []
    for label in np.unique(y[train]):
        rows = train[y[train] == label]
        kept.append(rng.choice(rows, size=max(1, int(round(fraction * rows.size))), replace=False))
    return np.sort(np.concatenate(kept))


def cross_validate(X: np.ndarray, y: np.ndarray, n_frames: int, *, folds: int = _DEFAULTS.folds, regularization: float = _DEFAULTS.regularization,
                   seed: int = 0, zero_shot_predictions: np.ndarray | None = None,
                   always_train: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any] | None:
    """Stratified k-fold scores of the classifier on labelled rows, a learning curve, and zero-shot on the same.

    ``always_train`` (vectors, frame indices) joins every training fold and is never tested: the codebook's own
    phrases. ``None`` when there are too few labels to hold any out (fewer than two frames with two labels each).
    """
    counts = Counter(y.tolist())
    enough = sorted(count for count in counts.values() if count >= 2)
    if len(enough) < 2:
        return None
    # As many folds as asked, but no more than the second-largest frame has labels, so that at least two frames
    # are tested; frames with fewer labels than folds are trained on in every fold and reported as untested.
    n_folds = int(max(2, min(folds, enough[-2])))
    splits = _folds(y, n_folds, seed)
    rng = np.random.default_rng(seed)
    curve: dict[float, np.ndarray] = {}
    train_sizes: dict[float, list[int]] = {}
    tested = np.concatenate([test for _, test in splits])
    for fraction in LEARNING_CURVE:
        predicted = np.full(y.shape, -1)
        train_sizes[fraction] = []
        for train, test in splits:
            rows = _subsample(train, y, fraction, rng)
            train_sizes[fraction].append(rows.size)
            X_train, y_train = _with(always_train, X[rows], y[rows])
            if len(np.unique(y_train)) < 2:
                predicted[test] = y_train[0]
                continue
            model = fit_classifier(X_train, y_train, regularization=regularization, seed=seed)
            predicted[test] = model.predict(X[test])
        curve[fraction] = predicted
    full = curve[1.0]
    result = {"folds": n_folds, "labelled": int(y.size), "tested": int(tested.size),
              "untested_frames": sorted(int(label) for label, count in counts.items() if count < n_folds),
              **_scores(y[tested], full[tested], n_frames),
              "learning_curve": [{"fraction": fraction, "labels": int(round(np.mean(train_sizes[fraction]))),
                                  **{k: v for k, v in _scores(y[tested], curve[fraction][tested], n_frames).items()
                                     if k in ("accuracy", "macro_f1")}} for fraction in LEARNING_CURVE],
              "out_of_fold": full.tolist()}
    if zero_shot_predictions is not None:
        result["zero_shot"] = {k: v for k, v in _scores(y[tested], zero_shot_predictions[tested], n_frames).items()
                               if k in ("accuracy", "macro_f1")}
    return result


def _with(extra: tuple[np.ndarray, np.ndarray] | None, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if extra is None or not len(extra[1]):
        return X, y
    return np.vstack([X, extra[0]]), np.concatenate([y, extra[1]])


def propose_to_label(uncertainty: np.ndarray, strata: np.ndarray, labelled: np.ndarray, n: int) -> np.ndarray:
    """The next ``n`` units to label: in turn from each stratum (a framing, largest first; unassigned units are one
    stratum), the most uncertain unit not labelled yet. Uncertainty alone would spend every label on one
    ambiguous corner of the map; taking turns across framings spreads them over the map's regions and tellings."""
    queues = []
    for stratum in sorted(np.unique(strata), key=lambda s: (-(strata == s).sum(), s)):
        rows = np.flatnonzero((strata == stratum) & ~labelled)
        queues.append(list(rows[np.argsort(-uncertainty[rows], kind="stable")]))
    picked: list[int] = []
    while len(picked) < n and any(queues):
        for queue in queues:
            if queue and len(picked) < n:
                picked.append(int(queue.pop(0)))
    return np.array(picked, dtype=int)


def adjusted_shares(observed: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """Adjusted classify-and-count: the true frame shares ``p`` that best explain the observed predicted shares.

    ``confusion[i, j]`` counts units of true frame ``i`` predicted as ``j`` (from cross-validation), so predicted
    shares are ``q = M.T @ p`` with ``M`` the row-normalised confusion. We solve for ``p`` by non-negative least
    squares with the shares summing to one (Forman 2008's ACC, constrained so that it never returns a negative
    share). It is unbiased when the frame mix of a group differs from the labelled sample's, which is exactly
    what a contrast between groups looks for; averaging calibrated probabilities is not. A frame never labelled
    keeps its observed share.
    """
    from scipy.optimize import nnls

    observed = np.asarray(observed, dtype=np.float64)
    total = observed.sum()
    if total <= 0:
        return observed
    q = observed / total
    confusion = np.asarray(confusion, dtype=np.float64)
    rows = confusion.sum(axis=1, keepdims=True)
    M = np.where(rows > 0, confusion / np.maximum(rows, 1e-12), np.eye(confusion.shape[0]))
    weight = 10.0  # how hard "the shares sum to one" is held against the fit
    A = np.vstack([M.T, weight * np.ones((1, M.shape[0]))])
    b = np.concatenate([q, [weight]])
    p, _ = nnls(A, b)
    return p / p.sum() if p.sum() > 0 else q


# ---------------------------------------------------------------- the stage

@dataclass
class FrameAssignment:
    """The frames stage's outcome for the distinct units.

    ``names``: the frames (codebook order, then labelled free frames); ``frame`` (n,): index into ``names``;
    ``probability`` (n,): the classifier's probability of that frame (1 for a label; NaN for zero-shot);
    ``origin`` (n,): ``label``, ``prediction`` or ``zero-shot``; ``similarity`` (n, k): cosine to each codebook
    frame's centre (empty without a codebook); ``validation``: cross-validation (``None`` without labels).
    """

    names: list[str]
    frame: np.ndarray
    probability: np.ndarray
    origin: np.ndarray
    method: str
    codebook: str | None = None
    codebook_frames: list[str] = field(default_factory=list)
    similarity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    labels: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] | None = None
    proposals: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    # what placing new units needs (framing.run.framer): the codebook frames' centres (k, d) and the classifier's
    # coefficients (classes, d), intercepts and classes (indices into names); empty without them
    centres: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    classifier: dict[str, np.ndarray] = field(default_factory=dict)

    def uncertainty(self) -> np.ndarray:
        """How unsure the frame of each unit is: 1 - probability (classifier), or 1 - the cosine margin between the
        two nearest codebook frames (zero-shot); 0 for a label."""
        if self.method == CLASSIFIER:
            return np.where(self.origin == LABEL, 0.0, 1.0 - self.probability)
        if self.similarity.shape[1] < 2:
            return np.zeros(self.frame.shape, np.float32)
        top = np.sort(self.similarity, axis=1)
        return 1.0 - (top[:, -1] - top[:, -2])

    def propose(self, strata: np.ndarray, n: int = 50) -> "FrameAssignment":
        """Choose the next units to label (``proposals``), spread over ``strata`` (the framings)."""
        self.proposals = propose_to_label(self.uncertainty(), np.asarray(strata), self.origin == LABEL, n)
        return self

    def shares(self) -> dict[str, Any]:
        """Frame shares over all units, as assigned and (with validation) corrected for the classifier's errors."""
        counts = np.bincount(self.frame, minlength=len(self.names)).astype(float)
        out = {"observed": dict(zip(self.names, (counts / max(counts.sum(), 1)).round(4).tolist()))}
        if self.validation is not None:
            predicted = self.origin == PREDICTION
            labelled = np.bincount(self.frame[~predicted], minlength=len(self.names)).astype(float)
            guessed = np.bincount(self.frame[predicted], minlength=len(self.names)).astype(float)
            corrected = labelled + adjusted_shares(guessed, np.array(self.validation["confusion"])) * guessed.sum()
            out["corrected"] = dict(zip(self.names, (corrected / max(corrected.sum(), 1)).round(4).tolist()))
        return out

    def to_dict(self) -> dict[str, Any]:
        """What frames.json holds (per-unit values live in the unit table)."""
        validation = None
        if self.validation is not None:
            validation = {k: v for k, v in self.validation.items() if k != "out_of_fold"}
            names = self.names
            validation["per_frame"] = [{"frame": names[k], "precision": round(p, 4), "recall": round(r, 4),
                                        "support": int(s)}
                                       for k, (p, r, s) in enumerate(zip(validation.pop("precision"),
                                                                         validation.pop("recall"),
                                                                         validation.pop("support")))]
            validation["untested_frames"] = [names[k] for k in validation["untested_frames"]]
        return {"method": self.method, "codebook": self.codebook, "frames": self.names,
                "codebook_frames": self.codebook_frames, "labels": self.labels, "validation": validation,
                "shares": self.shares(),
                "counts": dict(zip(self.names, np.bincount(self.frame, minlength=len(self.names)).tolist()))}


def assign_frames(X: np.ndarray, *, codebook: str | None = None, labels: Sequence[str | None] | None = None,
                  encode: Callable[[list[str]], np.ndarray] | None = None, folds: int = _DEFAULTS.folds,
                  regularization: float = _DEFAULTS.regularization, seed: int = 0, label_report: Mapping[str, Any] | None = None
                  ) -> FrameAssignment:
    """Give every row of ``X`` (distinct units' embeddings) a frame.

    Args:
        X: ``(n, d)`` unit-length embeddings.
        codebook: a built-in codebook name or a YAML path; its frames, and zero-shot frames when unlabelled.
        labels: one frame name (or ``None``) per row, from the user's label file; with any, a classifier.
        encode: embeds the codebook's phrases (the run's embedder and cache).
        folds: cross-validation folds (fewer when a frame has fewer labels).
        regularization: the logistic regression's ``C`` (10: embeddings are unit vectors, whose small weights
            the usual C=1 shrinks too hard; chosen on the example's hand labels, see bench/frames.py).
        label_report: what reading the label file found (rows, unmatched, conflicts), kept in ``labels``.
    """
    if codebook is None and not labels:
        raise FramingError("frames need a codebook (frames.codebook) or labels (frames.labels)")
    n = X.shape[0]
    report: dict[str, Any] = dict(label_report or {})
    names: list[str] = []
    similarity = np.zeros((n, 0), np.float32)
    zero_shot_frame = None
    book_name = None
    if codebook is not None:
        if encode is None:
            raise ValueError("a codebook needs encode() to embed its phrases")
        book = load_codebook(codebook)
        book_name = book["name"]
        names = [str(f["name"]) for f in book["frames"]]
        passages, passage_frame = codebook_passages(book["frames"], encode)
        zero_shot_frame, similarity = zero_shot(X, _centres(passages, passage_frame, len(names)))
    codebook_frames = list(names)
    given = [label for label in (labels or []) if label is not None]
    centres = (_centres(passages, passage_frame, len(names)) if codebook is not None
               else np.zeros((0, X.shape[1]), np.float32))
    if not given:
        return FrameAssignment(names=names, frame=zero_shot_frame, probability=np.full(n, np.nan, np.float32),
                               origin=np.full(n, ZERO_SHOT, dtype=object), method=ZERO_SHOT, codebook=book_name,
                               codebook_frames=codebook_frames, similarity=similarity, labels=report,
                               centres=centres)

    # Labels naming a frame the codebook lacks are reported with their counts and left out (a free frame such as
    # "none" is added instead); without a codebook, the labels' own names are the frames.
    allowed = set(names) | set(FREE_FRAMES) if codebook is not None else None
    unknown = Counter(label for label in given if allowed is not None and label not in allowed)
    if unknown:
        log.warning("%d label(s) name no frame of codebook %s and are left out: %s", sum(unknown.values()),
                    book_name, ", ".join(f"{name} ({count})" for name, count in unknown.most_common()))
    for label in sorted(dict.fromkeys(label for label in given if label not in unknown)):
        if label not in names:
            names.append(label)
    index = {name: k for k, name in enumerate(names)}
    y_all = np.array([index[label] if label is not None and label in index else -1 for label in labels], dtype=int)
    labelled = np.flatnonzero(y_all >= 0)
    per_frame = Counter(names[k] for k in y_all[labelled])
    report.update({"labelled_units": int(labelled.size), "per_frame": dict(per_frame),
                   "unknown_frames": dict(unknown), "frames_without_labels": [m for m in names if m not in per_frame]})
    if len(per_frame) < 2:
        raise FramingError(f"frames.labels: labels name only {len(per_frame)} frame(s) of the codebook "
                           f"({', '.join(per_frame) or 'none'}); a classifier needs at least two")
    y = y_all[labelled]
    # The codebook's descriptions and example phrases are labelled passages too: they join every training set
    # (never a test fold). On the example's hand labels they lift 8 and 16 labels per frame above the zero-shot
    # codebook, which labels alone do not reach (bench/frames.py).
    codebook_rows = (passages, passage_frame) if codebook is not None else None
    validation = cross_validate(X[labelled], y, len(names), folds=folds, regularization=regularization, seed=seed,
                                zero_shot_predictions=zero_shot_frame[labelled] if zero_shot_frame is not None
                                else None, always_train=codebook_rows)
    if validation is None:
        report["validation_skipped"] = "too few labels to hold any out: at least two frames need two labels each"
        log.warning("frames: %s", report["validation_skipped"])
    model = fit_classifier(*_with(codebook_rows, X[labelled], y), regularization=regularization, seed=seed)
    probabilities = model.predict_proba(X)
    frame = model.classes_[probabilities.argmax(axis=1)].astype(int)
    probability = probabilities.max(axis=1).astype(np.float32)
    origin = np.full(n, PREDICTION, dtype=object)
    frame[labelled], probability[labelled], origin[labelled] = y, 1.0, LABEL
    return FrameAssignment(names=names, frame=frame, probability=probability, origin=origin, method=CLASSIFIER,
                           codebook=book_name, codebook_frames=codebook_frames, similarity=similarity, labels=report,
                           validation=validation, centres=centres,
                           classifier={"coef": model.coef_.astype(np.float64), "intercept":
                                       model.intercept_.astype(np.float64), "classes": model.classes_.astype(np.int64)})


def predict_frames(X: np.ndarray, fitted: FrameAssignment) -> FrameAssignment:
    """Frames for new units with a fitted assignment's classifier (or its codebook's centres when zero-shot), and
    nothing learned again: what a saved Framer applies. Every unit's origin is ``prediction`` (or ``zero-shot``)."""
    n = X.shape[0]
    similarity = ((X @ fitted.centres.T).astype(np.float32) if fitted.centres.size
                  else np.zeros((n, 0), np.float32))
    if fitted.classifier:
        coef, intercept, classes = (fitted.classifier[k] for k in ("coef", "intercept", "classes"))
        scores = X.astype(np.float64) @ coef.T + intercept
        if coef.shape[0] == 1:  # a binary logistic regression keeps one row: the second class's score
            scores = np.hstack([-scores, scores])
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        frame = classes[probabilities.argmax(axis=1)].astype(int)
        probability = probabilities.max(axis=1).astype(np.float32)
        origin, method = np.full(n, PREDICTION, dtype=object), CLASSIFIER
    else:
        frame, probability = similarity.argmax(axis=1), np.full(n, np.nan, np.float32)
        origin, method = np.full(n, ZERO_SHOT, dtype=object), ZERO_SHOT
    return FrameAssignment(names=list(fitted.names), frame=frame, probability=probability, origin=origin,
                           method=method, codebook=fitted.codebook, codebook_frames=list(fitted.codebook_frames),
                           similarity=similarity, labels={"applied": True}, centres=fitted.centres,
                           classifier=dict(fitted.classifier))
