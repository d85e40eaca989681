"""Lab signing keys: ``keys new``.

The private key is written to a file created with mode 0600 (never loosened and tightened later),
next to its public JWK; an existing file is replaced only with ``--force``, and then through a
fresh 0600 file renamed over it, so the key never sits in a file another user could read.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lotline.cli.exits import EXIT_OK
from lotline.settings import Settings
from query.params import identifier, moment
from traceability.errors import BadParameter, ClickHouseUnavailable, UnknownLab

_PRIVATE = 0o600


def register(sub: Any) -> None:
    keys = sub.add_parser("keys", help="make lab signing keys (Ed25519) for signed reports")
    actions = keys.add_subparsers(dest="keys_action", required=True, metavar="ACTION")
    new = actions.add_parser(
        "new", help="make a lab's signing key: PREFIX.key.pem (private, 0600) and PREFIX.pub.jwk",
        description="Make an Ed25519 signing key for a lab. Writes PREFIX.key.pem (PKCS#8, mode 0600) "
        "and PREFIX.pub.jwk (the public JWK to register), and prints the registry line. Exit status: "
        "0 written, 2 a file exists (pass --force to replace it).",
    )
    new.add_argument("--lab", required=True, metavar="LAB", help="the lab's id in the registry")
    new.add_argument("--out", required=True, metavar="PREFIX", help="path prefix of the two files")
    new.add_argument("--kid", help="key id (default: LAB-<first 8 hex digits of the key's SHA-256>)")
    new.add_argument("--force", action="store_true", help="replace existing files")
    new.set_defaults(run=run_keys_new)

    add = actions.add_parser(
        "register", help="register a lab's public key: publish the lab's next registry snapshot with it",
        description="Read the lab's current registry record, add the key in PREFIX.pub.jwk (valid from "
        "--not-before, default now), and publish the new snapshot; the registration is logged in the "
        "transparency log. Exit status: 0 published, 2 bad arguments, 3 no stack, 4 unknown lab.",
    )
    add.add_argument("jwk", metavar="PREFIX.pub.jwk", type=Path, help="the public JWK `keys new` wrote")
    add.add_argument("--lab", required=True, metavar="LAB", help="the lab's id in the registry")
    add.add_argument("--not-before", metavar="TIME", help="the key signs reports issued from TIME on (default now)")
    add.set_defaults(run=run_keys_register)

    revoke = actions.add_parser(
        "revoke", help="revoke a lab's key: reports it signed from then on stop counting",
        description="Publish the lab's next registry snapshot with key KID revoked from --at (default now). "
        "Reports it signed before stay authentic; ones signed since are judged key_revoked, wherever they are.",
    )
    revoke.add_argument("kid", help="the key's id")
    revoke.add_argument("--lab", required=True, metavar="LAB", help="the lab's id in the registry")
    revoke.add_argument("--at", metavar="TIME", help="revoked from TIME on (default now), e.g. when it leaked")
    revoke.add_argument("--reason", required=True, help="why, for the record (e.g. 'key compromised')")
    revoke.set_defaults(run=run_keys_revoke)


def run_keys_new(settings: Settings, args: argparse.Namespace) -> int:
    from query.render.keys import new_key_text
    from schemas import credential  # lazy: start-up time (joserfc, cryptography)

    if not args.lab.strip():
        raise BadParameter("--lab", "must not be empty")
    key_path, jwk_path = Path(f"{args.out}.key.pem"), Path(f"{args.out}.pub.jwk")
    if not args.force:
        _refuse_existing(key_path, jwk_path)
    key = credential.new_key()
    jwk = credential.public_jwk(key, args.kid or credential.default_kid(args.lab, key))
    _write(key_path, credential.private_pem(key), _PRIVATE, replace=args.force)
    _write(jwk_path, (json.dumps(jwk, indent=2) + "\n").encode(), 0o644, replace=args.force)
    new_key_text(args.lab, jwk, key_path, jwk_path, sys.stdout, datetime.now(UTC))
    return EXIT_OK


def run_keys_register(settings: Settings, args: argparse.Namespace) -> int:
    from traceability.key_changes import with_key  # lazy: start-up time
    from traceability.registry import SigningKey

    now = datetime.now(UTC).replace(microsecond=0)
    jwk = _jwk(args.jwk)
    start = moment("--not-before", args.not_before) or now
    key = SigningKey(str(jwk.get("kid", "")), json.dumps(jwk, separators=(",", ":")), start, None, None, "")
    lab = _current_lab(settings, identifier("--lab", args.lab))
    return _publish_snapshot(settings, with_key(lab, key, at=now))


def run_keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from traceability.key_changes import with_revocation  # lazy: start-up time

    now = datetime.now(UTC).replace(microsecond=0)
    lab = _current_lab(settings, identifier("--lab", args.lab))
    revoked = with_revocation(lab, args.kid, revoked_at=moment("--at", args.at) or now, reason=args.reason, at=now)
    return _publish_snapshot(settings, revoked)


def _jwk(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BadParameter("jwk", f"{path}: not a JWK file ({exc})") from None
    if not isinstance(found, dict) or not found.get("kid"):
        raise BadParameter("jwk", f"{path}: a public JWK with a kid, as `lotline keys new` writes")
    return found


def _current_lab(settings: Settings, lab_id: str) -> Any:
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (the drivers)
    from query import registry
    from sinks.drivers import driver_errors

    address = resolve_endpoints(settings.stack()).clickhouse
    with driver_errors(ClickHouseUnavailable):
        lab = registry.lab(address.client(), address.database, lab_id)
    if lab is None:
        raise UnknownLab(f"no lab {lab_id!r} is in the registry: load its entry first (`lotline registry load`)")
    return lab


def _publish_snapshot(settings: Settings, lab: Any) -> int:
    from lotline.cli.publishing import publish_lines
    from query.render.progress import Progress
    from traceability.json_form import event_to_json

    line = json.dumps(event_to_json(lab)).encode()
    return publish_lines(settings, [line], "registry", strict=True, progress=Progress(False))


def _refuse_existing(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            raise BadParameter("--out", f"{path} exists; pass --force to replace it")


def _write(path: Path, data: bytes, mode: int, *, replace: bool) -> None:
    """Write ``data`` to a file created with ``mode``; ``replace`` renames a fresh file over ``path``."""
    if not replace:
        try:
            _create(path, data, mode)
        except FileExistsError:  # appeared since the check
            raise BadParameter("--out", f"{path} exists; pass --force to replace it") from None
        return
    fresh = path.with_name(f".{path.name}.{os.getpid()}.new")
    _create(fresh, data, mode)
    try:
        os.replace(fresh, path)
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            fresh.unlink()
        raise


def _create(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: never write through an existing file (or a link planted there); the mode applies at creation.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
