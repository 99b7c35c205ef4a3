"""Hostile and damaged input: every case ends in a result, a warning or one clear line — never a traceback."""
import codecs
import json
import time
from pathlib import Path

import pytest

from framing import cli
from framing.config import load_config
from framing.corpus.load import load_corpus
from framing.errors import FramingError
from framing.units.segment import segment

PROSE = ("The convoy reached the northern gate before dawn. Drivers waited for hours at the checkpoint. "
         "Nobody said when the road would open again.")


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def run_cli(capsys, *args: str) -> tuple[int, list[str]]:
    code = cli.main(list(args))
    return code, capsys.readouterr().err.strip().splitlines()


# -- configs -----------------------------------------------------------------------------------------------------

def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        bomb.append(f"{level}: &{level} [{', '.join(['*' + previous] * 9)}]")
    bomb.append("run:\n  name: *i")
    config = write(tmp_path / "bomb.yaml", "\n".join(bomb) + "\n")
    start = time.perf_counter()
    with pytest.raises(FramingError) as raised:
        load_config(config)
    assert time.perf_counter() - start < 5  # refused while parsing, never expanded
    message = str(raised.value)
    assert "line 2" in message and "aliases (*name) are not allowed in a config" in message
    assert len(message) < 200


def test_error_messages_quote_only_a_short_prefix_of_a_value(tmp_path):
    config = write(tmp_path / "c.yaml", "run:\n  name: [" + ", ".join(["word" * 50] * 2000) + "]\n")
    with pytest.raises(FramingError) as raised:
        load_config(config)
    assert "run.name: Input should be a valid string" in str(raised.value) and len(str(raised.value)) < 200
    config = write(tmp_path / "d.yaml", "run:\n  " + "k" * 1000 + ": 1\n")
    with pytest.raises(FramingError) as raised:
        load_config(config)
    assert "unknown key run.kkkk" in str(raised.value) and len(str(raised.value)) < 300


def test_a_config_that_is_not_utf8_is_one_line(tmp_path, capsys):
    config = write(tmp_path / "latin1.yaml", "run:\n  name: caf\xe9\n".encode("latin-1"))
    code, err = run_cli(capsys, "run", str(config))
    assert code == 2 and err == [f"framing: error: {config}: line 2: not UTF-8 text (byte 0xe9); save the config "
                                 "as UTF-8"]
    code, err = run_cli(capsys, "run", str(tmp_path))
    assert code == 2 and err == [f"framing: error: config path {tmp_path} is a folder, not a YAML file"]
    deep = write(tmp_path / "deep.yaml", "run: " + "[" * 3000 + "]" * 3000 + "\n")
    code, err = run_cli(capsys, "run", str(deep))
    assert code == 2 and err == [f"framing: error: {deep}: nested too deeply to be a config"]


# -- encodings and binary files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_read(tmp_path, codec):
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-32-le": codecs.BOM_UTF32_LE,
           "utf-32-be": codecs.BOM_UTF32_BE}[codec]
    text = PROSE + " Café, naïve — “quoted”."
    write(tmp_path / "doc.txt", bom + text.encode(codec))
    corpus = load_corpus(tmp_path)
    assert [d.text for d in corpus] == [text] and not corpus.skipped


def test_utf16_without_a_byte_order_mark_is_read(tmp_path):
    write(tmp_path / "doc.txt", PROSE.encode("utf-16-le"))
    assert [d.text for d in load_corpus(tmp_path)] == [PROSE]


def test_binary_without_nul_bytes_is_skipped_as_binary(tmp_path):
    import random

    noise = random.Random(7).randbytes(20000).replace(b"\x00", b"\x01")
    write(tmp_path / "noise.txt", noise)
    write(tmp_path / "good.txt", PROSE)
    corpus = load_corpus(tmp_path)
    assert [d.id for d in corpus] == ["good.txt"] and corpus.skipped == [("noise.txt", "binary")]


# -- CSV and JSONL -------------------------------------------------------------------------------------------------

def _forty_records(broken: str | None = None) -> str:
    lines = ["id,text,source"]
    for i in range(1, 41):
        text = f"Record {i} tells of the convoy and the checkpoint at the northern gate"
        if i == 5 and broken == "unclosed":
            lines.append(f'{i},"{text} and a quote that never closes,outlet-{i % 3}')
        elif i == 5 and broken == "fields":
            lines.append(f"{i},{text},outlet-{i % 3},extra")
        elif i % 7 == 0:
            lines.append(f'{i},"{text}, with ""quoted"" words",outlet-{i % 3}')
        else:
            lines.append(f"{i},{text},outlet-{i % 3}")
    return "\n".join(lines) + "\n"


def test_csv_with_a_quote_that_never_closes_names_the_line(tmp_path, capsys):
    path = write(tmp_path / "docs.csv", _forty_records("unclosed"))
    with pytest.raises(FramingError) as raised:
        load_corpus(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: line 6") and "not valid CSV" in message and "quote" in message
    code, err = run_cli(capsys, "run", "--set", f"corpus.path={path}", "--out", str(tmp_path / "run"))
    assert code == 2 and len(err) == 1 and "line 6" in err[0] and not (tmp_path / "run").exists()


def test_csv_with_a_wrong_number_of_fields_names_the_line(tmp_path):
    path = write(tmp_path / "docs.csv", _forty_records("fields"))
    with pytest.raises(FramingError, match=r"line 6: 4 field\(s\) where the header has 3"):
        load_corpus(path)


def test_well_formed_csv_keeps_all_forty_records(tmp_path):
    corpus = load_corpus(write(tmp_path / "docs.csv", _forty_records()), None)
    assert len(corpus) == 40 and 'with "quoted" words' in corpus.documents[6].text and not corpus.warnings


def test_a_quoted_field_swallowing_record_lines_is_warned_about(tmp_path):
    lines = ['id,text,source', '1,"An opened quote that closes only much later,A', '2,Second record,B',
             '3,Third record,C', '4,Fourth record",D', '5,Fifth record,E']
    corpus = load_corpus(write(tmp_path / "docs.csv", "\n".join(lines) + "\n"))
    assert any("line 2: a quoted field spans 4 lines that look like records of their own" in w
               for w in corpus.warnings)


def test_quoted_fields_that_look_swallowed_in_every_record_give_four_warnings_not_one_each(tmp_path):
    """Paragraphs with as many commas as the header has fields look like swallowed records: a column of such
    texts warns three times and counts the rest in one line, however many records it has."""
    paragraph = "On Monday, in the north, near the gate, at dawn, the convoy waited"  # four commas: five fields
    rows = ["id,text,source,date,leaning"] + [f'{i},"{paragraph}.\n{paragraph} again.\n{paragraph} once more.",'
                                             f'S{i % 3},2016-12-0{1 + i % 9},side-{i % 2}' for i in range(1, 41)]
    corpus = load_corpus(write(tmp_path / "docs.csv", "\n".join(rows) + "\n"))
    assert len(corpus.documents) == 40
    swallowed = [w for w in corpus.warnings if "look like records of their own" in w]
    assert swallowed[:3] == [f"docs.csv: line {line}: a quoted field spans 3 lines that look like records of "
                             "their own; check its quotes" for line in (2, 5, 8)]
    assert swallowed[3:] == ["docs.csv: 37 more quoted field(s) span lines that look like records of their own "
                             "(lines 11, 14, 17 ...); if the texts hold such lines, ignore this"]


def test_a_csv_field_larger_than_128k_is_read(tmp_path):
    long_text = " ".join([PROSE] * 1500)  # about 200 kB: over the csv module's default field limit
    path = write(tmp_path / "docs.csv", f'id,text\n1,"{long_text}"\n2,short text here\n')
    corpus = load_corpus(path)
    assert [d.text for d in corpus] == [long_text, "short text here"]
    import csv

    assert csv.field_size_limit() == 131072  # the process-wide limit is put back


def test_jsonl_lone_surrogates_are_replaced_and_warned(tmp_path):
    path = write(tmp_path / "docs.jsonl", json.dumps({"text": "Broken emoji \ud83d in this line. " + PROSE,
                                                      "source": "outlet \udc00"}, ensure_ascii=True) + "\n")
    corpus = load_corpus(path)
    doc = corpus.documents[0]
    assert doc.text.startswith("Broken emoji \ufffd in this line.") and doc.source == "outlet \ufffd"
    assert any("2 unpaired surrogate code point(s) replaced with U+FFFD" in w for w in corpus.warnings)
    units = segment(corpus.documents)
    assert all(doc.text[u.start:u.end] == u.text for u in units) and len(units) == 4


def test_records_without_text_say_why_they_were_skipped(tmp_path):
    path = write(tmp_path / "docs.jsonl", "\n".join(json.dumps(r) for r in [
        {"text": PROSE}, {"title": "no text here"}, {"text": 12345}, {"text": "   "}, {"text": None}]) + "\n")
    corpus = load_corpus(path)
    assert corpus.skipped == [("docs.jsonl:2", "no 'text' field"), ("docs.jsonl:3", "'text' is int, not text"),
                              ("docs.jsonl:4", "empty"), ("docs.jsonl:5", "no 'text' field")]


def test_segmenter_never_fails_on_surrogates_given_through_the_api():
    from framing.corpus.documents import Document

    doc = Document("d", "Odd text \ud83d in the middle. Another sentence follows here.")
    units = segment([doc])
    assert [doc.text[u.start:u.end] for u in units] == [u.text for u in units] and len(units) == 2


# -- unexpected errors ---------------------------------------------------------------------------------------------

def test_an_unexpected_error_is_one_line_naming_the_log_with_the_traceback(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something nobody foresaw\nsecond line")

    monkeypatch.setattr("framing.run.pipeline.analyze", broken)
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(capsys, "run", "--out", str(tmp_path / "run"))
    assert code == 1 and len(err) == 1, err
    assert err[0].startswith("framing: internal error: RuntimeError: something nobody foresaw (a bug in framing; "
                             "the traceback is in ")
    log_path = Path(err[0].split("the traceback is in ")[1].split(";")[0])
    assert "Traceback" in log_path.read_text() and "def broken" not in err[0]
    log_path.unlink()
    code = cli.main(["-v", "run", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" in err  # -v shows it
    Path(err.split("the traceback is in ")[1].split(";")[0]).unlink()


def test_a_full_disk_anywhere_is_a_user_error(tmp_path, capsys, monkeypatch):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/somewhere/file")

    monkeypatch.setattr("framing.run.pipeline.analyze", full)
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(capsys, "run", "--out", str(tmp_path / "run"))
    assert code == 2 and err == ["framing: error: cannot write file /somewhere/file: the disk is full "
                                 "(No space left on device)"]
