"""Events and the within-event contrast, measured against what was built in and what was labelled by hand.

1. **Event recovery** (AMI with the true events, by documents) over ``events.threshold`` and ``events.window_days``
   on two corpora: the written event corpus (bench/make_event_corpus.py: ten events, built in) and the bundled
   example (18 documents, events labelled by hand in bench/labels/example-events.csv from titles and dates).
2. **The within-event test where framing truly differs and where only agenda differs**: the event corpus as
   written (left and right outlets tell shared events differently), and ``--shuffle`` versions (the frame mix of
   each shared-event article drawn at random, whatever its outlet: framing does not depend on the group within
   events, but the groups still cover different events), each beside the corpus-wide test.
3. **Agenda against framing**: the split of the left-right difference computed on the run's framings, beside
   the same split computed on the sentences' true labels and true events (what was built in: each framed
   sentence's frame, and each fact sentence labelled by its event, since facts are an event's own content).
4. **cluster.within_events**: AMI between framings and the true frames (event corpus) or the coded frames
   (example), with and without subtracting each event's centre before clustering; chance: a random partition of
   the same sizes.

    python bench/events.py [--shuffles 10] [--only recovery|within|clustering] [--cache-dir ~/.cache/framing]
"""
from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score

import framing
from framing.contrast.within_events import kitagawa
from framing.frames.labels import match_labels, read_labels

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_EVENTS = ROOT / "bench" / "labels" / "example-events.csv"
EXAMPLE_FRAMES = ROOT / "framing" / "data" / "labels" / "example-conflict.csv"
QUIET = dict(progress=False, hierarchy__enabled=False, stability__runs=0, time__enabled=False)
EVENT_CONTRAST = dict(contrast__group_by="group", contrast__groups=None, contrast__pairs=None, contrast__axes=[])


def make_corpus(folder: Path, shuffle: bool, seed: int) -> Path:
    command = [sys.executable, str(ROOT / "bench" / "make_event_corpus.py"), str(folder), "--seed", str(seed)]
    subprocess.run(command + (["--shuffle"] if shuffle else []), check=True, capture_output=True)
    return folder


def true_events(result: framing.Result, corpus: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(found, true) event per document."""
    docs = result.documents
    if corpus is None:
        labels = pd.read_csv(EXAMPLE_EVENTS).set_index("doc_id")["event"]
    else:
        labels = pd.Series({k: v["event"] for k, v in json.loads((corpus / "truth.json").read_text()).items()})
    return docs["event"].to_numpy(), labels.loc[docs["doc_id"]].to_numpy()


def recovery(args, corpus: Path) -> None:
    print("\n## Event recovery: AMI with the true events (documents)")
    print("| events.window_days | threshold | event corpus: events (AMI) | example: events (AMI) | aleppo: events |")
    print("|---|---|---|---|---|")
    aleppo = ROOT.parent / "shared" / "corpora" / "aleppo-2016"
    for window in (None, 3.0, 7.0, 10.0, 14.0):
        for threshold in (0.4, 0.5, 0.6, 0.7, 0.8):
            cells = []
            for path, config in ((corpus, None), (None, ROOT / "configs" / "example.yaml")):
                result = framing.analyze(str(path) if path else None, config, **QUIET, contrast__enabled=False,
                                         embedding__cache_dir=args.cache_dir, events__threshold=threshold,
                                         events__window_days=window)
                found, true = true_events(result, path)
                cells.append(f"{len(set(found))} ({adjusted_mutual_info_score(true, found):.3f})")
            seed_pages = "-"
            if aleppo.is_dir():
                seed_pages = framing.analyze(None, ROOT / "configs" / "aleppo-2016.yaml", **QUIET,
                                             contrast__enabled=False, corpus__path=str(aleppo),
                                             embedding__cache_dir=args.cache_dir, events__threshold=threshold,
                                             events__window_days=window).manifest["events"]["events"]
            print(f"| {window if window is not None else 'none (no dates)'} | {threshold} | {cells[0]} | {cells[1]} | "
                  f"{seed_pages} |")


def truth_split(corpus: Path) -> dict[str, float]:
    """The left-right difference split on the sentences' true frames and true events (what was built in)."""
    truth = json.loads((corpus / "truth.json").read_text())
    # a fact sentence is its event's own content (what a framing of facts would hold): one label per event
    label = lambda f, e: f"fact {e}" if f == "fact" else f  # noqa: E731
    frames = sorted({label(f, v["event"]) for v in truth.values() for f in v["frames"]})
    counts = {g: np.zeros((10, len(frames))) for g in ("left", "right")}
    for item in truth.values():
        for f in item["frames"]:
            counts[item["group"]][item["event"], frames.index(label(f, item["event"]))] += 1
    total, agenda, framing_part = kitagawa(counts["left"], counts["right"])
    return {"total": 0.5 * np.abs(total).sum(), "agenda": 0.5 * np.abs(agenda).sum(),
            "framing": 0.5 * np.abs(framing_part).sum()}


def within_tests(args, corpus: Path) -> None:
    print("\n## The within-event test and the agenda/framing split, left against right")
    print("| corpus | corpus-wide test p | within-event test p | found split: all / agenda / framing | "
          "built in (true frames): all / agenda / framing |")
    print("|---|---|---|---|---|")
    rows = [("as written (framing differs within events)", corpus)]
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, args.shuffles + 1):
            rows.append((f"shuffled within events, draw {seed}", make_corpus(Path(tmp) / f"s{seed}", True, seed)))
        within_null = []
        for name, path in rows:
            result = framing.analyze(str(path), None, **QUIET, **EVENT_CONTRAST, embedding__cache_dir=args.cache_dir)
            contrast = result.contrast_data
            within = contrast.within_events
            split = within["agenda_framing"][0]
            built = truth_split(path)
            if "shuffled" in name:
                within_null.append(within["test"]["p_value"])
            print(f"| {name} | {contrast.test['p_value']:.3f} | {within['test']['p_value']:.3f} | "
                  f"{split['total']['value']:.3f} / {split['agenda']['value']:.3f} "
                  f"[{split['agenda']['low']:.3f}-{split['agenda']['high']:.3f}] / {split['framing']['value']:.3f} "
                  f"[{split['framing']['low']:.3f}-{split['framing']['high']:.3f}] | {built['total']:.3f} / "
                  f"{built['agenda']:.3f} / {built['framing']:.3f} |")
    if within_null:
        null = np.array(within_null)
        print(f"\nShuffled draws: within-event p below 0.05 in {int((null < 0.05).sum())} of {null.size}; "
              f"median p {np.median(null):.3f}")


def within_events_clustering(args, corpus: Path) -> None:
    print("\n## cluster.within_events: AMI of framings with the true (or coded) frames, labelled units")
    print("| corpus | cluster.within_events | framings | AMI | random partition of the same sizes |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    cases = [("event corpus", str(corpus), None, corpus / "labels.csv"),
             ("example", None, ROOT / "configs" / "example.yaml", EXAMPLE_FRAMES)]
    for name, path, config, labels in cases:
        for within in (False, True):
            result = framing.analyze(path, config, **QUIET, contrast__enabled=False, events__enabled=True,
                                     cluster__within_events=within, embedding__cache_dir=args.cache_dir)
            units = result.units.reset_index(drop=True)
            gold = match_labels(units, read_labels(labels)).labels
            rows = [k for k, g in enumerate(gold) if g is not None and g != "fact"]
            found = units["framing"].to_numpy()[rows]
            coded = [gold[k] for k in rows]
            chance = np.mean([adjusted_mutual_info_score(coded, rng.permutation(found)) for _ in range(20)])
            print(f"| {name} | {within} | {len(result.framings)} | {adjusted_mutual_info_score(coded, found):.3f} | "
                  f"{chance:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    parser.add_argument("--shuffles", type=int, default=10)
    parser.add_argument("--only", choices=("recovery", "within", "clustering"), help="one part of the three")
    args = parser.parse_args()
    logging.getLogger("framing").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = make_corpus(Path(tmp) / "events", False, 0)
        for name, part in (("recovery", recovery), ("within", within_tests),
                           ("clustering", within_events_clustering)):
            if args.only in (None, name):
                part(args, corpus)


if __name__ == "__main__":
    main()
