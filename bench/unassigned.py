"""Unassigned units: how reassignment (``cluster.reassign_threshold``) changes coverage and agreement with hand labels.

For each labelled set (the example's and aleppo's hand-coded frames, framing/data/labels and bench/labels), the
corpus is run with its config at each threshold (UMAP results come from the cache, so only HDBSCAN and the
reassignment change), and ``framing evaluate``'s partition scores are computed against the coded frames: AMI with
the unassigned units as one cluster, AMI over assigned units only, and coverage.

    python bench/unassigned.py
"""
from __future__ import annotations

import argparse

import pandas as pd

import framing
from framing.frames.evaluate import evaluate_run
from framing.frames.labels import read_labels

from labelled_sets import SETS  # noqa: E402 (bench/ is on the path when a script runs)
THRESHOLDS = [None, 0.6, 0.5, 0.4, 0.3, 0.2, -1.0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    args = parser.parse_args()
    rows = []
    for name, config, corpus, labels in SETS:
        if corpus is not None and not corpus.is_dir():
            continue
        gold = read_labels(labels)
        for threshold in THRESHOLDS:
            result = framing.analyze(None, config, progress=False, corpus__path=str(corpus) if corpus else None,
                                     embedding__cache_dir=args.cache_dir, cluster__reassign_threshold=threshold,
                                     contrast__enabled=False)
            scores = evaluate_run(result.units, gold, permutations=20)["framings"]
            rows.append({"set": f"{name} / {labels.stem.split('-', 1)[-1] if name == 'example' else labels.stem[12:]}",
                         "reassign_threshold": "none" if threshold is None else
                         ("all (-1)" if threshold == -1.0 else threshold),
                         "coverage": scores["coverage"], "AMI, unassigned as a cluster":
                         scores["unassigned_as_a_cluster"]["ami"],
                         "AMI, assigned only": scores["assigned_only"]["ami"],
                         "random AMI": scores["unassigned_as_a_cluster"]["random"]["ami"],
                         "framings": int(result.manifest["counts"]["framings"])})
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
