import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framing.corpus.documents import Document
from framing.corpus.load import load_corpus
from framing.units.segment import segment, sentence_spans, text_blocks


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_abbreviations_do_not_split():
    text = ("Maj. Gen. Adrian Solberg met U.S. officials on Dec. 7 in Port Amsel. "
            "The talks, said Dr. Ilse Renn, went well. They resume on Jan. 3.")
    assert sentences(text) == [
        "Maj. Gen. Adrian Solberg met U.S. officials on Dec. 7 in Port Amsel.",
        "The talks, said Dr. Ilse Renn, went well.",
        "They resume on Jan. 3.",
    ]


def test_quotes_and_ellipses():
    text = '"We will stay," she said. He waited... Then he left. “Is it safe?” asked a nurse.'
    assert sentences(text) == ['"We will stay," she said.', "He waited...", "Then he left.",
                               "“Is it safe?” asked a nurse."]


def test_headings_and_list_lines_are_their_own_units():
    text = ("Army Enters the Old Market\n\nVARNO — Troops advanced on Tuesday. Residents cheered\n"
            "- food was handed out\n- power was restored\n1. First point here\nComments\nLena M.\n")
    assert sentences(text) == ["Army Enters the Old Market", "VARNO — Troops advanced on Tuesday.",
                               "Residents cheered", "- food was handed out", "- power was restored",
                               "1. First point here", "Comments", "Lena M."]


def test_hard_wrapped_paragraphs_are_joined_before_splitting():
    text = ("The convoy has waited at the crossing for nineteen days while the\n"
            "agencies negotiated with the authorities over the route it would\n"
            "take. Officials said permission would follow within a week or two.\n")
    spans = sentence_spans(text)
    assert len(spans) == 2
    assert text[spans[0][0]:spans[0][1]].endswith("route it would\ntake.")


def test_blocks_keep_windows_line_endings_out_of_spans():
    text = "One line here.\r\nSecond line here.\r\n\r\nThird paragraph."
    assert [text[s:e] for s, e in text_blocks(text)] == ["One line here.", "Second line here.", "Third paragraph."]


def test_segment_kinds_min_words_and_ids():
    doc = Document("d1", "Short.\n\nThe first real sentence is here. The second real sentence follows it. "
                         "A third sentence ends the paragraph.\n\nA new paragraph with one sentence only.")
    units = segment([doc], kind="sentences", min_words=4)
    assert [u.text for u in units] == ["The first real sentence is here.", "The second real sentence follows it.",
                                       "A third sentence ends the paragraph.",
                                       "A new paragraph with one sentence only."]
    assert [u.id for u in units] == ["d1#0", "d1#1", "d1#2", "d1#3"]
    assert segment([doc], min_words=1)[0].text == "Short."
    paragraphs = segment([doc], kind="paragraphs", min_words=4)
    assert len(paragraphs) == 2 and paragraphs[0].text.startswith("The first") and paragraphs[0].text.endswith(
        "paragraph.")
    windows = segment([doc], kind="windows", window=2, min_words=1)
    assert [w.text.split(".")[0] for w in windows] == ["Short", "The second real sentence follows it",
                                                       "A third sentence ends the paragraph"]
    overlapping = segment([doc], kind="windows", window=3, stride=1, min_words=1)
    assert len(overlapping) == 3  # 5 sentences, windows of 3 starting at 0, 1, 2
    with pytest.raises(ValueError, match="allowed: sentences, paragraphs, windows"):
        segment([doc], kind="words")




PIECES = ["U.S.", "Dec. 7", "Maj. Gen.", "Mr.", "...", "…", "!", "?", ".", ",", " ", "  ", "\n", "\n\n", "\r\n",
          "\t", '"', "“", "”", "'", "- ", "* ", "1. ", "—", "word", "Word", "Aleppo", "42", "e.g.", "(", ")", ":"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=80).map("".join),
    st.text(alphabet=string.printable + "“”’…—é\u00a0\u2028", max_size=300),
))
def test_offsets_are_exact_for_any_text(text):
    doc = Document("p", text)
    for kind in ("sentences", "paragraphs", "windows"):
        units = segment([doc], kind=kind, min_words=1)
        for unit in units:
            assert doc.text[unit.start:unit.end] == unit.text
            assert unit.text and unit.text == unit.text.strip()
        if kind != "windows":
            assert all(a.end <= b.start for a, b in zip(units, units[1:]))  # in order, never overlapping


def test_offsets_are_exact_on_the_bundled_corpus():
    corpus = load_corpus()
    for doc in corpus:
        units = segment([doc], min_words=1)
        assert units
        for unit in units:
            assert doc.text[unit.start:unit.end] == unit.text


def test_offsets_are_exact_on_real_scraped_pages(aleppo_path):
    corpus = load_corpus(aleppo_path)
    total = 0
    for doc in corpus:
        for kind in ("sentences", "paragraphs", "windows"):
            for unit in segment([doc], kind=kind, min_words=1):
                assert doc.text[unit.start:unit.end] == unit.text
                total += 1
    assert total > 1000


@pytest.mark.parametrize("kind", ["sentences", "windows"])
def test_worker_processes_segment_exactly_as_this_process_does(monkeypatch, kind):
    """A large corpus is segmented in worker processes (engine.processes) that send back offsets only; the units
    must be the ones this process makes, text cut from the same documents."""
    from framing.config import Config, EngineConfig
    from framing.engines import local

    config = Config.from_dict({"units": {"kind": kind}})
    documents = load_corpus(None, config.corpus).documents
    monkeypatch.setattr(local, "PARALLEL_SEGMENT_MIN_CHARS", 0)  # the bundled example is far below the threshold
    in_workers = local.LocalEngine(EngineConfig(processes=2)).segment(documents, config.units, progress=False)
    here = segment(documents, kind=kind, progress=False)
    assert list(in_workers) == here and len({u.doc_id for u in here}) == len(documents) > 8
    assert all(documents[[d.id for d in documents].index(u.doc_id)].text[u.start:u.end] == u.text for u in in_workers)


def test_the_unit_table_holds_the_units_as_columns_and_cuts_their_text_from_the_documents():
    import numpy as np

    from framing.config import Config
    from framing.corpus.load import load_corpus
    from framing.engines import segment_offsets, segment_options
    from framing.units.segment import UnitTable

    documents = load_corpus(None, Config().corpus).documents
    units = segment(documents, progress=False)
    table = UnitTable.from_units(units, documents)
    assert list(table) == units and len(table) == len(units)
    assert table.texts() == [u.text for u in units] and table.ids() == [u.id for u in units]
    assert table.doc_ids() == [u.doc_id for u in units] and table.sections() == [u.section for u in units]
    rows = np.array([5, 0, 17])
    assert list(table.take(rows)) == [units[k] for k in rows]
    assert all(documents[d].text[s:e] == t for d, s, e, t in
               zip(table.doc.tolist(), table.start.tolist(), table.end.tolist(), table.texts()))
    # what a worker sends back (offsets only) makes the same table
    offsets = segment_offsets(list(range(len(documents))), [d.text for d in documents],
                              segment_options(Config().units))
    assert list(UnitTable.from_offsets(documents, offsets)) == units
    # 34 bytes a unit in columns, where a Unit object with its id and text takes hundreds
    assert sum(column.nbytes for column in (table.doc, table.index, table.start, table.end, table.section)) \
        == 34 * len(table)


def test_unit_columns_cut_texts_and_make_ids_when_read(monkeypatch):
    import numpy as np

    from framing.config import Config
    from framing.corpus.load import load_corpus
    from framing.units.segment import UnitColumn, UnitTable

    documents = load_corpus(None, Config().corpus).documents
    units = segment(documents, progress=False)
    table = UnitTable.from_units(units, documents).take(np.arange(len(units))[::-1])  # any order of rows
    texts, ids = table.text_column(), table.id_column()
    monkeypatch.setattr(UnitColumn, "CHUNK", 7)  # iteration goes a chunk at a time
    assert list(texts) == table.texts() and list(ids) == table.ids() and len(texts) == len(units)
    assert texts[0] == units[-1].text and ids[-1] == units[0].id and ids[np.int64(3)] == units[-4].id
    assert texts[2:5] == [u.text for u in units[::-1][2:5]]
    with pytest.raises(IndexError):
        texts[len(units)]


def test_the_units_stage_decodes_a_stored_document_a_bounded_number_of_times(tmp_path, monkeypatch):
    """Regression (issue 30, 4): every unit re-decoded its whole document (a 2 MB page took 42 s, 5 MB 196 s)."""
    import framing
    from framing.config import Config
    from framing.corpus.documents import StoredDocuments
    from framing.units.duplicates import find_duplicates
    from framing.engines import make_engine

    sentence = "The convoy of {k} trucks waited at the crossing for a day while the talks went on."
    (tmp_path / "big.txt").write_text("\n\n".join(sentence.format(k=k) for k in range(3000)))
    (tmp_path / "small.txt").write_text("A short page about bread prices in the old city, told once.")
    corpus = framing.load_corpus(tmp_path)
    assert isinstance(corpus.documents, StoredDocuments)
    decoded: list[int] = []
    original = StoredDocuments.text

    def counting(self, position):
        if self._last[0] != position:
            decoded.append(position)
        return original(self, position)

    monkeypatch.setattr(StoredDocuments, "text", counting)
    config = Config()
    units = make_engine(config.engine, config.embedding).segment(corpus.documents, config.units, False)
    groups = find_duplicates(units.text_column(), threshold=config.units.near_duplicates)
    assert len(units) >= 3000 and groups.group.size == len(units)
    assert len(decoded) <= 12, f"{len(decoded)} decodes of 2 documents"


def test_a_long_run_of_punctuation_is_never_a_byline_or_boilerplate(monkeypatch):
    """Regression (issue 30, 4): a 40,000 '&' line took 102 s in the byline patterns; blocks longer than a byline
    or a boilerplate paragraph can be are not matched against them (so the patterns' time stays linear)."""
    import framing.units.sections as sections
    from framing.units.sections import classify_blocks

    seen: list[int] = []

    class Recording:
        def __init__(self, pattern):
            self.pattern = pattern

        def search(self, block):
            seen.append(len(block))
            return self.pattern.search(block)

    for name in ("_BYLINE", "_STRONG_BYLINE", "_BOILERPLATE_SHORT", "_BOILERPLATE_ANYWHERE"):
        monkeypatch.setattr(sections, name, [Recording(p) for p in getattr(sections, name)])

    # 14 "words" and no sentence end: before the length bound, the dateline pattern backtracked quadratically
    line = " ".join(["&" * 3000] * 14)
    labels = classify_blocks(["A first line of the page, with words in it.", line, "By Lena Vos"])
    assert labels[1] not in ("byline", "boilerplate") and labels[2] == "byline"
    assert seen and max(seen) <= 4000, f"a pattern was run over a block of {max(seen)} characters"
