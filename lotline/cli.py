"""The ``lotline`` command: thin entrypoints over the stack, the stream and the history."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from lotline.console import Progress, table
from lotline.settings import Settings

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_NOT_FOUND = 0, 1, 2, 3, 4

EPILOG = """\
Endpoints come from LOTLINE_KAFKA_BOOTSTRAP / LOTLINE_CLICKHOUSE_URL when set, otherwise from
the local stack started by `lotline stack up` (state in LOTLINE_STATE_DIR, default
~/.local/state/lotline). Every setting is a LOTLINE_* environment variable (see README).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lotline", description="Lotline: lab results and product lineage, traceable.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--state-dir", type=Path, help="local stack state directory (overrides LOTLINE_STATE_DIR)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    stack = sub.add_parser("stack", help="start, stop or inspect the local stack (broker, ClickHouse, workers)")
    stack.add_argument("action", choices=("up", "down", "status"))

    sub.add_parser("worker", help="run one stream worker in the foreground")

    publish = sub.add_parser(
        "publish", help="publish JSON-lines events (DESIGN §2 contracts)",
        description="Validate and publish JSON lines. Bad lines are reported with their line number "
        "and reason and sent to the dead-letter topic. Exit status: 0 all published, 1 some lines "
        "rejected, 3 broker unavailable.",
    )
    publish.add_argument("file", help="JSON-lines file, or - for standard input")
    publish.add_argument("--strict", action="store_true", help="publish nothing if any line is invalid")
    publish.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                         help="show progress on stderr (default: when stderr is a terminal)")

    sync = sub.add_parser(
        "sync", help="wait until everything published so far is stored and queryable",
        description="Wait until the workers have committed every topic they read up to its end. "
        "Exit status: 0 synced, 1 still behind after --timeout, 3 broker unreachable.",
    )
    sync.add_argument("--timeout", type=float, default=120.0, metavar="S", help="give up after S seconds (default 120)")

    history = sub.add_parser("history", help="show what the history tables hold (distinct events, recent rows)")
    history.add_argument("--limit", type=int, default=5, help="recent rows per table (default 5)")

    simulate = sub.add_parser(
        "simulate", help="write a synthetic supply chain as JSON lines",
        description="Raw-material lots -> components -> finished toys -> shipments, with lab reports "
        "on a fraction of lots, corrections and withdrawals, splits and hub lots. The same seed gives the "
        "same chain (times start 30 days ago). Depth is TIERS+1 (e.g. --tiers 29 for 30 deep).",
    )
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument("--raw-lots", type=int, default=20)
    simulate.add_argument("--components", type=int, default=40)
    simulate.add_argument("--products", type=int, default=60)
    simulate.add_argument("--shipments-per-product", type=int, default=2)
    simulate.add_argument("--tested-fraction", type=float, default=0.5)
    simulate.add_argument("--failure-rate", type=float, default=0.05)
    simulate.add_argument("--tiers", type=int, default=1,
                          help="component tiers between raw lots and products; the chain is TIERS+1 deep (default 1)")
    simulate.add_argument("--correction-rate", type=float, default=0.0,
                          help="fraction of failing reports later corrected to pass by a version 2 (default 0)")
    simulate.add_argument("--withdrawal-rate", type=float, default=0.0,
                          help="fraction of failing reports later withdrawn by a version 2 (default 0)")
    simulate.add_argument("--shuffle", action="store_true",
                          help="write the events in a random order (seeded), as a disordered stream would deliver them")
    simulate.add_argument("--max-outputs", type=int, default=1,
                          help="a production makes 1 to N lots (splits; default 1)")
    simulate.add_argument("--hub-skew", type=float, default=0.0,
                          help="skew of the choice of inputs: 0 uniform, about 1.2 makes hub lots that end up in "
                          "thousands of products (default 0)")
    simulate.add_argument("--countries", type=int, default=12, help="destination countries, at most 42 (default 12)")
    simulate.add_argument("--recipients", type=int, default=30, help="recipient organisations (default 30)")
    target = simulate.add_mutually_exclusive_group()
    target.add_argument("--out", default="-", help="output file (default: standard output)")
    target.add_argument("--publish", action="store_true",
                        help="publish the events to the stack instead of writing them (as `lotline publish`)")
    simulate.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                          help="with --publish: show progress on stderr (default: when stderr is a terminal)")

    sample = sub.add_parser(
        "sample", help="write the demo's supply chain (toy factories in Yiwu) as JSON lines",
        description="Resin, pigment and plasticiser lots -> moulded components -> toys -> shipments to "
        "seven countries, with lead and phthalate reports from two registered labs and one unregistered "
        "one. One red pigment lot fails for lead. Times start at midnight UTC ten days ago.",
    )
    sample.add_argument("--out", default="-", help="output file (default: standard output)")

    rejects = sub.add_parser("rejects", help="list rejected events with their reasons")
    rejects.add_argument("--limit", type=int, default=20)

    as_of = {"metavar": "TIME", "help": "answer as known at TIME (ISO 8601 with a zone, e.g. 2026-11-20T12:00:00Z)"}
    trace = sub.add_parser(
        "trace", help="trace a batch: status, everything upstream and downstream, reports, shipments",
        description="Trace a batch: its status and risk sources, every upstream batch (with depth and the "
        "production events linking them), every downstream batch, every report on it or upstream, its "
        "shipments, and where the record is incomplete. Exit status: 0 found, 2 bad arguments, "
        "3 no stack, 4 unknown batch.",
    )
    trace.add_argument("batch", help="batch (lot) id")
    trace.add_argument("--as-of", **as_of)
    trace.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    trace.add_argument("--limit", type=int, default=50, help="rows per section in the text output (default 50)")

    recall = sub.add_parser(
        "recall", help="recall scope of a batch: every affected batch and shipment, as a spreadsheet",
        description="Recall scope of a batch: the batch and every descendant (with depth, product and "
        "quantity), every shipment of any of them, totals per country and recipient. --csv and --xlsx "
        "write the FSMA 204 style sortable spreadsheet (one row per tracking event; the XLSX has a data "
        "dictionary sheet). Exit status: 0 found, 2 bad arguments, 3 no stack, 4 unknown batch.",
    )
    recall.add_argument("batch", help="batch (lot) id")
    recall.add_argument("--as-of", **as_of)
    formats = recall.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    formats.add_argument("--csv", metavar="FILE", help="write the tracking events as CSV (- for standard output)")
    formats.add_argument("--xlsx", metavar="FILE", help="write the spreadsheet with its data dictionary")
    recall.add_argument("--limit", type=int, default=50, help="rows per section in the text output (default 50)")

    report = sub.add_parser("report", help="show one lab report at the version that counts, with earlier versions")
    report.add_argument("report_id")
    report.add_argument("--as-of", **as_of)
    report.add_argument("--json", action="store_true", help="print the report as one JSON object")

    api = sub.add_parser("api", help="serve the HTTP API (OpenAPI docs at /docs) in the foreground")
    api.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    api.add_argument("--port", type=int, default=8400, help="port to listen on (default 8400)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    overrides = {"state_dir": args.state_dir} if args.state_dir else {}
    settings = Settings(**overrides)
    from lotline.logs import configure

    configure(settings.log_level)
    from deploy.local_stack import StackNotRunning
    from deploy.services import MissingDependency

    try:
        return int(COMMANDS[args.command](settings, args))
    except (StackNotRunning, MissingDependency) as exc:
        print(f"lotline: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lotline simulate | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        unreachable = _unreachable(exc)
        if unreachable is None:
            raise
        print(f"lotline: {unreachable}", file=sys.stderr)
        return EXIT_UNAVAILABLE


def _unreachable(exc: Exception) -> str | None:
    """What to tell the user when ``exc`` means ClickHouse or the broker cannot be reached, else None."""
    from clickhouse_driver.errors import NetworkError, SocketTimeoutError
    from kafka.errors import KafkaConnectionError, KafkaTimeoutError

    if isinstance(exc, NetworkError | SocketTimeoutError):
        return f"cannot reach ClickHouse: {exc}"
    if isinstance(exc, KafkaConnectionError | KafkaTimeoutError):
        return f"cannot reach the broker: {exc}"
    return None


def cmd_stack(settings: Settings, args: argparse.Namespace) -> int:
    from deploy import local_stack

    if args.action == "up":
        local_stack.up(settings)
    elif args.action == "down":
        local_stack.down(settings)
        return EXIT_OK
    table(("component", "state", "detail"), local_stack.status(settings))
    return EXIT_OK


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    import faust
    from kafka.errors import KafkaError

    from deploy.kafka_admin import partition_count
    from deploy.local_stack import resolve_endpoints
    from sinks.clickhouse import ClickHouseSink
    from streams.app import create_app
    from streams.topics import TopicNames

    endpoints = resolve_endpoints(settings)
    closure_topic = TopicNames(settings.topic_prefix).closure
    try:
        closure_partitions = partition_count(endpoints.kafka_bootstrap, closure_topic)
    except (KafkaError, LookupError) as exc:
        print(f"lotline: cannot start a worker: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    app = create_app(
        settings, bootstrap=endpoints.kafka_bootstrap, sink=ClickHouseSink(endpoints.clickhouse),
        closure_partitions=closure_partitions,
    )
    faust.Worker(app, loglevel=settings.log_level, quiet=True).execute_from_commandline()
    return EXIT_OK


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    source = sys.stdin.buffer if args.file == "-" else _open(args.file)
    if source is None:
        return EXIT_USAGE
    with source:
        return _publish(settings, _lines(source), args.file, strict=args.strict, progress=Progress(args.progress))


def _publish(settings: Settings, lines: Iterable[bytes], name: str, *, strict: bool, progress: Progress) -> int:
    """Publish JSON lines to the stack's broker and report like `lotline publish` (exit 0, 1 or 3)."""
    from kafka.errors import KafkaError

    from deploy.local_stack import resolve_endpoints
    from lotline.kafka_producer import CheckedProducer
    from lotline.publish import publish
    from schemas.codec import AvroCodec
    from streams.topics import TopicNames

    endpoints = resolve_endpoints(settings)
    try:
        producer = CheckedProducer(endpoints.kafka_bootstrap)
    except KafkaError as exc:
        print(f"lotline: cannot reach the broker at {endpoints.kafka_bootstrap}: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    with producer:
        report = publish(
            lines, producer, codec=AvroCodec(), topics=TopicNames(settings.topic_prefix),
            now=datetime.now(UTC), strict=strict,
            on_line=lambda r: progress.update(f"published {r.published:,}, rejected {len(r.rejected):,}"),
        )
    progress.done()
    for error in report.rejected[:50]:
        print(f"{name}:{error.line}: {error.reason}", file=sys.stderr)
    if len(report.rejected) > 50:
        print(f"… and {len(report.rejected) - 50} more rejected lines", file=sys.stderr)
    held = f", {report.held_back:,} valid lines held back (--strict)" if report.held_back else ""
    print(f"published {report.published:,}, rejected {len(report.rejected):,}{held}")
    return EXIT_REJECTED if report.rejected else EXIT_OK


def _open(name: str) -> BinaryIO | None:
    try:
        return open(name, "rb")  # noqa: SIM115 - closed by the caller's with-block
    except OSError as exc:
        print(f"lotline: cannot read {name}: {exc.strerror}", file=sys.stderr)
        return None


def _lines(source: BinaryIO) -> Iterator[bytes]:
    yield from source


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import resolve_endpoints
    from lotline.sync import OffsetReader, wait_for_sync
    from streams.topics import TopicNames

    endpoints = resolve_endpoints(settings)
    progress = Progress()
    reader = OffsetReader(endpoints.kafka_bootstrap, settings.app_id)
    try:
        wait_for_sync(
            reader, TopicNames(settings.topic_prefix).consumed, args.timeout,
            on_progress=lambda behind: progress.update(f"waiting for workers: {behind:,} messages behind"),
        )
    except TimeoutError as exc:
        progress.done()
        print(f"lotline: {exc} (are the workers running? `lotline stack status`)", file=sys.stderr)
        return EXIT_REJECTED
    finally:
        reader.close()
    progress.done()
    print("synced: everything published so far is stored")
    return EXIT_OK


def cmd_history(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import resolve_endpoints
    from query import history, lineage

    address = resolve_endpoints(settings).clickhouse
    client = address.client()
    c = history.counts(client, address.database)
    table(("table", "distinct events", "rows stored"),
          [(t, n, c.rows[t]) for t, n in c.events.items()] + [("rejects", c.rejects, c.rows["rejects"])])
    print(f"\n{c.accepted:,} accepted events, {c.lineage_edges:,} lineage edges, {c.rejects:,} rejects")
    chains = lineage.summary(client, address.database)
    print("chains: " + ", ".join(f"{n:,} {name}" for name, n in chains.items()) + "\n")
    for name in c.events:
        columns, rows = history.recent(client, address.database, name, args.limit)
        if rows:
            print(f"latest {name}:")
            table(columns, rows)
            print()
    return EXIT_OK


def cmd_rejects(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import resolve_endpoints
    from query import history

    address = resolve_endpoints(settings).clickhouse
    rows = history.rejects(address.client(), address.database, args.limit)
    table(("rejected at", "source", "kind", "event id", "reason"),
          [(r["rejected_at"], r["source"], r["event_kind"] or "-", r["event_id"] or "-", r["reason"]) for r in rows])
    return EXIT_OK


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    import json
    from datetime import timedelta

    from traceability.json_form import event_to_json
    from traceability.simulation import ChainShape, supply_chain

    shape = ChainShape(args.raw_lots, args.components, args.products, args.shipments_per_product,
                       args.tested_fraction, args.failure_rate, args.tiers, args.correction_rate,
                       args.withdrawal_rate, args.max_outputs, args.hub_skew, args.countries, args.recipients)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    events = supply_chain(args.seed, shape, start)
    if args.shuffle:
        import random

        events = iter(shuffled := list(events))
        random.Random(args.seed).shuffle(shuffled)
    if args.publish:
        lines = (json.dumps(event_to_json(event)).encode() for event in events)
        return _publish(settings, lines, "simulate", strict=False, progress=Progress(args.progress))
    with contextlib.nullcontext(sys.stdout) if args.out == "-" else open(args.out, "w") as out:
        for event in events:
            out.write(json.dumps(event_to_json(event)) + "\n")
    return EXIT_OK


def _answer(settings: Settings, args: argparse.Namespace, id_field: str, question: str) -> Any:
    """The reader's answer to ``question`` about the id in ``args``, or the exit status after
    saying what is wrong (a malformed id or time: 2; nothing known about the id: 4)."""
    from deploy.local_stack import resolve_endpoints
    from query.params import BadParameter, identifier, moment
    from query.scope import ScopeReader, UnknownBatch, UnknownReport

    try:
        asked = identifier(id_field, getattr(args, id_field)), moment("--as-of", args.as_of)
    except BadParameter as exc:
        print(f"lotline: {exc}", file=sys.stderr)
        return EXIT_USAGE
    address = resolve_endpoints(settings).clickhouse
    try:
        return getattr(ScopeReader(address.client, address.database), question)(*asked)
    except (UnknownBatch, UnknownReport) as exc:
        print(f"lotline: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND


def cmd_trace(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from query.answers import trace_json
    from query.render import trace_text

    answer = _answer(settings, args, "batch", "trace")
    if isinstance(answer, int):
        return answer
    if args.json:
        print(json.dumps(trace_json(answer), indent=2))
    else:
        trace_text(answer, sys.stdout, args.limit)
    return EXIT_OK


def cmd_recall(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from query import export
    from query.answers import recall_json
    from query.render import recall_text

    answer = _answer(settings, args, "batch", "recall")
    if isinstance(answer, int):
        return answer
    if args.json:
        print(json.dumps(recall_json(answer), indent=2))
    elif args.csv:
        with contextlib.nullcontext(sys.stdout) if args.csv == "-" else open(args.csv, "w", newline="") as out:
            rows = export.write_csv(answer, out)
        if args.csv != "-":
            print(f"wrote {args.csv}: {rows:,} tracking events, {len(answer.affected):,} affected batches")
    elif args.xlsx:
        rows = export.write_xlsx(answer, args.xlsx, datetime.now(UTC))
        print(f"wrote {args.xlsx}: {rows:,} tracking events, {len(answer.affected):,} affected batches "
              "(sheets: Recall scope, Affected lots, Totals, About, Data dictionary)")
    else:
        recall_text(answer, sys.stdout, args.limit)
    return EXIT_OK


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from query.answers import report_json

    answer = _answer(settings, args, "report_id", "report")
    if isinstance(answer, int):
        return answer
    found = report_json(answer)
    if args.json:
        print(json.dumps(found, indent=2))
        return EXIT_OK
    registered = "" if found["lab_registered"] else " (not in the registry)"
    print(f"report {found['report_id']} v{found['version']}: {found['verdict']} — batch {found['batch_id']}, "
          f"lab {found['lab_id']}{registered}, method {found['method']}, issued {found['issued_at']}")
    table(("analyte", "value", "unit", "limit", "verdict"),
          [(m["analyte"], m["value"], m["unit"], "-" if m["limit"] is None else m["limit"], m["verdict"])
           for m in found["measurements"]])
    for old in found["superseded"]:
        print(f"supersedes v{old['version']}: {old['verdict']}, issued {old['issued_at']}")
    return EXIT_OK


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    from query.server import serve

    serve(settings, args.host, args.port)
    return EXIT_OK


def cmd_sample(settings: Settings, args: argparse.Namespace) -> int:
    import json
    from datetime import timedelta

    from traceability.json_form import event_to_json
    from traceability.sample_chain import yiwu_toys

    # Midnight UTC ten days ago: a rerun the same day gives the same events (ids and times).
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)
    with contextlib.nullcontext(sys.stdout) if args.out == "-" else open(args.out, "w") as out:
        for event in yiwu_toys(start):
            out.write(json.dumps(event_to_json(event)) + "\n")
    return EXIT_OK


COMMANDS = {
    "sample": cmd_sample,
    "trace": cmd_trace,
    "recall": cmd_recall,
    "report": cmd_report,
    "api": cmd_api,
    "simulate": cmd_simulate,
    "stack": cmd_stack,
    "worker": cmd_worker,
    "publish": cmd_publish,
    "sync": cmd_sync,
    "history": cmd_history,
    "rejects": cmd_rejects,
}
