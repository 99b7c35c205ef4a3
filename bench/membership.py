"""Core members against attached ones: how often a unit's hand-coded frame is its framing's majority frame.

HDBSCAN leaves many units as outliers; ``cluster.reassign_threshold`` attaches those within a cosine of a
framing's centre. For each hand-coded set (bench/labelled_sets.py: the example's and aleppo's frames), the
corpus is run with its config, each labelled unit is core (HDBSCAN put it in its framing), attached (an outlier
given to the framing afterwards) or unassigned, and each framing's majority coded frame is taken over its labelled
*core* members. Reported: the share of core units whose frame is their framing's majority (each core unit left
out of its own majority, so it cannot vote for itself), the share of attached units whose frame is their
framing's (core) majority, and two baselines: the share of all labelled units whose frame is the corpus-wide
majority frame, and the same statistic as "attached" for attached units dealt to framings at random (in
proportion to the framings' sizes, 200 draws, the mean).

    python bench/membership.py [--cache-dir ~/.cache/framing]
"""
from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import pandas as pd

import framing
from framing.frames.labels import match_labels, read_labels

from labelled_sets import SETS  # noqa: E402 (bench/ is on the path when a script runs)


def majority_agreement(frame: np.ndarray, framing_of: np.ndarray, core: np.ndarray, rows: np.ndarray,
                       leave_out_self: bool) -> tuple[float, int]:
    """Share of ``rows`` whose frame is the majority frame of their framing's labelled core members."""
    hits, counted = 0, 0
    for row in rows:
        members = np.flatnonzero(core & (framing_of == framing_of[row]))
        if leave_out_self:
            members = members[members != row]
        if not members.size:
            continue
        majority = Counter(frame[members]).most_common(1)[0][0]
        hits += int(frame[row] == majority)
        counted += 1
    return (hits / counted if counted else float("nan")), counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()
    rows = []
    rng = np.random.default_rng(0)
    for name, config, corpus, labels in SETS:
        if corpus is not None and not corpus.is_dir():
            continue
        result = framing.analyze(None, config, progress=False, corpus__path=str(corpus) if corpus else None,
                                 embedding__cache_dir=args.cache_dir, contrast__enabled=False)
        units = result.units.reset_index(drop=True)
        gold = match_labels(units, read_labels(labels)).labels
        labelled = np.array([g is not None for g in gold])
        frame = np.array([g if g is not None else "" for g in gold], dtype=object)
        framing_of = units["framing"].to_numpy()
        attached = units["reassigned"].to_numpy(dtype=bool) & (framing_of >= 0)
        core = labelled & (framing_of >= 0) & ~attached
        core_share, n_core = majority_agreement(frame, framing_of, core, np.flatnonzero(core), True)
        attached_rows = np.flatnonzero(labelled & attached)
        attached_share, n_attached = majority_agreement(frame, framing_of, core, attached_rows, False)
        sizes = pd.Series(framing_of[framing_of >= 0]).value_counts()
        random_shares = []
        for _ in range(args.draws):
            dealt = framing_of.copy()
            dealt[attached_rows] = rng.choice(sizes.index.to_numpy(), size=attached_rows.size,
                                              p=(sizes / sizes.sum()).to_numpy())
            random_shares.append(majority_agreement(frame, dealt, core, attached_rows, False)[0])
        corpus_majority = Counter(frame[labelled]).most_common(1)[0]
        rows.append({"set": f"{name} / {labels.stem.split('-', 1)[-1] if name == 'example' else labels.stem[12:]}",
                     "labelled": int(labelled.sum()), "core": n_core, "attached": n_attached,
                     "unassigned": int((labelled & (framing_of < 0)).sum()),
                     "core: frame = majority": core_share, "attached: frame = majority": attached_share,
                     "attached dealt at random": float(np.nanmean(random_shares)),
                     "corpus majority frame": corpus_majority[1] / labelled.sum()})
    with pd.option_context("display.width", 220, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
