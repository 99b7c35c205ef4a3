"""Frames: zero-shot from a codebook, or learned from labels and cross-validated; shares corrected for errors."""
import json
import logging

import numpy as np
import pandas as pd
import pytest

from framing import cli
from framing.errors import FramingError
from framing.frames.assign import adjusted_shares, assign_frames, cross_validate, load_codebook

LABELS = "framing/data/labels/example-conflict.csv"


def blobs(n_per: int = 60, k: int = 3, d: int = 16, spread: float = 0.35, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, d))
    X = np.concatenate([centres[i] + spread * rng.standard_normal((n_per, d)) for i in range(k)])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), np.repeat(np.arange(k), n_per)


def test_a_classifier_learns_frames_from_labels_and_says_how_well_it_holds():
    X, truth = blobs()
    names = np.array(["war", "aid", "talks"], dtype=object)
    labels = [None] * len(truth)
    for i in list(range(0, 60, 4)) + list(range(60, 120, 4)) + list(range(120, 180, 4)):  # 15 labels per frame
        labels[i] = names[truth[i]]
    frames = assign_frames(X, labels=labels, folds=5, seed=0)
    assert frames.method == "logistic-regression" and frames.names == ["aid", "talks", "war"]
    predicted = np.asarray(frames.names, dtype=object)[frames.frame]
    assert np.mean(predicted == names[truth]) > 0.95
    labelled = np.array([label is not None for label in labels])
    assert set(frames.origin[labelled]) == {"label"} and set(frames.origin[~labelled]) == {"prediction"}
    assert np.all(frames.probability[labelled] == 1.0) and np.all(frames.probability[~labelled] > 1 / 3)
    validation = frames.validation
    assert validation["folds"] == 5 and validation["labelled"] == 45 and validation["accuracy"] > 0.9
    assert np.array(validation["confusion"]).sum() == 45 and len(validation["learning_curve"]) == 3
    assert [p["fraction"] for p in validation["learning_curve"]] == [0.25, 0.5, 1.0]
    assert validation["learning_curve"][0]["labels"] < validation["learning_curve"][2]["labels"] == 36
    out = frames.to_dict()
    assert {row["frame"] for row in out["validation"]["per_frame"]} == {"aid", "talks", "war"}
    json.dumps(out)  # frames.json


def test_learning_curve_rises_with_more_labels_on_harder_data():
    X, y = blobs(n_per=80, k=4, spread=1.1, seed=3)
    result = cross_validate(X, y, 4, folds=5, seed=1)
    curve = [point["macro_f1"] for point in result["learning_curve"]]
    assert curve[0] < curve[2] and 0.25 < curve[2] < 1.0


def test_too_few_labels_fall_back_with_a_stated_reason(caplog):
    X, truth = blobs()
    labels = [None] * len(truth)
    labels[0], labels[60], labels[61] = "war", "aid", "aid"  # "war" has one label: it cannot be held out
    with caplog.at_level(logging.WARNING, logger="framing"):
        frames = assign_frames(X, labels=labels)
    assert frames.validation is None and "too few labels" in frames.labels["validation_skipped"]
    assert any("too few labels" in r.getMessage() for r in caplog.records)
    labels[120], labels[121], labels[122] = "talks", "talks", "talks"
    frames = assign_frames(X, labels=labels, folds=5)
    assert frames.validation["folds"] == 2 and frames.names[frames.validation["untested_frames"][0]] == "war"
    assert frames.to_dict()["validation"]["untested_frames"] == ["war"]
    with pytest.raises(FramingError, match="labels name only 1 frame"):
        assign_frames(X, labels=["war"] * 3 + [None] * (len(truth) - 3))


def test_labels_naming_no_codebook_frame_are_counted_and_left_out(caplog):
    X, truth = blobs(d=8)
    book = load_codebook("conflict")
    centres = np.random.default_rng(0).standard_normal((len(book["frames"]), 8))

    def encode(texts):  # a stand-in embedder for the codebook's phrases (the frames stage only needs vectors)
        return np.stack([centres[hash(t) % len(centres)] for t in texts])

    names = ["military progress", "humanitarian suffering", "none"]
    labels = [names[t] if i % 3 == 0 else None for i, t in enumerate(truth)]
    labels[1] = labels[2] = "peace and love"
    with caplog.at_level(logging.WARNING, logger="framing"):
        frames = assign_frames(X, codebook="conflict", labels=labels, encode=encode)
    assert frames.labels["unknown_frames"] == {"peace and love": 2}
    assert any("2 label(s) name no frame of codebook conflict" in r.getMessage() for r in caplog.records)
    assert frames.names[: len(book["frames"])] == [f["name"] for f in book["frames"]] and frames.names[-1] == "none"
    assert frames.similarity.shape == (len(truth), len(book["frames"]))
    assert "zero_shot" in frames.validation  # the codebook scored on the same held-out labels


def test_adjusted_shares_recover_the_true_mix_whatever_the_confusion():
    confusion = np.array([[70, 30, 0], [10, 90, 0], [0, 5, 95]], dtype=float)  # true frames in rows
    M = confusion / confusion.sum(axis=1, keepdims=True)
    for true in ([0.6, 0.2, 0.2], [0.1, 0.1, 0.8], [0.0, 0.5, 0.5]):
        observed = M.T @ np.array(true) * 1000  # what a classifier with this confusion would report
        assert np.allclose(adjusted_shares(observed, confusion), true, atol=1e-6)
        assert not np.allclose(observed / 1000, true, atol=0.02)  # uncorrected, the shares are off


def test_a_groups_corrected_share_does_not_move_when_the_classifier_confuses_two_frames():
    """Two groups with the same true mix; one's units are classified by a classifier that confuses frames 0 and 1
    more: observed shares differ, corrected ones agree."""
    rng = np.random.default_rng(0)
    true_mix = np.array([0.5, 0.3, 0.2])
    for confusion in (np.array([[90, 10, 0], [10, 90, 0], [0, 0, 100]]),
                      np.array([[60, 40, 0], [30, 70, 0], [0, 0, 100]])):
        M = confusion / confusion.sum(axis=1, keepdims=True)
        truth = rng.choice(3, size=20000, p=true_mix)
        predicted = np.array([rng.choice(3, p=M[t]) for t in truth])
        observed = np.bincount(predicted, minlength=3)
        assert np.allclose(adjusted_shares(observed, confusion), true_mix, atol=0.02)


def write_labels(path, per_frame: int):
    labels = pd.read_csv(LABELS)
    sample = labels.groupby("frame").head(per_frame)
    sample[["text", "frame"]].to_csv(path, index=False)
    return sample


@pytest.mark.slow
def test_a_run_learns_frames_from_a_labels_file(tmp_path, cache_dir, capsys):
    import framing

    sample = write_labels(tmp_path / "labels.csv", per_frame=8)
    result = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                             frames__labels=str(tmp_path / "labels.csv"), contrast__bootstrap=200)
    units = result.units
    labelled = units[units["frame_origin"] == "label"]
    assert set(labelled["text"]) == set(sample["text"])
    assert (labelled.set_index("text").loc[sample["text"], "frame"].to_numpy() == sample["frame"].to_numpy()).all()
    assert set(units["frame_origin"]) == {"label", "prediction"}
    frames = result.frames_data
    assert frames["method"] == "logistic-regression" and frames["labels"]["labelled_units"] == len(sample)
    validation = frames["validation"]
    assert validation["accuracy"] > validation["zero_shot"]["accuracy"] - 0.2  # comparable on the same units
    assert result.manifest["frames"]["labelled_units"] == len(sample)
    corrected = result.contrast().codebook["by_group_corrected"]
    assert {row["group"] for row in corrected} == {"state", "opposition", "wire", "regional"}
    for group in ("state", "opposition"):
        shares = [row["share"] for row in corrected if row["group"] == group]
        assert sum(shares) == pytest.approx(1.0, abs=1e-3)
    opposition = {row["frame"]: row for row in corrected if row["group"] == "opposition"}
    state = {row["frame"]: row for row in corrected if row["group"] == "state"}
    assert opposition["humanitarian suffering"]["share"] > state["humanitarian suffering"]["share"]
    # the whole contrast over frames: shares with intervals, the test, divergences, words and narratives
    by_frames = result.contrast(by="frames")
    assert set(by_frames.table["label"]) >= {"humanitarian suffering", "liberation and restored order"}
    assert by_frames.test["p_value"] <= 0.05  # the example's sides use the frames differently
    view = result.contrast("opposition", "state", by="frames")
    assert view["divergence"] > 0 and view["narratives"] and not view["words"].empty
    saved = result.save(tmp_path / "run")
    assert cli.main(["contrast", str(saved), "opposition", "state", "--by", "frames"]) == 0
    printed = capsys.readouterr().out
    assert "humanitarian suffering" in printed and "opposition tells it:" in printed
    assert framing.load_result(saved).frames_contrast.test == by_frames.test
    # evaluation leaves out the units the classifier was trained on
    from framing.frames.evaluate import evaluate_run, read_gold

    evaluation = evaluate_run(units, read_gold(LABELS), permutations=5)
    assert evaluation["frames"]["left_out_as_training_labels"] == len(sample)
    assert evaluation["frames"]["units"] == 288 - len(sample)


def test_bad_labels_files_are_one_line_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    broken = tmp_path / "broken.csv"
    broken.write_text('text,frame\n"an unclosed quote,war\n')
    nowhere = tmp_path / "nowhere.csv"
    nowhere.write_text("unit_id,frame\nno-such-unit#0,war\nno-such-unit#1,aid\n")
    for path, expected in ((broken, "frames.labels"), (tmp_path / "missing.csv", "cannot read frames.labels"),
                           (nowhere, "none of the 2 rows")):
        code = cli.main(["run", "--set", f"frames.labels={path}", "--set", "frames.codebook=conflict",
                         "--set", f"embedding.cache_dir={tmp_path / 'cache'}", "--out", str(tmp_path / "run")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and expected in err[0], err
        assert not (tmp_path / "run").exists()


def test_contrast_codebook_says_where_it_moved():
    from framing.config import load_config

    with pytest.raises(FramingError, match="contrast.codebook is now frames.codebook"):
        load_config(None, ["contrast.codebook=conflict"])


@pytest.mark.slow
def test_aleppo_hand_labels_match_the_units_and_the_learned_frames_beat_zero_shot(aleppo_path, cache_dir, tmp_path):
    """Our hand labels of 300 aleppo units (ids and frames only: the pages are third-party text)."""
    import framing
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    labels = root / "bench" / "labels" / "aleppo-2016-conflict.csv"
    result = framing.analyze(None, root / "configs" / "aleppo-2016.yaml", progress=False,
                             corpus__path=str(aleppo_path), embedding__cache_dir=str(cache_dir),
                             frames__labels=str(labels), contrast__bootstrap=100, contrast__permutations=100)
    frames = result.frames_data
    assert frames["labels"]["matched_rows"] == 300 and frames["labels"]["unmatched_rows"] == 0  # ids still valid
    validation = frames["validation"]
    assert validation["macro_f1"] > validation["zero_shot"]["macro_f1"] + 0.1
    assert validation["accuracy"] > validation["zero_shot"]["accuracy"] + 0.1
