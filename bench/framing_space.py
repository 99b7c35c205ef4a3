"""Does a "framing space" help? Units minus their topic cluster's centroid, clustered again.

Sentence embeddings group by event first, so the idea is to remove what a unit shares with its topic cluster and
cluster the rest, hoping that one way of telling (e.g. "liberation from terrorists") then recurs across events.
This script measures it on the bundled example (groups: leaning, known by construction) and on the aleppo pages
(groups as in configs/aleppo-2016.yaml), for clusters before and after:
- AMI: adjusted mutual information between cluster and group of the clustered units (higher: clusters follow
  the sides);
- one-sided: clusters whose largest group holds at least 60% of their units;
- topics per cluster: mean number of distinct original (topic) clusters among a cluster's units (above 1: the
  cluster recurs across events).

    python bench/framing_space.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import framing  # noqa: E402
from framing.embed.cache import EmbeddingCache, embed_texts, make_embedder, vector_key  # noqa: E402
from framing.framings.model import FramingModel  # noqa: E402


def measure(name: str, labels: np.ndarray, groups: np.ndarray, topics: np.ndarray) -> str:
    from sklearn.metrics import adjusted_mutual_info_score

    assigned = labels >= 0
    ami = adjusted_mutual_info_score(groups[assigned], labels[assigned]) if assigned.any() else float("nan")
    clusters = sorted(set(labels[assigned].tolist()))
    one_sided = sum(1 for c in clusters if np.unique(groups[labels == c], return_counts=True)[1].max()
                    / (labels == c).sum() >= 0.6)
    spread = np.mean([len(set(topics[(labels == c) & (topics >= 0)].tolist())) for c in clusters]) if clusters else 0
    return (f"  {name:<8} clusters {len(clusters):>3}  assigned {assigned.mean():5.1%}  AMI with groups {ami:6.3f}  "
            f"one-sided {one_sided:>3}  topics per cluster {spread:4.2f}")


def run(title: str, corpus, config, group_of) -> None:
    result = framing.analyze(corpus, config, progress=False, contrast__enabled=False)
    units = result.units[result.units["duplicate_of"] == ""].reset_index(drop=True)
    embedder = make_embedder(config.embedding.model)
    cache = EmbeddingCache(config.embedding.cache_dir, vector_key(embedder))
    X, _ = embed_texts(list(units["text"]), embedder, cache)
    cache.close()
    topics = units["framing"].to_numpy()
    groups = np.array([group_of(row) for row in units.itertuples()])
    known = groups != None  # noqa: E711
    centroids = np.stack([X[topics == t].mean(axis=0) for t in sorted(set(topics) - {-1})])
    nearest = np.where(topics >= 0, topics, (X @ centroids.T).argmax(axis=1))
    residual = X - centroids[nearest]
    residual /= np.maximum(np.linalg.norm(residual, axis=1, keepdims=True), 1e-12)
    c = config.cluster
    model = FramingModel(n_components=config.reduce.n_components, n_neighbors=config.reduce.n_neighbors,
                         min_dist=config.reduce.min_dist, metric=config.reduce.metric,
                         min_cluster_size=c.min_cluster_size, min_samples=c.min_samples,
                         selection_method=c.selection_method, random_state=config.run.seed).fit(residual)
    print(f"== {title}: {len(units)} distinct units")
    print(measure("before", topics[known], groups[known], topics[known]))
    print(measure("after", model.labels_[known], groups[known], topics[known]))


def main() -> None:
    example = framing.load_config(ROOT / "configs" / "example.yaml")
    run("example corpus, groups = leaning", None, example, lambda row: row.leaning)
    aleppo = ROOT.parent / "shared" / "corpora" / "aleppo-2016"
    if aleppo.is_dir():
        config = framing.load_config(ROOT / "configs" / "aleppo-2016.yaml", [f"corpus.path={aleppo}"])
        of_source = {s: g for g, members in config.contrast.groups.items() for s in members}
        run("aleppo-2016, groups as in its config", None, config, lambda row: of_source.get(row.source))


if __name__ == "__main__":
    main()
