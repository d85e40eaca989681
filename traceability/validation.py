"""Semantic checks every accepted event passes, beyond what its schema already enforces.

Each check raises :class:`InvalidEvent` with a reason that names the field, so a publisher can
fix the event without reading code. ``now`` is injected: the rules never read the clock. The
checks of single fields are in ``field_rules``, those of registry entries in ``registry_rules``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from traceability.errors import InvalidEvent
from traceability.events import (
    MAX_REFERENCE_DOCUMENTS,
    REFERENCE_DOCUMENT_TYPES,
    Event,
    InputLot,
    LabResult,
    OutputLot,
    Production,
    Receiving,
    ReferenceDocument,
    Shipment,
)
from traceability.field_rules import (
    EARLIEST,
    LATEST,
    MAX_CLOCK_SKEW,
    MAX_ID_LENGTH,
    MAX_ITEMS,
    MAX_TEXT_LENGTH,
    check_count,
    check_finite,
    check_id,
    check_text,
    check_time,
)
from traceability.registry_rules import validate_entry

__all__ = ["EARLIEST", "LATEST", "LOT_UNITS", "MAX_CLOCK_SKEW", "MAX_CREDENTIAL_BYTES", "MAX_ID_LENGTH", "MAX_ITEMS",
           "MAX_TEXT_LENGTH", "check_id", "validate"]

#: Units a lot quantity may be counted in (UN/ECE Rec. 20 style lower-case codes).
LOT_UNITS = frozenset(
    {"kg", "g", "mg", "t", "lb", "l", "ml", "m3", "m", "m2", "ea", "pcs", "box", "pallet", "roll"}
)
#: A credential's size bound, as ``schemas.credential`` reads them (a three-measurement one is ~2 KB).
MAX_CREDENTIAL_BYTES = 64 * 1024
_COUNTRY = re.compile(r"[A-Z]{2}")
#: A traceability lot code source reference (21 CFR 1.1310): an FDA Food Facility Registration number
#: (11 digits, optionally after ``FFRN``), or a GS1 Digital Link URI naming a GLN (AI 414 or 417) or a
#: GTIN (AI 01) on the web.
_SOURCE_REFERENCE = re.compile(r"(?:FFRN? ?)?\d{11}|https?://[A-Za-z0-9.-]+(?::\d+)?(?:/[^/\s]+)*?"
                               r"/(?:01|414|417)/\d{8,14}(?:/[^\s]*)?")
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def validate(event: Event, now: datetime) -> Event:
    """Check ``event`` against Lotline's semantic rules.

    Args:
        event: A structurally valid event.
        now: The current time (aware), used to refuse timestamps from the far future.

    Returns:
        The same event, so calls can be chained.

    Raises:
        InvalidEvent: the first rule the event breaks, with the field named.
    """
    check_id("event_id", event.event_id)
    if isinstance(event, LabResult):
        _lab_result(event, now)
    elif isinstance(event, Production):
        _production(event, now)
    elif isinstance(event, Shipment):
        _shipment(event, now)
    elif isinstance(event, Receiving):
        _receiving(event, now)
    else:
        validate_entry(event, now)
    return event


def _lab_result(event: LabResult, now: datetime) -> None:
    for name in ("report_id", "lab_id", "batch_id", "sample_id"):
        check_id(name, getattr(event, name))
    check_text("method", event.method)
    if event.report_version < 1:
        raise InvalidEvent(f"report_version: must be >= 1, got {event.report_version}")
    check_time("tested_at", event.tested_at, now)
    check_time("issued_at", event.issued_at, now)
    if event.issued_at < event.tested_at:
        raise InvalidEvent("issued_at: a report cannot be issued before its test")
    check_count("measurements", event.measurements)
    for i, m in enumerate(event.measurements):
        where = f"measurements[{i}]"
        check_text(f"{where}.analyte", m.analyte)
        check_text(f"{where}.unit", m.unit)
        check_finite(f"{where}.value", m.value)
        if m.limit is not None:
            check_finite(f"{where}.limit", m.limit)
        if m.verdict == "withdrawn":
            raise InvalidEvent(f"{where}.verdict: only a whole report can be withdrawn")
        if m.verdict == "fail" and event.verdict == "pass":
            raise InvalidEvent(f"verdict: report passes but {where} ({m.analyte}) fails")
    _credential(event.credential)


def _credential(token: str) -> None:
    """Shape only (three base64url parts, bounded): whether it is authentic is judged in the stream."""
    if not token:
        return
    if len(token) > MAX_CREDENTIAL_BYTES:
        raise InvalidEvent(f"credential: {len(token):,} bytes, over the {MAX_CREDENTIAL_BYTES:,}-byte limit")
    if not _COMPACT_JWS.fullmatch(token):
        raise InvalidEvent("credential: not a compact JWS (three base64url parts joined by dots)")


def _production(event: Production, now: datetime) -> None:
    check_id("org_id", event.org_id)
    check_text("site", event.site)
    check_time("occurred_at", event.occurred_at, now)
    if not event.inputs:
        raise InvalidEvent("inputs: a production needs at least one input lot")
    if not event.outputs:
        raise InvalidEvent("outputs: a production needs at least one output lot")
    check_count("inputs", event.inputs)
    check_count("outputs", event.outputs)
    _lots("inputs", event.inputs)
    _lots("outputs", event.outputs)
    for i, out in enumerate(event.outputs):
        check_id(f"outputs[{i}].product_id", out.product_id)
    both = {lot.batch_id for lot in event.inputs} & {lot.batch_id for lot in event.outputs}
    if both:
        raise InvalidEvent(f"lineage cycle: batch {sorted(both)[0]} is its own input")
    _location_id("location_id", event.location_id)
    if event.tlc_source_reference and not _SOURCE_REFERENCE.fullmatch(event.tlc_source_reference):
        raise InvalidEvent("tlc_source_reference: expected an FDA Food Facility Registration number (FFRN and 11 "
                           "digits) or a GS1 Digital Link URI (https://id.example.com/414/<GLN>), got "
                           f"{event.tlc_source_reference!r:.60}")
    _documents(event.reference_documents)


def _lots(where: str, lots: Iterable[InputLot | OutputLot]) -> None:
    seen: set[str] = set()
    for i, lot in enumerate(lots):
        check_id(f"{where}[{i}].batch_id", lot.batch_id)
        if lot.batch_id in seen:
            raise InvalidEvent(f"{where}[{i}].batch_id: {lot.batch_id} listed twice")
        seen.add(lot.batch_id)
        _quantity(f"{where}[{i}]", lot.quantity, lot.unit)


def _shipment(event: Shipment, now: datetime) -> None:
    for name in ("shipment_id", "batch_id", "from_org", "to_org"):
        check_id(name, getattr(event, name))
    check_text("to_location", event.to_location)
    if not _COUNTRY.fullmatch(event.to_country):
        raise InvalidEvent(f"to_country: expected an ISO 3166 alpha-2 code, got {event.to_country!r:.40}")
    _quantity("shipment", event.quantity, event.unit)
    check_time("occurred_at", event.occurred_at, now)
    _location_id("from_location", event.from_location)
    _location_id("to_location_id", event.to_location_id)
    _documents(event.reference_documents)


def _receiving(event: Receiving, now: datetime) -> None:
    for name in ("receipt_id", "batch_id", "from_org", "to_org", "location_id"):
        check_id(name, getattr(event, name))
    if event.from_org == event.to_org:
        raise InvalidEvent(f"from_org: an organisation does not receive from itself ({event.to_org})")
    _quantity("receiving", event.quantity, event.unit)
    check_time("occurred_at", event.occurred_at, now)
    _location_id("from_location", event.from_location)
    _location_id("shipment_id", event.shipment_id)
    _documents(event.reference_documents)


def _location_id(name: str, value: str) -> None:
    """An optional id (``""`` when not given)."""
    if value:
        check_id(name, value)


def _documents(documents: tuple[ReferenceDocument, ...]) -> None:
    if len(documents) > MAX_REFERENCE_DOCUMENTS:
        raise InvalidEvent(f"reference_documents: at most {MAX_REFERENCE_DOCUMENTS}, got {len(documents)}")
    for i, document in enumerate(documents):
        if document.type not in REFERENCE_DOCUMENT_TYPES:
            raise InvalidEvent(f"reference_documents[{i}].type: expected one of "
                               f"{', '.join(REFERENCE_DOCUMENT_TYPES)}, got {document.type!r:.40}")
        check_text(f"reference_documents[{i}].number", document.number)


def _quantity(where: str, quantity: float, unit: str) -> None:
    check_finite(f"{where}.quantity", quantity)
    if quantity <= 0:
        raise InvalidEvent(f"{where}.quantity: must be > 0, got {quantity}")
    if unit not in LOT_UNITS:
        raise InvalidEvent(f"{where}.unit: unknown unit {unit!r:.20} (known: {', '.join(sorted(LOT_UNITS))})")
