"""Semantic checks every accepted event passes, beyond what its schema already enforces.

Each check raises :class:`InvalidEvent` with a reason that names the field, so a publisher can
fix the event without reading code. ``now`` is injected: the rules never read the clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from traceability.errors import InvalidEvent
from traceability.events import Event, InputLot, Lab, LabResult, OutputLot, Production, Shipment

MAX_ID_LENGTH = 128
MAX_TEXT_LENGTH = 1_000
MAX_ITEMS = 10_000
#: Clocks drift and time zones get confused; a day ahead is a typo or worse, not drift.
MAX_CLOCK_SKEW = timedelta(days=1)
EARLIEST = datetime.fromisoformat("1990-01-01T00:00:00+00:00")
#: The latest date an event may name (an accreditation's end). Later is a typo or a "forever"
#: placeholder such as 9999-12-31, and no stored time reaches it (ClickHouse's DateTime ends in 2106).
LATEST = datetime.fromisoformat("2100-01-01T00:00:00+00:00")

#: Units a lot quantity may be counted in (UN/ECE Rec. 20 style lower-case codes).
LOT_UNITS = frozenset(
    {"kg", "g", "mg", "t", "lb", "l", "ml", "m3", "m", "m2", "ea", "pcs", "box", "pallet", "roll"}
)
_ID = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: ids end up in URLs and QR codes
_COUNTRY = re.compile(r"[A-Z]{2}")


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
    else:
        _lab(event, now)
    return event


def _lab_result(event: LabResult, now: datetime) -> None:
    for name in ("report_id", "lab_id", "batch_id", "sample_id"):
        check_id(name, getattr(event, name))
    _text("method", event.method)
    if event.report_version < 1:
        raise InvalidEvent(f"report_version: must be >= 1, got {event.report_version}")
    _time("tested_at", event.tested_at, now)
    _time("issued_at", event.issued_at, now)
    if event.issued_at < event.tested_at:
        raise InvalidEvent("issued_at: a report cannot be issued before its test")
    _count("measurements", event.measurements)
    for i, m in enumerate(event.measurements):
        where = f"measurements[{i}]"
        _text(f"{where}.analyte", m.analyte)
        _text(f"{where}.unit", m.unit)
        _finite(f"{where}.value", m.value)
        if m.limit is not None:
            _finite(f"{where}.limit", m.limit)
        if m.verdict == "withdrawn":
            raise InvalidEvent(f"{where}.verdict: only a whole report can be withdrawn")
        if m.verdict == "fail" and event.verdict == "pass":
            raise InvalidEvent(f"verdict: report passes but {where} ({m.analyte}) fails")


def _production(event: Production, now: datetime) -> None:
    check_id("org_id", event.org_id)
    _text("site", event.site)
    _time("occurred_at", event.occurred_at, now)
    if not event.inputs:
        raise InvalidEvent("inputs: a production needs at least one input lot")
    if not event.outputs:
        raise InvalidEvent("outputs: a production needs at least one output lot")
    _count("inputs", event.inputs)
    _count("outputs", event.outputs)
    _lots("inputs", event.inputs)
    _lots("outputs", event.outputs)
    for i, out in enumerate(event.outputs):
        check_id(f"outputs[{i}].product_id", out.product_id)
    both = {lot.batch_id for lot in event.inputs} & {lot.batch_id for lot in event.outputs}
    if both:
        raise InvalidEvent(f"lineage cycle: batch {sorted(both)[0]} is its own input")


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
    _text("to_location", event.to_location)
    if not _COUNTRY.fullmatch(event.to_country):
        raise InvalidEvent(f"to_country: expected an ISO 3166 alpha-2 code, got {event.to_country!r:.40}")
    _quantity("shipment", event.quantity, event.unit)
    _time("occurred_at", event.occurred_at, now)


def _lab(event: Lab, now: datetime) -> None:
    check_id("lab_id", event.lab_id)
    for name in ("name", "accreditation_body", "accreditation_number", "region"):
        _text(name, getattr(event, name))
    _count("accredited_methods", event.accredited_methods)
    for i, method in enumerate(event.accredited_methods):
        _text(f"accredited_methods[{i}]", method)
    _time("registered_at", event.registered_at, now)
    _validity("valid_from", event.valid_from)
    _validity("valid_until", event.valid_until)
    if event.valid_until <= event.valid_from:
        raise InvalidEvent("valid_until: must be after valid_from")


def check_id(name: str, value: str) -> None:
    """An identifier (batch, report, event, ...): printable ASCII, no spaces, at most 128 characters.

    Raises:
        InvalidEvent: the reason, naming ``name``.
    """
    if not value:
        raise InvalidEvent(f"{name}: must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidEvent(f"{name}: longer than {MAX_ID_LENGTH} characters")
    if not _ID.fullmatch(value):
        raise InvalidEvent(f"{name}: only printable ASCII without spaces is allowed, got {value!r:.40}")


def _text(name: str, value: str) -> None:
    if not value.strip():
        raise InvalidEvent(f"{name}: must not be empty")
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidEvent(f"{name}: longer than {MAX_TEXT_LENGTH} characters")
    if any(ord(ch) < 0x20 for ch in value):
        raise InvalidEvent(f"{name}: contains control characters")


def _count(name: str, items: tuple[object, ...]) -> None:
    if len(items) > MAX_ITEMS:
        raise InvalidEvent(f"{name}: more than {MAX_ITEMS} items")


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise InvalidEvent(f"{name}: must be a finite number, got {value}")


def _quantity(where: str, quantity: float, unit: str) -> None:
    _finite(f"{where}.quantity", quantity)
    if quantity <= 0:
        raise InvalidEvent(f"{where}.quantity: must be > 0, got {quantity}")
    if unit not in LOT_UNITS:
        raise InvalidEvent(f"{where}.unit: unknown unit {unit!r:.20} (known: {', '.join(sorted(LOT_UNITS))})")


def _time(name: str, value: datetime, now: datetime) -> None:
    if value.tzinfo is None:
        raise InvalidEvent(f"{name}: timestamp needs a time zone (e.g. a trailing 'Z')")
    if value < EARLIEST:
        raise InvalidEvent(f"{name}: {value.isoformat()} is before {EARLIEST.year}")
    if value > now + MAX_CLOCK_SKEW:
        raise InvalidEvent(f"{name}: {value.isoformat()} is in the future")


def _validity(name: str, value: datetime) -> None:
    """A validity date may lie in the future, but not before `EARLIEST` nor from `LATEST` on."""
    if value.tzinfo is None:
        raise InvalidEvent(f"{name}: timestamp needs a time zone (e.g. a trailing 'Z')")
    if not EARLIEST <= value < LATEST:
        raise InvalidEvent(f"{name}: {value.isoformat()} is outside {EARLIEST.year}-{LATEST.year - 1}")
