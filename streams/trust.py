"""The closure step's view of reports and labs: original bytes in, the trust ledger's facts out.

Reports and lab snapshots travel the closure topic as their original Avro bytes (a report's
credential included), so a partition judges exactly what was published; this module decodes them
and does the one piece of cryptography the core leaves out, the signature check.
"""

from __future__ import annotations

import json
from functools import lru_cache

from schemas import credential
from schemas.codec import AvroCodec
from traceability.errors import InvalidEvent
from traceability.events import Lab, LabResult, lab_record
from traceability.ledger import LabSnapshot, ReportFacts
from traceability.registry import SigningKey
from traceability.trust import Signed


class TrustReader:
    """Turns closure messages' bytes into ledger facts; checks signatures with the lab's key."""

    def __init__(self, codec: AvroCodec) -> None:
        self._codec = codec

    def report(self, batch_id: str, origin: bytes) -> ReportFacts | None:
        """The facts of a lab result's bytes, ``None`` if they are not a lab result (never stored)."""
        try:
            event = self._codec.decode(origin)
        except InvalidEvent:
            return None
        if not isinstance(event, LabResult) or event.batch_id != batch_id:
            return None
        return ReportFacts(
            batch_id=event.batch_id, lab_id=event.lab_id, report_id=event.report_id,
            report_version=event.report_version, verdict=event.verdict, event_id=event.event_id,
            method=event.method, issued_at=event.issued_at, signed=signed_facts(event),
            token=event.credential, origin=origin,
        )

    def lab(self, origin: bytes) -> tuple[str, LabSnapshot, Lab] | None:
        """The lab id, snapshot and event of a lab registry event's bytes (``None`` if not one)."""
        try:
            event = self._codec.decode(origin)
        except InvalidEvent:
            return None
        if not isinstance(event, Lab):
            return None
        return event.lab_id, LabSnapshot(event.event_id, event.registered_at, lab_record(event)), event

    @staticmethod
    def holds(facts: ReportFacts, key: SigningKey) -> bool:
        """Whether the report's credential verifies with ``key`` (EdDSA only; never raises)."""
        return token_holds(facts.token, key)


def token_holds(token: str, key: SigningKey) -> bool:
    """Whether a credential verifies with a registered key (EdDSA only; never raises)."""
    return _holds(token, key.jwk)


def signed_facts(result: LabResult) -> Signed | None:
    """What a result's credential says without the key; ``None`` when it carries none."""
    if not result.credential:
        return None
    try:
        read = credential.read(result.credential)
    except InvalidEvent as exc:
        return Signed("", "", (), unreadable=exc.reason)
    claimed = credential.claimed_accreditation(read)
    return Signed(read.kid, claimed.number if claimed else "", tuple(credential.claims_differ(result, read)))


@lru_cache(maxsize=65_536)
def _holds(token: str, jwk: str) -> bool:
    # Cached: a lab's record changing re-judges its reports, mostly against the same keys.
    try:
        key = json.loads(jwk)
    except ValueError:
        return False
    return isinstance(key, dict) and credential.compact_signature_holds(token, key)
