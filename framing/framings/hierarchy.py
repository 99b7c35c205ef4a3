"""The framing hierarchy: which small framings are variants of one broader telling.

A tree over the framings (its leaves), built one of two ways:

- ``centroids``: agglomerative merging of the framings' centres (average linkage on cosine distance, scipy), a
  binary tree;
- ``condensed``: HDBSCAN's own condensed tree, the clusters the framings split from as density rises, with
  parents that hold the same framings as their only child collapsed into it.

Every parent holds exactly the framings below it. A *level* is a cut of the tree: level 0 is the framings;
level ``L`` gives each framing its highest ancestor of height at most ``L`` (a parent's height is one more than
its tallest child's), so levels nest and the top level before the root is the broadest split. Parents get ids
after the largest framing id, so one id names one node of the tree.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .describe import Framing
from .terms import class_tfidf_from_counts

__all__ = ["Parent", "Hierarchy", "build_hierarchy", "describe_parents", "level_labels", "level_of"]


@dataclass
class Parent:
    """A node above the framings: its children (framing or parent ids), every framing below it (``leaves``),
    its height, and its description (filled in by the pipeline)."""

    id: int
    children: list[int]
    leaves: list[int]
    height: int
    size: int = 0
    label: str = ""
    terms: list[str] = field(default_factory=list)
    exemplars: list[str] = field(default_factory=list)
    sources: dict[str, float] = field(default_factory=dict)
    phrases: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Hierarchy:
    """The tree: ``parents`` (the root last), ``parent_of`` for every framing and parent but the root, and
    ``levels`` (``levels[L - 1]`` maps each framing id to its group at level ``L``; level 0 is the framings)."""

    method: str
    parents: list[Parent]
    parent_of: dict[int, int]
    levels: list[dict[int, int]]

    @property
    def root(self) -> Parent | None:
        return self.parents[-1] if self.parents else None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "parents": [p.to_dict() for p in self.parents],
                "parent_of": {str(k): v for k, v in self.parent_of.items()},
                "levels": [{str(k): v for k, v in level.items()} for level in self.levels]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Hierarchy":
        return cls(method=data["method"], parents=[Parent(**p) for p in data["parents"]],
                   parent_of={int(k): int(v) for k, v in data["parent_of"].items()},
                   levels=[{int(k): int(v) for k, v in level.items()} for level in data["levels"]])


def _centroid_tree(leaf_ids: Sequence[int], centroids: np.ndarray) -> dict[Any, list[Any]]:
    """Children of each internal node of average-linkage merging on cosine distance (nodes: ("n", k))."""
    from scipy.cluster.hierarchy import linkage

    if len(leaf_ids) < 2:
        return {}
    merges = linkage(np.asarray(centroids, dtype=np.float64), method="average", metric="cosine")
    n = len(leaf_ids)
    key = lambda k: ("f", int(leaf_ids[int(k)])) if k < n else ("n", int(k))  # noqa: E731
    return {("n", n + i): [key(a), key(b)] for i, (a, b) in enumerate(merges[:, :2].astype(int))}


def _condensed_tree(leaf_ids: Sequence[int], leaf_nodes: Sequence[int], parent_of_node: Mapping[int, int]
                    ) -> dict[Any, list[Any]]:
    """Children of each condensed-tree node above the framings (nodes: ("n", node))."""
    children: dict[Any, list[Any]] = {}
    for framing_id, node in zip(leaf_ids, leaf_nodes):
        child: Any = ("f", int(framing_id))
        current = int(node)
        while current in parent_of_node:  # up to the root, which has no parent
            parent = ("n", parent_of_node[current])
            if child not in children.setdefault(parent, []):
                children[parent].append(child)
            child, current = parent, parent_of_node[current]
    # the framing's own node is replaced by the framing: its node's parent takes the framing as a child
    return children


def build_hierarchy(leaf_ids: Sequence[int], centroids: np.ndarray, sizes: Sequence[int], method: str,
                    condensed: tuple[Sequence[int], Mapping[int, int]] | None = None) -> Hierarchy:
    """The tree over framings ``leaf_ids`` (with their centres and sizes).

    ``condensed``: the condensed-tree node of each framing and the tree's parent links
    (``FramingModel.tree_nodes_`` and ``tree_parents_``), for ``method="condensed"``.
    """
    leaf_ids = [int(f) for f in leaf_ids]
    size_of = dict(zip(leaf_ids, (int(s) for s in sizes)))
    if method == "condensed":
        if condensed is None:
            raise ValueError("the condensed tree is not known for this run")
        children = _condensed_tree(leaf_ids, condensed[0], condensed[1])
    else:
        children = _centroid_tree(leaf_ids, centroids)
    leaves: dict[Any, list[int]] = {("f", f): [f] for f in leaf_ids}

    def collect(node: Any) -> list[int]:
        if node not in leaves:
            leaves[node] = sorted({f for child in children.get(node, []) for f in collect(child)})
        return leaves[node]

    for node in list(children):
        collect(node)
    # A node with one child is that child (HDBSCAN's chains of a cluster shedding points): it says nothing more.
    for node in [n for n, kids in children.items() if len(kids) == 1]:
        only = children.pop(node)[0]
        for kids in children.values():
            kids[:] = [only if k == node else k for k in kids]
    is_child = {k for kids in children.values() for k in kids}
    roots = [n for n in children if n not in is_child]
    if len(roots) > 1 or (not roots and len(leaf_ids) > 1):  # framings outside any node hang from one root
        top = ("n", "root")
        children[top] = roots + [("f", f) for f in leaf_ids if ("f", f) not in is_child]
        leaves[top] = sorted(leaf_ids)
        roots = [top]
    heights: dict[Any, int] = {("f", f): 0 for f in leaf_ids}

    def height(node: Any) -> int:
        if node not in heights:
            heights[node] = 1 + max(height(child) for child in children[node])
        return heights[node]

    # parent ids after the largest framing id, numbered from the root down, larger children first
    order: list[Any] = []
    queue = list(roots)
    while queue:
        node = queue.pop(0)
        order.append(node)
        kids = sorted(children[node], key=lambda k: (-sum(size_of[f] for f in leaves[k]), leaves[k][0]))
        children[node] = kids
        queue += [k for k in kids if k[0] == "n"]
    first = max(leaf_ids, default=-1) + 1
    id_of = {("f", f): f for f in leaf_ids}
    id_of.update({node: first + k for k, node in enumerate(order)})
    parents = [Parent(id=id_of[node], children=[id_of[k] for k in children[node]], leaves=list(leaves[node]),
                      height=height(node), size=sum(size_of[f] for f in leaves[node])) for node in order]
    parents = parents[1:] + parents[:1]  # the root last
    parent_of = {id_of[k]: id_of[node] for node in order for k in children[node]}
    top = max((p.height for p in parents), default=0)
    height_of = {p.id: p.height for p in parents}
    levels = [level_of(leaf_ids, parent_of, height_of, level) for level in range(1, top)]
    return Hierarchy(method=method, parents=parents, parent_of=parent_of, levels=levels)


def level_of(leaf_ids: Sequence[int], parent_of: Mapping[int, int], height_of: Mapping[int, int],
             level: int) -> dict[int, int]:
    """Each framing's highest ancestor of height at most ``level`` (itself when its parent is taller). Heights
    rise strictly along the way up, so the walk stops at the first ancestor that is too tall."""
    out = {}
    for framing_id in leaf_ids:
        node = framing_id
        while node in parent_of and height_of[parent_of[node]] <= level:
            node = parent_of[node]
        out[framing_id] = node
    return out


def level_labels(labels: np.ndarray, hierarchy: Hierarchy, level: int) -> np.ndarray:
    """Unit labels at ``level`` (0: the framings themselves); unassigned stays -1."""
    labels = np.asarray(labels)
    if level <= 0 or not hierarchy.levels:
        return labels
    mapping = hierarchy.levels[min(level, len(hierarchy.levels)) - 1]
    lookup = np.arange(max(max(mapping, default=0), int(labels.max(initial=0))) + 2)
    lookup[list(mapping)] = list(mapping.values())
    lookup = lookup.astype(np.int64)
    out = lookup[np.maximum(labels, 0)]
    return np.where(labels < 0, labels, out)


def describe_parents(tree: Hierarchy, framings: Sequence[Framing], centroids: np.ndarray, term_counts: tuple,
                     embeddings: np.ndarray, exemplar_rows: Mapping[str, int], n_terms: int, n_exemplars: int
                     ) -> tuple[dict[int, list[tuple[str, float]]], np.ndarray]:
    """Describe each parent as a framing is: size and source shares (from its framings), exemplars (its framings'
    exemplars nearest its centre, the size-weighted mean of theirs) — set on the parents — and its distinctive
    terms, returned with the centres (``centres[parent id]``) for naming.

    ``term_counts``: the framings' ``class_term_counts``; a parent's counts are its framings' summed, scored with
    the framings' term weights, so no pass over the units is needed. ``exemplar_rows`` maps the framings'
    exemplar unit ids to rows of ``embeddings``.
    """
    from scipy.sparse import csr_matrix

    centres = np.zeros((max((p.id for p in tree.parents), default=-1) + 1, centroids.shape[1]), dtype=np.float32)
    if not tree.parents:
        return {}, centres
    by_id = {f.id: f for f in framings}
    classes, counts, vocabulary = term_counts
    column = {c: k for k, c in enumerate(classes)}
    rows = [(r, column[f]) for r, p in enumerate(tree.parents) for f in p.leaves]
    indicator = csr_matrix((np.ones(len(rows)), ([r for r, _ in rows], [c for _, c in rows])),
                           shape=(len(tree.parents), len(classes)))
    terms = class_tfidf_from_counts(classes, counts, vocabulary, n_terms=n_terms,
                                    scored=([p.id for p in tree.parents], indicator @ counts))
    for parent in tree.parents:
        weights = np.array([by_id[f].size for f in parent.leaves], dtype=np.float32)
        centre = weights @ centroids[parent.leaves]
        centres[parent.id] = centre / max(float(np.linalg.norm(centre)), 1e-12)
        shares: dict[str, float] = {}
        for f in parent.leaves:
            for source, share in by_id[f].sources.items():
                shares[source] = shares.get(source, 0.0) + share * by_id[f].size / parent.size
        parent.sources = {s: round(v, 6) for s, v in sorted(shares.items(), key=lambda kv: -kv[1])}
        pool = [u for f in parent.leaves for u in by_id[f].exemplars]
        closeness = embeddings[[exemplar_rows[u] for u in pool]] @ centres[parent.id]
        parent.exemplars = [pool[k] for k in np.argsort(-closeness, kind="stable")[:n_exemplars]]
    return terms, centres
