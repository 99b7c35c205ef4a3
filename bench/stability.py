"""Does a framing's stability score predict what a user meets, and does it say which framings agree with coded frames?

For each corpus with hand-coded frames (bench/labelled_sets.py: the example and the aleppo pages):

1. **What a user meets.** The corpus is run with its config (the base run), then again as a co-author might run it:
   with other seeds (``run.seed`` 1..K: another UMAP layout) and on 90% of the documents (K random draws, the
   base seed). Each base framing's *observed* stability is the median, over those full re-runs, of the best
   Jaccard index between its core members and one re-run framing's core members (over the units both runs hold).
2. **The score.** The base run is scored by ``framing.framings.stability`` with each setting under test
   (``stability.fraction`` and ``stability.reduce``); its per-framing scores are compared with the observed
   stability (Spearman's rho over framings), with their cost in seconds. A threshold for "unstable" is chosen as
   the score that best tells framings that did not come back in most re-runs (observed < 0.5) from those that did
   (balanced accuracy), and reported with the majority baseline.
3. **Consensus.** With and without ``cluster.consensus`` (N re-clusterings): the mean adjusted Rand index between
   full runs with seeds 0..K (what a co-author re-running the study meets: the same framings or not), the mean
   stability score, and the agreement of the framings with each set of coded frames (AMI over the labelled units,
   unassigned units as one cluster), with the AMI of a random partition of the same sizes as the chance baseline.
4. **Validity.** For each set of coded frames: per framing, the purity of its labelled core members (share of
   the framing's majority frame), against its stability score (Spearman's rho; a permutation p-value, 2,000
   shuffles). Chance is rho = 0.

    python bench/stability.py [--reruns 5] [--consensus 10 | 0] [--cache-dir ~/.cache/framing]
"""
from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

import framing
from framing.corpus.load import load_corpus
from framing.frames.labels import match_labels, read_labels

from labelled_sets import SETS  # noqa: E402 (bench/ is on the path when a script runs)

QUIET = dict(progress=False, contrast__enabled=False, hierarchy__enabled=False, time__enabled=False,
             describe__naming="terms", describe__match_run=None)
SETTINGS = {"subsample 0.8 (HDBSCAN only)": dict(stability__fraction=0.8, stability__reduce=False),
            "subsample 0.8 (HDBSCAN only), 3 runs": dict(stability__fraction=0.8, stability__reduce=False,
                                                         stability__runs=3),
            "subsample 0.8 (HDBSCAN only), 5 runs": dict(stability__fraction=0.8, stability__reduce=False,
                                                         stability__runs=5),
            "subsample 0.8 (HDBSCAN only), 10 runs": dict(stability__fraction=0.8, stability__reduce=False,
                                                          stability__runs=10),
            "subsample 0.9 (HDBSCAN only)": dict(stability__fraction=0.9, stability__reduce=False),
            "subsample 0.8 + UMAP, new seed": dict(stability__fraction=0.8, stability__reduce=True)}


def core_of(result: framing.Result) -> pd.Series:
    """Each unit's framing where it is a core member, -1 elsewhere, by unit id."""
    units = result.unit_columns(["unit_id", "framing", "membership"])
    framing_of = np.where(units["membership"].astype(str).to_numpy() == "core", units["framing"].to_numpy(), -1)
    return pd.Series(framing_of, index=units["unit_id"].astype(str).to_numpy())


def best_jaccards(base: pd.Series, other: pd.Series) -> dict[int, float]:
    """Each base framing's best Jaccard with one framing of ``other`` over the units both hold (core members)."""
    shared = base.index.intersection(other.index)
    a, b = base.loc[shared].to_numpy(), other.loc[shared].to_numpy()
    out = {}
    for f in np.unique(a[a >= 0]):
        members = a == f
        best = 0.0
        for g in np.unique(b[members & (b >= 0)]):
            others = b == g
            best = max(best, (members & others).sum() / (members | others).sum())
        out[int(f)] = best
    return out


def purity(result: framing.Result, labels_path) -> dict[int, tuple[float, int]]:
    """Per framing: the share of its labelled core members whose coded frame is the framing's majority frame."""
    units = result.units.reset_index(drop=True)
    gold = match_labels(units, read_labels(labels_path)).labels
    out = {}
    core = (units["membership"].astype(str) == "core").to_numpy()
    for f in sorted(set(units["framing"]) - {-1}):
        frames = [g for g, k, c in zip(gold, units["framing"], core) if k == f and c and g is not None]
        if len(frames) >= 3:
            out[int(f)] = (Counter(frames).most_common(1)[0][1] / len(frames), len(frames))
    return out


def permutation_p(x: np.ndarray, y: np.ndarray, draws: int, rng: np.random.Generator) -> float:
    observed = spearmanr(x, y).statistic
    null = np.array([spearmanr(x, rng.permutation(y)).statistic for _ in range(draws)])
    return float((np.sum(np.abs(null) >= abs(observed)) + 1) / (draws + 1))


def consensus_table(args, rng: np.random.Generator) -> None:
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

    print("\nConsensus: full runs with seeds 0..K, with and without cluster.consensus")
    print("| corpus | cluster.consensus | framings (median) | mean ARI between seed runs | mean stability | "
          "AMI with coded frames (per set) | AMI of a random partition |")
    print("|---|---|---|---|---|---|---|")
    corpora = {}
    for name, config, corpus_path, labels_path in SETS:
        if corpus_path is None or corpus_path.is_dir():
            corpora.setdefault(name, (config, corpus_path, []))[2].append(labels_path)
    for name, (config, corpus_path, label_files) in corpora.items():
        for consensus in (0, args.consensus):
            runs = [framing.analyze(None, config, **dict(QUIET, corpus__path=str(corpus_path) if corpus_path else None,
                                                         embedding__cache_dir=args.cache_dir, run__seed=seed,
                                                         cluster__consensus=consensus))
                    for seed in range(args.reruns + 1)]
            cores = [r.unit_columns(["unit_id", "framing"]).set_index("unit_id")["framing"] for r in runs]
            aris = [adjusted_rand_score(a.loc[cores[0].index], b.loc[cores[0].index])
                    for k, a in enumerate(cores) for b in cores[k + 1:]]
            stability = np.mean([np.mean([f.stability for f in r.framings if f.stability is not None]) for r in runs])
            amis, chance = [], []
            for labels_path in label_files:
                per_run = []
                for r in runs:
                    units = r.units.reset_index(drop=True)
                    gold = match_labels(units, read_labels(labels_path)).labels
                    rows = [k for k, g in enumerate(gold) if g is not None]
                    found = units["framing"].to_numpy()[rows]
                    coded = [gold[k] for k in rows]
                    per_run.append(adjusted_mutual_info_score(coded, found))
                    chance.append(adjusted_mutual_info_score(coded, rng.permutation(found)))
                amis.append(f"{labels_path.stem.split('-')[-2] if 'policy' in labels_path.stem else 'conflict'} "
                            f"{np.mean(per_run):.3f}")
            print(f"| {name} | {consensus} | {int(np.median([len(r.framings) for r in runs]))} | "
                  f"{np.mean(aris):.3f} | {stability:.2f} | {', '.join(amis)} | {np.mean(chance):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    parser.add_argument("--reruns", type=int, default=5)
    parser.add_argument("--runs", type=int, default=None, help="stability.runs of the scores under test (default: "
                                                                  "the config's)")
    parser.add_argument("--consensus", type=int, default=10, help="cluster.consensus to compare with none (0: skip)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    pooled: dict[str, list] = {name: [] for name in SETTINGS}
    observed_pooled: list[float] = []
    seen = set()
    validity_rows = []
    for name, config, corpus_path, labels_path in SETS:
        if corpus_path is not None and not corpus_path.is_dir():
            continue
        common = dict(QUIET, corpus__path=str(corpus_path) if corpus_path else None,
                      embedding__cache_dir=args.cache_dir,
                      **({"stability__runs": args.runs} if args.runs is not None else {}))
        base = framing.analyze(None, config, **common)
        if name not in seen:
            seen.add(name)
            base_core = core_of(base)
            reruns = []
            for seed in range(1, args.reruns + 1):
                reruns.append(core_of(framing.analyze(None, config, **dict(common, run__seed=seed))))
            documents = list(load_corpus(corpus_path, framing.load_config(config).corpus).documents)
            for draw in range(args.reruns):
                keep = np.sort(rng.choice(len(documents), size=max(1, round(0.9 * len(documents))), replace=False))
                reruns.append(core_of(framing.analyze([documents[k] for k in keep], config, **common)))
            per_run = [best_jaccards(base_core, other) for other in reruns]
            ids = [f.id for f in base.framings]
            observed = np.array([np.median([r.get(i, 0.0) for r in per_run]) for i in ids])
            observed_pooled.extend(observed)
            print(f"\n{name}: {len(documents)} documents, {len(base_core)} units, {len(ids)} framings; observed "
                  f"stability over {len(reruns)} full re-runs: median {np.median(observed):.2f}, "
                  f"{int((observed < 0.5).sum())} below 0.5")
            print("| score | rho with observed | mean ARI between re-clusterings | seconds (median of 3) |")
            print("|---|---|---|---|")
            for setting, overrides in SETTINGS.items():
                seconds, scored = [], None
                for _ in range(3):
                    scored = framing.analyze(None, config, **dict(common, **overrides))
                    seconds.append(scored.manifest["seconds"]["stability"])
                scores = np.array([f.stability if f.stability is not None else 0.0 for f in scored.framings])
                pooled[setting].extend(scores)
                rho = spearmanr(scores, observed).statistic
                print(f"| {setting} | {rho:.2f} | {scored.manifest['stability']['mean_ari']:.2f} | "
                      f"{np.median(seconds):.2f} |")
        scores = {f.id: f.stability for f in base.framings if f.stability is not None}
        pure = purity(base, labels_path)
        shared = sorted(set(scores) & set(pure))
        x = np.array([scores[i] for i in shared])
        y = np.array([pure[i][0] for i in shared])
        cut = base.manifest["stability"]["threshold"]
        validity_rows.append((f"{name} / {labels_path.stem}", len(shared), spearmanr(x, y).statistic,
                              permutation_p(x, y, 2000, rng), float(np.mean(y[x >= cut])) if (x >= cut).any()
                              else float("nan"), float(np.mean(y[x < cut])) if (x < cut).any() else float("nan")))
    if args.consensus:
        consensus_table(args, rng)
    observed = np.array(observed_pooled)
    print("\nPooled over corpora: each score against the observed stability")
    print("| score | rho | threshold (best balanced accuracy for observed < 0.5) | balanced accuracy | majority |")
    print("|---|---|---|---|---|")
    truth = observed < 0.5
    for setting, values in pooled.items():
        values = np.array(values)
        best = max(((t, 0.5 * (np.mean(values[truth] < t) if truth.any() else 0) +
                     0.5 * (np.mean(values[~truth] >= t) if (~truth).any() else 0))
                    for t in np.round(np.arange(0.05, 1.0, 0.05), 2)), key=lambda p: p[1])
        print(f"| {setting} | {spearmanr(values, observed).statistic:.2f} | {best[0]:.2f} | {best[1]:.2f} | "
              f"{max(truth.mean(), 1 - truth.mean()):.2f} |")
    print("\nValidity (default score): per-framing purity of labelled core members against stability")
    print("| set | framings (≥3 labelled core) | Spearman rho | permutation p | mean purity, stable | "
          "mean purity, unstable |")
    print("|---|---|---|---|---|---|")
    for row in validity_rows:
        print(f"| {row[0]} | {row[1]} | {row[2]:.2f} | {row[3]:.3f} | {row[4]:.2f} | {row[5]:.2f} |")


if __name__ == "__main__":
    main()
