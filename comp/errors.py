"""The one exception type the CLI turns into a one-line message on stderr."""


class CompError(ValueError):
    """A fault in the user's input or environment, stated in one line with what to do about it.

    The CLI prints ``comp: error: <message>`` and exits with status 2; ``--debug`` shows the traceback.
    """
