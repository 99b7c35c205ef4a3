"""Record files (``.jsonl``, ``.csv``, ``.parquet``): one document per record, parsed as read and handed on in parts;
the metadata sidecar of a folder corpus (a CSV read as strictly)."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..config import CorpusConfig
from ..errors import FramingError
from .decode import decode, read_bytes, text_lines
from .documents import Corpus, Document, FileNotes, MapFiles, make_document, merge_notes, note_warning
from .text import short


def csv_records(lines: Iterable[str], path: Path, corpus: Corpus, size: int) -> Iterator[dict[str, str]]:
    """Records of a CSV text given as lines with their line ends (``newline=""``), read strictly and as they come:
    a broken quote or a wrong number of fields is an error naming the line where its record starts; a quoted field
    that swallows lines looking like records of their own is warned about. The field-size limit follows the data
    (``size``: the text's length or more), so one long article is not an error."""
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(max(previous_limit, size + 1))
    reader = csv.reader(lines, strict=True)
    record_line = 1
    swallowing, more_lines = 0, []  # records whose quoted field may have swallowed records; lines of some
    try:
        header = next(reader, None)
        if header is None:
            return
        record_line = reader.line_num + 1
        for fields in reader:
            if fields:
                if len(fields) != len(header):
                    raise FramingError(f"{path}: line {record_line}: {len(fields)} field(s) where the header has "
                                       f"{len(header)}; check the quotes and commas of that record")
                spanned = _swallowed_lines(fields, header)
                if spanned:
                    swallowing += 1
                    if swallowing <= _SWALLOWED_WARNINGS:
                        note_warning(corpus, f"{path.name}: line {record_line}: a quoted field spans {spanned} lines that "
                                      "look like records of their own; check its quotes")
                    elif len(more_lines) < 3:
                        more_lines.append(record_line)
                yield dict(zip(header, fields))
            record_line = reader.line_num + 1
        if swallowing > _SWALLOWED_WARNINGS:
            more = swallowing - _SWALLOWED_WARNINGS
            note_warning(corpus, f"{path.name}: {more:,} more quoted field(s) span lines that look like records of their "
                          f"own (lines {', '.join(map(str, more_lines))}{' ...' if more > 3 else ''}); if the texts "
                          "hold such lines, ignore this")
    except csv.Error as exc:
        where = f"line {record_line}" + (f" (read to line {reader.line_num})" if reader.line_num > record_line else "")
        raise FramingError(f"{path}: {where}: not valid CSV ({exc}); a quote opened in the record of line "
                           f"{record_line} may not be closed") from None
    finally:
        csv.field_size_limit(previous_limit)


# Warnings for quoted fields that may have swallowed records, per file; past these, one line counts the rest (a
# text column of paragraphs with as many commas as the header has can look like that in every record).
_SWALLOWED_WARNINGS = 3


def _swallowed_lines(fields: list[str], header: list[str]) -> int:
    """How many lines a quoted field spans when most of them, two at least, parse as records of their own (what a
    quote left open in one record makes of the records after it); 0 otherwise."""
    for field_text in fields:
        inner = [row for row in field_text.split("\n")[1:] if row.strip()]
        if len(header) < 2 or len(inner) < 2:
            continue
        record_like = sum(1 for row in inner if len(next(csv.reader([row]), [])) == len(header))
        if record_like >= 2 and record_like * 3 >= len(inner) * 2:
            return len(inner) + 1
    return 0


def read_sidecar(path: Path, key: str, corpus: Corpus) -> dict[str, dict[str, str]]:
    text = decode(read_bytes(path), path.name, corpus) or ""
    rows = list(csv_records(io.StringIO(text, newline=""), path, corpus, len(text)))
    if rows and key not in rows[0]:
        raise FramingError(
            f"metadata file {path} has no column {key!r} (set corpus.metadata_key; columns: {', '.join(rows[0])})"
        )
    sidecar: dict[str, dict[str, str]] = {}
    conflicting: list[str] = []
    for row in rows:
        name = str(row[key]).strip()
        values = {k: (v or "").strip() for k, v in row.items() if k and k != key}
        if name in sidecar and sidecar[name] != values:
            conflicting.append(name)  # the last row wins, as before, but never silently
        sidecar[name] = values
    if conflicting:
        shown = ", ".join(sorted(set(conflicting))[:5]) + (" ..." if len(set(conflicting)) > 5 else "")
        note_warning(corpus, f"{path.name} has rows that disagree for {len(set(conflicting))} file(s): {shown}; the last "
                      "row of each is used")
    return sidecar


PARQUET_BATCH_ROWS = 1_000


def _file_sha256(path: Path) -> str:
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as exc:
        raise FramingError(f"cannot read {path}: {exc.strerror or exc}") from None


def _jsonl_records(lines: Iterable[str], path: Path) -> Iterator[dict[str, Any]]:
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FramingError(f"{path}:{line_no}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise FramingError(f"{path}:{line_no}: nested too deeply to be a record") from None
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            raise FramingError(f"{path}:{line_no}: not a usable JSON record ({str(exc).splitlines()[0][:80]})") \
                from None
        if not isinstance(record, dict):
            raise FramingError(f"{path}:{line_no}: each line must be a JSON object")
        yield record


def _parquet_records(path: Path, name: str, notes: Corpus) -> Iterator[dict[str, Any]]:
    """A Parquet file's rows, a batch at a time; a null or NaN value is ``None``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    notes.input_hashes[name] = _file_sha256(path)
    pool = pa.default_memory_pool()
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
            rows = batch.to_pylist()
            pool.release_unused()  # Arrow's allocator would keep each decoded batch's pages (~4x the batch here)
            yield from ({k: (None if v is None or v != v else v) for k, v in row.items()} for row in rows)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise FramingError(f"cannot read {path} as parquet: {str(exc).splitlines()[0]}") from None


def _records(path: Path, name: str, notes: Corpus) -> Iterator[dict[str, Any]]:
    """The records of a ``.jsonl``, ``.csv`` or ``.parquet`` file, parsed as the file is read."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_records(path, name, notes)
    lines = text_lines(path, name, notes)
    if suffix == ".csv":
        try:
            size = path.stat().st_size  # a text never has more characters than its file has bytes
        except OSError:
            size = 0
        return csv_records(lines, path, notes, size)
    return _jsonl_records(lines, path)


_MAX_ID_CHARS = 1000


def _record_id(value: Any, path: Path, row_no: int, field: str) -> str:
    """A record's id as text: a string, a whole number, or a number; anything else (a list, an object, true) is an
    error naming the record: ``[1, 2]`` used to become the id ``'[1, 2]'``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FramingError(f"{path}: record {row_no}: the id ({field!r}, corpus.id_field) is "
                           f"{type(value).__name__ if not isinstance(value, bool) else 'true/false'}, not text or a "
                           "number")
    try:
        text = str(value)
    except ValueError:  # an int past Python's 4,300-digit limit for str()
        text = ""
    if not text or len(text) > _MAX_ID_CHARS:
        raise FramingError(f"{path}: record {row_no}: the id ({field!r}, corpus.id_field) is empty or longer than "
                           f"{_MAX_ID_CHARS} characters")
    return text


def _no_text_reason(text: Any, field_name: str) -> str:
    if text is None:
        return f"no {field_name!r} field"
    if not isinstance(text, str):
        return f"{field_name!r} is {type(text).__name__}, not text"
    return "" if text.strip() else "empty"


def _take_part(notes: Corpus, documents: list[Document]) -> Corpus:
    """What a record file gave since the last part: these documents, and the notes gathered meanwhile."""
    part = FileNotes()
    part.documents = documents
    part.skipped, notes.skipped = notes.skipped, []
    part.warnings, notes.warnings = notes.warnings, []
    part.input_hashes, notes.input_hashes = notes.input_hashes, {}
    return part


# A record file is parsed as it is read and handed on in parts of about this much text (characters), so that one
# file of ten million records never passes through memory whole; a part is also where a worker's results travel.
RECORD_PART_CHARS = 16 << 20


def read_records(item: tuple[str, str, CorpusConfig, int]) -> Iterator[Corpus]:
    """The documents of one record file (a ``.jsonl``, ``.csv`` or ``.parquet`` file, or one shard of many), and
    its notes, in parts of about ``item[3]`` characters of text, each given as soon as it is read (the last part
    may be empty; it carries the file's last notes). Without ``corpus.id_field`` a document is ``<name>:<row>``.
    Runs on workers too."""
    path, name, config, part_chars = Path(item[0]), item[1], item[2], item[3]
    notes = FileNotes()
    documents: list[Document] = []
    chars, first_fields, has_text_field = 0, None, False
    seen: set[str] = set()
    for row_no, record in enumerate(_records(path, name, notes), 1):
        if first_fields is None:
            first_fields = list(record)[:20]
        has_text_field = has_text_field or config.text_field in record
        text = record.pop(config.text_field, None)
        doc_id = _record_id(record.pop(config.id_field), path, row_no, config.id_field) \
            if config.id_field and record.get(config.id_field) is not None else f"{name}:{row_no}"
        if doc_id in seen:
            raise FramingError(f"{path}: duplicate document id {short(doc_id)!r} in {config.id_field!r}")
        seen.add(doc_id)
        reason = _no_text_reason(text, config.text_field)
        if reason:
            notes.skipped.append((doc_id, reason))
            continue
        documents.append(make_document(doc_id, text, record, config, notes))
        chars += len(text)
        if chars >= part_chars:
            yield _take_part(notes, documents)
            documents, chars = [], 0
    if first_fields is not None and not has_text_field:
        fields = ", ".join(short(str(k)) for k in first_fields)
        raise FramingError(f"{path} has no field {config.text_field!r} (set corpus.text_field; fields: {fields})")
    yield _take_part(notes, documents)


def load_records(files: list[Path], names: list[str], config: CorpusConfig, corpus: Corpus,
                  map_files: MapFiles) -> None:
    for part in map_files(read_records, [(str(path), name, config, RECORD_PART_CHARS)
                                          for path, name in zip(files, names)]):
        merge_notes(corpus, part)
        corpus.documents.extend(part.documents)
