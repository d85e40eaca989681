"""The transparency log: ``log checkpoint``, ``log check``, ``log proof``, ``log key``.

These read ClickHouse directly (the endpoints of ``lotline stack`` or ``LOTLINE_CLICKHOUSE_URL``)
and build the log's tree themselves, so ``log check`` holds what is stored today to a checkpoint
saved earlier, whatever a server says. Checkpoints are signed with the deployment's log key
(``LOTLINE_LOG_KEY_FILE``, made on first use) under its origin (``LOTLINE_LOG_ORIGIN``).

Exit status: 0 done (``check``: the log extends the checkpoint; ``proof``: it verifies), 1 the
check or the proof fails, 2 bad arguments, 3 no stack or no key, 4 an event not in the log.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lotline.cli.exits import EXIT_OK, EXIT_REJECTED
from lotline.settings import Settings
from traceability.errors import BadParameter, ClickHouseUnavailable, InvalidEvent

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from query.transparency import LogReader, LogSigner


def register(sub: Any) -> None:
    log = sub.add_parser("log", help="the transparency log: signed checkpoints, consistency and inclusion proofs")
    actions = log.add_subparsers(dest="log_action", required=True, metavar="ACTION")

    checkpoint = actions.add_parser(
        "checkpoint", help="print or save the log's signed checkpoint now",
        description="The log's checkpoint now (origin, size, root) as a C2SP signed note, signed with this "
        "deployment's log key. Save it: `lotline log check FILE` later shows whether the log still extends it.",
    )
    checkpoint.add_argument("--out", metavar="FILE", help="write the signed checkpoint to FILE instead of printing it")
    checkpoint.set_defaults(run=run_log_checkpoint)

    check = actions.add_parser(
        "check", help="check that the log today extends a checkpoint saved earlier",
        description="Verify a saved checkpoint's signature with the log's key, then verify a consistency proof "
        "from its size to today's against its root and today's: the log must be the saved one with entries "
        "appended, nothing altered, dropped or truncated. Exit status: 0 it extends it, 1 it does not (or the "
        "signature does not verify), 2 an unreadable file, 3 no stack or no log key.",
    )
    check.add_argument("saved", metavar="SAVED_CHECKPOINT", help="a signed checkpoint saved earlier")
    check.add_argument("--key", metavar="VKEY_FILE",
                       help="the log's verifier key (C2SP vkey; default: this deployment's log key)")
    check.set_defaults(run=run_log_check)

    proof = actions.add_parser(
        "proof", help="prove a report version's entry is in the log (inclusion proof, verified)",
        description="The inclusion proof of the log entry of a report version or withdrawal (by its event id) "
        "in today's tree, verified, with the signed checkpoint it is verified against. Exit status: 0 verified, "
        "1 it does not verify, 2 a malformed id, 3 no stack, 4 no entry for the event.",
    )
    proof.add_argument("event_id", metavar="EVENT_ID", help="the report version's event id")
    proof.set_defaults(run=run_log_proof)

    key = actions.add_parser("key", help="print the log's verifier key (C2SP vkey) for witnesses to pin")
    key.set_defaults(run=run_log_key)


def run_log_checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    from query.render.log import checkpoint_text, saved_text
    from sinks.drivers import driver_errors  # lazy: start-up time (the drivers)

    with driver_errors(ClickHouseUnavailable):
        checkpoint = _reader(settings).checkpoint()
    note = _signer(settings).sign(checkpoint)
    if args.out is None:
        checkpoint_text(note, sys.stdout)
        return EXIT_OK
    path = Path(args.out)
    try:
        path.write_text(note, encoding="utf-8")
    except OSError as exc:
        raise BadParameter("--out", f"cannot write {path}: {exc.strerror}") from None
    saved_text(path, checkpoint, sys.stdout)
    return EXIT_OK


def run_log_check(settings: Settings, args: argparse.Namespace) -> int:
    from query.log_check import check_extension
    from query.render.log import extension_text, unsigned_text
    from schemas.checkpoint import open_checkpoint
    from sinks.drivers import driver_errors  # lazy: start-up time (the drivers, cryptography)

    note = _text("SAVED_CHECKPOINT", args.saved)
    name, public_key = _verifier(settings, args.key)
    try:
        saved = open_checkpoint(note, name, public_key)
    except InvalidEvent as exc:
        unsigned_text(exc.reason, sys.stderr)
        return EXIT_REJECTED
    reader = _reader(settings)
    with driver_errors(ClickHouseUnavailable):
        today = reader.checkpoint()
        needed = 0 < saved.size < today.size  # otherwise sizes and roots decide
        proof = reader.consistency(saved.size, today.size).proof if needed else ()
    extension = check_extension(saved, today, proof)
    extension_text(extension, sys.stdout, sys.stderr)
    return EXIT_OK if extension.holds else EXIT_REJECTED


def run_log_proof(settings: Settings, args: argparse.Namespace) -> int:
    from query.params import identifier
    from query.render.log import proof_text
    from sinks.drivers import driver_errors  # lazy: start-up time (the drivers, cryptography)
    from traceability.log_entries import parse_entry
    from traceability.transparency import leaf_hash, verify_inclusion

    event_id = identifier("event_id", args.event_id)
    reader = _reader(settings)
    with driver_errors(ClickHouseUnavailable):
        index = reader.leaf_of_event(event_id)
        today = reader.checkpoint()
        proof = reader.inclusion(index, today.size)
        stored = reader.entry(index)
    verified = verify_inclusion(leaf_hash(stored.entry), index, today.size, proof.proof, today.root)
    try:
        entry: dict[str, Any] | None = parse_entry(stored.entry)
    except ValueError:
        entry = None
    proof_text(event_id, entry, proof, verified, _signer(settings).sign(today), sys.stdout, sys.stderr)
    return EXIT_OK if verified else EXIT_REJECTED


def run_log_key(settings: Settings, args: argparse.Namespace) -> int:
    from query.render.log import key_text

    key_text(_signer(settings).verifier_key(), sys.stdout)
    return EXIT_OK


def _reader(settings: Settings) -> LogReader:
    from deploy.local_stack import resolve_endpoints  # lazy: start-up time (the drivers)
    from query.transparency import LogReader

    address = resolve_endpoints(settings.stack()).clickhouse
    return LogReader(address.client, address.database, origin=settings.log_origin)


def _signer(settings: Settings, *, create: bool = True) -> LogSigner:
    from deploy.log_key import log_key  # lazy: start-up time (cryptography, joserfc)
    from query.transparency import LogSigner

    return LogSigner(settings.log_origin, log_key(settings.log_key_file, create=create))


def _verifier(settings: Settings, vkey_file: str | None) -> tuple[str, Ed25519PublicKey]:
    """The name and public key checkpoints are verified with: ``--key``'s, or this deployment's.

    Raises:
        BadParameter: the verifier key file is unreadable or not a C2SP Ed25519 verifier key.
        SetupError: no file given and this deployment has no log key.
    """
    from schemas.checkpoint import parse_verifier_key

    if vkey_file is None:
        return settings.log_origin, _signer(settings, create=False).key.public_key()
    try:
        return parse_verifier_key(_text("--key", vkey_file).strip())
    except InvalidEvent as exc:
        raise BadParameter("--key", exc.reason) from None


def _text(field: str, name: str) -> str:
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadParameter(field, f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}") from None
