import json
from pathlib import Path

import pytest

from framing.config import CorpusConfig
from framing.corpus.documents import example_corpus_path
from framing.corpus.load import load_corpus
from framing.errors import FramingError


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_folder_with_sidecar_metadata(tmp_path):
    write(tmp_path / "a.txt", "First document. It has two sentences.")
    write(tmp_path / "nested" / "b.md", "# Heading\n\nSecond document.")
    write(tmp_path / "metadata.csv", "file,source,date,title,leaning\na.txt,Outlet A,2031-01-02,Title A,left\n"
                                     "nested/b.md,Outlet B,2031-01-03,Title B,right\n")
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus] == ["a.txt", "nested/b.md"]  # stable ids: relative paths, sorted
    a, b = corpus.documents
    assert (a.source, a.date, a.title, dict(a.meta)) == ("Outlet A", "2031-01-02", "Title A", {"leaning": "left"})
    assert b.source == "Outlet B"
    assert set(corpus.input_hashes) == {"a.txt", "nested/b.md"}
    assert not corpus.warnings


def test_text_is_kept_exactly_as_decoded(tmp_path):
    text = "  Line one.\r\n\r\n\tLine “two” — with dashes…\n\n\n"
    write(tmp_path / "a.txt", text.encode("utf-8"))
    assert load_corpus(tmp_path).documents[0].text == text


def test_sidecar_mismatches_are_warned(tmp_path):
    write(tmp_path / "a.txt", "Some text here.")
    write(tmp_path / "b.txt", "More text here.")
    write(tmp_path / "sources.csv", "file,source\na.txt,X\nmissing.txt,Y\n")
    corpus = load_corpus(tmp_path)
    assert corpus.documents[1].source == "unknown"
    assert any("no row in sources.csv: b.txt" in w for w in corpus.warnings)
    assert any("match no file: missing.txt" in w for w in corpus.warnings)


def test_sidecar_without_key_column_is_a_user_error(tmp_path):
    write(tmp_path / "a.txt", "Some text here.")
    write(tmp_path / "metadata.csv", "name,source\na.txt,X\n")
    with pytest.raises(FramingError, match="no column 'file'.*corpus.metadata_key"):
        load_corpus(tmp_path)


def test_empty_binary_and_non_utf8_files(tmp_path, caplog):
    write(tmp_path / "good.txt", "A readable document with words.")
    write(tmp_path / "empty.txt", "  \n\n")
    write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path / "latin.txt", "Caf\u00e9 cr\u00e8me \u00e0 la fran\u00e7aise, d\u00e9j\u00e0 servi \u00e0 "
                                  "l'\u00e9t\u00e9 dans le quartier.".encode("latin-1"))
    with caplog.at_level("WARNING"):
        corpus = load_corpus(tmp_path)
    ids = [d.id for d in corpus]
    assert ids == ["good.txt", "latin.txt"]
    assert dict(corpus.skipped) == {"empty.txt": "empty", "image.txt": "binary"}
    latin = corpus.documents[1].text
    assert "déjà" in latin and "\ufffd" not in latin
    assert any("latin.txt: not UTF-8" in w for w in corpus.warnings)
    assert any("skipped 2 input(s)" in r.message for r in caplog.records)


def test_non_western_encodings_are_detected(tmp_path):
    russian = "Город был освобождён армией после долгой осады, сообщили местные жители и журналисты. " * 3
    write(tmp_path / "ru.txt", russian.encode("cp1251"))
    write(tmp_path / "en.txt", "The café owner said the “siege” had ended — finally. ".encode("cp1252"))
    corpus = load_corpus(tmp_path)
    texts = {d.id: d.text for d in corpus}
    assert texts["ru.txt"] == russian
    assert texts["en.txt"].startswith("The café owner said the “siege” had ended — finally.")


def test_jsonl_and_csv_records(tmp_path):
    rows = [{"id": "x1", "body": "One text.", "outlet": "A", "lang": "en"},
            {"id": "x2", "body": "Two text.", "outlet": "B", "lang": "en"},
            {"id": "x3", "body": "", "outlet": "B", "lang": "en"}]
    write(tmp_path / "c.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    config = CorpusConfig(text_field="body", id_field="id", source_field="outlet")
    corpus = load_corpus(tmp_path / "c.jsonl", config)
    assert [(d.id, d.source, d.text, dict(d.meta)) for d in corpus] == [
        ("x1", "A", "One text.", {"lang": "en"}), ("x2", "B", "Two text.", {"lang": "en"})]
    assert corpus.skipped == [("x3", "empty")]
    write(tmp_path / "c.csv", "text,source\n\"A text, with a comma.\",S1\nAnother one.,S2\n")
    corpus = load_corpus(tmp_path / "c.csv")
    assert [(d.id, d.source) for d in corpus] == [("c.csv:1", "S1"), ("c.csv:2", "S2")]
    assert corpus.documents[0].text == "A text, with a comma."


def test_user_errors_are_framing_errors(tmp_path):
    with pytest.raises(FramingError, match="corpus not found"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(FramingError, match="no documents in"):
        load_corpus(tmp_path)
    write(tmp_path / "x.jsonl", '{"text": "ok"}\nnot json\n')
    with pytest.raises(FramingError, match=r"x.jsonl:2: not valid JSON"):
        load_corpus(tmp_path / "x.jsonl")
    write(tmp_path / "y.jsonl", '{"body": "ok"}\n')
    with pytest.raises(FramingError, match="no field 'text'.*corpus.text_field"):
        load_corpus(tmp_path / "y.jsonl")
    write(tmp_path / "z.pdf", "%PDF")
    with pytest.raises(FramingError, match="expected a folder, a .jsonl, .csv or .parquet"):
        load_corpus(tmp_path / "z.pdf")


def test_bundled_example_corpus_meets_its_brief():
    corpus = load_corpus(example_corpus_path())
    assert len(corpus) >= 12
    assert len({d.source for d in corpus}) >= 4
    assert {d.meta["leaning"] for d in corpus} >= {"state", "opposition", "wire"}
    assert all(d.title and d.date for d in corpus)
    assert not corpus.warnings
    assert sum("\nComments\n" in d.text for d in corpus) >= 3  # reader comments under some articles
    from framing.units.segment import sentence_spans

    assert sum(len(sentence_spans(d.text)) for d in corpus) >= 250


def test_aleppo_corpus_reads_with_its_sidecar(aleppo_path):
    corpus = load_corpus(aleppo_path, CorpusConfig(date_field="published"))
    assert len(corpus) == 5
    assert {d.source for d in corpus} == {"SouthFront", "Global Research", "ZeroHedge", "YourDemocracy blog",
                                          "EA WorldView"}
    assert all(d.date.startswith("20") for d in corpus)


def test_html_pages_give_main_text_comments_and_metadata(tmp_path):
    from framing.units.segment import segment

    page = (Path(__file__).parent / "fixtures" / "html" / "ferry-strike.html").read_text()
    write(tmp_path / "ferry.html", page)
    write(tmp_path / "broken.htm", "<html><head><title>x</title></head><body></body></html>")
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus] == ["ferry.html"] and corpus.skipped == [("broken.htm", "no main text in the page")]
    doc = corpus.documents[0]
    assert doc.title == "Why the Ferry Strike Matters for the Whole Coast"
    assert doc.source == "Coastal Notes" and doc.meta["author"] == "Tomas Reyes"
    assert doc.date.startswith("2024-03-03")
    assert "<" not in doc.text and "tracker" not in doc.text and "Privacy policy" not in doc.text
    units = segment([doc])
    sections = {u.text: u.section for u in units}
    assert sections["The union says the company has cut crews to the legal minimum while doubling the number of "
                    "daily crossings."] == "body"
    assert sections["The crews are exhausted."] == "comments"
    assert not any("says:" in text for text in sections)
    assert all(doc.text[u.start:u.end] == u.text for u in units)


def test_parquet_records(tmp_path):
    import pandas as pd

    pd.DataFrame({"id": ["a", "b"], "text": ["First text here.", "Second text here."], "source": ["X", "Y"],
                  "stance": ["pro", None]}).to_parquet(tmp_path / "docs.parquet")
    corpus = load_corpus(tmp_path / "docs.parquet", CorpusConfig(id_field="id"))
    assert [(d.id, d.source, d.text) for d in corpus] == [("a", "X", "First text here."), ("b", "Y", "Second text here.")]
    assert corpus.documents[0].meta["stance"] == "pro" and corpus.documents[1].meta["stance"] == ""
    write(tmp_path / "bad.parquet", b"not a parquet file at all")
    with pytest.raises(FramingError, match="cannot read .*bad.parquet as parquet"):
        load_corpus(tmp_path / "bad.parquet")


def write_shards(root: Path) -> Path:
    """Two JSONL shards and a Parquet one under root/shards/, plus a file the pattern must not take."""
    import pandas as pd

    write(root / "shards" / "part-0.jsonl", "\n".join(json.dumps(r) for r in [
        {"text": "The first shard's opening text.", "source": "A"},
        {"text": "", "source": "A"},
        {"text": "The first shard's closing text.", "source": "B"}]) + "\n")
    write(root / "shards" / "part-1.jsonl", json.dumps({"text": "The second shard's only text.", "source": "B"}) + "\n")
    pd.DataFrame({"text": ["A parquet shard's text."], "source": ["C"]}).to_parquet(root / "shards" / "part-2.parquet")
    write(root / "shards" / "README.md", "not a shard")
    return root / "shards"


def test_a_pattern_reads_record_shards_in_order(tmp_path):
    shards = write_shards(tmp_path)
    corpus = load_corpus(str(shards / "part-*"))
    assert [(d.id, d.source) for d in corpus] == [
        ("part-0.jsonl:1", "A"), ("part-0.jsonl:3", "B"), ("part-1.jsonl:1", "B"), ("part-2.parquet:1", "C")]
    assert corpus.documents[2].text == "The second shard's only text."
    assert corpus.skipped == [("part-0.jsonl:2", "empty")]
    assert sorted(corpus.input_hashes) == ["part-0.jsonl", "part-1.jsonl", "part-2.parquet"]
    assert len(load_corpus(str(shards / "*.jsonl"))) == 3
    with pytest.raises(FramingError, match="not .jsonl, .csv or .parquet shards: README.md"):
        load_corpus(str(shards / "*"))
    with pytest.raises(FramingError, match="no file matches"):
        load_corpus(str(shards / "part-*.csv"))


def test_a_read_corpus_keeps_its_texts_in_a_scratch_file_and_gives_them_back_exactly(tmp_path):
    import pickle

    from framing.corpus.documents import Document, StoredDocuments, document_values

    documents = [Document("a", "Plain text. Second sentence.", source="s1", meta={"lean": "x"}),
                 Document("b", "", title="empty"),
                 Document("c", "Émigrés 🎉 two astral 𝕏 and CJK 漢字, a combining e\u0301.", date="2016-12-01"),
                 Document("d", "\r\nCR LF kept\u2028 line separator", url="http://example.org/d")]
    stored = StoredDocuments(tmp_path)
    stored.append(documents[0])
    assert stored[0] == documents[0]  # readable while the corpus is still being read
    stored.extend(documents[1:])
    assert list(tmp_path.iterdir()) == []  # the file has no name: nothing is left behind, even by a killed run
    assert list(stored) == documents and stored[-1] == documents[-1] and stored[1:3] == documents[1:3]
    assert stored == documents and stored != documents[:3] and stored != documents[::-1]
    with pytest.raises(IndexError):
        stored[4]
    for name in ("id", "source", "title", "date", "url", "meta", "text"):
        assert document_values(stored, name) == [getattr(d, name) for d in documents], name
        assert document_values(stored, name, [2, 0]) == document_values(documents, name, [2, 0]), name
    assert pickle.loads(pickle.dumps(stored)) == documents  # a worker gets plain documents
    corpus = load_corpus(example_corpus_path(), scratch=tmp_path)
    assert isinstance(corpus.documents, StoredDocuments) and list(tmp_path.iterdir()) == []
    folder = example_corpus_path()
    by_name = {d.id: d.text for d in corpus.documents}
    assert by_name["cpa-01-advance.txt"] == (folder / "cpa-01-advance.txt").read_bytes().decode("utf-8")
