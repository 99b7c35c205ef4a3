"""A record file (.jsonl, .csv, .parquet) is parsed as it is read and handed on in parts: the documents, skips,
warnings and ids are those of reading it whole, and a large file never passes through memory at once."""
import codecs
import json
import tracemalloc
from pathlib import Path

import pytest

from framing.corpus import records as corpus_module
from framing.config import CorpusConfig
from framing.corpus.load import load_corpus
from framing.corpus.records import read_records
from framing.errors import FramingError


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def everything(corpus) -> tuple:
    return ([(d.id, d.text, d.source, d.title, d.date, d.url, dict(d.meta)) for d in corpus.documents],
            corpus.skipped, corpus.warnings, corpus.input_hashes)


def parts_of(path: Path, config: CorpusConfig, part_chars: int) -> list:
    return list(read_records((str(path), path.name, config, part_chars)))


JSONL_RECORDS = [
    {"text": "The convoy left at dawn.", "source": "A", "date": "2016-12-01"},
    {"text": "", "source": "A"},
    {"body": "no text field here", "source": "B"},
    {"text": "Broken emoji \ud83d in a line.", "source": "B", "title": "Surrogate"},
    {"text": 42, "source": "C"},
    {"text": "A line separator \u2028 and a next-line \x85 inside the string.", "source": "C"},
    {"text": "Ünïcödé and 中文 and 😀 text.", "source": "A", "stance": "pro"},
]


def jsonl_text(line_end: str = "\n") -> str:
    # raw UTF-8, but the lone surrogate escaped as JSON writes it (\\ud83d): raw, it is not UTF-8 at all
    lines = [json.dumps(r, ensure_ascii=False).replace("\ud83d", "\\ud83d") for r in JSONL_RECORDS]
    lines.insert(3, "   ")  # a blank line is not a record
    return line_end.join(lines) + line_end


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_jsonl_read_in_parts_equals_reading_it_whole(tmp_path, monkeypatch, line_end):
    path = write(tmp_path / "docs.jsonl", jsonl_text(line_end))
    whole = everything(load_corpus(path))
    assert [d[0] for d in whole[0]] == ["docs.jsonl:1", "docs.jsonl:4", "docs.jsonl:6", "docs.jsonl:7"]
    assert whole[0][2][1] == JSONL_RECORDS[5]["text"]  # U+2028 and U+0085 are text inside a string, not line ends
    assert whole[0][1][1] == "Broken emoji \ufffd in a line."
    assert whole[1] == [("docs.jsonl:2", "empty"), ("docs.jsonl:3", "no 'text' field"),
                        ("docs.jsonl:5", "'text' is int, not text")]
    assert any("unpaired surrogate" in w for w in whole[2])
    parts = parts_of(path, CorpusConfig(), 1)
    assert len(parts) == 5  # a part after each document, and the last one with the file's remaining notes
    monkeypatch.setattr(corpus_module, "RECORD_PART_CHARS", 1)
    assert everything(load_corpus(path)) == whole


def test_csv_read_in_parts_equals_reading_it_whole(tmp_path, monkeypatch):
    lines = ["id,text,source"]
    for i in range(1, 31):
        if i % 5 == 0:
            lines.append(f'{i},"Record {i} has a field\nthat spans lines, ""quotes"" and a comma",outlet-{i % 3}')
        elif i % 11 == 0:
            lines.append(f"{i},,outlet-{i % 3}")
        else:
            lines.append(f"{i},Record {i} tells of the checkpoint,outlet-{i % 3}")
    path = write(tmp_path / "docs.csv", "\r\n".join(lines) + "\r\n")
    config = CorpusConfig(id_field="id")
    whole = everything(load_corpus(path, config))
    assert len(whole[0]) == 28 and whole[1] == [("11", "empty"), ("22", "empty")]
    assert whole[0][4][1] == 'Record 5 has a field\nthat spans lines, "quotes" and a comma'
    assert len(parts_of(path, config, 1)) == 29
    monkeypatch.setattr(corpus_module, "RECORD_PART_CHARS", 1)
    assert everything(load_corpus(path, config)) == whole


def test_parquet_is_read_a_batch_at_a_time_with_nulls_as_empty_values(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 25
    table = pa.table({"text": [f"Parquet text number {i}." if i % 6 else None for i in range(n)],
                      "source": [f"S{i % 4}" for i in range(n)],
                      "count": pa.array([i if i % 5 else None for i in range(n)], pa.int64()),
                      "score": [float("nan") if i % 7 == 0 else i / 2 for i in range(n)]})
    pq.write_table(table, tmp_path / "docs.parquet", row_group_size=4)
    monkeypatch.setattr(corpus_module, "PARQUET_BATCH_ROWS", 3)
    whole = everything(load_corpus(tmp_path / "docs.parquet"))
    documents = {d[0]: d for d in whole[0]}
    assert len(documents) == 20 and whole[1][:2] == [("docs.parquet:1", "no 'text' field"),
                                                     ("docs.parquet:7", "no 'text' field")]
    # an integer column with nulls stays integer (pandas would have made it 3.0); null and NaN are empty
    assert documents["docs.parquet:4"][6] == {"count": "3", "score": "1.5"}
    assert documents["docs.parquet:6"][6] == {"count": "", "score": "2.5"}
    assert documents["docs.parquet:8"][6] == {"count": "7", "score": ""}
    monkeypatch.setattr(corpus_module, "RECORD_PART_CHARS", 1)
    assert everything(load_corpus(tmp_path / "docs.parquet")) == whole
    write(tmp_path / "truncated.parquet", (tmp_path / "docs.parquet").read_bytes()[:-100])
    with pytest.raises(FramingError, match="cannot read .*truncated.parquet as parquet"):
        load_corpus(tmp_path / "truncated.parquet")


def test_a_record_file_gives_its_first_parts_before_it_is_read_to_the_end(tmp_path):
    """Parts come as the file is parsed: the documents before a broken record arrive before its error."""
    good = "".join(json.dumps({"text": f"Record {i} is fine."}) + "\n" for i in range(3))
    path = write(tmp_path / "late.jsonl", good + '{"text": "never closed\n')
    parts = read_records((str(path), path.name, CorpusConfig(), 1))
    received = [next(parts).documents[0].text for _ in range(3)]
    assert received == ["Record 0 is fine.", "Record 1 is fine.", "Record 2 is fine."]
    with pytest.raises(FramingError, match=r"late.jsonl:4: not valid JSON"):
        next(parts)
    rows = "id,text\n" + "".join(f"{i},Row {i} is fine\n" for i in range(3)) + '9,"a quote that never closes\n'
    parts = read_records((str(write(tmp_path / "late.csv", rows)), "late.csv", CorpusConfig(), 1))
    assert [next(parts).documents[0].text for _ in range(3)] == ["Row 0 is fine", "Row 1 is fine", "Row 2 is fine"]
    with pytest.raises(FramingError, match=r"late.csv: line 5"):
        next(parts)


def test_a_repeated_id_in_a_later_part_is_still_an_error(tmp_path):
    path = write(tmp_path / "ids.jsonl", "".join(json.dumps({"id": k, "text": f"Text {n}."}) + "\n"
                                                 for n, k in enumerate(["a", "b", "c", "b"])))
    with pytest.raises(FramingError, match="duplicate document id 'b'"):
        parts_of(path, CorpusConfig(id_field="id"), 1)


def test_a_file_without_the_text_field_is_an_error_after_every_part(tmp_path):
    path = write(tmp_path / "body.jsonl", "".join(json.dumps({"body": f"Text {n}."}) + "\n" for n in range(5)))
    with pytest.raises(FramingError, match="no field 'text'.*fields: body"):
        parts_of(path, CorpusConfig(), 1)


def test_encodings_that_need_the_whole_file_and_those_that_stream(tmp_path, monkeypatch):
    text = jsonl_text()
    cases = {
        "cp1252.jsonl": (text.replace("中文 and 😀 ", "").encode("cp1252", "replace"),
                         "not UTF-8; decoded as cp1252"),
        "bom16.jsonl": (codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
                        "not UTF-8; decoded as utf-16"),
        "sig.jsonl": (codecs.BOM_UTF8 + text.encode("utf-8"), None),
        "nobom16.jsonl": (text.encode("utf-16-le"), "not UTF-8; decoded as utf-16"),
    }
    for name, (data, warning) in cases.items():
        path = write(tmp_path / name, data)
        whole = everything(load_corpus(path))
        assert len(whole[0]) == 4, name
        assert (warning is None) == (not any("not UTF-8" in w for w in whole[2])), name
        assert warning is None or any(warning in w for w in whole[2]), name
        monkeypatch.setattr(corpus_module, "RECORD_PART_CHARS", 1)
        assert everything(load_corpus(path)) == whole, name
        monkeypatch.undo()
    write(tmp_path / "noise.jsonl", bytes(range(1, 32)) * 400)
    with pytest.raises(FramingError, match="noise.jsonl is a binary file, not jsonl"):
        load_corpus(tmp_path / "noise.jsonl")


@pytest.mark.slow
def test_a_large_record_file_never_passes_through_memory_whole(tmp_path):
    """Reading a 24 MB JSONL in 1 MB parts takes a fraction of the memory reading it whole takes (Python's own
    allocations, traced)."""
    filler = "The convoy waited at the northern checkpoint while the drivers argued about the road. " * 12
    with open(tmp_path / "big.jsonl", "w", encoding="utf-8") as file:
        for i in range(24_000):
            file.write(json.dumps({"id": f"d{i}", "text": f"{i} {filler}", "source": f"S{i % 9}"}) + "\n")
    assert (tmp_path / "big.jsonl").stat().st_size > 24_000_000

    def peak_mb(part_chars: int) -> float:
        tracemalloc.start()
        try:
            documents = 0
            for part in read_records((str(tmp_path / "big.jsonl"), "big.jsonl", CorpusConfig(id_field="id"),
                                       part_chars)):
                documents += len(part.documents)
            assert documents == 24_000
            return tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()

    in_parts, whole = peak_mb(1 << 20), peak_mb(1 << 40)
    assert whole > 24 and in_parts < 10, (in_parts, whole)
