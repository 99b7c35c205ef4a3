"""Progress bars for long stages: one helper, so every stage shows (or hides) them the same way."""
from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


def progress_bar(progress: bool | None, **tqdm_arguments: Any):
    """A tqdm bar; ``progress`` None shows it only on a terminal (tqdm's ``disable=None``), False never."""
    from tqdm.auto import tqdm

    return tqdm(disable=None if progress is None else not progress, **tqdm_arguments)
