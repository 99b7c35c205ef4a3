"""The one exception type for errors a user can cause and fix, and the OS errors that are such errors."""
from __future__ import annotations

import errno
from pathlib import Path


class FramingError(Exception):
    """A user-caused problem (bad config, missing or empty corpus, too little data).

    The message is one line a person can act on; the CLI prints it and exits with status 2.
    """


class MissingExtra(FramingError, ImportError):
    """An optional dependency is not installed; the message says what to ``pip install``.

    An ``ImportError`` (as umap-learn raises for its extras), and a ``FramingError``: the CLI prints the line and
    exits with status 2.
    """


_DISK_ERRORS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                errno.EFBIG: "a file grew past the size this process may write", errno.EROFS: "read-only file system",
                errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
                errno.ENAMETOOLONG: "a name is longer than the file system allows"}


def disk_error(exc: OSError, what: str, path: str | Path) -> FramingError | None:
    """A one-line ``FramingError`` for an OS error the user can fix (full disk, no permission); else ``None``."""
    reason = _DISK_ERRORS.get(exc.errno or 0)
    if reason is None:
        return None
    return FramingError(f"cannot write {what} {path}: {reason} ({exc.strerror})")
