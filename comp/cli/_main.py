"""``comp`` entry point: parse, configure logging, run the verb; a CompError or OSError is one line and exit 2."""

from __future__ import annotations

import contextlib
import logging
import sys

from comp.cli import _commands
from comp.cli._parser import build_parser
from comp.cli._stderr import native_log_filter
from comp.errors import CompError

logger = logging.getLogger("comp")
ERROR_LINE_LIMIT = 300  # characters of a whole ``comp: error: ...`` line


class CurrentStderrHandler(logging.StreamHandler):
    """A stream handler writing to whatever ``sys.stderr`` is when each record is emitted."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(debug: bool) -> None:
    logging.getLogger("tensorflow").setLevel(logging.DEBUG if debug else logging.ERROR)
    handler = CurrentStderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if debug else logging.INFO)


def error_line(message: str, limit: int = ERROR_LINE_LIMIT) -> str:
    """``comp: error: <message>`` on one line of at most ``limit`` characters; a longer message is cut, saying how
    many characters were left out."""
    line = "comp: error: " + " ".join(str(message).split())
    if len(line) <= limit:
        return line
    kept = limit - len(" ... (100000 more characters)")
    return f"{line[:kept]} ... ({len(line) - kept} more characters)"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    with contextlib.nullcontext() if debug else native_log_filter():
        try:
            parser = build_parser()
            args, unknown = parser.parse_known_args(argv)
            if unknown:
                parser.verb_parsers[args.verb].error(f"unrecognized arguments: {' '.join(unknown)}")
            configure_logging(args.debug)
            return getattr(_commands, f"run_{args.verb}")(args) or 0
        except CompError as error:
            if debug:
                raise
            print(error_line(str(error)), file=sys.stderr)
            return 2
        except OSError as error:
            if debug:
                raise
            where = f"{error.filename}: " if error.filename else ""
            print(error_line(f"{where}{error.strerror or error}"), file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("comp: interrupted; finished folds and trials are kept (continue with --resume RUN_DIR)",
                  file=sys.stderr)
            return 130
