"""The ``lotline`` command: the top layer. It builds the settings once, hands each command the
narrow config it needs, and turns Lotline's error tree into exit codes; nothing imports it.

Commands live in one module per group (``stack``, ``publishing``, ``answers``, ``forms``, ``trust``,
``keys``, ``log``, ``registry``, ``audit``, ``principals``); a group adds its subcommands with ``register``.
Their text output is rendered by ``query.render``.

Exit status: 0 done, 1 some input rejected or still behind, 2 bad arguments, 3 a service or the
stack cannot be reached or is not set up, 4 unknown batch or report, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from lotline.cli import answers, audit, forms, keys, log, principals, publishing, registry, serving, stack, trust
from lotline.cli.exits import EXIT_NOT_FOUND, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE
from lotline.logs import configure
from lotline.settings import Settings
from traceability.errors import BadParameter, LotlineError, NotFound, SetupError, Unavailable

EPILOG = """\
Endpoints come from LOTLINE_KAFKA_BOOTSTRAP / LOTLINE_CLICKHOUSE_URL when set, otherwise from
the local stack started by `lotline stack up` (state in LOTLINE_STATE_DIR, default
~/.local/state/lotline). Every setting is a LOTLINE_* environment variable (see README).
"""

#: Command groups in the order ``--help`` lists their commands.
GROUPS = (stack, serving, publishing, answers, forms, registry, trust, keys, log, audit, principals)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lotline", description="Lotline: lab results and product lineage, traceable.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--state-dir", type=Path, help="local stack state directory (overrides LOTLINE_STATE_DIR)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.load(**({"state_dir": args.state_dir} if args.state_dir else {}))
        configure(settings.log_level)
        return int(args.run(settings, args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lotline simulate | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        from sinks.drivers import translate  # lazy: the drivers cost 0.3 s of start-up, and only errors need them

        error = translate(exc)
        if error is None:
            raise
        return _exit_status(error)


def _exit_status(error: LotlineError) -> int:
    """Say what went wrong in one line and pick the exit status of its branch of the error tree."""
    print(f"lotline: {error}", file=sys.stderr)
    if isinstance(error, BadParameter):
        return EXIT_USAGE
    if isinstance(error, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, Unavailable | SetupError):
        return EXIT_UNAVAILABLE
    return 1
