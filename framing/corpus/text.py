"""Text hygiene shared by every reader: unpaired surrogates replaced one for one (offsets stay valid), values
shortened for messages."""
from __future__ import annotations

import re


SURROGATE = re.compile(r"[\ud800-\udfff]")


def replace_lone_surrogates(text: str) -> tuple[str, int]:
    """Replace unpaired UTF-16 surrogates (which JSON's ``\\ud83d`` escapes can produce) with U+FFFD.

    One code point for one, so offsets into the text stay valid; returns the text and how many were replaced.
    """
    if not SURROGATE.search(text):
        return text, 0
    return SURROGATE.subn("\ufffd", text)


def short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
