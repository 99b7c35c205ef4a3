"""Progress bars for long stages: one helper, so every stage shows (or hides) them the same way."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

__all__ = ["progress_bar", "step_bar"]


def progress_bar(progress: bool | None, **tqdm_arguments: Any):
    """A tqdm bar; ``progress`` None shows it only on a terminal (tqdm's ``disable=None``), False never."""
    from tqdm.auto import tqdm

    return tqdm(disable=None if progress is None else not progress, **tqdm_arguments)


@contextmanager
def step_bar(progress: bool | None, stage: str, total: int) -> Iterator[Callable[[str], None]]:
    """A bar over a stage's ``total`` named steps that says which one runs: ``step("words")`` ends the step
    before it and names the next (a stage of a few long steps, such as the contrast, is otherwise silent)."""
    # no rate or time left: the steps differ too much in length for either to mean anything
    with progress_bar(progress, total=total, desc=stage, leave=False,
                      bar_format="{desc} [{n_fmt} of {total_fmt} steps done, {elapsed}]") as bar:
        running = False

        def step(name: str) -> None:
            nonlocal running
            if running:
                bar.update()
            running = True
            bar.set_description_str(f"{stage}: {name}")

        yield step
        if running:
            bar.update()
