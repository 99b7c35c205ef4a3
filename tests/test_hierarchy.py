"""The framing hierarchy: trees from framing centres and from HDBSCAN's condensed tree, levels, and the run's."""
from __future__ import annotations

import numpy as np
import pytest

import framing
from framing.framings.model import condensed_tree_links
from framing.framings.hierarchy import build_hierarchy, level_labels


def check_tree(tree, leaf_ids):
    """Every parent holds exactly the framings below it; every framing and parent but the root has one parent."""
    children = {p.id: p.children for p in tree.parents}
    leaves = {f: [f] for f in leaf_ids} | {p.id: p.leaves for p in tree.parents}
    for parent in tree.parents:
        assert sorted(f for c in parent.children for f in leaves[c]) == parent.leaves  # exactly, and no repeats
        assert parent.height == 1 + max(0 if c in leaf_ids else next(p.height for p in tree.parents if p.id == c)
                                        for c in parent.children)
    assert tree.root.leaves == sorted(leaf_ids)
    assert set(tree.parent_of) == (set(leaf_ids) | set(children)) - {tree.root.id}
    assert min(p.id for p in tree.parents) > max(leaf_ids)


def test_centroid_merging_puts_close_framings_under_one_parent():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(2, 16))
    centres = np.vstack([base[0] + 0.05 * rng.normal(size=16), base[1] + 0.05 * rng.normal(size=16),
                         base[0] + 0.05 * rng.normal(size=16), base[1] + 0.05 * rng.normal(size=16)])
    ids = [3, 5, 8, 9]  # framing ids need not be consecutive (they carry over between runs)
    tree = build_hierarchy(ids, centres, [10, 20, 30, 40], "centroids")
    check_tree(tree, ids)
    assert sorted(sorted(p.leaves) for p in tree.parents) == [[3, 5, 8, 9], [3, 8], [5, 9]]
    assert tree.root.id == tree.parents[-1].id and tree.root.size == 100
    assert len(tree.levels) == 1 and tree.levels[0][3] == tree.levels[0][8] != tree.levels[0][5] == tree.levels[0][9]
    labels = np.array([3, 8, -1, 9, 5])
    at_one = level_labels(labels, tree, 1)
    assert at_one[0] == at_one[1] and at_one[3] == at_one[4] and at_one[2] == -1 and at_one[0] != at_one[3]
    assert level_labels(labels, tree, 0).tolist() == labels.tolist()


def test_the_condensed_tree_of_a_real_hdbscan_nests_sub_blobs_under_their_blob():
    import hdbscan

    rng = np.random.default_rng(1)
    # two far-apart blobs, each made of two close sub-blobs: leaf selection finds four clusters
    centres = np.array([[0, 0], [1.2, 0], [20, 20], [21.2, 20]])
    X = np.vstack([c + 0.15 * rng.normal(size=(60, 2)) for c in centres])
    clusterer = hdbscan.HDBSCAN(min_cluster_size=15, cluster_selection_method="leaf").fit(X)
    node_of_label, parent_of = condensed_tree_links(clusterer)
    labels = clusterer.labels_
    found = sorted(set(labels) - {-1})
    assert len(found) == 4
    blob_of_label = {k: int(np.bincount(np.arange(240)[labels == k] // 120).argmax()) for k in found}
    tree = build_hierarchy(found, np.zeros((4, 2)), [int((labels == k).sum()) for k in found], "condensed",
                           condensed=([node_of_label[k] for k in found], parent_of))
    check_tree(tree, found)
    below_root = [p for p in tree.parents if p is not tree.root]
    assert sorted(sorted(blob_of_label[f] for f in p.leaves) for p in below_root) == [[0, 0], [1, 1]]


@pytest.mark.slow
def test_the_example_run_has_a_tree_whose_parents_contain_exactly_their_framings(example_result, tmp_path):
    result = example_result
    tree = result.hierarchy_data
    leaf_ids = [f.id for f in result.framings]
    check_tree(tree, leaf_ids)
    distinct = result.units[result.units["duplicate_of"] == ""]
    for parent in tree.parents:
        assert parent.size == int(distinct["framing"].isin(parent.leaves).sum())
        assert parent.label and parent.terms and parent.exemplars
        assert set(parent.exemplars) <= set(distinct.loc[distinct["framing"].isin(parent.leaves), "unit_id"])
        assert sum(parent.sources.values()) == pytest.approx(1.0, abs=1e-3)
    table = result.hierarchy()
    assert len(table) == len(leaf_ids) + len(tree.parents) and table["parent"].isna().sum() == 1
    at_one = result.at_level(1)
    assert (at_one[distinct["unit_id"]].to_numpy() >= 0).sum() == (distinct["framing"] >= 0).sum()
    saved = framing.load_result(result.save(tmp_path / "run"))
    assert saved.hierarchy_data.to_dict() == tree.to_dict()
    assert saved.at_level(1).equals(at_one)


@pytest.mark.slow
def test_contrast_and_time_at_level_one_compare_the_parents(cache_dir):
    result = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                             hierarchy__level=1)
    groups = set(result.hierarchy_data.levels[0].values())
    compared = set(result.contrast().table["framing"]) - {-1}
    assert compared == groups and any(g not in {f.id for f in result.framings} for g in groups)
    assert set(result.over_time()["framing"]) <= groups
    assert result.manifest["hierarchy"]["level"] == 1


@pytest.mark.slow
def test_the_aleppo_pages_get_a_tree_too(aleppo_path, cache_dir):
    result = framing.analyze(str(aleppo_path), "configs/aleppo-2016.yaml", embedding__cache_dir=str(cache_dir),
                             progress=False, contrast__enabled=False)
    check_tree(result.hierarchy_data, [f.id for f in result.framings])
    assert result.manifest["hierarchy"]["method"] == "centroids" and result.manifest["hierarchy"]["levels"] >= 1
    # phrase names: quoted from the framing's passages, no phrase in two names, parents never a child's name
    assert all(f.named_by == "phrases" and f.label == " · ".join(f.phrases) for f in result.framings)
    parts = [p.lower() for f in result.framings for p in f.phrases] + [
        p.lower() for parent in result.hierarchy_data.parents for p in parent.phrases]
    assert len(parts) == len(set(parts))
    texts = " ".join(" ".join(result.units["text"]).lower().split())  # a phrase joins its words by one space
    assert all(part in texts for part in parts)
    # the pages' dates (sources.csv: published; four in Nov-Dec 2016, one in July 2020): shares per month
    shares = result.over_time(group="(all)")
    assert result.manifest["time"]["bin"] == "month" and set(shares["bin"]) <= {"2016-11", "2016-12", "2020-07"}
    per_bin = shares.groupby("bin")["units"].sum()
    distinct = result.units[(result.units["duplicate_of"] == "") & (result.units["framing"] >= 0)]
    assert per_bin.to_dict() == distinct.groupby("time_bin").size().to_dict()
