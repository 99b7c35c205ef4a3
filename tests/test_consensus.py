"""A consensus of clusterings (issue 26, item 3): co-association over re-clusterings, then one partition."""
from __future__ import annotations

import numpy as np
import pytest

from framing.config import Config
from framing.errors import FramingError
from framing.framings.consensus import co_association_edges, consensus_labels
from framing.framings.stability import Reclustering


def test_co_association_is_the_share_of_clusterings_holding_both_that_put_them_together():
    space = np.array([[0.0], [0.1], [0.2], [5.0]])
    base = np.array([0, 0, 1, -1])
    runs = [Reclustering(np.array([0, 1, 2]), np.array([3, 3, 3])),  # 0, 1, 2 together
            Reclustering(np.array([0, 2, 3]), np.array([1, 2, 2]))]  # 1 absent: its pairs are not counted here
    i, j, share = co_association_edges(space, base, runs, n_neighbors=1)
    pairs = {(int(a), int(b)): float(s) for a, b, s in zip(i, j, share)}
    assert pairs[(0, 1)] == pytest.approx(2 / 2)  # base and run 1 together; run 2 lacks unit 1
    assert pairs[(2, 1)] == pytest.approx(1 / 2)  # apart in base, together in run 1
    assert pairs[(3, 2)] == pytest.approx(1 / 2)  # noise in base (nobody's cluster), together in run 2


def test_units_kept_together_by_most_clusterings_form_the_consensus_and_the_rest_is_noise():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 0.05, (30, 2)), rng.normal(0, 0.05, (30, 2)) + [3, 0]
    stray = np.array([[10.0, 10.0], [10.1, 10.0]])
    space = np.vstack([a, b, stray])
    truth = np.array([0] * 30 + [1] * 30 + [-1, -1])
    split_a = truth.copy()
    left = np.flatnonzero(a[:, 0] < np.median(a[:, 0]))
    split_a[left] = 2  # one clustering cuts blob a in two (left and right halves): a minority view
    runs = [Reclustering(np.arange(62), truth), Reclustering(np.arange(62), truth), Reclustering(np.arange(62), split_a)]
    labels = consensus_labels(space, truth, runs, min_cluster_size=5, n_neighbors=5)
    assert labels[:30].tolist() == [0] * 30 and labels[30:60].tolist() == [1] * 30  # numbered by first unit
    assert labels[60:].tolist() == [-1, -1]  # two units are below min_cluster_size
    # the majority view wins: with two clusterings cutting blob a, it is cut
    runs = [Reclustering(np.arange(62), split_a), Reclustering(np.arange(62), split_a)]
    labels = consensus_labels(space, truth, runs, min_cluster_size=5, n_neighbors=5)
    right = np.setdiff1d(np.arange(30), left)
    halves = [np.bincount(labels[side][labels[side] >= 0]).argmax() for side in (left, right)]
    assert halves[0] != halves[1]
    assert (labels[left] == halves[0]).mean() > 0.8 and (labels[right] == halves[1]).mean() > 0.8
    again = consensus_labels(space, truth, runs, min_cluster_size=5, n_neighbors=5)
    assert np.array_equal(labels, again)


@pytest.mark.slow
def test_a_model_with_consensus_finds_separated_framings_and_is_reproducible():
    from framing.framings.model import FramingModel

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(4, 32))
    X = np.vstack([c + rng.normal(0, 0.15, (60, 32)) for c in centres]).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    documents = np.arange(len(X)) // 3
    fitted = [FramingModel(min_cluster_size=10, consensus=8, random_state=3).fit(X, documents=documents)
              for _ in range(2)]
    assert fitted[0].n_framings_ == 4
    truth = np.repeat(np.arange(4), 60)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, fitted[0].labels_) > 0.95
    assert np.array_equal(fitted[0].labels_, fitted[1].labels_)
    assert (fitted[0].tree_nodes_ == -1).all()


def test_consensus_refuses_what_needs_hdbscans_own_clusters():
    with pytest.raises(FramingError, match="hierarchy.method: centroids"):
        Config.from_dict({"cluster": {"consensus": 5}, "hierarchy": {"method": "condensed"}})
    with pytest.raises(FramingError, match="cluster.assign: vote"):
        Config.from_dict({"cluster": {"consensus": 5, "assign": "hdbscan"}})
    assert Config.from_dict({"cluster": {"consensus": 5}}).cluster.consensus == 5
