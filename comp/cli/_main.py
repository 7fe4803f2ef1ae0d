"""``comp`` entry point: parse, configure logging, run the verb; a CompError or OSError is one line and exit 2."""

from __future__ import annotations

import logging
import sys

from comp.cli import _commands
from comp.cli._parser import build_parser
from comp.errors import CompError

logger = logging.getLogger("comp")


def configure_logging(debug: bool) -> None:
    logging.getLogger("tensorflow").setLevel(logging.DEBUG if debug else logging.ERROR)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if debug else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
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
        print(f"comp: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if debug:
            raise
        where = f"{error.filename}: " if error.filename else ""
        print(f"comp: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("comp: interrupted; finished folds and trials are kept (continue with --resume RUN_DIR)",
              file=sys.stderr)
        return 130

