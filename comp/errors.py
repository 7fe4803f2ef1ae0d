"""The one exception type the CLI turns into a one-line message on stderr."""


class CompError(ValueError):
    """A fault in the user's input or environment, stated in one line with what to do about it.

    The CLI prints ``comp: error: <message>`` and exits with status 2; ``--debug`` shows the traceback.
    """


class TrialPruned(Exception):
    """Raised inside ``ModelSpec.fit_fold`` (via ``FitContext.raise_if_pruned``) to end a tuning trial early; the
    tuner records the trial as pruned. Plugins never need to import Optuna for this."""


def excerpt(value: object, limit: int = 40) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters with the count of the rest, so an echoed
    input (a 10,000-character line) keeps the message one short line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"
