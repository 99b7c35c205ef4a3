"""framing vs BERTopic, side by side: same corpus, same model, same embeddings; fit + document map, as a ratio.

The corpus is bench/make_corpus.py's N distinct sentences, cut into units and de-duplicated by framing; the
units' texts are embedded once with the packaged all-MiniLM-L6-v2 (torch) and both tools get those vectors, so
the comparison is of everything after embedding.

- framing: ``FramingModel(min_cluster_size=25, selection_method="leaf").fit`` (kNN graph, 5-d space and 2-d map)
  plus ``describe_framings`` (terms, exemplars, labels), as ``framing run`` does it (reduction cache off).
- BERTopic: ``fit_transform(docs, embeddings)`` with the same UMAP settings (n_neighbors 15, 5-d, min_dist 0,
  cosine, random_state 42) and HDBSCAN (min_cluster_size 25, leaf), then ``visualize_documents(docs,
  embeddings=...)``, its document map (BERTopic's own 2-d UMAP, unseeded, so numba may use both cores).

Each side runs in a fresh process (numba compilation counted as a user meets it; framing's numba disk cache is
warm after the first run), --runs times; the script prints medians and framing's time as a share of BERTopic's.

    pip install -e '.[bench]'
    python bench/bertopic_compare.py [--units 10000] [--runs 3] [--cache-dir ~/.cache/framing]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FRAMING = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
start = time.perf_counter()
import numpy as np
from framing.framings.describe import describe_framings
from framing.framings.model import FramingModel
X = np.load(sys.argv[1], mmap_mode="r")
texts = json.load(open(sys.argv[2]))
model = FramingModel(min_cluster_size=25, selection_method="leaf").fit(X)
framings = describe_framings(texts, [str(i) for i in range(len(texts))], ["s"] * len(texts), model.labels_, X,
                             model.centroids_)
print(json.dumps({"seconds": time.perf_counter() - start, "clusters": model.n_framings_,
                  "unassigned": float((model.labels_ == -1).mean()),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BERTOPIC = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
start = time.perf_counter()
import numpy as np
from bertopic import BERTopic
from hdbscan import HDBSCAN
from umap import UMAP
X = np.load(sys.argv[1])
texts = json.load(open(sys.argv[2]))
topic_model = BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                                       random_state=42),
                       hdbscan_model=HDBSCAN(min_cluster_size=25, cluster_selection_method="leaf",
                                             prediction_data=True))
topics, _ = topic_model.fit_transform(texts, X)
figure = topic_model.visualize_documents(texts, embeddings=X)
topics = np.asarray(topics)
print(json.dumps({"seconds": time.perf_counter() - start, "clusters": int(len(set(topics.tolist()) - {-1})),
                  "unassigned": float((topics == -1).mean()),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def prepare(n: int, folder: Path, cache_dir: str) -> tuple[Path, Path]:
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    import framing
    from framing.units.duplicates import find_duplicates
    from framing.embed.cache import EmbeddingCache, embed_texts, make_embedder, vector_key
    from framing.units.segment import segment
    from make_corpus import write_corpus

    corpus = framing.load_corpus(write_corpus(n, folder / "corpus"))
    units = segment(corpus.documents)
    groups = find_duplicates([u.text for u in units])
    texts = [units[i].text for i in groups.representative]
    embedder = make_embedder(progress=False)
    cache = EmbeddingCache(cache_dir, vector_key(embedder))  # vectors are reused across runs
    vectors, _ = embed_texts(texts, embedder, cache)
    np.save(folder / "embeddings.npy", np.asarray(vectors))
    (folder / "texts.json").write_text(json.dumps(texts))
    return folder / "embeddings.npy", folder / "texts.json"


def run(script: str, embeddings: Path, texts: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", script, str(embeddings), str(texts)], capture_output=True,
                          text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir", default="~/.cache/framing", help="embedding cache (the vectors are shared)")
    args = parser.parse_args()
    import bertopic

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; BERTopic {bertopic.__version__}; "
          f"medians of {args.runs} fresh processes per side")
    with tempfile.TemporaryDirectory() as folder:
        embeddings, texts = prepare(args.units, Path(folder), args.cache_dir)
        n = len(json.loads(texts.read_text()))
        sides = {"framing": [], "BERTopic": []}
        for _ in range(args.runs):  # alternate, so drift on the machine hits both sides alike
            sides["framing"].append(run(FRAMING, embeddings, texts))
            sides["BERTopic"].append(run(BERTOPIC, embeddings, texts))
    medians = {}
    for name, runs in sides.items():
        medians[name] = statistics.median(r["seconds"] for r in runs)
        each = ", ".join(f"{r['seconds']:.1f}" for r in runs)
        print(f"{name:<9} {n} units  fit + document map {medians[name]:6.1f} s  "
              f"(runs: {each})  clusters {runs[0]['clusters']}  "
              f"unassigned {100 * runs[0]['unassigned']:.0f}%  peak {statistics.median(r['peak_mb'] for r in runs):.0f} MB")
    print(f"framing / BERTopic: {medians['framing'] / medians['BERTopic']:.2f}")


if __name__ == "__main__":
    main()
