"""Folder corpora: the files of a folder (``.txt``, ``.md``, ``.html``), a web page's main text and reader comments
through trafilatura, the sidecar's metadata joined by file name."""
from __future__ import annotations

import fnmatch
import hashlib
import os
from pathlib import Path, PurePosixPath
from typing import Iterator

from ..config import CorpusConfig
from ..errors import FramingError
from .decode import decode, read_bytes
from .documents import Corpus, FileNotes, MapFiles, make_document, merge_notes, note_warning
from .records import read_sidecar


_SIDECAR_NAMES = ("metadata.csv", "sources.csv")


_HTML_SUFFIXES = (".html", ".htm")


# Placed between an extracted page's main text and its reader comments, so the section stage sees the thread.
COMMENTS_MARKER = "Comments"


def extract_html(page: str) -> tuple[str, dict[str, str]] | None:
    """Main text (then reader comments) and metadata of an HTML page, by trafilatura; ``None`` if nothing.

    The returned text is what units point into; the raw page is never kept or rendered.
    """
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - trafilatura is a core dependency
        raise FramingError("reading .html needs trafilatura: pip install trafilatura") from None
    extracted = trafilatura.bare_extraction(page, include_comments=True, with_metadata=True, include_tables=True)
    if extracted is None or not (extracted.text or "").strip():
        return None
    text = extracted.text.strip()
    if (extracted.comments or "").strip():
        text = f"{text}\n\n{COMMENTS_MARKER}\n\n{extracted.comments.strip()}"
    meta = {key: str(getattr(extracted, key) or "") for key in ("title", "date", "author", "url", "sitename")}
    return text, {k: v for k, v in meta.items() if v}


def folder_files(root: Path, config: CorpusConfig, outside: list[str] | None = None) -> list[Path]:
    """The files under ``root`` that a pattern of ``corpus.glob`` matches (as ``Path.rglob`` would: the pattern
    against the end of the relative path) and ``corpus.exclude`` does not, sorted. Walked with a stack, not
    recursion (1,500 nested folders raised RecursionError); a folder reached twice through links is read once.
    Symbolic links whose target lies outside ``root`` are left out unless ``corpus.follow_links``; their relative
    paths go to ``outside``."""
    real_root = root.resolve()
    found: set[Path] = set()
    seen_folders = {real_root}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    target = path.resolve()
                    if not config.follow_links and not target.is_relative_to(real_root):
                        if outside is not None:
                            outside.append(path.relative_to(root).as_posix())
                        continue
                if entry.is_dir():
                    real = path.resolve()
                    if real not in seen_folders:
                        seen_folders.add(real)
                        stack.append(path)
                elif entry.is_file() and not any(fnmatch.fnmatch(entry.name, skip) for skip in config.exclude):
                    relative = PurePosixPath(path.relative_to(root).as_posix())
                    if any(relative.match(pattern) for pattern in config.glob):
                        found.add(path)
            except (OSError, RuntimeError):  # a link loop, or a file gone while listed
                continue
    return sorted(found)


def _read_page(item: tuple[str, str]) -> Iterator[tuple[str | None, dict[str, str], Corpus]]:
    """One file of a folder corpus, as one result: its text (``None`` when skipped), what an HTML page says of
    itself, and notes.

    A module-level function of plain arguments, so an engine can run it on workers (the Ray engine does).
    """
    yield _page(Path(item[0]), item[1])


def _page(path: Path, rel: str) -> tuple[str | None, dict[str, str], Corpus]:
    notes = FileNotes()
    data = read_bytes(path)
    notes.input_hashes[rel] = hashlib.sha256(data).hexdigest()
    text = decode(data, rel, notes)
    if text is None:
        return None, {}, notes
    page_meta: dict[str, str] = {}
    if path.suffix.lower() in _HTML_SUFFIXES and text.strip():
        extracted = extract_html(text)
        if extracted is None:
            notes.skipped.append((rel, "no main text in the page"))
            return None, {}, notes
        text, page_meta = extracted
    if not text.strip():
        notes.skipped.append((rel, "empty"))
        return None, {}, notes
    return text, page_meta, notes


def _page_fields(page_meta: dict[str, str], config: CorpusConfig) -> dict[str, str]:
    fields = {config.title_field: page_meta.get("title", ""), config.date_field: page_meta.get("date", ""),
              config.url_field: page_meta.get("url", ""), config.source_field: page_meta.get("sitename", ""),
              "author": page_meta.get("author", "")}
    return {k: v for k, v in fields.items() if v}


def load_folder(root: Path, config: CorpusConfig, corpus: Corpus, map_files: MapFiles) -> None:
    outside: list[str] = []
    files = folder_files(root, config, outside)
    if outside:
        note_warning(corpus, f"skipped {len(outside)} symbolic link(s) pointing outside the corpus folder: "
                      f"{', '.join(sorted(outside)[:5])}{' ...' if len(outside) > 5 else ''} (corpus.follow_links "
                      "reads them)")
    names = [path.relative_to(root).as_posix() for path in files]
    sidecar_path = Path(config.metadata) if config.metadata else next(
        (root / name for name in _SIDECAR_NAMES if (root / name).is_file()), None
    )
    if config.metadata and not sidecar_path.is_file():
        raise FramingError(f"metadata file not found: {config.metadata} (corpus.metadata)")
    sidecar = read_sidecar(sidecar_path, config.metadata_key, corpus) if sidecar_path else {}
    matched: set[str] = set()
    without_metadata = []
    for rel, page in zip(names, map_files(_read_page, [(str(path), rel) for path, rel in zip(files, names)])):
        text, page_meta, notes = page
        merge_notes(corpus, notes)
        if text is None:
            continue
        key = rel if rel in sidecar else Path(rel).name
        meta = sidecar.get(key)
        if meta is None:
            without_metadata.append(rel)
            meta = {}
        else:
            matched.add(key)
        # The sidecar wins over what the page says of itself; the site's name stands in for a missing source.
        meta = {**_page_fields(page_meta, config), **{k: v for k, v in meta.items() if v}}
        meta.setdefault(config.title_field, "")
        corpus.documents.append(make_document(rel, text, meta, config, corpus))
    if sidecar and without_metadata:
        note_warning(corpus, f"{len(without_metadata)} file(s) have no row in {sidecar_path.name}: "
                      f"{', '.join(without_metadata[:5])}{' ...' if len(without_metadata) > 5 else ''}")
    unmatched = sorted(set(sidecar) - matched)
    if unmatched:
        note_warning(corpus, f"{len(unmatched)} row(s) of {sidecar_path.name} match no file: "
                      f"{', '.join(unmatched[:5])}{' ...' if len(unmatched) > 5 else ''}")
