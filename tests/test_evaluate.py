"""`framing evaluate`: a saved run scored against gold labels coded by hand."""
import json

import numpy as np
import pandas as pd
import pytest

from framing import cli
from framing.errors import FramingError
from framing.frames.evaluate import classification_scores, evaluate_run, format_evaluation, partition_scores, read_gold
from framing.frames.labels import LabelFile as GoldLabels
from framing.frames.labels import match_labels as match_gold
from framing.store.outputs import is_run_folder


def units_table() -> pd.DataFrame:
    return pd.DataFrame({
        "unit_id": ["a#0", "a#1", "b#0", "b#1", "c#0", "c#1"],
        "doc_id": ["a", "a", "b", "b", "c", "c"],
        "text": ["One  sentence.", "Two.", "Three here.", "Four.", "Five.", "Six."],
        "framing": [0, 0, 1, 1, -1, 1],
        "frame: war": [0.9, 0.8, 0.1, 0.2, 0.3, 0.1],
        "frame: peace": [0.1, 0.2, 0.7, 0.9, 0.6, 0.8],
    })


def test_partition_scores_are_one_for_the_gold_partition_and_near_zero_for_shuffles():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 4, 400).astype(str)
    perfect = partition_scores(np.array([f"c{g}" for g in gold]), gold, permutations=20)
    assert perfect["ami"] == pytest.approx(1.0) and perfect["ari"] == pytest.approx(1.0)
    assert abs(perfect["random"]["ami"]) < 0.02 and abs(perfect["random"]["ari"]) < 0.02
    noise = partition_scores(rng.integers(0, 4, 400), gold, permutations=20)
    assert abs(noise["ami"]) < 0.03 and noise["clusters"] == 4 and noise["gold_classes"] == 4


def test_classification_scores_and_baselines():
    gold = ["war"] * 6 + ["peace"] * 2 + ["aid"] * 2
    predicted = ["war"] * 5 + ["peace"] + ["peace", "peace", "war", "aid"]
    scores = classification_scores(predicted, gold)
    assert scores["accuracy"] == pytest.approx(0.8)
    assert scores["majority_class"] == "war" and scores["majority_accuracy"] == pytest.approx(0.6)
    assert scores["chance_accuracy"] == pytest.approx(0.36 + 0.04 + 0.04)
    by_label = {row["label"]: row for row in scores["per_class"]}
    assert by_label["war"]["recall"] == pytest.approx(5 / 6) and by_label["peace"]["precision"] == pytest.approx(2 / 3)
    assert scores["labels"] == ["aid", "peace", "war"]
    assert scores["confusion"] == [[1, 0, 1], [0, 2, 0], [0, 1, 5]]  # rows gold, columns predicted
    assert scores["macro_f1"] == pytest.approx(np.mean([2 / 3, 0.8, 5 / 6]))


def test_gold_is_matched_by_unit_document_or_text_and_misses_are_counted():
    units = units_table()
    by_unit = match_gold(units, GoldLabels("unit_id", [("a#0", "war"), ("zz#9", "war"), ("b#1", "peace")]))
    assert by_unit.labels == ["war", None, None, "peace", None, None]
    assert by_unit.unmatched == ["zz#9"] and by_unit.matched_rows == 2
    by_doc = match_gold(units, GoldLabels("doc_id", [("a", "war"), ("c", "peace")]))
    assert by_doc.labels == ["war", "war", None, None, "peace", "peace"]
    by_text = match_gold(units, GoldLabels("text", [("One sentence.", "war"), ("Four.", "peace")]))
    assert by_text.labels == ["war", None, None, "peace", None, None]  # whitespace folded on both sides
    conflict = match_gold(units, GoldLabels("unit_id", [("a#0", "war"), ("a#0", "peace")]))
    assert conflict.labels[0] is None and conflict.conflicting_units == 1


def test_evaluate_run_scores_framings_and_zero_shot_frames():
    gold = GoldLabels("doc_id", [("a", "war"), ("b", "peace"), ("c", "peace")])
    evaluation = evaluate_run(units_table(), gold, permutations=10)
    framings = evaluation["framings"]
    assert framings["coverage"] == pytest.approx(5 / 6)
    assert framings["assigned_only"]["ami"] == pytest.approx(1.0)  # framing 0 = war, framing 1 = peace
    assert evaluation["frames"]["accuracy"] == pytest.approx(1.0)
    assert evaluation["gold"]["units_scored"] == 6 and evaluation["gold"]["unmatched_rows"] == 0
    with pytest.raises(FramingError, match="none of the 1 gold rows matches a unit"):
        evaluate_run(units_table(), GoldLabels("unit_id", [("nope", "war")]))


def test_bad_gold_files_are_one_line_errors(tmp_path):
    (tmp_path / "a.csv").write_text("id,frame\n1,war\n")
    with pytest.raises(FramingError, match="need a unit_id, doc_id or text column"):
        read_gold(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text('unit_id,frame\n"a#0,war\n')
    with pytest.raises(FramingError, match="not valid CSV"):
        read_gold(tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text("unit_id,frame\na#0,\n")
    with pytest.raises(FramingError, match="hold no labelled row"):
        read_gold(tmp_path / "c.csv")


@pytest.mark.slow
def test_framing_evaluate_on_a_saved_run(tmp_path, example_result, capsys):
    run = example_result.save(tmp_path / "run")
    units = example_result.units
    docs = sorted(units["doc_id"].unique())
    # gold by document: each outlet's pages labelled with the outlet's leaning (a label the run knows nothing of)
    leaning = dict(zip(units["doc_id"], units["leaning"]))
    (tmp_path / "gold.csv").write_text("doc_id,label\n" + "".join(f"{d},{leaning[d]}\n" for d in docs)
                                       + "missing-doc,state\n")
    assert cli.main(["evaluate", str(run), str(tmp_path / "gold.csv"), "--permutations", "20"]) == 0
    out = capsys.readouterr().out
    assert "1 gold row(s) match no unit of this run, e.g. 'missing-doc'" in out
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert evaluation["gold"]["units_scored"] == len(units)
    scores = evaluation["framings"]["unassigned_as_a_cluster"]
    assert -0.05 < scores["random"]["ami"] < 0.05  # the baseline is a shuffle of the same partition
    assert "frames" in evaluation and 0 <= evaluation["frames"]["accuracy"] <= 1
    assert is_run_folder(run)  # evaluation.json does not stop the next run from replacing the folder


@pytest.mark.slow
def test_the_example_run_beats_its_baselines_on_our_hand_labels(example_result):
    """Validity on the bundled hand labels: framings agree with the coded frames more than random partitions of the
    same sizes, and the zero-shot codebook beats always answering the commonest frame."""
    from framing.corpus.documents import example_corpus_path

    labels = example_corpus_path().parent / "labels" / "example-conflict.csv"
    evaluation = evaluate_run(example_result.units, read_gold(labels), permutations=50)
    assert evaluation["gold"]["units_scored"] == 288 and evaluation["gold"]["unmatched_rows"] == 0
    assigned = evaluation["framings"]["assigned_only"]
    assert assigned["ami"] > assigned["random"]["ami"] + 0.15
    frames = evaluation["frames"]
    assert frames["accuracy"] > frames["majority_accuracy"] + 0.15


def test_gold_frames_the_run_does_not_have_and_too_few_gold_units_are_cautioned(example_result, tmp_path):
    """Issue 29: gold labels naming frames the run lacks scored as plain errors, and two gold units gave AMI 1.000,
    without a word."""
    units = example_result.units
    gold = tmp_path / "gold.csv"
    rows = ["unit_id,frame"] + [f"{u},Humanitarian Suffering" if k % 2 else f"{u},diplomacy"
                                for k, u in enumerate(units["unit_id"][:12])]
    gold.write_text("\n".join(rows) + "\n")
    evaluation = evaluate_run(units, read_gold(str(gold)), permutations=5)
    cautions = " | ".join(evaluation["cautions"])
    assert "only 12 gold unit(s) are scored" in cautions
    assert "2 gold frame(s) are not frames of this run" in cautions and "'diplomacy'" in cautions
    assert "caution: only 12 gold unit(s)" in format_evaluation(evaluation)
    plenty = tmp_path / "plenty.csv"
    plenty.write_text("unit_id,frame\n" + "\n".join(f"{u},none" for u in units["unit_id"][:40]) + "\n")
    assert evaluate_run(units, read_gold(str(plenty)), permutations=5)["cautions"] == []
