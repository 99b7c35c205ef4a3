"""Names: key phrases by maximal marginal relevance, names given in the config, and framings matched across runs."""
from __future__ import annotations

import json

import numpy as np
import pytest

import framing
from framing.errors import FramingError
from framing.framings.matching import PreviousFramings, match_framings, overlap_counts
from framing.framings.names import (central_short_passage, given_names, keyphrase_label, mmr, phrase_candidates,
                                    phrase_names)
from framing.framings.terms import stop_words


def unit(*rows):
    array = np.array(rows, dtype=np.float64)
    return array / np.linalg.norm(array, axis=1, keepdims=True)


def test_mmr_trades_relevance_for_diversity():
    centre = unit([1, 0, 0])[0]
    # two near-copies of the most relevant phrase, and a less relevant one that says something else
    candidates = unit([1, 0.1, 0], [1, 0.12, 0], [0.6, 0, 0.8])
    assert mmr(candidates, centre, 2, diversity=0.0) == [0, 1]  # relevance alone takes the near-copy
    assert mmr(candidates, centre, 2, diversity=0.5) == [0, 2]
    label, phrases = keyphrase_label(["siege", "the siege", "aid convoys"], candidates, centre, 2, 0.0)
    assert phrases == ["siege", "aid convoys"] and label == "siege · aid convoys"  # "the siege" says "siege" again


def test_phrase_candidates_are_quoted_from_one_clause_and_keep_names_capitalised():
    held, shown = phrase_candidates(["The siege of the old city cut off food for civilians in Varno.",
                                     "Officials said the liberation from terrorists of Varno was near, and Varno "
                                     "residents waited.",
                                     "AID CONVOYS REACH THE CITY"], stop_words())
    assert {"liberation from terrorists", "old city", "civilians in varno", "siege"} <= set(held)
    assert "siege of the old city" not in held  # "the" is no connective: a phrase never holds it
    assert "near and varno" not in held and "near" in held  # never across a comma
    assert not any(p.startswith(("of ", "the ")) or p.endswith((" of", " in")) for p in held)
    assert shown["civilians in varno"] == "civilians in Varno" and shown["siege"] == "siege"  # a sentence's first word
    assert shown["aid convoys"] == "aid convoys"  # a capitalised headline says nothing of which words are names
    assert held["varno"] == {0, 1}


def _encode_by_words(vocabulary):
    """A bag-of-words embedding (unit length), standing in for the model: a phrase is near a centre made of its
    words."""
    index = {w: k for k, w in enumerate(vocabulary)}

    def encode(texts):
        out = np.zeros((len(texts), len(vocabulary)))
        for row, text in enumerate(texts):
            for word in text.split():
                if word in index:
                    out[row, index[word]] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    return encode


def test_phrase_names_read_as_phrases_without_repeats_and_parents_apart_from_children():
    """Issue 29: a name is a phrase of the framing's own passages, no word repeated across its parts, no two
    framings named alike, and a parent never named by a child's name."""
    siege = ["Shelling of the besieged districts went on at night.", "The besieged districts had no bread left.",
             "Families in the besieged districts waited for aid convoys.", "Aid convoys were stopped at the checkpoint."]
    corridors = ["Humanitarian corridors opened for families leaving.", "Humanitarian corridors were used by hundreds.",
                 "Buses left through the humanitarian corridors.", "Families were leaving the besieged districts."]
    vocabulary = sorted({w.lower().strip(".,") for t in siege + corridors for w in t.split()})
    encode = _encode_by_words(vocabulary)
    centres = np.vstack([encode(["besieged districts aid convoys shelling bread"]),
                         encode(["humanitarian corridors families leaving buses"])])
    terms = {0: [("besieged", 1.0), ("districts", 0.9), ("convoys", 0.5)],
             1: [("corridors", 1.0), ("humanitarian", 0.9), ("buses", 0.4)]}
    names = phrase_names({0: siege, 1: corridors}, terms, centres, encode, stop_words(), n_parts=2)
    assert names[0][1][0] == "besieged districts" and names[1][1][0] == "humanitarian corridors"
    for label, parts in names.values():
        assert label == " · ".join(parts)
        words = [w for part in parts for w in part.lower().split() if w not in ("of", "for", "from", "in", "and")]
        assert len(words) == len(set(words))  # no word said twice
        passages = " ".join(siege + corridors).lower()
        assert all(part.lower() in passages for part in parts)  # quoted, not assembled
    # the same passages for two framings: the second never gets the first's name
    twice = phrase_names({0: siege, 1: siege}, {0: terms[0], 1: terms[0]}, centres[[0, 0]], encode, stop_words())
    assert twice[0][1][0] != twice[1][1][0]
    # a parent over both: a phrase both children's passages hold, never a child's name
    parent_centres = np.zeros((6, centres.shape[1]))
    parent_centres[5] = centres.mean(0) / np.linalg.norm(centres.mean(0))
    parent = phrase_names({5: siege + corridors}, {5: terms[0] + terms[1]}, parent_centres, encode, stop_words(),
                          owners={5: [0] * 4 + [1] * 4}, taken=names[0][1] + names[1][1])
    assert parent[5][1] and not {p.lower() for p in parent[5][1]} & {names[0][0], names[1][0]}
    # nor any part of a child's name (a two-part name's second part too)
    assert not {p.lower() for p in parent[5][1]} & {p.lower() for p in names[0][1] + names[1][1]}
    assert all(sum(p.lower() in t.lower() for t in siege) and sum(p.lower() in t.lower() for t in corridors)
               or any(w in " ".join(siege).lower() and w in " ".join(corridors).lower() for w in p.lower().split())
               for p in parent[5][1])


def test_the_caption_is_the_most_central_short_passage():
    texts = ["one two three four five six seven eight", "short and central", "short but far"]
    members = np.array([0, 1, 2])
    assert central_short_passage(members, np.array([0.9, 0.8, 0.1]), texts, max_words=5) == 1
    assert central_short_passage(members, np.array([0.9, 0.8, 0.1]), texts, max_words=2) == 0  # none that short


def test_names_by_id_and_by_unit_and_what_names_nothing():
    of_unit = {"a.txt#1": 3, "b.txt#4": 5, "c.txt#0": -1}.get
    resolved = given_names({"3": "Siege", "b.txt#4": "Liberation", "9": "x", "zz.txt#1": "y", "c.txt#0": "z"},
                           [3, 5], of_unit)
    assert resolved.names == {3: "Siege", 5: "Liberation"}
    assert sorted(resolved.unknown) == ["9", "c.txt#0", "zz.txt#1"]
    clash = given_names({"3": "Siege", "a.txt#1": "Blockade"}, [3], of_unit)
    assert clash.names == {3: "Blockade"} and len(clash.conflicts) == 1  # the unit's name wins, and it is said


def test_matching_says_matched_split_merged_new_and_gone():
    old = PreviousFramings(ids=[10, 11, 12, 13], labels=["a", "b", "c", "d"], named_by=["config", "", "", ""],
                           centroids=unit([1, 0, 0, 0], [0, 1, 0, 0], [0, 0.9, 0.44, 0], [0, 0, 0, 1]),
                           unit_ids=np.array([f"u{i}" for i in range(40)]),
                           unit_framings=np.repeat([10, 11, 12, 13], 10))
    # this run: framing 0 is old 10 cut in two (0 and 1); framing 2 holds old 11 and old 12; framing 3 is new;
    # old 13's units are unassigned now
    centres = unit([1, 0.05, 0, 0], [1, -0.3, 0, 0], [0, 1, 0.2, 0], [0, 0, 0, 0.3] + np.array([0.7, 0.7, 0, 0]))
    unit_ids = [f"u{i}" for i in range(30)] + [f"new{i}" for i in range(5)]
    labels = np.array([0] * 6 + [1] * 4 + [2] * 20 + [3] * 5)
    overlap = overlap_counts(unit_ids, labels, 4, old)
    assert overlap.tolist() == [[6, 0, 0, 0], [4, 0, 0, 0], [0, 10, 10, 0], [0, 0, 0, 0]]
    matching = match_framings(centres, old, threshold=0.7, overlap=overlap)
    status = {row["id"]: (row["status"], row["previous"]) for row in matching.table}
    assert matching.ids.tolist() == [10, 14, 11, 15]  # carried ids; the others take ids after the earlier run's
    assert status == {10: ("matched", [10]), 14: ("split", [10]), 11: ("merged", [11, 12]), 15: ("new", []),
                      13: ("gone", [13])}
    assert matching.previous == [0, None, 1, None]
    assert matching.counts() == {"matched": 1, "split": 1, "merged": 1, "new": 1, "gone": 1}


def test_an_explicit_match_run_that_holds_no_run_is_a_clear_error(tmp_path):
    with pytest.raises(FramingError, match="describe.match_run"):
        framing.analyze(None, "configs/example.yaml", describe__match_run=str(tmp_path), progress=False)


@pytest.mark.slow
def test_a_named_framing_keeps_its_name_id_and_colour_after_a_rerun_with_another_min_cluster_size(cache_dir,
                                                                                                 tmp_path):
    from framing.config import load_config
    from framing.run.pipeline import run

    config = load_config("configs/example.yaml", overrides={"embedding.cache_dir": str(cache_dir)})
    first, folder = run(config, out=tmp_path / "run", progress=False)
    assert all(f.named_by == "phrases" and f.label == " · ".join(f.phrases) for f in first.framings)
    assert all(f.caption in set(first.units["unit_id"]) for f in first.framings)
    named = first.framings[1]
    anchor = named.exemplars[0]
    config = load_config("configs/example.yaml", overrides={"embedding.cache_dir": str(cache_dir)})
    config.describe.names = {anchor: "Liberation from terrorists"}
    named_run, _ = run(config, out=folder, progress=False)  # same settings: the name is given by a unit id
    assert {f.id: f.label for f in named_run.framings}[named.id] == "Liberation from terrorists"
    # a re-run with another min_cluster_size and no names in the config
    config = load_config("configs/example.yaml", overrides={"embedding.cache_dir": str(cache_dir),
                                                            "cluster.min_cluster_size": 8})
    second, _ = run(config, out=folder, progress=False)
    matching = json.loads((folder / "run.json").read_text())["matching"]
    assert matching["run"] == str(folder) and sum(matching["counts"].values()) == len(matching["framings"])
    holder = int(second.units.loc[second.units["unit_id"] == anchor, "framing"].iloc[0])
    renamed = {f.id: f for f in second.framings}[holder]
    assert renamed.label == "Liberation from terrorists" and renamed.named_by == "previous run"
    row = next(r for r in matching["framings"] if r["id"] == holder)
    # it continues the named framing, or absorbed it (a merge): either way the user's name is not lost
    assert row["status"] in ("matched", "merged") and named.id in row["previous"]
    before = {f.id for f in first.framings}
    for row in matching["framings"]:  # ids carried over are the earlier ones, new ids come after them
        if row["status"] in ("matched", "merged"):
            assert row["id"] in before and row["id"] == row["previous"][0]
        elif row["status"] in ("split", "new"):
            assert row["id"] > max(before)
    assert {f.id for f in second.framings} == {r["id"] for r in matching["framings"] if r["status"] != "gone"}
    report = (folder / "report.html").read_text()
    assert "Liberation from terrorists" in report
    # the same re-run with the ids carried: every framing continued from an earlier one keeps its id and colour
    third, _ = run(config, out=folder, progress=False)
    assert [(f.id, f.label) for f in third.framings] == [(f.id, f.label) for f in second.framings]
    assert json.loads((folder / "run.json").read_text())["matching"]["counts"]["matched"] == len(second.framings)


def test_framings_of_a_run_embedded_with_another_model_are_not_matched(caplog):
    from framing.config import Config
    from framing.run.pipeline import match_previous

    previous = PreviousFramings(ids=[0], labels=["a"], named_by=["config"], centroids=unit([1, 0]), model="sha256:x")
    centres = unit([1, 0])
    assert match_previous(Config(), previous, centres, ["u0"], np.array([0]), "sha256:y") is None
    assert "another model" in caplog.text
    assert match_previous(Config(), previous, centres, ["u0"], np.array([0]), "sha256:x").ids.tolist() == [0]
