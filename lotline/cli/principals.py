"""API principals (DESIGN §5, access by role): ``principals add``, ``list`` and ``revoke``.

``add`` makes a principal with one role and its party and prints its new API key once: only the
key's SHA-256 is stored. The commands write ClickHouse directly (not through the stream: a key must
work as soon as it is printed), so they first make sure the tables exist, as ``stack up`` does.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lotline.cli.exits import EXIT_OK
from lotline.settings import Settings
from traceability.access import ROLES
from traceability.errors import BadParameter

if TYPE_CHECKING:
    from query.principals import PrincipalStore

#: The store's argument names -> the options that set them (and, for a party, its metavar).
_OPTIONS = {"role": ("--role", ""), "name": ("--name", ""), "lab_id": ("--lab", "LAB"), "org_id": ("--org", "ORG"),
            "regulator_id": ("--regulator", "REG")}


def register(sub: Any) -> None:
    principals = sub.add_parser(
        "principals", help="API principals: add one (prints its API key once), list, revoke",
        description="Who may call the HTTP API, and as whom: each principal has one role (lab, org, regulator, "
        "admin) bound to its lab, organisation or regulator, and an API key sent as `Authorization: Bearer "
        "<key>`. Only the key's SHA-256 is stored.",
    )
    actions = principals.add_subparsers(dest="principals_action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="add a principal and print its new API key (shown once)",
        description="Add a principal and print its id, role, party and a new API key (256 random bits). The key "
        "is shown once; only its SHA-256 hash is kept. A lab principal names its lab (--lab), an org its "
        "organisation (--org), a regulator its regulator (--regulator); an admin names none. Exit status: "
        "0 added, 2 bad arguments (a missing or extra party), 3 no stack.",
    )
    add.add_argument("--role", required=True, choices=ROLES, help="what the principal may do (DESIGN §5)")
    add.add_argument("--lab", default="", metavar="LAB", help="the lab a lab principal acts as")
    add.add_argument("--org", default="", metavar="ORG", help="the organisation an org principal acts as")
    add.add_argument("--regulator", default="", metavar="REG", help="the regulator a regulator principal acts as")
    add.add_argument("--name", default="", metavar="TEXT", help="who holds the key, for the listing (optional)")
    add.add_argument("--json", action="store_true", help="print the principal and its key as one JSON object")
    add.set_defaults(run=run_principals_add)

    listing = actions.add_parser(
        "list", help="list every principal, revoked ones too (no keys, no hashes)",
        description="Every principal with its role, party, name, when it was added and when revoked. Keys are "
        "never shown again and hashes are not shown. Exit status: 0 listed, 3 no stack.",
    )
    listing.add_argument("--json", action="store_true", help="print the principals as one JSON object")
    listing.set_defaults(run=run_principals_list)

    revoke = actions.add_parser(
        "revoke", help="revoke a principal: its key stops working",
        description="Revoke a principal's API key from now on; a running API stops accepting it within "
        "LOTLINE_PRINCIPAL_REFRESH_SECONDS (default 1 s). Exit status: 0 revoked, 2 revoked already, "
        "3 no stack, 4 unknown principal.",
    )
    revoke.add_argument("principal_id", metavar="PRINCIPAL_ID", help="the principal's id (p-…, from `list`)")
    revoke.set_defaults(run=run_principals_revoke)


def run_principals_add(settings: Settings, args: argparse.Namespace) -> int:
    from query.principals import PrincipalRow, principal_json
    from query.render.principals import new_principal_text

    now = datetime.now(UTC).replace(microsecond=0)
    with _store(settings) as store:
        try:
            principal, key = store.add(args.role, lab_id=args.lab, org_id=args.org, regulator_id=args.regulator,
                                       name=args.name, now=now)
        except BadParameter as exc:
            raise _as_options(exc, args) from None
    if args.json:
        answer = {**principal_json(PrincipalRow(principal, now)), "api_key": key,
                  "note": "shown once: only the key's SHA-256 hash is kept"}
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    else:
        new_principal_text(principal, key, now, sys.stdout)
    return EXIT_OK


def run_principals_list(settings: Settings, args: argparse.Namespace) -> int:
    from query.principals import principal_json
    from query.render.principals import principals_text

    with _store(settings) as store:
        rows = store.list()
    if args.json:
        print(json.dumps({"principals": [principal_json(row) for row in rows]}, indent=2, ensure_ascii=False))
    else:
        principals_text(rows, sys.stdout)
    return EXIT_OK


def run_principals_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from query.render.principals import revoked_text

    with _store(settings) as store:
        row = store.revoke(args.principal_id, now=datetime.now(UTC).replace(microsecond=0))
    revoked_text(row, sys.stdout)
    return EXIT_OK


@contextmanager
def _store(settings: Settings) -> Iterator[PrincipalStore]:
    """The principals table of the configured deployment, created first if missing (idempotent)."""
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (the drivers)
    from query.principals import PrincipalStore
    from sinks.clickhouse import migrate

    address = resolve_endpoints(settings.stack()).clickhouse
    migrate(address)  # a stack started before principals existed has no table yet
    store = PrincipalStore(address.client, address.database)  # its errors are Lotline's (ClickHouseUnavailable)
    try:
        yield store
    finally:
        store.close()


def _as_options(error: BadParameter, args: argparse.Namespace) -> BadParameter:
    """The store's complaint naming the option to fix (``lab_id`` -> ``--lab``), and how when a party is missing."""
    option, metavar = _OPTIONS.get(error.field, (error.field, ""))
    missing = metavar and not getattr(args, option.removeprefix("--"))
    return BadParameter(option, error.reason + (f" (pass {option} {metavar})" if missing else ""))
