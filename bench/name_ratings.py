"""Names a person would write? Blind ratings of the old names (key phrases) against the new (phrases), and checks
that can fail without a rater.

Each corpus (the example, and the aleppo pages when they are beside the checkout) is run once per naming
(``describe.naming`` keyphrases, then phrases; UMAP and HDBSCAN come out the same, so only the names differ).
Every name of a framing or a parent of the hierarchy goes into one sheet, shuffled with a fixed seed, with
nothing that says which naming made it (both are shown in lower case, parts joined by " · ").

    python bench/name_ratings.py sheet /tmp/name-sheet.csv        # item, name: rate each 1-3 in a column "rating"
    python bench/name_ratings.py score bench/labels/name-ratings.csv

Rating: 1 = cannot tell what it is about; 2 = can tell the topic, but would not write it; 3 = could write it in a
paper. ``score`` joins the ratings to the key (made again from the same runs) and prints each naming's mean
rating, its share of 1s and 3s, and the checks: names with a word repeated across their parts, parents that
share a word-set with a child (a child's name reordered, or contained), two framings with the same name, and
top-1 (the share of names whose own framing's centre is the nearest to the name's embedding; chance 1/framings).
The ratings file holds item ids, a short hash of the rated name (``score`` refuses ratings of names that have
changed since) and ratings: no name's text (the aleppo pages are third-party text).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

import numpy as np

import framing
from framing.embed.cache import make_embedder

ROOT = Path(__file__).resolve().parents[1]
ALEPPO = ROOT.parent / "shared" / "corpora" / "aleppo-2016"
SETS = [("example", ROOT / "configs" / "example.yaml", None),
        ("aleppo", ROOT / "configs" / "aleppo-2016.yaml", ALEPPO)]
NAMINGS = ("keyphrases", "phrases")
SEED = 7


def runs(cache_dir: str) -> dict[tuple[str, str], framing.Result]:
    out = {}
    for corpus, config, path in SETS:
        if path is not None and not path.is_dir():
            continue
        for naming in NAMINGS:
            out[corpus, naming] = framing.analyze(str(path) if path else None, str(config), progress=False,
                                                  describe__naming=naming, embedding__cache_dir=cache_dir)
    return out


def named(result: framing.Result) -> list[tuple[str, str, list[str]]]:
    """(kind:id, name, parts) of every framing and parent."""
    rows = [(f"framing {f.id}", f.label, f.phrases) for f in result.framings]
    if result.hierarchy_data is not None:
        rows += [(f"parent {p.id}", p.label, p.phrases) for p in result.hierarchy_data.parents]
    return rows


def key(results) -> list[dict[str, str]]:
    """The sheet's rows with their naming, shuffled with the fixed seed: item ids are positions in that order."""
    rows = [{"corpus": corpus, "naming": naming, "what": what, "name": name.lower()}
            for (corpus, naming), result in results.items() for what, name, _ in named(result)]
    order = np.random.default_rng(SEED).permutation(len(rows))
    return [dict(rows[k], item=str(i)) for i, k in enumerate(order)]


def check_of(name: str) -> str:
    """A short hash of a name: the ratings file says which name each rating was given to, without its text."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def words(part: str) -> set[str]:
    return {w for w in part.lower().replace("·", " ").split() if len(w) > 2}


def checks(result: framing.Result, encode) -> dict[str, float]:
    names = named(result)
    repeated = np.mean([len(parts) > 1 and sum(len(words(p)) for p in parts) > len(set().union(*map(words, parts)))
                        for _, _, parts in names])
    labels = [f.label for f in result.framings]
    duplicate = len(labels) - len(set(labels))
    parent_like_child = []
    if result.hierarchy_data is not None:
        label_of = {f.id: f.label for f in result.framings} | {p.id: p.label for p in result.hierarchy_data.parents}
        for parent in result.hierarchy_data.parents:
            mine = words(parent.label)
            parent_like_child.append(any(words(label_of[c]) <= mine or mine <= words(label_of[c])
                                         for c in parent.children))
    vectors = encode(labels)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    centres = np.asarray(result.framing_centroids, dtype=np.float32)  # a row per framing, in their order
    similarity = vectors @ (centres / np.linalg.norm(centres, axis=1, keepdims=True)).T
    top1 = float((similarity.argmax(axis=1) == np.arange(len(labels))).mean())
    return {"names": len(names), "repeated": float(repeated), "parent_like_child": float(np.mean(parent_like_child))
            if parent_like_child else float("nan"), "duplicate": duplicate, "top1": top1, "chance": 1 / len(labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("sheet", "score"))
    parser.add_argument("path")
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    args = parser.parse_args()
    results = runs(args.cache_dir)
    rows = key(results)
    if args.mode == "sheet":
        with open(args.path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["item", "check", "name", "rating"])
            writer.writerows([r["item"], check_of(r["name"]), r["name"], ""] for r in rows)
        print(f"{len(rows)} names to rate in {args.path}")
        return
    with open(args.path, encoding="utf-8") as handle:
        rated = [r for r in csv.DictReader(handle) if r["rating"].strip()]
    ratings = {r["item"]: int(r["rating"]) for r in rated}
    changed = [r["item"] for r in rated if r.get("check") and r["item"] in {x["item"] for x in rows}
               and r["check"] != check_of(next(x["name"] for x in rows if x["item"] == r["item"]))]
    if changed:
        sys.exit(f"{len(changed)} names differ from those rated (e.g. items {changed[:5]}): rate a new sheet")
    missing = [r["item"] for r in rows if r["item"] not in ratings]
    if missing:
        sys.exit(f"{len(missing)} items have no rating (e.g. {missing[:5]}): was the sheet made from these runs?")
    model = next(iter(results.values())).manifest["model"]
    embedder = make_embedder(model["name"], backend=model["backend"], progress=False)
    print("| corpus | naming | names | mean rating | rated 1 | rated 3 | word repeated in a name | parent like a child "
          "| framings named alike | top-1 (chance) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (corpus, naming), result in results.items():
        mine = [ratings[r["item"]] for r in rows if r["corpus"] == corpus and r["naming"] == naming]
        c = checks(result, embedder.encode)
        print(f"| {corpus} | {naming} | {c['names']} | {np.mean(mine):.2f} | {np.mean(np.equal(mine, 1)):.0%} | "
              f"{np.mean(np.equal(mine, 3)):.0%} | {c['repeated']:.0%} | {c['parent_like_child']:.0%} | "
              f"{c['duplicate']} | {c['top1']:.2f} ({c['chance']:.2f}) |")


if __name__ == "__main__":
    main()
