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

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framing.config import Config, load_config
from framing.corpus.documents import Document
from framing.corpus.load import load_corpus
from framing.errors import FramingError
from framing.units.segment import segment

EXAMPLES = int(os.environ.get("FRAMING_FUZZ_EXAMPLES", "100"))
# derandomized by tests/conftest.py's profile unless FRAMING_FUZZ_RANDOM is set (bench/fuzz.py)
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


def _extreme_values(annotation) -> st.SearchStrategy:
    """Values at and past the edges of what a config field of this type takes, and values of the wrong type."""
    import typing

    kinds = {a for a in typing.get_args(annotation)} or {annotation}
    edges = [st.none(), st.booleans(), st.sampled_from(["", " ", "\0", "~", "..", "x" * 300, "é∑😀", "1e999", "-1"]),
             st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)]
    if int in kinds or annotation is int:
        edges.append(st.sampled_from([0, -1, 1, 2, 2**31, 2**32, 2**63, -2**63, 10**30]))
    if float in kinds or annotation is float:
        edges.append(st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-308, 1e308, float("inf"), float("-inf"),
                                      float("nan")]))
    edges.append(st.text(max_size=12))
    return st.one_of(*edges)


# every (section, key) of the config model, with values from its own type's edges
CONFIG_KEYS = [(section, key, field.annotation) for section, model_field in Config.model_fields.items()
               for key, field in model_field.annotation.model_fields.items()]


@FUZZ
@given(st.lists(st.sampled_from(CONFIG_KEYS).flatmap(
    lambda entry: st.tuples(st.just(entry[0]), st.just(entry[1]), _extreme_values(entry[2]))), min_size=1, max_size=3))
def test_fuzz_every_config_key_at_its_edges(settings_given):
    """Each key of the config model, generated from its type: a Config, or one FramingError line; never a traceback."""
    tree: dict = {}
    for section, key, value in settings_given:
        tree.setdefault(section, {})[key] = value
    try:
        assert isinstance(Config.from_dict(tree), Config)
    except FramingError as error:
        assert_one_line(error)


# -- odd paths beside and as --out ---------------------------------------------------------------------------------

NAME_PARTS = st.sampled_from(["run", ".run", ".partial-", ".old-", "-", "12345", "0123456789abcdef", "x", " ", "é",
                              "..", ".framing-staging", "\n"])


@FUZZ
@given(st.lists(st.lists(NAME_PARTS, min_size=1, max_size=6).map("".join), min_size=1, max_size=6, unique=True),
       st.booleans())
def test_fuzz_what_lies_beside_out_is_never_touched(sibling_names, as_folders):
    """Whatever a user keeps beside --out, named however it is, is there, unchanged, after a run is written."""
    from framing.store.outputs import atomic_folder

    parent = scratch()
    kept = {}
    for k, name in enumerate(sibling_names):
        if "/" in name or name in (".", "..", "run") or "\0" in name:
            continue
        path = parent / name
        try:
            if as_folders:
                path.mkdir()
                (path / "mine.txt").write_text(f"mine {k}")
            else:
                path.write_text(f"mine {k}")
        except OSError:
            continue
        kept[name] = f"mine {k}"
    manifest = json.dumps({"framing_version": "0", "config": {}, "files": ["run.json"]})
    with atomic_folder(parent / "run") as staging:
        (staging / "run.json").write_text(manifest)
    with atomic_folder(parent / "run") as staging:  # and replacing it
        (staging / "run.json").write_text(manifest)
    for name, content in kept.items():
        path = parent / name
        assert (path / "mine.txt" if as_folders else path).read_text() == content, name
    assert sorted(p.name for p in parent.iterdir()) == sorted([*kept, "run"])


@FUZZ
@given(st.one_of(st.text(max_size=300), st.lists(NAME_PARTS, max_size=8).map("".join),
                 st.tuples(st.sampled_from("xé😀"), st.integers(60, 300)).map(lambda pair: pair[0] * pair[1])))
def test_fuzz_out_names(name):
    """Any --out a user types is accepted as a place to write, or refused in one line before any work."""
    from framing.store.outputs import check_run_target

    from framing.store.outputs import atomic_folder

    folder = scratch()
    target = folder / name if name else folder
    try:
        check_run_target(target, corpus_path=folder / "corpus")
    except FramingError as error:
        assert_one_line(error)
        return
    except ValueError as error:  # a NUL in a path: Python refuses it before framing sees it
        assert "null" in str(error).lower() or "embedded" in str(error).lower()
        return
    # accepted before the work: then writing the run there must work too (not fail after all the work is done)
    with atomic_folder(target) as staging:
        (staging / "run.json").write_text("{}")
    assert (target / "run.json").is_file()


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
HUGE_INT = "<an integer of 5,001 digits>"  # written into the line by hand: hypothesis cannot print such an int
# record shapes a scraper or an export can produce: deep nesting, integers past any limit, objects where text goes
RECORD_SHAPES = st.recursive(
    st.one_of(RECORD_VALUES, st.sampled_from([HUGE_INT, -(2**70), 2**64, 1e308])),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=10)


@FUZZ
@given(st.lists(st.dictionaries(st.sampled_from(["text", "source", "id", "date", "title", "meta"]), RECORD_SHAPES,
                                max_size=6), max_size=6),
       st.sampled_from([None, "id", "source"]), st.integers(0, 3))
def test_fuzz_record_shapes(records, id_field, depth_power):
    """Records of any shape, with or without corpus.id_field: documents, or one FramingError line."""
    from framing.config import CorpusConfig

    lines = [json.dumps(record, ensure_ascii=True).replace(json.dumps(HUGE_INT), "9" * 5001) for record in records]
    lines.append('{"text": "nested", "x": ' + "[" * 10 ** depth_power + "]" * 10 ** depth_power + "}")
    path = scratch() / "docs.jsonl"
    path.write_text("\n".join(lines))
    try:
        corpus = load_corpus(path, CorpusConfig(id_field=id_field))
    except FramingError as error:
        assert_one_line(error)
        return
    assert all(isinstance(doc.id, str) and doc.id for doc in corpus)


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


# -- whole runs with settings at their edges ----------------------------------------------------------------------

# Settings a whole run can take here: not those that name other models, engines, files or folders.
_NOT_RUN = {("engine", "name"), ("engine", "address"), ("embedding", "model"), ("embedding", "cache_dir"),
            ("embedding", "backend"), ("embedding", "device"), ("corpus", "path"), ("corpus", "metadata"),
            ("run", "out_dir"), ("run", "name"), ("frames", "labels"), ("frames", "codebook"),
            ("describe", "match_run")}
RUN_KEYS = [entry for entry in CONFIG_KEYS if entry[:2] not in _NOT_RUN]
RUNS = settings(max_examples=int(os.environ.get("FRAMING_FUZZ_RUNS", "12")), deadline=None,
                suppress_health_check=list(HealthCheck))


@pytest.mark.slow
@RUNS
@given(st.lists(st.sampled_from(RUN_KEYS).flatmap(
    lambda entry: st.tuples(st.just(entry[0]), st.just(entry[1]), _extreme_values(entry[2]))), min_size=1, max_size=2))
def test_fuzz_whole_runs_with_settings_at_their_edges(cache_dir, settings_given):
    """A run of the example with one or two settings at their edges gives a Result or one FramingError line."""
    import framing

    tree: dict = {"embedding": {"cache_dir": str(cache_dir)}}
    for section, key, value in settings_given:
        tree.setdefault(section, {})[key] = value
    try:
        config = Config.from_dict(tree)
    except FramingError:
        return
    try:
        framing.analyze(None, config, progress=False)
    except FramingError as error:
        assert_one_line(error)
