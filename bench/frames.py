"""Frames from a few labels against the zero-shot codebook, on hand-coded units.

For each labelled set: the zero-shot codebook (nearest frame centre); framing's classifier (class-weighted
logistic regression, C=10, on the same all-MiniLM-L6-v2 vectors, trained on the labels plus the codebook's
descriptions and example phrases) and the same on labels alone, with k labels per frame for k = 8, 16, 32 (fewer
where a frame has fewer, always leaving one to test), drawn at random ``--draws`` times and tested on every other
labelled unit (zero-shot and the majority class scored on the same test units); and the classifier with all
labels, by framing's own stratified 5-fold cross-validation. Large k exhausts the small frames, so its test units
are mostly the commonest frames: read macro-F1 there.
Fine-tuning the sentence-transformer (SetFit-style) is not implemented yet, so it has no row.

    python bench/frames.py --draws 10
    python bench/frames.py --timing 100000 --runs 3
    python bench/frames.py --labels framing/data/labels/example-conflict.csv --codebook conflict --corpus example
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from framing.embed import EmbeddingCache, embed_texts, make_embedder
from framing.frames import codebook_passages, cross_validate, fit_classifier, frame_centres, load_codebook, zero_shot

ROOT = Path(__file__).resolve().parents[1]
SETS = [("example", ROOT / "framing" / "data" / "labels" / "example-conflict.csv", "conflict")]


def scores(true: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    return float(np.mean(true == predicted)), float(f1_score(true, predicted, labels=sorted(set(true.tolist())),
                                                            average="macro", zero_division=0))


def run_set(name: str, labels_path: Path, codebook: str, draws: int, cache_dir: str) -> list[dict]:
    labels = pd.read_csv(labels_path)
    texts, gold = labels["text"].astype(str).tolist(), labels["frame"].astype(str).to_numpy(dtype=object)
    embedder = make_embedder(cache_dir=cache_dir, progress=False)
    cache = EmbeddingCache(cache_dir, embedder.fingerprint)
    X = np.asarray(embed_texts(texts, embedder, cache)[0])
    book = load_codebook(codebook)
    frame_names = [f["name"] for f in book["frames"]]
    encode = lambda t: np.asarray(embed_texts(t, embedder, cache)[0])  # noqa: E731
    zs_index, _ = zero_shot(X, frame_centres(book["frames"], encode))
    zs = np.asarray(frame_names, dtype=object)[zs_index]
    passages, passage_frame = codebook_passages(book["frames"], encode)
    cache.close()
    names = sorted(set(gold.tolist()))
    y = np.array([names.index(g) for g in gold])
    passage_y = np.array([names.index(frame_names[k]) for k in passage_frame])
    majority = max(names, key=lambda n: (gold == n).sum())
    rows = [{"set": name, "method": "zero-shot codebook", "labels per frame": "0",
             **dict(zip(("accuracy", "macro-F1"), scores(gold, zs))), "test units": len(gold),
             "majority": float(np.mean(gold == majority))}]
    rng = np.random.default_rng(0)
    for k in (8, 16, 32):
        results = {"clf": [], "labels": [], "zs": [], "maj": [], "fit": []}
        for _ in range(draws):
            train = np.concatenate([rng.choice(np.flatnonzero(y == c), size=min(k, int((y == c).sum()) - 1),
                                               replace=False) for c in range(len(names)) if (y == c).sum() > 1])
            test = np.setdiff1d(np.arange(len(y)), train)
            start = time.perf_counter()
            # what framing does: the labels plus the codebook's descriptions and example phrases
            model = fit_classifier(np.vstack([X[train], passages]), np.concatenate([y[train], passage_y]))
            predicted = model.predict(X[test])
            results["fit"].append(time.perf_counter() - start)
            results["clf"].append(scores(y[test], predicted))
            results["labels"].append(scores(y[test], fit_classifier(X[train], y[train]).predict(X[test])))
            results["zs"].append(scores(gold[test], zs[test]))
            results["maj"].append(float(np.mean(gold[test] == majority)))
        for method, key in (("classifier: labels + codebook phrases", "clf"), ("classifier: labels only", "labels"),
                            ("zero-shot codebook, same test units", "zs")):
            acc = [a for a, _ in results[key]]
            f1 = [f for _, f in results[key]]
            rows.append({"set": name, "method": method, "labels per frame": str(k),
                         "accuracy": statistics.mean(acc), "macro-F1": statistics.mean(f1),
                         "accuracy sd": statistics.stdev(acc) if len(acc) > 1 else 0.0,
                         "test units": len(y) - len(train), "majority": statistics.mean(results["maj"])})
    validation = cross_validate(X, y, len(names), folds=5, seed=0, always_train=(passages, passage_y))
    rows.append({"set": name, "method": "classifier: all labels + phrases, 5-fold CV", "labels per frame": "all (4/5 of each)",
                 "accuracy": validation["accuracy"], "macro-F1": validation["macro_f1"],
                 "test units": validation["tested"], "majority": float(np.mean(gold == majority))})
    return rows


def timing(n_units: int, runs: int) -> None:
    """Training (with cross-validation) and prediction for ``n_units`` units, against the embedding time measured
    at 100k units (357.7 s, bench/RESULTS.md): the labelled set's real vectors plus random unit vectors."""
    from framing.frames import assign_frames

    labels = pd.read_csv(SETS[0][1])
    embedder = make_embedder(progress=False)
    cache = EmbeddingCache("~/.cache/framing", embedder.fingerprint)
    labelled = np.asarray(embed_texts(labels["text"].astype(str).tolist(), embedder, cache)[0])
    encode = lambda t: np.asarray(embed_texts(t, embedder, cache)[0])  # noqa: E731
    rest = np.random.default_rng(0).standard_normal((n_units - len(labels), labelled.shape[1])).astype(np.float32)
    X = np.vstack([labelled, rest / np.linalg.norm(rest, axis=1, keepdims=True)])
    unit_labels = labels["frame"].tolist() + [None] * len(rest)
    assign_frames(X[:1000], codebook="conflict", labels=unit_labels[:1000], encode=encode)  # warm-up: imports
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        assign_frames(X, codebook="conflict", labels=unit_labels, encode=encode)
        seconds.append(time.perf_counter() - start)
    cache.close()
    median = statistics.median(seconds)
    print(f"frames for {n_units:,} units ({len(labels)} labelled; zero-shot similarities, 5-fold CV with a 3-point "
          f"learning curve, final fit, prediction): median {median:.2f} s of {runs} "
          f"({', '.join(f'{s:.2f}' for s in seconds)}); {100 * median / 357.7:.1f}% of the 357.7 s that embedding "
          "100k units took")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10, help="random draws of the labelled training units per k")
    parser.add_argument("--labels", help="a labelled set of your own (text, frame)")
    parser.add_argument("--codebook", default="conflict")
    parser.add_argument("--corpus", default="mine", help="a name for your set in the table")
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    parser.add_argument("--timing", type=int, metavar="UNITS", help="time training and prediction for UNITS units")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.timing:
        timing(args.timing, args.runs)
        return
    sets = [(args.corpus, Path(args.labels), args.codebook)] if args.labels else SETS
    rows = [row for name, path, book in sets for row in run_set(name, path, book, args.draws, args.cache_dir)]
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
