"""What goes into the transparency log, as exact bytes (DESIGN §5).

Four kinds of entry: an accepted report version (``report_version``), an accepted withdrawal
(``withdrawal``), a lab key's registration (``key_registered``) and its revocation
(``key_revoked``). An entry is canonical JSON (sorted keys, no spaces, UTF-8), so the same fact
always makes the same bytes: redelivered entries are the same leaf, and the log keeps the first.

A report entry binds the report to its content: the SHA-256 of its credential (or, for an
unsigned report, of its original event bytes), so altering a stored report after it was logged
is detectable by anyone holding the entry's inclusion proof.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from traceability.ledger import ReportFacts
from traceability.registry import SigningKey
from traceability.trust import Judgement


def report_entry(facts: ReportFacts, judgement: Judgement) -> bytes:
    """The entry of an accepted report version (a withdrawal is one too, of its own kind)."""
    content = facts.token.encode() if facts.token else facts.origin
    return _canonical({
        "kind": "withdrawal" if facts.verdict == "withdrawn" else "report_version",
        "lab_id": facts.lab_id, "report_id": facts.report_id, "report_version": facts.report_version,
        "event_id": facts.event_id, "batch_id": facts.batch_id, "verdict": facts.verdict,
        "method": facts.method, "issued_at": _time(facts.issued_at), "outcome": judgement.outcome,
        "content_sha256": hashlib.sha256(content).hexdigest(),
    })


def key_entries(lab_id: str, key: SigningKey) -> list[bytes]:
    """The entries a lab's key makes: its registration, and its revocation once it has one."""
    entries = [_canonical({
        "kind": "key_registered", "lab_id": lab_id, "kid": key.kid, "jwk": json.loads(key.jwk),
        "not_before": _time(key.not_before), "not_after": _time(key.not_after) if key.not_after else None,
    })]
    if key.revoked_at is not None:
        entries.append(_canonical({
            "kind": "key_revoked", "lab_id": lab_id, "kid": key.kid, "revoked_at": _time(key.revoked_at),
            "reason": key.revocation_reason,
        }))
    return entries


def parse_entry(entry: bytes) -> dict[str, Any]:
    """An entry back as a mapping (for answers; the bytes stay what is hashed)."""
    found = json.loads(entry)
    if not isinstance(found, dict):
        raise ValueError("a log entry is a JSON object")
    return found


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
