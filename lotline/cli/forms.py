"""The regulators' forms: ``lotline export fsma`` (FSMA 204's sortable spreadsheet) and ``lotline notify
safety-gate`` (an EU Safety Gate notification draft), filled from the chain and the registry.

As every operator command, they read ClickHouse directly with full access. What a form cannot fill
is left empty and said: the About sheet lists each missing element, the draft its missing list.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lotline.cli.exits import EXIT_OK
from lotline.settings import Settings
from query.params import date_range, identifier, moment
from traceability.errors import BadParameter, ClickHouseUnavailable
from traceability.tracking import Request

_AS_OF = {"metavar": "TIME", "help": "as known at TIME (ISO 8601 with a zone, e.g. 2026-11-20T12:00:00Z)"}


def register(sub: Any) -> None:
    export = sub.add_parser("export", help="write a regulator's form from the chain (export fsma)")
    forms = export.add_subparsers(dest="form", required=True, metavar="FORM")
    fsma = forms.add_parser(
        "fsma", help="FSMA 204's electronic sortable spreadsheet: Shipping, Receiving, Transformation",
        description="FSMA 204's electronic sortable spreadsheet, laid out as the FDA's template: one sheet per "
        "critical tracking event (Shipping, Receiving, Transformation), every key data element in its column, "
        "location and product descriptions split into their parts, then an About sheet (what was asked, and "
        "every element the records leave empty, by lot) and the data dictionary. Ask as the rule lets FDA ask: "
        "the recall scope of a lot, a list of lot codes, or a product over a date range. An .xlsx file gets "
        "every sheet; a .csv name writes one CSV per sheet beside it (NAME.shipping.csv, NAME.receiving.csv, "
        "NAME.transformation.csv, NAME.about.csv). Exit status: 0 written, 2 bad arguments, 3 no stack, "
        "4 unknown batch.")
    asked = fsma.add_mutually_exclusive_group(required=True)
    asked.add_argument("--recall", metavar="BATCH", help="the recall scope of BATCH (it and every descendant)")
    asked.add_argument("--lots", metavar="FILE", type=Path, help="the lot codes in FILE, one per line (- for stdin)")
    asked.add_argument("--product", metavar="PRODUCT", help="every lot of PRODUCT, events between --from and --to")
    fsma.add_argument("--from", dest="start", metavar="DATE", help="with --product: first day (2026-11-01) or moment")
    fsma.add_argument("--to", dest="end", metavar="DATE", help="with --product: last day, inclusive, or moment")
    fsma.add_argument("--out", metavar="FILE", required=True, help="FILE.xlsx, or FILE.csv (one CSV per sheet)")
    fsma.add_argument("--as-of", **_AS_OF)
    fsma.set_defaults(run=run_fsma)

    notify = sub.add_parser("notify", help="draft a notification to an authority (notify safety-gate)")
    kinds = notify.add_subparsers(dest="notification", required=True, metavar="NOTIFICATION")
    gate = kinds.add_parser(
        "safety-gate", help="an EU Safety Gate notification draft for a batch",
        description="An EU Safety Gate (RAPEX) notification draft for a batch: the products placed on the "
        "market from it (category, name, brand, model, batches, barcode, country of origin, description), "
        "the traceability (countries of destination with quantities; manufacturer, exporters, importers and "
        "distributors from the chain, with their contacts), and the risk (risk type, the failing measurements "
        "with method, value and limit, the lab and its accreditation, the standards not met). The measures "
        "are left to the notifying authority; what the chain does not know is listed. Exit status: 0 drafted, "
        "2 bad arguments, 3 no stack, 4 unknown batch.")
    gate.add_argument("batch", help="batch (lot) id, e.g. the failed lot")
    shape = gate.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the draft as one JSON object")
    shape.add_argument("--html", metavar="FILE", help="write the draft as a printable HTML page")
    gate.add_argument("--as-of", **_AS_OF)
    gate.set_defaults(run=run_safety_gate)


def run_fsma(settings: Settings, args: argparse.Namespace) -> int:
    from query import fsma_export
    from query.render.forms import fsma_written_text
    from query.scope import answer_building
    from traceability.fsma_template import form

    request, as_of = fsma_request(args), moment("--as-of", args.as_of)
    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".csv"):
        raise BadParameter("--out", f"expected a .xlsx or .csv file name, got {args.out!r:.60}")
    with answer_building():
        with _forms(settings) as reader:
            records = reader.tracking(request, as_of)
        filled, now = form(records), datetime.now(UTC)
        if out.suffix.lower() == ".xlsx":
            fsma_export.write_xlsx(filled, records, str(out), now)
            written = [out]
        else:
            written = fsma_export.write_csv_files(filled, records, out, now)
    fsma_written_text(written, filled, records, sys.stdout)
    return EXIT_OK


def fsma_request(args: argparse.Namespace) -> Request:
    """The request the arguments make (exactly one of --recall, --lots, --product, with --from/--to)."""
    if (args.start or args.end) and not args.product:
        raise BadParameter("--from", "--from and --to go with --product")
    if args.recall:
        return Request("recall", batch_id=identifier("--recall", args.recall))
    if args.lots:
        return Request("lots", lots=_lot_codes(args.lots))
    if not (args.start and args.end):
        raise BadParameter("--from" if not args.start else "--to", "--product needs --from and --to (a date range)")
    start, end = date_range("--from", args.start, "--to", args.end)
    return Request("product", product_id=identifier("--product", args.product), start=start, end=end)


def _lot_codes(path: Path) -> tuple[str, ...]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadParameter("--lots", f"cannot read {path}: {exc}") from None
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    lots = tuple(identifier(f"--lots {path}:{n}", line) for n, line in lines if line and not line.startswith("#"))
    if not lots:
        raise BadParameter("--lots", f"{path} names no lot code (one per line; # starts a comment)")
    return lots


def run_safety_gate(settings: Settings, args: argparse.Namespace) -> int:
    from query.render.safety_gate import notification_html, notification_json, notification_text

    batch, as_of = identifier("batch", args.batch), moment("--as-of", args.as_of)
    with _forms(settings) as reader:
        notification = reader.safety_gate(batch, as_of, datetime.now(UTC))
    if args.json:
        print(json.dumps(notification_json(notification), indent=2, ensure_ascii=False))
    elif args.html:
        Path(args.html).write_text(notification_html(notification), encoding="utf-8")
        print(f"wrote {args.html}: the Safety Gate notification draft of {batch}")
    else:
        print(notification_text(notification), end="")
    return EXIT_OK


@contextmanager
def _forms(settings: Settings) -> Iterator[Any]:
    """The form reader on the stack's ClickHouse, its driver's errors translated (``ClickHouseUnavailable``)."""
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (the drivers)
    from query.forms import FormReader
    from query.scope import ScopeReader
    from sinks.drivers import driver_errors

    address = resolve_endpoints(settings.stack()).clickhouse
    with driver_errors(ClickHouseUnavailable):
        yield FormReader(ScopeReader(address.client, address.database), address.client(), address.database)
