"""The registry (DESIGN §5): ``registry load`` publishes entries, ``registry show`` reads them back.

``load`` takes JSON lines of accreditation bodies, labs, regulators and organisations with the
checks and dead-lettering of ``lotline publish``; a line of another kind is refused (and
dead-lettered) with the reason. ``show`` reads ClickHouse: every entry's current record, optionally as known at a
moment; statuses, validity and revocations are judged at that moment (or now).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from lotline.cli.exits import EXIT_OK, EXIT_USAGE
from lotline.cli.publishing import open_input, publish_lines
from lotline.settings import Settings
from query.render.progress import Progress
from traceability.errors import ClickHouseUnavailable


def register(sub: Any) -> None:
    registry = sub.add_parser("registry", help="load and show the registry: accreditation bodies, labs, regulators, "
                                                 "organisations")
    actions = registry.add_subparsers(dest="registry_action", required=True, metavar="ACTION")
    load = actions.add_parser(
        "load", help="publish registry entries (JSON lines: accreditation_body, lab, regulator, organisation)",
        description="Validate and publish registry entries as `lotline publish` does; a line of another kind "
        "is refused. Bad lines are reported with their line number and reason and sent to the dead-letter "
        "topic. Exit status: 0 all published, 1 some lines rejected, 3 broker unavailable.",
    )
    load.add_argument("file", help="JSON-lines file, or - for standard input")
    load.add_argument("--strict", action="store_true", help="publish nothing if any line is invalid")
    load.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                      help="show progress on stderr (default: when stderr is a terminal)")
    load.set_defaults(run=run_registry_load)

    show = actions.add_parser(
        "show", help="show the registry: bodies, labs (accreditations, scope, keys), regulators, organisations, "
        "products",
        description="Every accreditation body, lab, regulator, organisation and product at its current record, with "
        "accreditation statuses, scope, qualifications and signing keys judged now (or at --as-of), where each "
        "organisation is (its country, phone and locations) and each product's description. Exit status: 0 shown, "
        "2 bad arguments, 3 no stack, 4 unknown lab.",
    )
    show.add_argument("--as-of", metavar="TIME", help="the registry as known at TIME (ISO 8601 with a zone)")
    show.add_argument("--lab", metavar="LAB", help="only this lab, with the history of its record")
    show.add_argument("--json", action="store_true", help="print the registry as one JSON object")
    show.set_defaults(run=run_registry_show)


def run_registry_load(settings: Settings, args: argparse.Namespace) -> int:
    from streams.publishing import registry_entries_only  # lazy: start-up time (Avro, drivers)

    source = open_input(args.file)
    if source is None:
        return EXIT_USAGE
    with source:
        return publish_lines(settings, source, args.file, strict=args.strict, progress=Progress(args.progress),
                             accept=registry_entries_only)


def run_registry_show(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (the drivers)
    from query import registry
    from query.params import identifier, moment
    from query.render.registry import lab_history_text, lab_text, registry_text
    from sinks.drivers import driver_errors

    as_of = moment("--as-of", args.as_of)
    lab_id = identifier("--lab", args.lab) if args.lab is not None else None
    address = resolve_endpoints(settings.stack()).clickhouse
    history = None
    with driver_errors(ClickHouseUnavailable):
        client, database = address.client(), address.database
        if lab_id is None:
            bodies, labs = registry.bodies(client, database, as_of), registry.labs(client, database, as_of)
            regulators = registry.regulators(client, database, as_of)
            organisations = registry.organisations(client, database, as_of)
            products = registry.products(client, database, as_of=as_of)
        else:
            history = registry.lab_history(client, database, lab_id, as_of)  # UnknownLab: exit 4
            bodies, labs, regulators, organisations, products = {}, {lab_id: history[-1]}, {}, {}, {}
    at = as_of or datetime.now(UTC)
    if args.json:
        answer = registry.registry_json(bodies, labs, regulators, organisations, as_of, history, products)
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    elif lab_id is None:
        registry_text(bodies, labs, regulators, organisations, at, as_of, sys.stdout, products)
    else:
        lab_text(labs[lab_id], at, sys.stdout)
        lab_history_text(history or [], sys.stdout)
    return EXIT_OK
