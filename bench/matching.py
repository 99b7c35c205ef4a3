"""Framings across runs: which centroid cosine should make two framings "the same"?

Each corpus (the example; the aleppo pages when they are beside the checkout) is run with its config and again
with another ``cluster.min_cluster_size`` (smaller, larger, twice) or another seed. This run's framings are paired
with the base run's by the Hungarian algorithm on centroid cosine (``framing.framings.matching``), and each pair is judged
by its units, which both runs share: a pair is *the same framing* when most of one side's units are in the other
(containment > 0.5 either way). For each threshold, the table gives the share of pairs where "cosine at least
the threshold" agrees with that judgement, and how many same-framing pairs it would reject or wrong pairs accept.

    python bench/matching.py
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import framing
from framing.framings.matching import PreviousFramings, overlap_counts

ROOT = Path(__file__).resolve().parents[1]
ALEPPO = ROOT.parent / "shared" / "corpora" / "aleppo-2016"
SETS = [("example", ROOT / "configs" / "example.yaml", None), ("aleppo-2016", ROOT / "configs" / "aleppo-2016.yaml", ALEPPO)]
THRESHOLDS = [0.6, 0.7, 0.75, 0.8, 0.85, 0.9]


def pairs(base, other) -> pd.DataFrame:
    from scipy.optimize import linear_sum_assignment

    distinct = base.units[base.units["duplicate_of"] == ""]
    previous = PreviousFramings(ids=[f.id for f in base.framings], labels=[f.label for f in base.framings],
                                named_by=[""] * len(base.framings), centroids=base.framing_centroids,
                                unit_ids=distinct["unit_id"].to_numpy(), unit_framings=distinct["framing"].to_numpy())
    mine = other.units[other.units["duplicate_of"] == ""]
    row_of = {f.id: k for k, f in enumerate(other.framings)}
    labels = np.array([row_of.get(int(f), -1) for f in mine["framing"]])
    overlap = overlap_counts(mine["unit_id"].tolist(), labels, len(other.framings), previous)
    cosine = other.framing_centroids @ base.framing_centroids.T
    rows, cols = linear_sum_assignment(-cosine)
    sizes_new, sizes_old = overlap.sum(axis=1), overlap.sum(axis=0)
    same = [overlap[r, c] / max(sizes_new[r], 1) > 0.5 or overlap[r, c] / max(sizes_old[c], 1) > 0.5
            for r, c in zip(rows, cols)]
    return pd.DataFrame({"cosine": cosine[rows, cols], "same": same})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    args = parser.parse_args()
    found = []
    for name, config, corpus in SETS:
        if corpus is not None and not corpus.is_dir():
            continue
        run = lambda **o: framing.analyze(str(corpus) if corpus else None, str(config), progress=False,  # noqa: E731
                                          embedding__cache_dir=args.cache_dir, **o)
        base = run()
        size = base.manifest["config"]["cluster"]["min_cluster_size"]
        for change, overrides in [(f"min_cluster_size {size - 2}", {"cluster__min_cluster_size": size - 2}),
                                  (f"min_cluster_size {size + 2}", {"cluster__min_cluster_size": size + 2}),
                                  (f"min_cluster_size {2 * size}", {"cluster__min_cluster_size": 2 * size}),
                                  ("seed +1", {"run__seed": base.manifest["seed"] + 1})]:
            table = pairs(base, run(**overrides))
            found.append(table.assign(corpus=name, change=change))
    table = pd.concat(found, ignore_index=True)
    rows = []
    for threshold in THRESHOLDS:
        accept = table["cosine"] >= threshold
        rows.append({"threshold": threshold, "agreement": float((accept == table["same"]).mean()),
                     "same rejected": int((~accept & table["same"]).sum()),
                     "different accepted": int((accept & ~table["same"]).sum())})
    print(f"{len(table)} Hungarian pairs, {int(table['same'].sum())} of them the same framing by their units")
    print(table.groupby(["corpus", "change"]).agg(pairs=("same", "size"), same=("same", "sum"),
                                                  cos_same=("cosine", lambda c: c[table.loc[c.index, "same"]].min()),
                                                  cos_other=("cosine", lambda c: c[~table.loc[c.index, "same"]].max()))
          .to_string(float_format=lambda v: f"{v:.3f}"))
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
