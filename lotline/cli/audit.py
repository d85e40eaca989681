"""The audit log: ``lotline audit`` lists the API requests recorded in ClickHouse.

Every API request (principal, role, endpoint, the ids it named, status, outcome, time) is appended
to the ``audit`` table by the API's audit writer (``sinks.audit``); this reads them back, filtered
by principal and time, oldest first.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from lotline.cli.exits import EXIT_OK
from lotline.settings import Settings
from traceability.errors import BadParameter, ClickHouseUnavailable

DEFAULT_LIMIT = 100
_TIME = "ISO 8601 with a zone (2026-11-20T12:00:00Z) or an age before now (90s, 15m, 2h, 7d, 1w)"


def register(sub: Any) -> None:
    audit = sub.add_parser(
        "audit", help="list API requests from the audit log: who asked what, and how it ended",
        description="The API requests recorded in the audit log, oldest first: time, principal, role, method,\n"
        "endpoint, the object ids named, status and outcome. With more matches than --limit, the\n"
        "latest are shown. Requests without a credential have principal '' (shown as -), role public.\n\n"
        "Exit status: 0 listed (also when none match), 2 bad arguments, 3 no stack or ClickHouse down.",
        epilog="examples:\n  lotline audit --since 15m\n  lotline audit --principal key-cti-ops --since 7d --json\n"
        "  lotline audit --since 2026-11-20T00:00:00Z --until 2026-11-21T00:00:00Z --limit 1000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument("--principal", metavar="P",
                       help="only requests by principal P ('' for those without a credential)")
    audit.add_argument("--since", metavar="TIME", help=f"only requests at or after TIME: {_TIME}")
    audit.add_argument("--until", metavar="TIME", help="only requests before TIME (same forms as --since)")
    audit.add_argument("--limit", metavar="N", type=int, default=DEFAULT_LIMIT,
                       help=f"show the latest N matching requests (default {DEFAULT_LIMIT})")
    audit.add_argument("--json", action="store_true", help="print one JSON object per request, one per line")
    audit.set_defaults(run=run_audit)


def run_audit(settings: Settings, args: argparse.Namespace) -> int:
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (the drivers)
    from query.audit import audit_json, audit_records, moment_or_age
    from query.render.audit import audit_text
    from sinks.drivers import driver_errors

    now = datetime.now(UTC)
    since, until = moment_or_age("--since", args.since, now), moment_or_age("--until", args.until, now)
    if args.limit < 1:
        raise BadParameter("--limit", f"must be at least 1, got {args.limit}")
    address = resolve_endpoints(settings.stack()).clickhouse
    with driver_errors(ClickHouseUnavailable):
        records = audit_records(address.client(), address.database, principal=args.principal, since=since,
                                until=until, limit=args.limit + 1)  # one more: are there older ones?
    more = len(records) > args.limit
    records = records[1:] if more else records
    if not args.json:
        audit_text(records, sys.stdout, more=more)
        return EXIT_OK
    for record in records:
        print(json.dumps(audit_json(record), ensure_ascii=False))
    if more:
        print(f"lotline: the latest {args.limit:,} shown; older requests match too (--limit)", file=sys.stderr)
    return EXIT_OK
