"""The report in a real headless Chromium (Debian's package, driven by playwright): clicks, views, search, safety."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import framing
from framing.corpus.documents import Corpus, Document

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install Debian's chromium (make test does)")
        pytest.skip("no chromium on this machine (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


class Page:
    """One loaded report, with what it logged and every request it made."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1500, "height": 1000})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.framingReady === true", timeout=60_000)

    def click_unit(self, index: int) -> None:
        self.page.evaluate("document.getElementById('map').scrollIntoView({block: 'center'})")
        point = self.page.evaluate(f"window.framingReport.pointPixel({index})")
        self.page.mouse.move(point["x"], point["y"])
        self.page.wait_for_timeout(200)
        self.page.mouse.click(point["x"], point["y"])
        self.page.wait_for_selector("#passage-view .focus")

    def close(self) -> None:
        self.page.close()


def saved_report(result, tmp_path_factory, name: str) -> Path:
    folder = tmp_path_factory.mktemp(name) / "run"
    framing.save_run(result, folder)
    return folder / "report.html"


@pytest.fixture(scope="module")
def demo(example_result, tmp_path_factory):
    return example_result, saved_report(example_result, tmp_path_factory, "demo")


def test_page_is_offline_and_clean(browser, demo):
    result, path = demo
    page = Page(browser, path)
    assert page.errors == []
    assert [url for url in page.requests if not url.startswith(("file:", "data:", "blob:"))] == []
    assert path.stat().st_size < 15_000_000
    assert page.page.text_content("#counts").startswith(f"{len(result.documents)} documents")
    page.close()


def test_clicking_a_point_shows_exactly_that_unit_in_context(browser, demo, tmp_path):
    import pandas as pd

    result, path = demo
    page = Page(browser, path)
    units = pd.read_parquet(path.parent / "units.parquet")  # what the run folder says, not what memory holds
    for framing_obj in result.framings[:3]:
        index = int(units.index[units["unit_id"] == framing_obj.exemplars[0]][0])
        page.click_unit(index)
        row = units.iloc[index]
        assert page.page.text_content("#passage-view .focus") == row["text"]
        assert page.page.text_content("#passage-view h2") == row["title"]
        assert len(page.page.query_selector_all("#passage-view .context p")) <= 5
        assert framing_obj.label in page.page.text_content("#passage-view")
    page.page.screenshot(path=str(tmp_path / "point.png"))
    page.close()


def test_exemplar_opens_passage_then_whole_document(browser, demo):
    result, path = demo
    page = Page(browser, path)
    first = result.framings[0]
    page.page.click(f".card[data-framing='{first.id}'] .exemplar >> nth=0")
    row = result.units.set_index("unit_id").loc[first.exemplars[0]]
    assert page.page.text_content("#passage-view .focus") == row["text"]
    page.page.click("#open-document")
    assert page.page.is_visible("#document-view") and not page.page.is_visible("#passage-view")
    assert page.page.text_content("#document .unit.focus") == row["text"]
    document_text = result.documents.set_index("doc_id").loc[row["doc_id"], "text"]
    assert page.page.text_content("#document") == document_text  # the whole document, exactly
    assert len(page.page.query_selector_all("#document .unit")) == int((result.units["doc_id"] == row["doc_id"]).sum())
    page.page.click("#back-to-passage")
    assert page.page.is_visible("#passage-view")
    # the card's name is key phrases; its caption is the framing's central short passage, and opens it
    card = f".card[data-framing='{first.id}']"
    assert page.page.text_content(f"{card} .framing-title") == f"{first.id}: {first.label}" and " · " in first.label
    caption = result.units.set_index("unit_id").loc[first.caption, "text"]
    assert page.page.text_content(f"{card} .caption") == f"“{caption}”"
    page.page.click(f"{card} .caption")
    assert page.page.text_content("#passage-view .focus") == caption
    page.close()


def test_choosing_a_framing_highlights_its_points(browser, demo):
    result, path = demo
    page = Page(browser, path)
    first = result.framings[0]
    page.page.click(f".card[data-framing='{first.id}'] .framing-title")
    page.page.wait_for_selector(".card.active")
    assert page.page.text_content("#search-count") == f"{first.size} units in {first.id}: {first.label}"
    lit = page.page.evaluate("document.getElementById('map').data.filter(t => t.marker.size === 9)"
                             ".flatMap(t => t.customdata)")
    units = result.units.reset_index(drop=True)
    members = (units["duplicate_of"] == "") & (units["framing"] == first.id)
    assert sorted(lit) == units.index[members].tolist()  # exactly its units (by row) are enlarged
    page.close()


def test_search_highlights_and_counts_matches(browser, demo):
    result, path = demo
    page = Page(browser, path)
    distinct = result.units[result.units["duplicate_of"] == ""]
    import re

    for word in ("hospital", "Saltgate", "no-such-word-anywhere"):
        page.page.fill("#search", word)
        expected = int(distinct["text"].str.contains(r"(?<!\w)" + re.escape(word) + r"(?!\w)", case=False).sum())
        page.page.wait_for_function(
            f"document.getElementById('search-count').textContent.startsWith('{expected} unit')")
    page.page.click("#clear-highlight")
    assert page.page.text_content("#search-count") == ""
    assert not page.page.is_visible("#search-panel")
    page.close()


def test_a_table_cell_lists_its_passages(browser, demo):
    result, path = demo
    page = Page(browser, path)
    first = result.framings[0]
    source = next(iter(first.sources))
    point = page.page.evaluate(f"""(() => {{
        const heat = document.getElementById('heatmap');
        heat.scrollIntoView({{block: 'center'}});
        const full = heat._fullLayout, rect = heat.getBoundingClientRect();
        const row = heat.data[0].y.indexOf({source!r}.replace(/&/g, '&amp;'));
        const column = window.framingReport.data.framings.findIndex(f => f.id === {first.id});
        return {{x: rect.left + full._size.l + full.xaxis.l2p(column), y: rect.top + full._size.t + full.yaxis.l2p(row)}};
    }})()""")
    page.page.mouse.move(point["x"], point["y"])
    page.page.wait_for_timeout(200)
    page.page.mouse.click(point["x"], point["y"])
    page.page.wait_for_selector("#cell-passages li")
    distinct = result.units[(result.units["duplicate_of"] == "") & (result.units["framing"] == first.id)]
    expected = distinct[distinct["source"] == source]
    assert len(page.page.query_selector_all("#cell-passages li")) == len(expected)
    page.page.click("#cell-passages .cell-passage >> nth=0")
    assert page.page.text_content("#passage-view .focus") == expected["text"].iloc[0]
    page.close()


def test_clicking_a_time_bin_lists_the_passages_counted_there(browser, demo):
    """A click on a point of the over-time chart lists that bin's passages of that framing: exactly the distinct
    units that units.parquet puts in that bin and framing."""
    import pandas as pd

    result, path = demo
    units = pd.read_parquet(path.parent / "units.parquet")
    shares = result.over_time(group="(all)")
    top = shares.sort_values("share", ascending=False, kind="stable").iloc[0]  # the highest point: no line over it
    page = Page(browser, path)
    page.page.evaluate("document.getElementById('time-panel').scrollIntoView({block: 'center'})")
    page.page.wait_for_function("window.framingTimeChart !== undefined")
    page.page.evaluate("window.framingTimeChart")
    bin_index = page.page.evaluate(f"window.framingReport.data.time.bins.indexOf({top['bin']!r})")
    point = page.page.evaluate(f"window.framingReport.timePointPixel({bin_index}, {int(top['framing'])})")
    page.page.mouse.move(point["x"], point["y"])
    page.page.wait_for_timeout(200)
    page.page.mouse.click(point["x"], point["y"])
    page.page.wait_for_selector("#time-passages li")
    listed = page.page.eval_on_selector("#time-passages", "list => ({...list.dataset})")
    assert (listed["bin"], int(listed["framing"]), listed["group"]) == (top["bin"], int(top["framing"]), "(all)")
    expected = units[(units["duplicate_of"] == "") & (units["time_bin"] == top["bin"])
                     & (units["framing"] == int(top["framing"]))]
    shown = page.page.eval_on_selector_all("#time-passages .time-passage", "nodes => nodes.map(n => n.dataset.unit)")
    assert sorted(shown) == sorted(expected["unit_id"]) and len(shown) == int(top["units"]) > 0
    page.page.click("#time-passages .time-passage >> nth=0")
    assert page.page.text_content("#passage-view .focus") == expected.set_index("unit_id").loc[shown[0], "text"]
    # one group's line: only that group's units are listed
    group = next(g for g in page.page.evaluate("window.framingReport.data.time.groups") if g != "(all)")
    code = page.page.evaluate(f"window.framingReport.data.time.groups.indexOf({group!r})")
    count = page.page.evaluate(f"window.framingReport.listBin({bin_index}, {int(top['framing'])}, {code})")
    in_group = expected[expected["group"] == group]
    assert count == len(in_group)
    assert page.errors == []
    page.close()


def test_a_tree_node_lists_its_framings_passages_and_a_level_regroups_the_map_and_table(browser, demo):
    """The framing tree: a click on a parent lists exactly the distinct units of the framings below it (as
    units.parquet and hierarchy.json have them); choosing level 1 colours and tabulates by its groups."""
    import json

    import pandas as pd

    result, path = demo
    units = pd.read_parquet(path.parent / "units.parquet")
    tree = json.loads((path.parent / "hierarchy.json").read_text())
    parent = next(p for p in tree["parents"] if 1 < len(p["leaves"]) < len(result.framings))
    page = Page(browser, path)
    assert page.page.is_visible("#tree-panel")
    page.page.evaluate("document.getElementById('tree-panel').scrollIntoView({block: 'center'})")
    node = f"#tree .tree-node[data-node='{parent['id']}']"
    if not page.page.is_visible(node):  # below the first two levels the tree starts folded: open the way to it
        page.page.evaluate(f"""(() => {{ let box = document.querySelector("{node}").closest('details');
            while (box) {{ box.open = true; box = box.parentElement.closest('details'); }} }})()""")
    page.page.click(node)
    page.page.wait_for_selector("#tree-passages li")
    assert page.page.eval_on_selector("#tree-passages", "list => list.dataset.node") == str(parent["id"])
    distinct = units[units["duplicate_of"] == ""]
    expected = distinct[distinct["framing"].isin(parent["leaves"])]
    shown = page.page.eval_on_selector_all("#tree-passages .tree-passage", "nodes => nodes.map(n => n.dataset.unit)")
    assert sorted(shown) == sorted(expected["unit_id"]) and parent["size"] == len(expected)
    assert "units" in page.page.text_content("#search-count")  # the map highlights them too
    page.page.click("#tree-passages .tree-passage >> nth=0")
    assert page.page.text_content("#passage-view .focus") == expected.set_index("unit_id").loc[shown[0], "text"]
    # level 1: the table has a column per group of that level, and its counts are the framings' summed
    page.page.select_option("#level", "1")
    page.page.wait_for_timeout(300)
    groups = {int(k): v for k, v in tree["levels"][0].items()}
    columns = page.page.evaluate("document.getElementById('heatmap').data[0].customdata[0].map(c => c[1])")
    assert sorted(columns) == sorted(set(groups.values()))
    source = distinct["source"].iloc[0]
    column = columns.index(groups[int(distinct["framing"][distinct["framing"] >= 0].iloc[0])])
    row = page.page.evaluate(f"document.getElementById('heatmap').data[0].customdata.findIndex(r => "
                             f"window.framingReport.data.sources[r[0][0]] === {source!r})")
    share = page.page.evaluate(f"document.getElementById('heatmap').data[0].z[{row}][{column}]")
    in_group = distinct[(distinct["source"] == source)
                        & distinct["framing"].map(lambda f: groups.get(int(f), -2) == columns[column])]
    assert share == pytest.approx(len(in_group) / (distinct["source"] == source).sum())
    assert page.errors == []
    page.close()


HOSTILE = [
    "The council said <script>alert(1)</script> was posted on the board at noon today.",
    "A reader wrote <img src=x onerror=alert(1)> under the article about the bridge.",
    "Someone typed </script><script>alert(2)</script> into the comment form again.",
    "The page template placeholder __APP__ and __DATA__ appeared in the caption text.",
    "Residents cheered 🎉 when the ferry 🚢 finally came back to the island harbour.",
]


@pytest.fixture(scope="module")
def hostile_report(cache_dir, tmp_path_factory):
    filler = ["The ferry returned to the harbour after the long strike ended on Monday.",
              "Bread prices in the river quarter doubled during the winter months.",
              "The council voted to repair the old bridge before the spring floods.",
              "Volunteers handed out blankets at the community centre every evening."]
    docs = [Document(f"doc-{i}", " ".join(filler[(i + k) % 4] for k in range(3)) + "\n\n" + HOSTILE[i % len(HOSTILE)],
                     source=f"<b>Outlet {i % 3}</b>", title=f"<i>Title {i}</i> & more", url="javascript:alert(3)")
            for i in range(12)]
    result = framing.analyze(Corpus(docs), embedding__cache_dir=str(cache_dir), reduce__n_neighbors=5,
                             cluster__min_cluster_size=3, units__near_duplicates=None, units__deduplicate=False,
                             progress=False)
    return result, saved_report(result, tmp_path_factory, "hostile")


def test_hostile_text_never_runs_and_shows_literally(browser, hostile_report):
    result, path = hostile_report
    page = Page(browser, path)
    for text in HOSTILE:
        index = int(result.units.index[result.units["text"] == text][0])
        page.click_unit(index)
        assert page.page.text_content("#passage-view .focus") == text  # literal, emoji offsets included
        page.page.click("#open-document")
        assert page.page.text_content("#document .unit.focus") == text
    assert page.dialogs == [] and page.errors == []
    assert page.page.evaluate("document.querySelectorAll('#side img, #side script, #framing-cards img').length") == 0
    assert page.page.evaluate("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    assert "<i>Title" in page.page.text_content("#document-title")
    page.close()


def test_contrast_panel_words_and_narratives_open_their_passages(browser, demo):
    result, path = demo  # the example config contrasts the outlets' leanings
    page = Page(browser, path)
    contrast = result.contrast()
    assert contrast.test["statistic"] in page.page.text_content("#contrast-test")
    # its charts are drawn once the panel comes near the screen
    page.page.evaluate("document.getElementById('contrast-panel').scrollIntoView()")
    page.page.evaluate("window.framingContrastCharts")
    bars = page.page.evaluate("document.getElementById('contrast-shares').data.map(t => t.name)")
    assert bars == list(contrast.groups)
    first = contrast.narratives[0]
    pair = f"{first['group_a']} vs {first['group_b']}"
    assert pair in page.page.evaluate("[...document.querySelectorAll('#contrast-pair option')].map(o => o.textContent)")
    page.page.select_option("#contrast-pair", label=pair)
    page.page.select_option("#contrast-framing", value=str(first["framing"]))
    shown = page.page.evaluate("[...document.querySelectorAll('#narrative-a .narrative-passage')].map(b => b.dataset.unit)")
    assert shown == first["passages_a"]
    page.page.click("#narrative-b .narrative-passage >> nth=0")
    text_of = dict(zip(result.units["unit_id"], result.units["text"]))
    assert page.page.text_content("#passage-view .focus") == text_of[first["passages_b"][0]]
    word = page.page.get_attribute("#narrative-a .word >> nth=0", "data-word")
    page.page.click("#narrative-a .word >> nth=0")
    expected = contrast.words_for(first["framing"], first["group_a"], first["group_b"])
    row = expected[(expected["side"] == "a") & (expected["word"] == word)].iloc[0]
    listed = page.page.evaluate("[...document.querySelectorAll('#word-passages .word-passage')].map(b => b.dataset.unit)")
    assert listed == row["unit_ids"] and all(word in text_of[u].lower() for u in listed)
    page.page.click("#word-passages .word-passage >> nth=0")
    assert page.page.text_content("#passage-view .focus") == text_of[listed[0]]
    assert page.errors == []
    page.close()


def test_label_three_passages_download_labels_and_the_next_run_learns_them(browser, tmp_path, cache_dir):
    """The labelling loop: the report proposes passages, three get a frame (a click, a key, a passage opened on the
    map), labels.csv is downloaded, and the next run trains on it and cross-validates with it."""
    import pandas as pd

    coded = pd.read_csv(Path(framing.__file__).parent / "data" / "labels" / "example-conflict.csv")
    start = coded.groupby("frame").head(4)[["text", "frame"]]
    spare = coded.loc[~coded["text"].isin(start["text"]), "text"].iloc[0]
    extra = pd.DataFrame({"text": ["A sentence that stands nowhere in the corpus.", spare],
                          "frame": ["humanitarian suffering", "peace and love"]})  # reported, never dropped silently
    pd.concat([start, extra]).to_csv(tmp_path / "start.csv", index=False)
    settings = dict(embedding__cache_dir=str(cache_dir), progress=False, contrast__bootstrap=100,
                    contrast__permutations=100)
    result = framing.analyze(None, "configs/example.yaml", frames__labels=str(tmp_path / "start.csv"), **settings)
    before = result.frames_data["labels"]["labelled_units"]
    assert before == len(start)
    path = framing.save_run(result, tmp_path / "run") / "report.html"
    page = Page(browser, path)
    p = page.page
    ids = result.units["unit_id"].tolist()
    names = result.frames_data["frames"]
    proposals = result.frames_data["proposals"]
    assert len(proposals) == 50 and not set(proposals) & set(result.units.loc[result.units["frame_origin"] == "label",
                                                                              "unit_id"])
    assert "Frames learned from" in p.text_content("#label-summary")
    p.click("#label-validation summary")  # the cross-validation: per frame, the confusion and the learning curve
    scores = p.evaluate("[...document.querySelectorAll('#label-scores tbody tr')].map(r => r.cells[0].textContent)")
    assert scores == names and "Learning curve" in p.text_content("#label-curve")
    confusion = result.frames_data["validation"]["confusion"]
    cells = p.evaluate("[...document.querySelectorAll('#label-confusion tr')].slice(1).map("
                       "r => [...r.querySelectorAll('td')].map(c => +c.textContent))")
    assert cells == confusion
    warning = p.text_content("#label-warnings")
    assert "1 label row(s) matched no unit" in warning and "peace and love (1)" in warning
    chosen = {}
    first = ids[int(p.get_attribute("#label-target .text", "data-unit"))]
    assert first == proposals[0]
    p.click('#label-buttons button[data-frame="war crimes and accountability"]')  # a click
    chosen[first] = "war crimes and accountability"
    second = ids[int(p.get_attribute("#label-target .text", "data-unit"))]
    assert second == proposals[1]
    p.keyboard.press("3")  # a key: the third frame
    chosen[second] = names[2]
    labelled_text = set(start["text"])
    pick = next(i for i, (u, t) in enumerate(zip(ids, result.units["text"]))
                if u not in chosen and t not in labelled_text and result.units["duplicate_of"].iloc[i] == "")
    page.click_unit(pick)  # any passage opened on the map can be labelled too
    p.click("#label-open")
    assert ids[int(p.get_attribute("#label-target .text", "data-unit"))] == ids[pick]
    p.click('#label-buttons button[data-frame="none"]')
    chosen[ids[pick]] = "none"
    assert "3 labelled here" in p.text_content("#label-count")
    with p.expect_download() as download:
        p.click("#download-labels")
    saved = tmp_path / "labels.csv"
    download.value.save_as(saved)
    assert page.errors == [] and all(r.startswith("file://") or r.startswith("blob:") for r in page.requests)
    page.close()

    labels = pd.read_csv(saved)
    assert list(labels.columns) == ["unit_id", "text", "frame"] and len(labels) == before + 3
    assert dict(zip(labels["unit_id"], labels["frame"])).items() >= chosen.items()
    rerun = framing.analyze(None, "configs/example.yaml", frames__labels=str(saved), **settings)
    assert rerun.frames_data["labels"]["labelled_units"] == before + 3
    assert rerun.frames_data["validation"]["labelled"] == before + 3  # the cross-validation holds them too
    units = rerun.units.set_index("unit_id")
    for unit_id, frame in chosen.items():
        assert units.at[unit_id, "frame_origin"] == "label" and units.at[unit_id, "frame"] == frame


def test_core_members_only_hides_attached_and_unassigned_points_and_the_header_gives_their_share(browser, demo):
    result, path = demo
    page = Page(browser, path)
    units = result.units[result.units["duplicate_of"] == ""]
    counts = result.manifest["counts"]
    share = round(100 * counts["unassigned"] / counts["distinct_units"])
    assert f"{counts['unassigned']} unassigned ({share}% of distinct units)" in page.page.text_content("#counts")
    drawn = "document.getElementById('map').data.flatMap(t => t.customdata || [])"
    assert len(page.page.evaluate(drawn)) == len(units)
    page.page.check("#core-only")
    page.page.wait_for_timeout(300)
    shown = page.page.evaluate(drawn)
    membership = dict(zip(range(len(result.units)), result.units["membership"].astype(str)))
    assert len(shown) == int((units["membership"] == "core").sum()) and all(membership[i] == "core" for i in shown)
    assert page.errors == []
    page.close()


def test_attached_units_are_drawn_hollow_and_said_to_be_attached(browser, demo):
    """Issue 26, item 4: every unit says whether it is a core member or attached, and the report shows it."""
    result, path = demo
    units = result.units.reset_index(drop=True)
    distinct = units[units["duplicate_of"] == ""]
    assert set(units["membership"].astype(str)) <= {"core", "attached", "none"}
    assert (units["reassigned"] == (units["membership"] == "attached")).all()
    assert units.loc[units["membership"] == "none", "centre_cosine"].isna().all()
    assert (units.loc[units["membership"] != "none", "centre_cosine"] >= 0.3 - 1e-6).all()
    page = Page(browser, path)
    hollow = page.page.evaluate("document.getElementById('map').data.filter(t => t.marker.symbol === 'circle-open')"
                                ".flatMap(t => t.customdata)")
    attached = set(distinct.index[distinct["membership"] == "attached"])
    assert attached and set(hollow) == attached
    unit = sorted(attached)[0]
    page.page.evaluate(f"window.framingReport.showPassage({unit})")
    page.page.wait_for_selector("#passage-view .membership")
    note = page.page.text_content("#passage-view .membership")
    assert note == f"attached after clustering: cosine {units.at[unit, 'centre_cosine']:.2f} to this framing's centre"
    core = int(distinct.index[distinct["membership"] == "core"][0])
    page.page.evaluate(f"window.framingReport.showPassage({core})")
    page.page.wait_for_timeout(200)
    assert page.page.text_content("#passage-view .membership").startswith("core member: cosine")
    # cards count both kinds, and their exemplars are core members
    first = result.framings[0]
    card = page.page.text_content(f".card[data-framing='{first.id}'] h3")
    assert f"{first.size} units ({first.core} core, {first.size - first.core} attached)" in card
    membership_of = dict(zip(units["unit_id"], units["membership"].astype(str)))
    assert all(membership_of[u] == "core" for f in result.framings for u in f.exemplars)
    assert page.errors == []
    page.close()


def test_map_draws_at_most_max_points_and_every_unit_stays_reachable(browser, example_result, tmp_path):
    import copy

    from framing.report import write_report

    result = copy.copy(example_result)
    result.manifest = copy.deepcopy(example_result.manifest)
    result.manifest["config"]["report"]["max_points"] = 100
    path = write_report(result, tmp_path / "report.html")
    page = Page(browser, path)
    drawn = "document.getElementById('map').data.flatMap(t => t.customdata || [])"
    shown = page.page.evaluate(drawn)
    units = result.units.reset_index(drop=True)
    positions = {u: i for i, u in enumerate(units["unit_id"])}
    exemplars = {positions[u] for f in result.framings for u in f.exemplars}
    assert len(shown) == 100 and exemplars <= set(shown)  # every framing's centre is on the map
    assert "draws 100 of" in page.page.text_content("#map-sample-note")
    # a unit the sample left out is still found by search, and drawn once highlighted
    hidden = next(i for i in range(len(units)) if i not in set(shown) and units.at[i, "duplicate_of"] == "")
    phrase = " ".join(units.at[hidden, "text"].split()[:6])  # whole words: search matches words, not parts
    page.page.evaluate(f"window.framingReport.search({chr(34) + phrase.replace(chr(34), '') + chr(34)!r})")
    assert hidden in page.page.evaluate(drawn)
    # and through its table cell
    source = int(page.page.evaluate(f"window.framingReport.data.units.source[{hidden}]"))
    framing_id = int(units.at[hidden, "framing"])
    if framing_id >= 0:
        page.page.evaluate(f"window.framingReport.listCell({source}, {framing_id})")
        listed = page.page.eval_on_selector_all("#cell-passages .cell-passage", "b => b.map(x => x.dataset.unit)")
        assert units.at[hidden, "unit_id"] in listed
    assert page.errors == []
    page.close()


@pytest.fixture(scope="module")
def served(demo):
    """`framing serve` on the demo run, on a free port, in a thread."""
    import threading

    from framing.report.serve import make_server

    result, path = demo
    server = make_server(path.parent, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield result, path.parent, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_serve_answers_only_local_reads(served):
    import json as json_module
    import urllib.error
    import urllib.request

    result, _, url = served
    units = result.units.reset_index(drop=True)
    with urllib.request.urlopen(url + "api/units?i=0,3") as response:
        assert json_module.loads(response.read()) == {"0": units.at[0, "text"], "3": units.at[3, "text"]}
    with urllib.request.urlopen(url + "api/docs?d=1") as response:
        assert json_module.loads(response.read()) == {"1": result.documents["text"].iloc[1]}
    for request in (urllib.request.Request(url + "api/units?i=0", method="POST", data=b""),
                    urllib.request.Request(url, headers={"Host": "attacker.example:80"})):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code in (403, 405)
    with urllib.request.urlopen(url + "favicon.ico") as response:  # issue 29: a 404 in the browser's console
        assert response.status == 204
    # Regression (issue 30, 6): "?i=²" killed the request with a traceback on the server's side
    for query in ("api/units?i=%C2%B2", "api/units?i=abc", "api/docs?d=99999999", "api/units?i=-1", "api/units?i=%ff"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + query)
        assert refused.value.code == 400, query


def test_serve_ignores_clients_that_hang_up(served, capfd):
    """Regression (issue 30, 6): a client that hung up filled stderr with BrokenPipeError tracebacks."""
    import socket
    import urllib.request
    from urllib.parse import urlsplit

    _, _, url = served
    address = urlsplit(url)
    for _ in range(5):
        with socket.create_connection((address.hostname, address.port)) as client:
            client.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{address.port}\r\n\r\n".encode())
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with urllib.request.urlopen(url + "api/units?i=0") as response:  # still serving
        assert response.status == 200
    assert "Traceback" not in capfd.readouterr().err


def test_served_page_fetches_passages_from_the_run(browser, served):
    result, run_dir, url = served
    import pandas as pd

    units = pd.read_parquet(run_dir / "units.parquet")
    documents = pd.read_parquet(run_dir / "documents.parquet")
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("window.framingReady === true", timeout=60_000)
    assert page.evaluate("window.framingReport.data.served") is True
    assert page.evaluate("window.framingReport.data.docs.text") is None  # no passage text in the page itself
    text_of = dict(zip(units["unit_id"], units["text"]))
    exemplar = page.eval_on_selector(".card .exemplar", "b => [b.dataset.unit, b.textContent]")
    assert text_of[exemplar[0]] == exemplar[1]
    page.click(".card .exemplar")
    page.wait_for_selector("#passage-view .focus")
    assert page.text_content("#passage-view .focus") == text_of[exemplar[0]]
    page.click("#open-document")
    page.wait_for_selector("#document-view:not(.hidden)")
    doc_id = units.set_index("unit_id").at[exemplar[0], "doc_id"]
    assert page.text_content("#document") == documents.set_index("doc_id").at[doc_id, "text"]
    word = "civilians"
    page.fill("#search", word)
    page.wait_for_function("document.getElementById('search-count').textContent.includes('match')")
    distinct = units[units["duplicate_of"] == ""]
    expected = int(distinct["text"].str.lower().str.contains(word, regex=False).sum())
    assert expected > 0
    assert page.text_content("#search-count").startswith(f"{expected} unit")
    first = result.framings[0]
    source = page.evaluate(f"window.framingReport.data.sources.indexOf({units[units['framing'] == first.id]['source'].iloc[0]!r})")
    page.evaluate(f"window.framingReport.listCell({source}, {first.id})")
    page.wait_for_selector("#cell-passages .cell-passage")
    listed = page.eval_on_selector_all("#cell-passages .cell-passage", "b => b.map(x => [x.dataset.unit, x.textContent])")
    assert listed and all(text_of[unit] == text for unit, text in listed)
    assert errors == []
    page.close()


def test_a_served_page_opened_as_a_file_says_how_to_open_it(browser, example_result, tmp_path):
    from framing.report import write_report

    page = Page(browser, write_report(example_result, tmp_path / "report.html", embed_text=False))
    assert "framing serve RUN_DIR" in page.page.text_content("#server-notice")
    page.close()


_DRAWN_CELL_COLOUR = """async ([row, col]) => {
  // the colour the heatmap drew for one cell, read from the image plotly.js renders the cells into
  const heat = document.getElementById('heatmap');
  const image = heat.querySelector('.hm image');
  const xa = heat._fullLayout.xaxis, ya = heat._fullLayout.yaxis;
  const x = xa.l2p(col), y = ya.l2p(row);  // the cell's centre in the plot area
  const box = { x: +image.getAttribute('x'), y: +image.getAttribute('y'), w: +image.getAttribute('width'),
                h: +image.getAttribute('height') };
  const picture = new Image();
  picture.src = image.getAttribute('href') || image.getAttribute('xlink:href');
  await picture.decode();
  const canvas = document.createElement('canvas');
  canvas.width = picture.naturalWidth; canvas.height = picture.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(picture, 0, 0);
  const px = Math.min(canvas.width - 1, Math.floor((x - box.x) * canvas.width / box.w));
  const py = Math.min(canvas.height - 1, Math.floor((y - box.y) * canvas.height / box.h));
  return Array.from(context.getImageData(px, py, 1, 1).data.slice(0, 3));
}"""


def test_the_heatmaps_darkest_cell_is_its_largest_share(browser, demo):
    """Issue 29: with plotly.js's "Blues" the largest share (0.29) was drawn as light as an empty cell."""
    _, path = demo
    page = Page(browser, path)
    page.page.evaluate("document.getElementById('heatmap').scrollIntoView()")
    page.page.wait_for_function("document.querySelector('#heatmap .hm image') !== null")
    z = page.page.evaluate("document.getElementById('heatmap').data[0].z")
    cells = [(value, r, c) for r, row in enumerate(z) for c, value in enumerate(row)]
    largest, smallest = max(cells), min(cells)
    assert largest[0] > smallest[0]

    def luminance(cell):
        red, green, blue = page.page.evaluate(_DRAWN_CELL_COLOUR, [cell[1], cell[2]])
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    dark, light = luminance(largest), luminance(smallest)
    assert dark < light - 100, (dark, light)  # the largest share is drawn dark, the smallest (near) white
    assert light > 230
    assert page.errors == []
    page.close()


def test_search_matches_whole_words_and_phrases_and_lists_the_passages(browser, demo):
    """Issue 29: "civilians" counted 15 matches but listed nothing, and "war" matched "toward" and "warehouses"."""
    import re

    result, path = demo
    units = result.units.reset_index(drop=True)
    distinct = units[units["duplicate_of"] == ""]

    def expected(*terms):
        patterns = [re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, t.split())) + r"(?!\w)", re.I) for t in terms]
        return {units.at[i, "unit_id"] for i in distinct.index if all(p.search(units.at[i, "text"]) for p in patterns)}

    page = Page(browser, path)
    for query, terms in (("civilians", ["civilians"]), ("war", ["war"]), ('"old market" army', ["old market", "army"])):
        page.page.evaluate(f"window.framingReport.search({query!r})")
        page.page.wait_for_timeout(300)
        listed = page.page.eval_on_selector_all("#search-passages .search-passage", "b => b.map(x => x.dataset.unit)")
        assert set(listed) == expected(*terms) and len(listed) == len(set(listed)), query
        assert page.page.text_content("#search-passages .meta").startswith(f"{len(listed)} passage")
    # "war" is never found inside another word
    assert all(re.search(r"(?<!\w)war(?!\w)", units.loc[units["unit_id"] == u, "text"].iloc[0], re.I)
               for u in expected("war"))
    page.page.evaluate("window.framingReport.search('civilians')")
    page.page.wait_for_timeout(300)
    first = page.page.eval_on_selector_all("#search-passages .search-passage", "b => b.map(x => x.dataset.unit)")[0]
    page.page.click(f"#search-passages .search-passage[data-unit='{first}']")
    page.page.wait_for_selector("#passage-view .focus")
    assert page.page.get_attribute("#passage-view .focus", "data-unit") == first
    assert page.errors == []
    page.close()


def test_cards_give_each_framings_stability_and_mark_the_unstable_ones(browser, demo):
    """Issue 26, item 2: every card says its framing's stability; those below the threshold are marked unstable."""
    result, path = demo
    settings = result.manifest["stability"]
    scores = {f.id: f.stability for f in result.framings}
    assert all(s is not None and 0.0 <= s <= 1.0 for s in scores.values())
    assert len(set(scores.values())) > 1  # it tells framings apart
    unstable = {i for i, s in scores.items() if s < settings["threshold"]}
    assert unstable == set(settings["unstable"])
    page = Page(browser, path)
    marked = set(page.page.eval_on_selector_all(".card.unstable", "cards => cards.map(c => +c.dataset.framing)"))
    assert marked == unstable
    for framing_id, score in scores.items():
        note = page.page.text_content(f".card[data-framing='{framing_id}'] .stability")
        assert f"{score:.2f}" in note and note.startswith("Unstable" if framing_id in unstable else "Stability")
    summary = page.page.text_content("#stability-summary")
    assert f"{len(unstable)} of {len(scores)} framings unstable" in summary
    assert f"mean ARI {settings['mean_ari']:.2f}" in summary
    # the source x framing table names them so too
    columns = page.page.evaluate("document.getElementById('heatmap').data[0].x")
    assert {int(c.split(":")[0]) for c in columns if c.endswith("(unstable)")} == unstable
    assert page.errors == []
    page.close()


def test_a_run_whose_unit_ids_are_its_own_opens_passages_by_them(browser, example_result, tmp_path):
    """Issue 28: unit ids that are not "<doc>#<index>" (e.g. ids kept from a record file) used to send the page's
    unitId into endless recursion. Each unit keeps its own id through points, exemplars and cell lists."""
    import copy
    import dataclasses

    from framing.report import write_report

    result = copy.copy(example_result)
    units = example_result.units.copy()
    renamed = {u: f"item-{k:05d}" for k, u in enumerate(units["unit_id"])}
    units["unit_id"] = units["unit_id"].map(renamed)
    units["duplicate_of"] = units["duplicate_of"].map(lambda u: renamed.get(u, u))
    result.units = units
    result.framings = [dataclasses.replace(f, exemplars=[renamed[u] for u in f.exemplars],
                                    caption=renamed.get(f.caption, f.caption)) for f in example_result.framings]
    path = write_report(result, tmp_path / "report.html")
    page = Page(browser, path)
    assert page.errors == []
    first = result.framings[0]
    button = page.page.query_selector(f".card[data-framing='{first.id}'] .exemplar")
    assert button.get_attribute("data-unit") == first.exemplars[0]
    button.click()
    page.page.wait_for_selector("#passage-view .focus")
    row = units.reset_index(drop=True)
    index = int(row.index[row["unit_id"] == first.exemplars[0]][0])
    assert page.page.text_content("#passage-view .focus") == row.at[index, "text"]
    page.click_unit(index)
    assert page.page.text_content("#passage-view .focus") == row.at[index, "text"]
    assert page.errors == []
    page.close()


def test_an_event_lists_each_groups_passages_side_by_side_as_units_parquet_has_them(browser, demo):
    """Issue 27: the events view; an event's passages per group are exactly units.parquet's for that event and
    group (distinct units), each opening in context."""
    import pandas as pd

    result, path = demo
    units = pd.read_parquet(path.parent / "units.parquet")
    assert not result.events.empty and {"event", "group"} <= set(units.columns)
    page = Page(browser, path)
    assert "events" in page.page.text_content("#events-meta")
    assert "permutation p" in page.page.text_content("#events-within")
    within = page.page.text_content("#contrast-within")  # the contrast panel says it too
    assert within.startswith("Within events (") and "agenda" in within and "framing" in within
    rows = page.page.eval_on_selector_all("#events-table tbody tr", "rows => rows.map(r => +r.dataset.event)")
    assert rows == list(result.events["id"])
    distinct = units[units["duplicate_of"] == ""]
    for event in list(result.events["id"])[:3]:
        page.page.click(f"#events-table tr[data-event='{event}'] .event-link")
        page.page.wait_for_selector("#event-view .event-columns .event-group")
        for group in sorted(g for g in distinct["group"].astype(str).unique() if g):
            listed = page.page.eval_on_selector_all(f"#event-view .event-group[data-group='{group}'] .event-passage",
                                                    "b => b.map(x => x.dataset.unit)")
            expected = distinct[(distinct["event"] == event) & (distinct["group"].astype(str) == group)]["unit_id"]
            assert sorted(listed) == sorted(expected)
    first = page.page.query_selector("#event-view .event-passage")
    unit = first.get_attribute("data-unit")
    first.click()
    page.page.wait_for_selector("#passage-view .focus")
    assert page.page.text_content("#passage-view .focus") == units.set_index("unit_id").at[unit, "text"]
    assert page.errors == []
    page.close()


def test_the_report_of_an_applied_model_opens_and_its_points_open_their_passages(browser, cache_dir, tmp_path):
    """Issue 28: a corpus placed into saved framings (framing apply / Framer.transform) gets a normal report."""
    from framing.report import write_report

    framer = framing.Framer("configs/example.yaml", embedding__cache_dir=str(cache_dir))
    framer.fit(progress=False)
    docs = [d for d in framing.load_corpus(None).documents if d.id.startswith(("voices", "frontline"))]
    applied = framing.Framer.load(framer.save(tmp_path / "model"), embedding__cache_dir=str(cache_dir)).transform(
        docs, progress=False)
    path = write_report(applied, tmp_path / "report.html")
    page = Page(browser, path)
    assert page.errors == []
    units = applied.units.reset_index(drop=True)
    cards = page.page.eval_on_selector_all(".card", "cards => cards.map(c => +c.dataset.framing)")
    assert cards == [f.id for f in applied.framings] == [f.id for f in framer.state_.framings]  # all, same order
    index = int(units.index[units["framing"] >= 0][0])
    page.click_unit(index)
    assert page.page.text_content("#passage-view .focus") == units.at[index, "text"]
    assert page.errors == []
    page.close()


@pytest.mark.parametrize("min_cluster_size", [6, 2])  # the example's 13 framings, then 47
def test_the_over_time_chart_is_small_multiples_one_framing_a_panel(browser, cache_dir, tmp_path, min_cluster_size):
    """Issue 29: the chart stays readable at 13 and at ~50 framings: one small panel per framing on shared axes,
    at most 12 panels at a time with a chooser for the rest, never more than one line in a panel (screenshot kept
    in the test's folder)."""
    from framing.report import write_report

    result = framing.analyze(None, "configs/example.yaml", embedding__cache_dir=str(cache_dir), progress=False,
                             cluster__min_cluster_size=min_cluster_size, stability__runs=0)
    path = write_report(result, tmp_path / "report.html")
    page = Page(browser, path)
    page.page.evaluate("document.getElementById('time-panel').scrollIntoView({block: 'center'})")
    page.page.wait_for_function("window.framingTimeChart !== undefined")
    page.page.evaluate("window.framingTimeChart")
    page.page.wait_for_timeout(300)

    def panels():
        return page.page.evaluate("""(() => { const c = document.getElementById('time-chart'), byAxis = {};
            for (const t of c.data) if (t.mode === 'lines+markers') (byAxis[t.xaxis] = byAxis[t.xaxis] || []).push(t.meta);
            return byAxis; })()""")

    first = panels()
    compared = {int(f) for f in result.over_time(group="(all)")["framing"]} - {-1}
    assert 1 <= len(first) <= 12 and all(len(lines) == 1 for lines in first.values())
    pages = page.page.eval_on_selector_all("#time-page option", "o => o.length")
    assert pages == -(-len(compared) // 12)
    seen = {lines[0] for lines in first.values()}
    for k in range(1, pages):  # every framing is on some page, once
        page.page.select_option("#time-page", str(k))
        page.page.wait_for_timeout(300)
        more = panels()
        assert all(len(lines) == 1 for lines in more.values())
        seen |= {lines[0] for lines in more.values()}
    assert seen == compared
    ranges = page.page.evaluate("(() => { const l = document.getElementById('time-chart').layout;"
                                " return Object.keys(l).filter(k => k.startsWith('yaxis')).map(k => l[k].range); })()")
    assert all(r == ranges[0] for r in ranges)  # shared axes: panels compare at a glance
    page.page.locator("#time-panel").screenshot(path=str(tmp_path / f"over-time-{len(compared)}.png"))
    assert page.errors == []
    page.close()
