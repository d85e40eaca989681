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
from traceability.errors import BadParameter

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
