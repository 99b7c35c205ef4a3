"""Framings over time: dates read in common formats (and counted when not), bins, shares with intervals, who
moved first — on a corpus built so the answer is known, and on the example run."""
import numpy as np
import pandas as pd
import pytest

from framing.contrast.over_time import ALL_GROUPS, bin_starts, choose_bin, compute_over_time, parse_dates


def test_dates_in_common_formats_are_read_and_the_rest_counted():
    days, report = parse_dates(["2016-12-07", "7 December 2016", "Dec 8, 2016", "12/09/2016", "", None,
                                "next tuesday", "2016-12-10T23:30:00-05:00", "2016-12-07"])
    assert [str(d) for d in days] == ["2016-12-07", "2016-12-07", "2016-12-08", "2016-12-09", "NaT", "NaT", "NaT",
                                      "2016-12-10", "2016-12-07"]  # the date as written, in its own time zone
    assert report == {"parsed": 6, "missing": 2, "unparseable": 1, "examples": ["next tuesday"]}
    assert str(parse_dates(["03/04/2016"], dayfirst=True)[0][0]) == "2016-04-03"


def test_bins_follow_the_span_and_weeks_start_on_monday():
    days = np.array(["2031-11-14", "2031-11-16", "2031-11-17", "2031-12-01"], dtype="datetime64[D]")
    assert choose_bin(days) == "day" and choose_bin(np.array(["2031-01-01", "2031-03-01"], dtype="datetime64[D]")) \
        == "week" and choose_bin(np.array(["2031-01-01", "2032-01-01"], dtype="datetime64[D]")) == "month"
    # 2031-11-14 is a Friday and 2031-11-16 a Sunday: both in the week of Monday 2031-11-10
    assert [str(d) for d in bin_starts(days, "week")] == ["2031-11-10", "2031-11-10", "2031-11-17", "2031-12-01"]
    assert [str(d) for d in bin_starts(days, "month")] == ["2031-11-01"] * 3 + ["2031-12-01"]


def rising_corpus(seed: int = 0):
    """Three weeks of documents from two outlets. Framing 1 is rare in week 1, rises to most units in week 2 and
    falls back in week 3; outlet "early" uses it from week 1, outlet "late" only from week 2."""
    rng = np.random.default_rng(seed)
    doc_ids, labels, sources, documents = [], [], [], {}
    for week, share in enumerate([0.1, 0.7, 0.2]):
        for k in range(12):
            source = "early" if k % 2 else "late"
            doc = f"w{week}-{k}"
            documents[doc] = {"date": str(np.datetime64("2031-11-03") + 7 * week + k % 5), "source": source}
            for _ in range(10):
                rises = rng.random() < share and not (source == "late" and week == 0)
                labels.append(1 if rises else int(rng.choice([0, 2, -1], p=[0.6, 0.3, 0.1])))
                doc_ids.append(doc)
                sources.append(source)
    return doc_ids, np.array(labels), sources, documents


def test_a_framing_that_rises_in_week_two_is_found_rising_in_week_two_and_who_used_it_first():
    doc_ids, labels, sources, documents = rising_corpus()
    names = {0: "a", 1: "rising", 2: "b"}
    result = compute_over_time(doc_ids, labels, names, documents, sources=sources, sections=["body"] * len(labels),
                               bootstrap=300, seed=1)
    assert result.bin == "day" or result.bin == "week"
    weekly = compute_over_time(doc_ids, labels, names, documents, sources=sources,
                               sections=["body"] * len(labels), bin="week", bootstrap=300, seed=1)
    rising = weekly.shares[(weekly.shares["group"] == ALL_GROUPS) & (weekly.shares["framing"] == 1)]
    assert rising["bin"].tolist() == ["2031-11-03", "2031-11-10", "2031-11-17"]
    assert rising["share"].idxmax() == rising.index[1]  # week 2
    week2 = rising.iloc[1]
    assert week2["share"] > 0.55 and week2["low"] < week2["share"] < week2["high"] and week2["low"] > 0.4
    # shares of a (group, bin) and its unassigned units make the whole bin
    for _, part in weekly.shares.groupby(["group", "bin"]):
        unassigned = part["bin_units"].iloc[0] - part["units"].sum()
        assert part["bin_units"].nunique() == 1 and unassigned >= 0
    firsts = weekly.firsts[weekly.firsts["framing"] == 1].set_index("group")
    assert firsts.loc["early", "first"] == "2031-11-03" and firsts.loc["late", "first"] == "2031-11-10"
    assert firsts.loc[ALL_GROUPS, "peak"] == "2031-11-10"
    # units over the bins add up to the framing's dated units
    assert rising["units"].sum() == int((labels == 1).sum())
    assert weekly.dates["units_undated"] == 0 and weekly.dates["parsed"] == len(documents)


def test_units_of_undated_documents_are_counted_and_left_out():
    doc_ids, labels, sources, documents = rising_corpus()
    documents["w1-0"]["date"] = ""
    documents["w1-2"]["date"] = "sometime"
    result = compute_over_time(doc_ids, labels, {0: "a", 1: "rising", 2: "b"}, documents, sources=sources,
                               sections=["body"] * len(labels), bin="week", bootstrap=0)
    assert result.dates["missing"] == 1 and result.dates["unparseable"] == 1 and result.dates["units_undated"] == 20
    everything = result.shares[result.shares["group"] == ALL_GROUPS]
    assert everything.groupby("bin")["bin_units"].first().sum() == len(labels) - 20
    assert everything["low"].isna().all()  # no bootstrap asked for
    # each unit says the bin it was counted in ("" when undated) and its group; the counts add up to the table's
    bins = pd.Series(result.unit_bins)
    assert (bins == "").sum() == 20
    counted = pd.DataFrame({"bin": result.unit_bins, "group": result.unit_groups, "label": labels})
    counted = counted[(counted["bin"] != "") & (counted["label"] >= 0)]
    per_group = counted.groupby(["group", "bin", "label"]).size()
    table = result.shares[result.shares["group"] != ALL_GROUPS].set_index(["group", "bin", "framing"])["units"]
    assert per_group.to_dict() == table[table > 0].to_dict()


@pytest.mark.slow
def test_the_example_run_has_shares_over_time_saved_and_loaded(example_result, tmp_path):
    import framing

    shares = example_result.over_time()
    assert example_result.manifest["time"]["bin"] == "week"  # the example spans about six weeks
    assert set(shares["group"]) >= {ALL_GROUPS} and len(set(shares["bin"])) >= 5
    sizes = {f.id: f.size for f in example_result.framings}
    by_framing = shares[shares["group"] == ALL_GROUPS].groupby("framing")["units"].sum()
    assert by_framing.to_dict() == sizes  # every dated distinct unit once
    firsts = example_result.over_time(firsts=True)
    assert set(firsts["framing"]) == set(sizes)
    example_result.save(tmp_path / "run")
    back = framing.load_result(tmp_path / "run")
    pd.testing.assert_frame_equal(back.over_time(), shares, check_dtype=False)
    pd.testing.assert_frame_equal(back.over_time(firsts=True), firsts, check_dtype=False)
    one = back.over_time(group=ALL_GROUPS, framing=0)
    assert len(one) == len(set(shares["bin"])) and (one["framing"] == 0).all()


def test_intervals_are_the_same_when_the_bootstrap_comes_a_chunk_at_a_time(monkeypatch):
    from framing.contrast import resampling as contrast

    doc_ids, labels, sources, documents = rising_corpus()

    def run():
        return compute_over_time(doc_ids, labels, {0: "a", 1: "rising", 2: "b"}, documents, sources=sources,
                                 sections=["body"] * len(labels), bin="week", bootstrap=200, seed=1)

    at_once = run()
    monkeypatch.setattr(contrast, "BOOTSTRAP_CELLS", 5)  # a draw or two a chunk
    chunked = run()
    assert at_once.shares["low"].notna().any()
    pd.testing.assert_frame_equal(chunked.shares, at_once.shares)
