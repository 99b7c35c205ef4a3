"""The one exception type for errors a user can cause and fix."""


class FramingError(Exception):
    """A user-caused problem (bad config, missing or empty corpus, too little data).

    The message is one line a person can act on; the CLI prints it and exits with status 2.
    """


class MissingExtra(FramingError, ImportError):
    """An optional dependency is not installed; the message says what to ``pip install``.

    An ``ImportError`` (as umap-learn raises for its extras), and a ``FramingError``: the CLI prints the line and
    exits with status 2.
    """
