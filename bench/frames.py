"""Frames from a few labels against the zero-shot codebook, on hand-coded units.

For each labelled set: the zero-shot codebook (nearest frame centre); framing's classifier (class-weighted
logistic regression, C=10, on the same all-MiniLM-L6-v2 vectors, trained on the labels plus the codebook's
descriptions and example phrases) and the same on labels alone, with k labels per frame for k = 8, 16, 32 (fewer
where a frame has fewer, always leaving one to test), drawn at random ``--draws`` times and tested on every other
labelled unit (zero-shot and the majority class scored on the same test units); and the classifier with all
labels, by framing's own stratified 5-fold cross-validation. Large k exhausts the small frames, so its test units
are mostly the commonest frames: read macro-F1 there.
``--finetune K`` compares SetFit-style contrastive fine-tuning of the sentence-transformer (then the same
classifier) with the classifier on the stock vectors, on the same draws.

    python bench/frames.py --draws 10
    python bench/frames.py --timing 100000 --runs 3
    python bench/frames.py --finetune 16 --draws 2 --codebook conflict
    python bench/frames.py --labels framing/data/labels/example-conflict.csv --codebook conflict --corpus example
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from framing.embed.cache import EmbeddingCache, embed_texts, make_embedder, vector_key
from framing.frames.assign import codebook_passages, cross_validate, fit_classifier, frame_centres, load_codebook, zero_shot

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "framing" / "data" / "labels"
ALEPPO_CONFIG = ROOT / "configs" / "aleppo-2016.yaml"
# (name, labels, codebook, config whose corpus and units the labels' unit ids refer to; None: labels carry text)
SETS = [("example", LABELS / "example-conflict.csv", "conflict", None),
        ("example", LABELS / "example-policy-frames.csv", "policy-frames", None),
        ("aleppo-2016", ROOT / "bench" / "labels" / "aleppo-2016-conflict.csv", "conflict", ALEPPO_CONFIG),
        ("aleppo-2016", ROOT / "bench" / "labels" / "aleppo-2016-policy-frames.csv", "policy-frames", ALEPPO_CONFIG)]


def unit_texts(config_path: Path) -> dict[str, str]:
    """Unit id -> text for the corpus and units settings of a config (third-party corpora ship ids only)."""
    from framing import load_config, load_corpus, segment

    config = load_config(config_path)
    units = segment(load_corpus(None, config.corpus).documents, kind=config.units.kind,
                    min_words=config.units.min_words, detect_sections=config.units.detect_sections)
    return {u.id: u.text for u in units}


def scores(true: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    return float(np.mean(true == predicted)), float(f1_score(true, predicted, labels=sorted(set(true.tolist())),
                                                            average="macro", zero_division=0))


def load_set(labels_path: Path, codebook: str, config: Path | None, cache_dir: str) -> dict:
    """A labelled set with its texts, stock vectors, zero-shot frames and the codebook's phrases."""
    labels = pd.read_csv(labels_path)
    if "text" not in labels.columns:
        labels["text"] = labels["unit_id"].map(unit_texts(config))
        missing = labels["text"].isna().sum()
        if missing:
            raise SystemExit(f"{labels_path}: {missing} unit ids not found with {config}'s units settings")
    texts, gold = labels["text"].astype(str).tolist(), labels["frame"].astype(str).to_numpy(dtype=object)
    embedder = make_embedder(cache_dir=cache_dir, progress=False)
    cache = EmbeddingCache(cache_dir, vector_key(embedder))
    X = np.asarray(embed_texts(texts, embedder, cache)[0])
    book = load_codebook(codebook)
    frame_names = [f["name"] for f in book["frames"]]
    encode = lambda t: np.asarray(embed_texts(t, embedder, cache)[0])  # noqa: E731
    zs_index, _ = zero_shot(X, frame_centres(book["frames"], encode))
    passages, passage_frame = codebook_passages(book["frames"], encode)
    cache.close()
    names = sorted(set(gold.tolist()) | set(frame_names))  # a frame may have no labels but its phrases
    phrase_texts = [str(t) for f in book["frames"] for t in [f["description"], *f.get("examples", [])]]
    return {"texts": texts, "gold": gold, "X": X, "names": names, "y": np.array([names.index(g) for g in gold]),
            "zero_shot": np.asarray(frame_names, dtype=object)[zs_index], "passages": passages,
            "passage_y": np.array([names.index(frame_names[k]) for k in passage_frame]), "phrase_texts": phrase_texts}


def draw_training(y: np.ndarray, n_names: int, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """k labelled units per frame at random (one always left to test), and every other unit as the test set."""
    train = np.concatenate([rng.choice(np.flatnonzero(y == c), size=min(k, int((y == c).sum()) - 1), replace=False)
                            for c in range(n_names) if (y == c).sum() > 1])
    return train, np.setdiff1d(np.arange(len(y)), train)


def run_set(name: str, labels_path: Path, codebook: str, config: Path | None, draws: int, cache_dir: str) -> list[dict]:
    data = load_set(labels_path, codebook, config, cache_dir)
    gold, X, names, y = data["gold"], data["X"], data["names"], data["y"]
    zs, passages, passage_y = data["zero_shot"], data["passages"], data["passage_y"]
    majority = max(names, key=lambda n: (gold == n).sum())
    name = f"{name} / {codebook}"
    rows = [{"set": name, "method": "zero-shot codebook", "labels per frame": "0",
             **dict(zip(("accuracy", "macro-F1"), scores(gold, zs))), "test units": len(gold),
             "majority": float(np.mean(gold == majority))}]
    rng = np.random.default_rng(0)
    for k in (8, 16, 32):
        results = {"clf": [], "labels": [], "zs": [], "maj": [], "fit": []}
        for _ in range(draws):
            train, test = draw_training(y, len(names), k, rng)
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
    from framing.frames.assign import assign_frames

    labels = pd.read_csv(SETS[0][1])  # the example's conflict labels
    embedder = make_embedder(progress=False)
    cache = EmbeddingCache("~/.cache/framing", vector_key(embedder))
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


def finetuned_encoder(texts: list[str], labels: np.ndarray, seed: int, pairs_per_text: int = 10,
                      epochs: int = 1, batch_size: int = 16):
    """SetFit-style contrastive fine-tuning of the packaged all-MiniLM-L6-v2 on labelled texts (plain torch: the
    library's trainer needs ``datasets`` and ``accelerate``, which framing does not install). Pairs of the same
    frame aim at cosine 1, pairs of different frames at 0 (SetFit's CosineSimilarityLoss); returns an encoder."""
    import torch
    from sentence_transformers import SentenceTransformer

    from framing.embed.embedders import resolve_model_path

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu")
    pairs = []
    for i in range(len(texts)):
        same, other = np.flatnonzero(labels == labels[i]), np.flatnonzero(labels != labels[i])
        for _ in range(pairs_per_text // 2):
            if same.size > 1:
                pairs.append((i, int(rng.choice(same[same != i])), 1.0))
            if other.size:
                pairs.append((i, int(rng.choice(other)), 0.0))
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(pairs))
        for start in range(0, len(order), batch_size):
            batch = [pairs[k] for k in order[start:start + batch_size]]
            left = model.tokenize([texts[a] for a, _, _ in batch])
            right = model.tokenize([texts[b] for _, b, _ in batch])
            u = model(left)["sentence_embedding"]
            v = model(right)["sentence_embedding"]
            target = torch.tensor([t for _, _, t in batch], dtype=torch.float32)
            loss = torch.nn.functional.mse_loss(torch.nn.functional.cosine_similarity(u, v), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    return lambda batch: model.encode(list(batch), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)


def finetune_rows(name: str, labels_path: Path, codebook: str, config: Path | None, k: int, draws: int,
                  cache_dir: str) -> list[dict]:
    """Fine-tuned embeddings + framing's classifier against framing's classifier on the stock embeddings, on the
    same draws of k labels per frame."""
    data = load_set(labels_path, codebook, config, cache_dir)
    texts, X, names, y = data["texts"], data["X"], data["names"], data["y"]
    passages, py, phrase_texts = data["passages"], data["passage_y"], data["phrase_texts"]
    rng = np.random.default_rng(1)
    stock, tuned, seconds = [], [], []
    for draw in range(draws):
        train, test = draw_training(y, len(names), k, rng)
        print(f"{name} / {codebook}: fine-tuning, draw {draw + 1} of {draws}", file=sys.stderr, flush=True)
        model = fit_classifier(np.vstack([X[train], passages]), np.concatenate([y[train], py]))
        stock.append(scores(y[test], model.predict(X[test])))
        start = time.perf_counter()
        encode = finetuned_encoder([texts[i] for i in train] + phrase_texts, np.concatenate([y[train], py]), draw)
        Xt, Pt = encode([texts[i] for i in range(len(texts))]), encode(phrase_texts)
        model = fit_classifier(np.vstack([Xt[train], Pt]), np.concatenate([y[train], py]))
        tuned.append(scores(y[test], model.predict(Xt[test])))
        seconds.append(time.perf_counter() - start)
    name = f"{name} / {codebook}"
    return [{"set": name, "method": method, "labels per frame": str(k),
             "accuracy": statistics.mean(a for a, _ in results), "macro-F1": statistics.mean(f for _, f in results),
             "draws": draws, "seconds per fine-tuning": statistics.median(seconds) if method.startswith("fine") else None}
            for method, results in (("classifier on stock vectors", stock),
                                    ("fine-tuned (SetFit-style) + classifier", tuned))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10, help="random draws of the labelled training units per k")
    parser.add_argument("--labels", help="a labelled set of your own (text, frame)")
    parser.add_argument("--codebook", default="conflict")
    parser.add_argument("--corpus", default="mine", help="a name for your set in the table")
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    parser.add_argument("--timing", type=int, metavar="UNITS", help="time training and prediction for UNITS units")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--finetune", type=int, metavar="K", help="compare SetFit-style fine-tuning at K labels per "
                                                                   "frame (slow: minutes per draw on a CPU)")
    args = parser.parse_args()
    if args.finetune:
        sets = [s for s in SETS if s[1].is_file() and (s[3] is None or (ROOT.parent / "shared" / "corpora").is_dir())
                and s[2] == args.codebook]
        rows = [row for name, path, book, config in sets
                for row in finetune_rows(name, path, book, config, args.finetune, args.draws, args.cache_dir)]
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format",
                               "{:.3f}".format):
            print(pd.DataFrame(rows).to_string(index=False))
        return
    if args.timing:
        timing(args.timing, args.runs)
        return
    sets = [(args.corpus, Path(args.labels), args.codebook, None)] if args.labels else \
        [s for s in SETS if s[1].is_file() and (s[3] is None or (ROOT.parent / "shared" / "corpora").is_dir())]
    rows = [row for name, path, book, config in sets
            for row in run_set(name, path, book, config, args.draws, args.cache_dir)]
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
