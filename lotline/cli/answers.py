"""Commands that answer from the history: ``trace``, ``recall``, ``report``, ``history``, ``rejects``.

A malformed id or time is a ``BadParameter`` (exit 2) and an unknown batch or report a
``NotFound`` (exit 4), raised below and turned into exit codes by ``lotline.cli.main``.
ClickHouse's driver is imported inside the commands (start-up time).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from datetime import UTC, datetime
from typing import Any

from lotline.cli.exits import EXIT_OK
from lotline.settings import Settings
from query import export
from query.answers import recall_json, report_json, trace_json
from query.params import identifier, moment
from query.render.answers import recall_text, report_text, trace_text, written_text
from traceability.errors import ClickHouseUnavailable

_AS_OF = {"metavar": "TIME", "help": "answer as known at TIME (ISO 8601 with a zone, e.g. 2026-11-20T12:00:00Z)"}


def register(sub: Any) -> None:
    history = sub.add_parser("history", help="show what the history tables hold (distinct events, recent rows)")
    history.add_argument("--limit", type=int, default=5, help="recent rows per table (default 5)")
    history.set_defaults(run=run_history)

    rejects = sub.add_parser("rejects", help="list rejected events with their reasons")
    rejects.add_argument("--limit", type=int, default=20)
    rejects.set_defaults(run=run_rejects)

    trace = sub.add_parser(
        "trace", help="trace a batch: status, everything upstream and downstream, reports, shipments",
        description="Trace a batch: its status and risk sources, every upstream batch (with depth and the "
        "production events linking them), every downstream batch, every report on it or upstream, its "
        "shipments, and where the record is incomplete. Exit status: 0 found, 2 bad arguments, "
        "3 no stack, 4 unknown batch.",
    )
    trace.add_argument("batch", help="batch (lot) id")
    trace.add_argument("--as-of", **_AS_OF)
    trace.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    trace.add_argument("--limit", type=int, default=50, help="rows per section in the text output (default 50)")
    trace.set_defaults(run=run_trace)

    recall = sub.add_parser(
        "recall", help="recall scope of a batch: every affected batch and shipment, as a spreadsheet",
        description="Recall scope of a batch: the batch and every descendant (with depth, product and "
        "quantity), every shipment of any of them, totals per country and recipient. --csv and --xlsx "
        "write the FSMA 204 style sortable spreadsheet (one row per tracking event; the XLSX has a data "
        "dictionary sheet). Exit status: 0 found, 2 bad arguments, 3 no stack, 4 unknown batch.",
    )
    recall.add_argument("batch", help="batch (lot) id")
    recall.add_argument("--as-of", **_AS_OF)
    formats = recall.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    formats.add_argument("--csv", metavar="FILE", help="write the tracking events as CSV (- for standard output)")
    formats.add_argument("--xlsx", metavar="FILE", help="write the spreadsheet with its data dictionary")
    recall.add_argument("--limit", type=int, default=50, help="rows per section in the text output (default 50)")
    recall.set_defaults(run=run_recall)

    report = sub.add_parser("report", help="show one lab report at the version that counts, with earlier versions",
                            description="Report ids are unique only within a lab: name the lab with --lab when "
                            "two labs used the id. Exit status: 0 found, 2 bad arguments (or an ambiguous id), "
                            "3 no stack, 4 unknown report.")
    report.add_argument("report_id")
    report.add_argument("--lab", metavar="LAB", help="the lab that issued it")
    report.add_argument("--as-of", **_AS_OF)
    report.add_argument("--json", action="store_true", help="print the report as one JSON object")
    report.set_defaults(run=run_report)


def _ask(settings: Settings, args: argparse.Namespace, id_field: str, question: str, **named: str | None) -> Any:
    """The answer to ``question`` about the id in ``args``: current traces and recalls from the serving
    store once the workers have built it, everything else from ClickHouse.

    Raises:
        BadParameter: a malformed id or time.
        NotFound: nothing is known about the id (as of the time asked).
        Unavailable: ClickHouse cannot be reached.
    """
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (the drivers)
    from query.scope import ScopeReader
    from query.serving import ServingSource
    from sinks.drivers import driver_errors

    asked = identifier(id_field, getattr(args, id_field)), moment("--as-of", args.as_of)
    if asked[1] is None and question in ("trace", "recall") and settings.serving_store:
        source = ServingSource(settings.serving_path())
        try:
            if (store := source.reader()) is not None:
                return getattr(store, question)(asked[0])
        finally:
            source.close()
    address = resolve_endpoints(settings.stack()).clickhouse
    with driver_errors(ClickHouseUnavailable):
        return getattr(ScopeReader(address.client, address.database), question)(*asked, **named)


def run_trace(settings: Settings, args: argparse.Namespace) -> int:
    answer = _ask(settings, args, "batch", "trace")
    if args.json:
        print(json.dumps(trace_json(answer), indent=2))
    else:
        trace_text(answer, sys.stdout, args.limit)
    return EXIT_OK


def run_recall(settings: Settings, args: argparse.Namespace) -> int:
    answer = _ask(settings, args, "batch", "recall")
    if args.json:
        print(json.dumps(recall_json(answer), indent=2))
    elif args.csv:
        with contextlib.nullcontext(sys.stdout) if args.csv == "-" else open(args.csv, "w", newline="") as out:
            rows = export.write_csv(answer, out)
        if args.csv != "-":
            written_text(args.csv, rows, answer, sys.stdout)
    elif args.xlsx:
        rows = export.write_xlsx(answer, args.xlsx, datetime.now(UTC))
        written_text(args.xlsx, rows, answer, sys.stdout, sheets=export.XLSX_SHEETS)
    else:
        recall_text(answer, sys.stdout, args.limit)
    return EXIT_OK


def run_report(settings: Settings, args: argparse.Namespace) -> int:
    lab = identifier("--lab", args.lab) if args.lab else None
    answer = _ask(settings, args, "report_id", "report", lab_id=lab)
    if args.json:
        print(json.dumps(report_json(answer), indent=2))
    else:
        report_text(answer, sys.stdout)
    return EXIT_OK


def run_history(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (ClickHouse driver)
    from query import history, lineage
    from query.render.operations import history_text
    from sinks.drivers import driver_errors

    address = resolve_endpoints(settings.stack()).clickhouse
    with driver_errors(ClickHouseUnavailable):
        client = address.client()
        counts = history.counts(client, address.database)
        chains = lineage.summary(client, address.database)
        recent = {name: history.recent(client, address.database, name, args.limit) for name in counts.events}
    history_text(counts, chains, recent, sys.stdout)
    return EXIT_OK


def run_rejects(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (ClickHouse driver)
    from query import history
    from query.render.operations import rejects_text
    from sinks.drivers import driver_errors

    address = resolve_endpoints(settings.stack()).clickhouse
    with driver_errors(ClickHouseUnavailable):
        rows = history.rejects(address.client(), address.database, args.limit)
    rejects_text(rows, sys.stdout)
    return EXIT_OK
