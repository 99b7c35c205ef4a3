"""Hierarchy: which tree gives more coherent parents — HDBSCAN's condensed tree or merging framing centres?

For each hand-labelled set (the example's and aleppo's coded frames: framing/data/labels, bench/labels), the corpus
is run once per ``hierarchy.method`` (UMAP and HDBSCAN come from the cache, so the framings are the same). Each
tree is cut at level 1 (every framing under its lowest parent) and, so that the two are compared at the same
number of groups, the centroid tree is also cut into as many groups as the condensed tree's level 1 has
(``scipy.cluster.hierarchy.fcluster``, ``maxclust``). Over the labelled, assigned units, each cut is scored
against the coded frames: **purity** (the share of units in their group's most common frame) and **AMI**. The
**random** columns are the same scores for groups of the same sizes drawn at random over the framings (mean of
200 draws): the chance baseline. Coherent parents score above it.

    python bench/hierarchy.py
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score

import framing
from framing.framings.hierarchy import level_labels
from framing.frames.labels import match_labels, read_labels

from labelled_sets import SETS  # noqa: E402 (bench/ is on the path when a script runs)


def purity(groups: np.ndarray, gold: np.ndarray) -> float:
    table = pd.crosstab(groups, gold)
    return float(table.max(axis=1).sum() / table.values.sum())


def scores(groups: np.ndarray, gold: np.ndarray, framings: np.ndarray, rng: np.random.Generator) -> dict:
    """Purity and AMI of ``groups`` against ``gold``, and of random groupings of the framings of the same sizes."""
    leaf_group = dict(zip(framings, groups))  # each framing's group
    leaves = np.array(sorted(leaf_group))
    sizes = np.array([leaf_group[f] for f in leaves])
    random_purity, random_ami = [], []
    for _ in range(200):
        shuffled = dict(zip(leaves, rng.permutation(sizes)))
        drawn = np.array([shuffled[f] for f in framings])
        random_purity.append(purity(drawn, gold))
        random_ami.append(adjusted_mutual_info_score(gold, drawn))
    return {"groups": len(set(groups)), "purity": purity(groups, gold),
            "random purity": float(np.mean(random_purity)), "AMI": adjusted_mutual_info_score(gold, groups),
            "random AMI": float(np.mean(random_ami))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for name, config, corpus, labels in SETS:
        if corpus is not None and not corpus.is_dir():
            continue
        gold_file = read_labels(labels)
        runs = {method: framing.analyze(str(corpus) if corpus else None, str(config), progress=False,
                                        embedding__cache_dir=args.cache_dir, hierarchy__method=method,
                                        contrast__enabled=False, time__enabled=False)
                for method in ("condensed", "centroids")}
        units = runs["centroids"].units
        units = units[units["duplicate_of"] == ""].reset_index(drop=True)
        gold = np.array(match_labels(units, gold_file).labels, dtype=object)
        keep = np.array([g is not None for g in gold]) & (units["framing"].to_numpy() >= 0)
        framings_of = units["framing"].to_numpy()[keep]
        label_set = f"{name} / {labels.stem.replace('aleppo-2016-', '').replace('example-', '')}"
        rows.append({"set": label_set, "cut": "framings (level 0)",
                     **scores(framings_of, gold[keep], framings_of, rng)})
        counts = {}
        for method, result in runs.items():
            tree = result.hierarchy_data
            at_one = level_labels(units["framing"].to_numpy(), tree, 1)[keep]
            counts[method] = len(set(at_one))
            rows.append({"set": label_set, "cut": f"{method}, level 1", **scores(at_one, gold[keep], framings_of, rng)})
        from scipy.cluster.hierarchy import fcluster, linkage

        result = runs["centroids"]
        ids = [f.id for f in result.framings]
        merges = linkage(result.framing_centroids.astype(np.float64), method="average", metric="cosine")
        cut = dict(zip(ids, fcluster(merges, counts["condensed"], criterion="maxclust")))
        grouped = np.array([cut[f] for f in framings_of])
        rows.append({"set": label_set, "cut": f"centroids, {counts['condensed']} groups (as condensed level 1)",
                     **scores(grouped, gold[keep], framings_of, rng)})
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
