"""Names: does a framing's label point at that framing? Term triplets against MMR key phrases.

For each corpus (the example, and the aleppo pages when they are beside the checkout) the run is made with each
naming (``describe.naming`` terms, and keyphrases at several ``describe.diversity`` values; UMAP comes from the
cache, so the framings are the same in every row). Each label is embedded with the run's model and compared with
every framing's centre: **top-1** is the share of framings whose own centre is the nearest to their label (chance:
1 / framings), **MRR** the mean reciprocal rank of the own centre. **Overlap** is the share of label words that
another framing's label also uses (a label that could be anyone's scores high). Caveat: MMR picks phrases by their
cosine to the centre, with the same model, so top-1 favours it by construction; overlap does not.

    python bench/names.py
"""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

import framing
from framing.embed.cache import make_embedder

ROOT = Path(__file__).resolve().parents[1]
ALEPPO = ROOT.parent / "shared" / "corpora" / "aleppo-2016"
SETS = [("example", ROOT / "configs" / "example.yaml", None), ("aleppo-2016", ROOT / "configs" / "aleppo-2016.yaml", ALEPPO)]
NAMINGS = [("terms", None), ("keyphrases", 0.0), ("keyphrases", 0.3), ("keyphrases", 0.5), ("keyphrases", 0.7)]


def scores(result, encode) -> dict[str, float]:
    labels = [f.label for f in result.framings]
    vectors = encode(labels)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    centres = result.framing_centroids / np.linalg.norm(result.framing_centroids, axis=1, keepdims=True)
    similarity = vectors @ centres.T
    own = np.diag(similarity)
    rank = 1 + (similarity > own[:, None]).sum(axis=1)
    words = [set(label.replace("·", " ").replace("/", " ").split()) for label in labels]
    used = Counter(w for ws in words for w in ws)
    shared = sum(sum(used[w] > 1 for w in ws) for ws in words) / max(sum(len(ws) for ws in words), 1)
    return {"framings": len(labels), "top1": float((rank == 1).mean()), "mrr": float((1 / rank).mean()),
            "chance": 1 / len(labels), "overlap": shared}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default="~/.cache/framing")
    args = parser.parse_args()
    rows, shown = [], []
    for name, config, corpus in SETS:
        if corpus is not None and not corpus.is_dir():
            continue
        for naming, diversity in NAMINGS:
            overrides = {"describe__naming": naming, "embedding__cache_dir": args.cache_dir}
            if diversity is not None:
                overrides["describe__diversity"] = diversity
            result = framing.analyze(str(corpus) if corpus else None, str(config), progress=False, **overrides)
            model = result.manifest["model"]
            embedder = make_embedder(model["name"], backend=model["backend"], progress=False)
            rows.append({"corpus": name, "naming": naming if diversity is None else f"keyphrases {diversity}",
                         **scores(result, lambda texts: np.asarray(embedder.encode(texts)))})
            shown += [(name, rows[-1]["naming"], f.id, f.label) for f in result.framings[:4]]
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print()
    print(pd.DataFrame(shown, columns=["corpus", "naming", "id", "label"]).to_string(index=False))


if __name__ == "__main__":
    main()
