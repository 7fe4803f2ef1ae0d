"""The one exception type the CLI turns into a one-line message on stderr."""


class CompError(ValueError):
    """A fault in the user's input or environment, stated in one line with what to do about it.

    The CLI prints ``comp: error: <message>`` and exits with status 2; ``--debug`` shows the traceback.
    """


class TrialPruned(Exception):
    """Raised inside ``ModelSpec.fit_fold`` (via ``FitContext.raise_if_pruned``) to end a tuning trial early; the
    tuner records the trial as pruned. Plugins never need to import Optuna for this."""
