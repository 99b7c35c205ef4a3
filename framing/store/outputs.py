"""Where runs are written: the checks made before any work, and writes that are never half done.

A run folder is written to a hidden staging folder beside its target and renamed into place. The target is
replaced only when it is a run folder that framing wrote (its ``run.json`` is framing's manifest and it holds
nothing else than the files that manifest lists, all of them names framing writes), or an empty folder: a
corpus, a thesis or the current folder is never deleted because it was named as ``--out``. Staging folders are
named ``.<target>.<kind>-<pid>-<token>`` and hold a marker file that repeats the process id and the random token:
one that a killed run left behind is removed by the next write to the same place, one that a live run is still
filling is left alone, and a folder of the user's that merely looks like one (``.thesis.old-2019``) is never
touched. Files are staged inside such a folder too.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..errors import FramingError, disk_error

__all__ = ["MANIFEST_FILE", "RUN_FILES", "is_run_folder", "check_run_target", "check_free_space", "atomic_folder",
           "write_file_atomically", "check_file_target", "disk_error", "clean_stale_staging"]

log = logging.getLogger(__name__)

MANIFEST_FILE = "run.json"
# Files that commands other than `framing run` add to a run folder (`framing evaluate`, `framing report` to a run
# saved without one): framing's own, too.
ADDED_TO_RUNS = frozenset({"evaluation.json", "report.html"})
# Every file a run folder has held in any version: a folder whose manifest predates the manifest's own file list
# is recognised by these names.
RUN_FILES = frozenset({
    "units.parquet", "documents.parquet", "framings.json", "frames.json", MANIFEST_FILE, "report.html", "contrast.json",
    "contrast_table.csv", "contrast_divergence.csv", "contrast_words.csv", "contrast_codebook.csv",
    "contrast_axes.csv", "contrast_frames.json", "contrast_time.csv", "contrast_time_first.csv", "framing_centroids.npy",
    "hierarchy.json", "events.json", *ADDED_TO_RUNS,
})
_STAGING_KINDS = ("partial", "old")
# The file inside every staging folder that proves framing made it (see _is_our_staging).
STAGING_MARKER = ".framing-staging"
_TOKEN = re.compile(r"[0-9a-f]{16}")
# Room for the page's own code (plotly.js is about 4.6 MB) on top of what grows with the corpus.
_FIXED_OUTPUT_BYTES = 8 << 20
# units.parquet, documents.parquet and the report each hold the corpus text about once (compressed or not).
_OUTPUT_BYTES_PER_CORPUS_BYTE = 4


def _default_mode(bits: int) -> int:
    """The permissions a newly created file or folder gets under the user's umask."""
    umask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(umask)
    return bits & ~umask


def _manifest_files(folder: Path) -> frozenset[str] | None:
    """The files a run folder's manifest says framing wrote; ``None`` when ``run.json`` is not framing's."""
    try:
        with open(folder / MANIFEST_FILE, "rb") as handle:
            data = json.loads(handle.read(64 << 20))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "framing_version" not in data or "config" not in data:
        return None
    listed = data.get("files")
    if listed is None:
        return RUN_FILES
    # a manifest is framing's only when every file it lists is a name framing writes: a run.json that lists
    # thesis.docx does not make a thesis folder a run folder
    if isinstance(listed, list) and all(isinstance(name, str) and name in RUN_FILES for name in listed):
        return frozenset(listed) | {MANIFEST_FILE}
    return None


def _ours(entry: Path, files: frozenset[str]) -> bool:
    """Whether ``entry`` of a run folder is framing's: a plain file under a name its manifest lists, or a
    staging folder that an interrupted ``framing report`` or ``evaluate`` left (marked as ours)."""
    files = files | ADDED_TO_RUNS
    if entry.name in files:
        return entry.is_file() and not entry.is_symlink()
    return any(_is_our_staging(entry, name, "partial") for name in files)


def is_run_folder(folder: str | Path) -> bool:
    """True when ``folder`` holds a run that framing wrote and nothing else."""
    folder = Path(folder)
    files = _manifest_files(folder) if folder.is_dir() and not folder.is_symlink() else None
    if files is None:
        return False
    try:
        return all(_ours(entry, files) for entry in folder.iterdir())
    except OSError:
        return False


def _describe_foreign(folder: Path) -> str:
    try:
        entries = sorted(entry.name for entry in folder.iterdir())
    except OSError as exc:
        return f"cannot be listed ({exc.strerror})"
    files = _manifest_files(folder)
    if files is None:
        shown = ", ".join(entries[:3]) + (" ..." if len(entries) > 3 else "")
        return f"is not a framing run folder (it holds {shown})"
    foreign = [name for name in entries if not _ours(folder / name, files)]
    shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
    return f"is a framing run folder that also holds files framing did not write ({shown})"


def _replaceable(target: Path, ours: Callable[[Path], bool] | None = None) -> None:
    """Raise unless ``target`` is missing, an empty folder, or a folder framing wrote (``ours``: by default a run
    folder, :func:`is_run_folder`)."""
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir():
        raise FramingError(f"output path {target} exists and is not a folder; choose another --out or run.name")
    try:
        empty = not any(True for _ in target.iterdir())
    except OSError as exc:
        raise FramingError(f"cannot read output folder {target}: {exc.strerror}") from None
    if not empty and not (ours or is_run_folder)(target):
        raise FramingError(f"output folder {target} {_describe_foreign(target)}: framing replaces only its own run "
                           "folders; choose another --out or run.name")


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_run_target(target: str | Path, *, corpus_path: str | Path | None = None,
                     cache_dir: str | Path | None = None) -> Path:
    """Check, before any work, that a run may be written to ``target``; returns it.

    Refuses the current folder or one that contains it, the corpus folder, a folder inside the corpus or one
    that contains it, a folder that holds the embedding cache, an existing path that is not a replaceable run
    folder, and a place without write access. Leaves no trace: nothing is created.
    """
    target = Path(target).expanduser()
    resolved = target.resolve()
    if _within(Path.cwd().resolve(), resolved):
        raise FramingError(f"output folder {target} is the current folder or contains it; a run replaces its "
                           "folder whole, so name a new sub-folder (--out outputs/my-run)")
    if corpus_path is not None:
        corpus = Path(corpus_path).expanduser().resolve()
        if _within(corpus, resolved):
            raise FramingError(f"output folder {target} holds the corpus {corpus_path} (corpus.path); choose "
                               "another --out or run.name")
        if corpus.is_dir() and _within(resolved, corpus):
            raise FramingError(f"output folder {target} is inside the corpus folder {corpus_path}; its files would "
                               "be read as documents next time: choose another --out or run.name")
    if cache_dir is not None and _within(Path(cache_dir).expanduser().resolve(), resolved):
        raise FramingError(f"output folder {target} holds the embedding cache {cache_dir} "
                           "(embedding.cache_dir); choose another --out or run.name")
    _check_name_length(target)
    _replaceable(target)
    _check_writable(_existing_ancestor(target.parent if target.parent != target else target), target)
    return target


# what a staging name adds to the target's: ".", ".partial-", a process id and "-" and a 16-digit token
_STAGING_NAME_EXTRA = len("..partial--") + 10 + 16


def _check_name_length(target: Path) -> None:
    """Raise when ``target``'s name, or its staging folder's, is longer than its file system allows: found before
    any work, not when the finished run is written."""
    folder = _existing_ancestor(target.parent)
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    longest = max(len(part.encode("utf-8", "surrogateescape")) for part in target.parts) if target.parts else 0
    if longest > limit or len(target.name.encode("utf-8", "surrogateescape")) + _STAGING_NAME_EXTRA > limit:
        raise FramingError(f"output name {target.name[:40]}... is too long: names here may have {limit} bytes, and "
                           f"framing needs {_STAGING_NAME_EXTRA} more for its staging folder; choose a shorter name")


def _check_writable(folder: Path, target: Path) -> None:
    if not folder.is_dir():
        raise FramingError(f"cannot create output folder {target}: {folder} is not a folder")
    try:  # os.access says yes to root even on a read-only mount: try it
        handle, probe = tempfile.mkstemp(prefix=".framing-write-test-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise FramingError(f"cannot write output folder {target}: {folder} is not writable "
                           f"({exc.strerror})") from None


def estimated_output_bytes(corpus_bytes: int) -> int:
    """A generous estimate of a run folder's size for a corpus of ``corpus_bytes``."""
    return _FIXED_OUTPUT_BYTES + _OUTPUT_BYTES_PER_CORPUS_BYTE * corpus_bytes


def check_free_space(target: str | Path, corpus_bytes: int) -> None:
    """Raise when the file system of ``target`` has clearly too little room for the run folder."""
    target = Path(target).expanduser()
    folder = _existing_ancestor(target.parent)
    needed = estimated_output_bytes(corpus_bytes)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < needed:
        raise FramingError(f"not enough free space for output folder {target}: about {_megabytes(needed)} needed, "
                           f"{_megabytes(free)} free on {folder}")


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def reserve_space(fd: int, size: int) -> None:
    """Allocate ``size`` bytes of the open file ``fd`` on disk now. A memory map of a sparse file is killed by
    SIGBUS when a page it writes meets a full disk; reserved first, a full disk is an ``OSError`` (ENOSPC) here.
    File systems that cannot reserve (``EOPNOTSUPP``, ``EINVAL``) are left sparse."""
    if size <= 0 or not hasattr(os, "posix_fallocate"):
        return
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except (OverflowError, ValueError):  # not a process id at all
        return False
    return True


def _staging_prefix(name: str, kind: str) -> str:
    return f".{name}.{kind}-"


def is_stale(entry: Path, prefix: str) -> bool:
    """Whether ``entry`` (named ``<prefix><pid>-...``) was left by a process that is gone."""
    pid = entry.name[len(prefix):].split("-", 1)[0]
    # Names without a process id were made before ids were recorded: nothing can still be writing them.
    return not pid.isdigit() or not _pid_alive(int(pid))


def _marker(kind: str, pid: int, token: str, name: str) -> dict:
    return {"framing_staging": kind, "pid": pid, "token": token, "target": name}


def _staging_id(entry: Path, name: str, kind: str) -> tuple[int, str] | None:
    """The process id and token of ``entry`` when it is a real folder named ``.<name>.<kind>-<pid>-<token>``."""
    prefix = _staging_prefix(name, kind)
    if not entry.name.startswith(prefix):
        return None
    pid, _, token = entry.name[len(prefix):].partition("-")
    if not pid.isdigit() or not _TOKEN.fullmatch(token) or entry.is_symlink() or not entry.is_dir():
        return None
    return int(pid), token


def _is_our_staging(entry: Path, name: str, kind: str) -> bool:
    """Whether ``entry`` is a staging folder framing made for target ``name``: named as ``_staging`` names them,
    with a marker file that repeats its kind, process id, token and target."""
    found = _staging_id(entry, name, kind)
    if found is None:
        return False
    marker = entry / STAGING_MARKER
    try:
        if marker.is_symlink() or not marker.is_file():
            return False
        with open(marker, "rb") as handle:
            recorded = json.loads(handle.read(4096))
    except (OSError, ValueError):
        return False
    return recorded == _marker(kind, *found, name)


def _unfinished_staging(entry: Path, name: str, kind: str) -> bool:
    """A folder with a staging name holding nothing, or nothing but its marker cut short (empty, or a beginning of
    the text it was to hold): what a run killed between making its staging folder and marking it leaves, so
    removing it loses nothing of anyone else's."""
    found = _staging_id(entry, name, kind)
    if found is None:
        return False
    marker = entry / STAGING_MARKER
    try:
        held = [child.name for child in entry.iterdir()]
        if not held:
            return True
        if held != [STAGING_MARKER] or marker.is_symlink() or not marker.is_file():
            return False
        with open(marker, "rb") as handle:
            written = handle.read(4097)
    except OSError:
        return False
    return json.dumps(_marker(kind, *found, name)).encode("utf-8").startswith(written)


def clean_stale_staging(target: Path) -> list[Path]:
    """Remove the staging folders for ``target`` that a killed writer left behind; returns them.

    Only folders that framing marked as its own (or empty ones with a staging name, or ones holding nothing but
    a marker cut short by a kill) whose process is gone: anything else beside ``target``, whatever its name, is
    left alone."""
    removed = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return removed
    for entry in siblings:
        kind = next((k for k in _STAGING_KINDS if entry.name.startswith(_staging_prefix(target.name, k))), None)
        if kind is None or not is_stale(entry, _staging_prefix(target.name, kind)):
            continue
        if _is_our_staging(entry, target.name, kind):
            shutil.rmtree(entry, ignore_errors=True)
        elif _unfinished_staging(entry, target.name, kind):
            try:
                (entry / STAGING_MARKER).unlink(missing_ok=True)
                entry.rmdir()
            except OSError:
                continue
        else:
            continue
        removed.append(entry)
    if removed:
        log.info("removed %d staging folder(s) that an interrupted run left beside %s", len(removed), target)
    return removed


def _staging(target: Path, kind: str) -> Path:
    """A new staging folder beside ``target``, marked as framing's (only a marked folder is ever removed)."""
    pid, token = os.getpid(), secrets.token_hex(8)
    folder = target.parent / f"{_staging_prefix(target.name, kind)}{pid}-{token}"
    folder.mkdir(mode=0o700)
    try:
        (folder / STAGING_MARKER).write_text(json.dumps(_marker(kind, pid, token, target.name)))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _unmark(staging: Path) -> None:
    (staging / STAGING_MARKER).unlink(missing_ok=True)


@contextmanager
def atomic_folder(target: str | Path, ours: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Yield a staging folder beside ``target``; on success it replaces ``target``, on error it vanishes.

    ``target`` must be missing, empty or a folder framing wrote — a run folder, or what ``ours`` recognises
    (checked again just before it is replaced).
    """
    target = Path(target)
    _replaceable(target, ours)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise disk_error(exc, "output folder", target.parent) or FramingError(
            f"cannot create output folder {target.parent}: {exc.strerror}") from None
    clean_stale_staging(target)
    try:
        staging = _staging(target, "partial")
    except OSError as exc:
        raise disk_error(exc, "output folder", target) or exc from None
    try:
        try:
            yield staging
        except OSError as exc:
            raise disk_error(exc, "output folder", target) or exc from None
        staging.chmod(_default_mode(0o777))  # a private folder while written; a run folder is an ordinary one
        _replaceable(target, ours)  # nothing else appeared there while we worked
        if target.exists():
            retired = _staging(target, "old")
            target.rename(retired / target.name)
            _unmark(staging)
            staging.rename(target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            _unmark(staging)
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def check_file_target(target: str | Path, replaceable: Callable[[Path], bool] | None = None) -> None:
    """Raise when ``target`` is a folder, or an existing file that ``replaceable`` says framing did not write."""
    target = Path(target)
    _check_name_length(target)
    if target.is_dir():
        raise FramingError(f"cannot write {target}: it is a folder; give a file name")
    if target.exists() and replaceable is not None and not replaceable(target):
        raise FramingError(f"{target} exists and was not written by framing; not replacing it")


def write_file_atomically(target: str | Path, write: Callable[[Path], object],
                          replaceable: Callable[[Path], bool] | None = None) -> Path:
    """Call ``write(temporary_path)`` beside ``target``, then move the file into place (never half-written).

    An existing ``target`` is replaced only when ``replaceable(target)`` says so (default: never refuse a file;
    a folder is always refused).
    """
    target = Path(target)
    check_file_target(target, replaceable)
    if not target.parent.is_dir():
        raise FramingError(f"cannot write {target}: folder {target.parent} does not exist")
    clean_stale_staging(target)
    try:
        staging = _staging(target, "partial")
    except OSError as exc:
        raise disk_error(exc, "file", target) or exc from None
    temporary = staging / target.name
    try:
        write(temporary)
        os.chmod(temporary, _default_mode(0o666))
        os.replace(temporary, target)
    except OSError as exc:
        raise disk_error(exc, "file", target) or exc from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def list_files(folder: Path) -> list[str]:
    """The names of the files in ``folder`` (for a manifest's list of what framing wrote)."""
    return sorted(entry.name for entry in folder.iterdir() if entry.is_file() and entry.name != STAGING_MARKER)

