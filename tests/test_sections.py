"""Section detection on pages written for the tests (three layouts) and on the real aleppo pages."""
import json
import sys
from pathlib import Path

from framing.corpus.documents import Document
from framing.units.sections import classify_blocks
from framing.units.segment import segment, text_blocks

FIXTURES = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(FIXTURES.parents[1] / "bench"))
import sections_eval  # noqa: E402  (the same scorer the note's figures come from)


def labelled(name: str) -> list[tuple[str, str]]:
    text = (FIXTURES / "pages" / name).read_text()
    blocks = [text[s:e] for s, e in text_blocks(text)]
    return list(zip(blocks, classify_blocks(blocks)))


def test_wordpress_thread():
    labels = dict(labelled("wordpress.txt"))
    assert labels["Posted on March 3, 2031 by Tomas Reyes"] == "byline"
    assert labels["Maria Lopez says:"] == labels["March 3, 2031 at 4:12 pm"] == labels["Reply"] == "byline"
    assert labels["Click to share on Twitter (Opens in new window)"] == "boilerplate"
    assert labels["Your email address will not be published. Required fields are marked *"] == "boilerplate"
    assert labels["© 2031 Coastal Notes. All rights reserved."] == "boilerplate"
    comment = next(b for b in labels if b.startswith("Greg, they tried arbitration"))
    assert labels[comment] == "comments"
    body = next(b for b in labels if b.startswith("The union says"))
    assert labels[body] == "body"


def test_forum_thread():
    pairs = labelled("forum.txt")
    assert {label for block, label in pairs if block in ("#2", "kestrel_77", "12 Mar 2031, 09:40", "Quote | Reply")} \
        == {"byline"}
    first_post = [label for block, label in pairs if block.startswith(("Our street", "Is anyone else"))]
    replies = [label for block, label in pairs if block.startswith(("Same here", "A neighbour", "Thanks,", "They told"))]
    assert first_post == ["body", "body"] and replies == ["comments"] * 4
    assert pairs[-1][1] == "boilerplate"


def test_news_page_with_newsletter_box_has_no_comments():
    pairs = labelled("newsletter.txt")
    assert "comments" not in {label for _, label in pairs}
    boiler = {block for block, label in pairs if label == "boilerplate"}
    assert {"Sign up for our morning briefing", "Subscribe", "Advertisement", "Most read",
            "Ferry workers extend strike into second week", "Topics: Flooding, City council, Climate",
            "Home | News | Environment | Local"} <= boiler
    assert sum(label == "body" for _, label in pairs) == 6


def test_every_line_of_the_written_pages_matches_its_hand_label():
    rows = sections_eval.pairs(FIXTURES / "pages", 0, FIXTURES / "pages" / "labels.json")
    assert [(name, true, guess) for name, true, guess in rows if true != guess] == []


def test_aleppo_sections_against_hand_labels(aleppo_path):
    rows = sections_eval.pairs(aleppo_path, 4)
    scores = sections_eval.scores(rows)
    comments_precision, comments_recall, _ = scores["comments"]
    boiler_precision, boiler_recall, _ = scores["boilerplate"]
    assert comments_precision >= 0.95 and comments_recall >= 0.95
    assert boiler_precision >= 0.9 and boiler_recall >= 0.75
    assert scores["byline"][:2] == (1.0, 1.0)


def test_bylines_are_not_units_and_windows_stay_in_their_section():
    text = ("An article sentence about the ferry strike is here. A second article sentence follows it now. "
            "A third article sentence ends the body.\n\nComments\n\nMaria Lopez says:\nMarch 3, 2031 at 4:12 pm\n"
            "The crews are exhausted and nobody listens to them at all.\nReply\n\nGreg Hollis says:\n"
            "March 3, 2031 at 5:40 pm\nStrikes always hit the people who can least afford them.\nReply\n")
    doc = Document("d", text)
    units = segment([doc], min_words=1)
    assert [u.section for u in units] == ["body"] * 3 + ["boilerplate"] + ["comments"] * 2  # "Comments" header
    assert not any("says:" in u.text or u.text == "Reply" for u in units)
    windows = segment([doc], kind="windows", window=2, min_words=1)
    assert [w.section for w in windows] == ["body", "body", "boilerplate", "comments"]
    assert all(doc.text[w.start:w.end] == w.text for w in windows)
    assert [u.section for u in segment([doc], min_words=1, detect_sections=False)] == ["body"] * len(
        segment([doc], min_words=1, detect_sections=False))


def test_hand_label_files_hold_no_corpus_text():
    for path in (FIXTURES / "aleppo_sections.json",):
        data = json.loads(path.read_text())
        for spec in data["files"].values():
            assert set(spec) == {"comments_from_line", "boilerplate_lines", "byline_lines"}
