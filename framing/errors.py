"""The one exception type for errors a user can cause and fix."""


class FramingError(Exception):
    """A user-caused problem (bad config, missing or empty corpus, too little data).

    The message is one line a person can act on; the CLI prints it and exits with status 2.
    """
