"""Commands for trusted reports: ``verify`` (a report, or a credential you hold) and ``qr``.

The drivers and the verifier are imported inside the commands (start-up time).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lotline.cli.exits import EXIT_OK, EXIT_REJECTED
from lotline.settings import Settings
from query.params import identifier
from traceability.errors import BadParameter, ClickHouseUnavailable, SetupError


def register(sub: Any) -> None:
    verify = sub.add_parser(
        "verify", help="verify a lab report (or a credential you hold): authentic, accredited, current, logged",
        description="Check a report against the registry: is it signed by the lab's registered key and unaltered, "
        "was the lab accredited for the method when it was issued, is it the current version, is it in the "
        "transparency log, and (with --jurisdiction) does that regulator's policy recognise it. "
        "Exit status: 0 authentic (or unsigned, when signatures are not required) and counting, 1 anything "
        "else, 2 bad arguments, 3 no stack, 4 unknown report.",
    )
    verify.add_argument("lab", nargs="?", help="lab id")
    verify.add_argument("report", nargs="?", help="the lab's report id")
    verify.add_argument("--credential", metavar="FILE", type=Path,
                        help="verify the compact JWS in FILE instead (- for standard input)")
    verify.add_argument("--version", type=int, help="a version of the report (default: the latest)")
    verify.add_argument("--jurisdiction", metavar="J", help="a regulator's id or jurisdiction, e.g. CN-ZJ or DE")
    verify.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    verify.set_defaults(run=run_verify)

    qr = sub.add_parser("qr", help="write a QR code of a report's verification page (SVG or PNG)",
                        description="The QR code leads to LOTLINE_PUBLIC_URL/r/LAB/REPORT, the report's public "
                        "verification page served by the API.")
    qr.add_argument("lab", help="lab id")
    qr.add_argument("report", help="the lab's report id")
    qr.add_argument("--out", required=True, type=Path, help="FILE.svg or FILE.png")
    qr.set_defaults(run=run_qr)


def run_verify(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (the drivers)
    from query.answers import verification_json
    from query.render.verification import verification_text
    from query.scope import ScopeReader
    from query.transparency import LogReader
    from query.verification import Verifier
    from sinks.drivers import driver_errors

    address = resolve_endpoints(settings.stack()).clickhouse
    log = LogReader(address.client, address.database, origin=settings.log_origin)
    verifier = Verifier(ScopeReader(address.client, address.database), address.client, address.database,
                        log=log, require_signatures=settings.require_signatures)
    with driver_errors(ClickHouseUnavailable):
        if args.credential is not None:
            token = (sys.stdin.read() if str(args.credential) == "-" else _read(args.credential)).strip()
            found = verifier.credential(token, jurisdiction=args.jurisdiction)
        else:
            lab, report = _identity(args)
            found = verifier.report(lab, report, version=args.version, jurisdiction=args.jurisdiction)
    if args.json:
        print(json.dumps(verification_json(found), indent=2))
    else:
        verification_text(found, sys.stdout)
    good = found.standing.outcome in ("authentic", "unsigned", "pending") and found.standing.counts
    return EXIT_OK if good else EXIT_REJECTED


def run_qr(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import StackState
    from query.qr import report_url, write_qr  # lazy: start-up time (segno)

    lab, report = identifier("lab", args.lab), identifier("report", args.report)
    port = StackState.load(settings.state_dir).ports.get("api", settings.api_port)
    url = report_url(settings.public_url or f"http://{settings.api_host}:{port}", lab, report)
    write_qr(url, args.out)
    print(f"wrote {args.out}: a QR code of {url}")
    return EXIT_OK


def _identity(args: argparse.Namespace) -> tuple[str, str]:
    if not args.lab or not args.report:
        raise BadParameter("lab", "name the lab and the report (lotline verify LAB REPORT), or pass --credential FILE")
    return identifier("lab", args.lab), identifier("report", args.report)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise SetupError(f"cannot read {path}: {exc.strerror}") from None
