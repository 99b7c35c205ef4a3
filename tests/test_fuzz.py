"""Fuzzing with hypothesis: the config loader, the corpus readers and the segmenter never fail with a traceback.

Every target either succeeds with a well-formed result or raises ``FramingError`` with one short line. The number
of inputs per target is ``FRAMING_FUZZ_EXAMPLES`` (default 100, what CI runs); ``python bench/fuzz.py`` runs
thousands and prints what was tried and found.
"""
import codecs
import csv
import io
import json
import os
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framing.config import Config, load_config
from framing.corpus.documents import Document, load_corpus
from framing.errors import FramingError
from framing.units.segment import segment

EXAMPLES = int(os.environ.get("FRAMING_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
SURROGATE = re.compile(r"[\ud800-\udfff]")

# Any code point, surrogates and controls included: what a scraped page or a broken JSON escape can hold.
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=400)
WORDY_TEXT = st.lists(st.sampled_from(["The", "convoy", "reached", "U.S.", "Dr.", "gate", ".", "!", "?", "\n", "\n\n",
                                       " ", "\t", "“quoted”", "—", "…", "1.", "-", "\u00a0", "\u2028", "\r\n", "😀",
                                       "\ud83d", "\x00", "\x0b", "e\u0301", "ﬁ", "İ"]), max_size=120).map("".join)


def assert_one_line(error: FramingError) -> None:
    message = str(error)
    assert message and "\n" not in message and len(message) < 600, message


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="framing-fuzz-"))


# -- the config loader ---------------------------------------------------------------------------------------------

SECTIONS = {name: list(field.annotation.model_fields) for name, field in Config.model_fields.items()}
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=30), st.sampled_from(["cosine", "leaf", "~", ".", "..", "a/b", "inf", "1e999"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
CONFIG_TREES = st.dictionaries(
    st.sampled_from([*SECTIONS, "unknown", "1"]),
    st.one_of(VALUES, st.dictionaries(st.sampled_from([k for keys in SECTIONS.values() for k in keys] + ["typo"]),
                                      VALUES, max_size=5)),
    max_size=5)


def load_config_text(text: str | bytes) -> None:
    folder = scratch()
    path = folder / "config.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    try:
        config = load_config(path)
        assert isinstance(config, Config)
    except FramingError as error:
        assert_one_line(error)


@FUZZ
@given(CONFIG_TREES)
def test_fuzz_config_structures(tree):
    load_config_text(yaml.safe_dump(tree, allow_unicode=True))


@FUZZ
@given(st.one_of(ANY_TEXT, st.binary(max_size=300),
                 st.lists(st.sampled_from(["run:", "  name:", " &a", " *a", "[", "]", "{", "}", ":", "- ", "\n",
                                           "'", '"', "!!python/object:os.system", "<<: *a", "\t", "%YAML 1.1",
                                           "---", "...", "? ", "|", ">", "cluster:", "  min_cluster_size: 3"]),
                          max_size=40).map("".join)))
def test_fuzz_config_text(text):
    load_config_text(text)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from([f"{s}.{k}" for s, keys in SECTIONS.items() for k in keys] + ["x", "a..b"]),
                          st.text(max_size=20)), max_size=4))
def test_fuzz_config_overrides(pairs):
    try:
        assert isinstance(load_config(None, [f"{key}={value}" for key, value in pairs]), Config)
    except FramingError as error:
        assert_one_line(error)


# -- the corpus readers --------------------------------------------------------------------------------------------

def read(path: Path):
    """Load a corpus; a result must hold only clean text (no surrogates), an error must be one line."""
    try:
        corpus = load_corpus(path)
    except FramingError as error:
        assert_one_line(error)
        return None
    for doc in corpus:
        for value in (doc.id, doc.text, doc.source, doc.title, doc.date, doc.url, *doc.meta, *doc.meta.values()):
            assert isinstance(value, str) and not SURROGATE.search(value)
        assert doc.text.strip()
    return corpus


RECORD_VALUES = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.booleans(), ANY_TEXT,
                          st.lists(st.integers(), max_size=3))


@FUZZ
@given(st.lists(st.one_of(st.dictionaries(st.sampled_from(["text", "source", "id", "date", "title", "x"]),
                                          RECORD_VALUES, max_size=5),
                          RECORD_VALUES), max_size=8),
       st.binary(max_size=40))
def test_fuzz_jsonl(records, junk):
    lines = [json.dumps(r, ensure_ascii=True) for r in records]  # ensure_ascii: surrogates travel as escapes
    path = scratch() / "docs.jsonl"
    path.write_bytes("\n".join(lines).encode() + (b"\n" + junk if junk else b""))
    read(path)


@FUZZ
@given(st.lists(st.lists(ANY_TEXT.map(lambda t: SURROGATE.sub("", t)), min_size=1, max_size=4), max_size=8),
       st.sampled_from(["clean", "cut", "quote", "junk"]), st.integers(0, 10**6))
def test_fuzz_csv(rows, damage, where):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "text", "source"])
    writer.writerows(rows)
    data = buffer.getvalue()
    if data and damage == "cut":
        data = data[: where % len(data)]
    elif data and damage == "quote":
        position = where % len(data)
        data = data[:position] + '"' + data[position:]
    elif damage == "junk":
        data += "\x00\x01,\"\n,,\r\r\"\""
    path = scratch() / "docs.csv"
    path.write_text(data, encoding="utf-8")
    corpus = read(path)
    if damage == "clean" and corpus is not None:
        # a well-formed file loses no record: every row with text is a document, in order
        expected = [r[1] for r in rows if len(r) == 3 and r[1].strip()]
        assert [d.text for d in corpus] == expected


@FUZZ
@given(st.lists(st.sampled_from(["<html>", "<body>", "<p>", "</p>", "<article>", "</article>", "<script>", "</script>",
                                 "<div class='comment'>", "</div>", "<h1>", "&amp;", "&#xd83d;", "&#0;", "<!--", "-->",
                                 "<meta charset='utf-16'>", "The convoy reached the gate at dawn.", "\x00", "<",
                                 ">", "<title>", "</title>", "<![CDATA[", "]]>", "<a href='javascript:x'>"]),
                max_size=40).map("".join))
def test_fuzz_html(page):
    folder = scratch()
    (folder / "page.html").write_text(page, encoding="utf-8")
    read(folder)


ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1", "cp1251",
             "shift_jis", "gb18030", "koi8-r"]


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=300),
       st.sampled_from(ENCODINGS), st.binary(max_size=50), st.booleans())
def test_fuzz_text_files(text, encoding, junk, add_junk):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
        encoding = "utf-8"
    if add_junk:
        data += junk
    folder = scratch()
    (folder / "doc.txt").write_bytes(data)
    corpus = read(folder)
    with_bom = encoding in ("utf-8-sig", "utf-16", "utf-32")
    if (encoding in ("utf-8", "utf-8-sig") or with_bom) and not add_junk and text.strip():
        # lossless encodings come back exactly (a BOM says which one; UTF-8 needs none)
        assert corpus is not None and [d.text for d in corpus] == [text]


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_raw_bytes(data):
    folder = scratch()
    (folder / "doc.txt").write_bytes(data)
    read(folder)


def test_utf16_and_utf32_boms_are_told_apart():
    # UTF-32-LE's mark begins with UTF-16-LE's: the longer one must win
    folder = scratch()
    (folder / "doc.txt").write_bytes(codecs.BOM_UTF32_LE + "Plain words.".encode("utf-32-le"))
    assert [d.text for d in load_corpus(folder)] == ["Plain words."]


# -- the segmenter -------------------------------------------------------------------------------------------------

@FUZZ
@given(st.one_of(ANY_TEXT, WORDY_TEXT), st.sampled_from(["sentences", "paragraphs", "windows"]),
       st.booleans(), st.integers(1, 4))
def test_fuzz_segmenter(text, kind, sections, min_words):
    """Offsets are always exact, units ordered, and nothing raises, whatever the text."""
    doc = Document("d", text)
    units = segment([doc], kind=kind, min_words=min_words, detect_sections=sections, window=2, stride=1)
    for unit in units:
        assert doc.text[unit.start:unit.end] == unit.text and unit.text.strip()
        assert unit.section in ("body", "comments", "boilerplate")
    if kind != "windows":  # sentences and paragraphs never overlap and come in order
        assert all(a.end <= b.start for a, b in zip(units, units[1:]))
