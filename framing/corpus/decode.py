"""Bytes to text: byte-order marks, UTF-8, else a detected encoding (with a warning); binary data told apart by its
content; a record file's encoding found from its first bytes, its lines read as they come."""
from __future__ import annotations

import codecs
import hashlib
import io
import re
from pathlib import Path
from typing import Iterator

from ..errors import FramingError
from .documents import Corpus, note_warning


_LATIN_SINGLE_BYTE = frozenset(
    "cp1250 cp1252 cp1254 cp1257 cp1258 latin_1 iso8859_2 iso8859_3 iso8859_4 iso8859_9 iso8859_10 iso8859_13 "
    "iso8859_14 iso8859_15 iso8859_16 mac_latin2 mac_roman mac_iceland mac_turkish cp437 cp775 cp850 cp852 cp858 "
    "cp860 cp861 cp863 cp865".split()
)


_NON_WESTERN_LATIN_LANGUAGES = frozenset(
    "Czech Polish Slovak Hungarian Croatian Slovene Romanian Lithuanian Latvian Estonian Turkish".split()
)


# Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


# Share of control characters (other than whitespace) and U+FFFD above which decoded "text" is taken for binary
# data: prose has next to none, while random bytes decoded as Windows-1252 have about 12% and as UTF-8 over 50%.
BINARY_SHARE = 0.05


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")


def binary_share(text: str) -> float:
    sample = text[:65536]
    return len(_CONTROL.findall(sample)) / max(len(sample), 1)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a byte-order mark: NUL bytes nearly all on one side of each byte pair."""
    sample = data[:8192 - (min(len(data), 8192) % 2)]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if len(data) % 2 or max(even, odd) < 0.3 * len(sample) / 2 or min(even, odd) > 0.02 * len(sample) / 2:
        return None
    try:
        return data.decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return None


def _decode_bytes(data: bytes) -> tuple[str | None, str]:
    """``(text, encoding)``; ``text`` is ``None`` for binary data. Never raises."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    if b"\x00" in data[:8192]:
        text = _utf16_without_bom(data)
        return (text, "utf-16") if text is not None and binary_share(text) <= BINARY_SHARE else (None, "binary")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or not best.encoding:
        return data.decode("utf-8", errors="replace"), "utf-8 with undecodable bytes replaced"
    encoding = best.encoding
    # On short Latin-script text detectors pick Baltic or DOS code pages at random (a French paragraph comes
    # back as cp1257); like browsers, fall back to Windows-1252 unless the language needs another Latin page.
    if encoding in _LATIN_SINGLE_BYTE and best.language not in _NON_WESTERN_LATIN_LANGUAGES:
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return str(best), encoding


def decode(data: bytes, name: str, corpus: Corpus) -> str | None:
    """Decode bytes (byte-order mark, UTF-8, else detection, with a warning); ``None`` for binary data.

    Binary is told by content: NUL bytes that are not UTF-16, or decoded text with more than 5% control
    characters and undecodable bytes.
    """
    text, encoding = _decode_bytes(data)
    if text is None or binary_share(text) > BINARY_SHARE:
        corpus.skipped.append((name, "binary"))
        return None
    if encoding not in ("utf-8", "utf-8-sig"):
        note_warning(corpus, f"{name}: not UTF-8; decoded as {encoding}")
    return text


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FramingError(f"cannot read {path}: {exc.strerror or exc}") from None


_SCAN_BYTES = 1 << 20  # how much of a file is read at once while it is hashed and its encoding is checked


def stream_encoding(path: Path, name: str, notes: Corpus) -> str | None:
    """Hash a record file (into ``notes``) and say how its text can be read as a stream: the codec of its
    byte-order mark, or ``utf-8`` when every byte is UTF-8. ``None`` when it must be decoded whole, as a page is
    (its encoding detected, or UTF-16 without a mark). Raises for binary data."""
    digest, utf8 = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")()

    def utf8_text(data: bytes, final: bool = False) -> str | None:
        try:
            return utf8.decode(data, final)
        except UnicodeDecodeError:
            return None

    try:
        with open(path, "rb") as file:
            block = file.read(_SCAN_BYTES)
            digest.update(block)
            encoding = next((codec for bom, codec in BOMS if block.startswith(bom)), None)
            if encoding is None and b"\x00" not in block[:8192]:
                encoding = "utf-8"
            if encoding is not None:
                head = utf8_text(block) if encoding == "utf-8" else block.decode(encoding, "replace")
                if head is None:
                    encoding = None  # not UTF-8: decoded whole, by detection
                elif binary_share(head) > BINARY_SHARE:
                    raise FramingError(f"{path} is a binary file, not {path.suffix[1:]}")
                del head
            while block := file.read(_SCAN_BYTES):
                digest.update(block)  # the whole file is hashed whatever its encoding
                if encoding == "utf-8" and utf8_text(block) is None:  # checked only: read again a part at a time
                    encoding = None
            if encoding == "utf-8" and utf8_text(b"", final=True) is None:
                encoding = None
    except OSError as exc:
        raise FramingError(f"cannot read {path}: {exc.strerror or exc}") from None
    notes.input_hashes[name] = digest.hexdigest()
    return encoding


def text_lines(path: Path, name: str, notes: Corpus) -> Iterator[str]:
    """The lines of a record file's text with their line ends (``\\n``, ``\\r\\n`` or ``\\r``), read as they are
    needed when the encoding allows (UTF-8, or a byte-order mark); otherwise decoded whole, as a page is."""
    encoding = stream_encoding(path, name, notes)
    if encoding is None:
        text = decode(read_bytes(path), name, notes)
        if text is None:
            raise FramingError(f"{path} is a binary file, not {path.suffix[1:]}")
        yield from io.StringIO(text, newline="")
        return
    if encoding not in ("utf-8", "utf-8-sig"):
        note_warning(notes, f"{name}: not UTF-8; decoded as {encoding}")
    try:
        with open(path, encoding=encoding, errors="strict" if encoding == "utf-8" else "replace",
                  newline="") as file:
            yield from file
    except OSError as exc:
        raise FramingError(f"cannot read {path}: {exc.strerror or exc}") from None
