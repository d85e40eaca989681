"""The event contracts of DESIGN §2 as frozen dataclasses.

The JSON form (CLI, HTTP API, fixtures) and the Avro records map 1:1 to these classes; the
conversions here work on plain mappings so that the core never imports a codec library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal, TypeAlias

from traceability.errors import InvalidEvent

Verdict: TypeAlias = Literal["pass", "fail", "withdrawn"]
EventKind: TypeAlias = Literal["lab_result", "production", "shipment", "lab"]
EVENT_KINDS: tuple[EventKind, ...] = ("lab_result", "production", "shipment", "lab")


@dataclass(frozen=True, slots=True)
class Measurement:
    analyte: str
    value: float
    unit: str
    limit: float | None
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class LabResult:
    event_id: str
    report_id: str
    report_version: int
    lab_id: str
    batch_id: str
    sample_id: str
    method: str
    verdict: Verdict
    tested_at: datetime
    issued_at: datetime
    measurements: tuple[Measurement, ...]

    kind: EventKind = "lab_result"


@dataclass(frozen=True, slots=True)
class InputLot:
    batch_id: str
    quantity: float
    unit: str


@dataclass(frozen=True, slots=True)
class OutputLot:
    batch_id: str
    product_id: str
    quantity: float
    unit: str


@dataclass(frozen=True, slots=True)
class Production:
    event_id: str
    org_id: str
    site: str
    occurred_at: datetime
    inputs: tuple[InputLot, ...]
    outputs: tuple[OutputLot, ...]

    kind: EventKind = "production"


@dataclass(frozen=True, slots=True)
class Shipment:
    event_id: str
    shipment_id: str
    batch_id: str
    quantity: float
    unit: str
    from_org: str
    to_org: str
    to_location: str
    to_country: str
    occurred_at: datetime

    kind: EventKind = "shipment"


@dataclass(frozen=True, slots=True)
class Lab:
    event_id: str
    lab_id: str
    name: str
    accreditation_body: str
    accreditation_number: str
    accredited_methods: tuple[str, ...]
    region: str
    valid_from: datetime
    valid_until: datetime
    public_keys: tuple[str, ...]
    registered_at: datetime

    kind: EventKind = "lab"


Event: TypeAlias = LabResult | Production | Shipment | Lab

_NESTED: dict[str, type] = {"measurements": Measurement, "inputs": InputLot, "outputs": OutputLot}
_CLASSES: dict[str, type] = {
    "lab_result": LabResult,
    "production": Production,
    "shipment": Shipment,
    "lab": Lab,
}


def record_fields(kind: EventKind) -> tuple[str, ...]:
    """The record's field names, in contract order (without the ``kind`` tag)."""
    return tuple(f.name for f in fields(_CLASSES[kind]) if f.name != "kind")


def event_from_record(kind: EventKind, record: Mapping[str, Any]) -> Event:
    """Build the typed event from a decoded record (Avro or JSON-with-parsed-times).

    Raises:
        InvalidEvent: a field is missing or has the wrong shape.
    """
    cls = _CLASSES[kind]
    try:
        values = {name: _field_value(name, record[name]) for name in record_fields(kind)}
        return cls(**values)  # type: ignore[no-any-return]
    except KeyError as missing:
        raise InvalidEvent(f"{kind}: missing field {missing.args[0]!r}") from None
    except (TypeError, AttributeError) as exc:
        raise InvalidEvent(f"{kind}: malformed record ({exc})") from None


def _field_value(name: str, value: Any) -> Any:
    if name in _NESTED or name in ("accredited_methods", "public_keys"):
        if not isinstance(value, list | tuple):  # a string would iterate as its characters
            raise TypeError(f"{name} is a {type(value).__name__}, not a list")
    if name in _NESTED:
        item_cls = _NESTED[name]
        return tuple(item_cls(**{f.name: item[f.name] for f in fields(item_cls)}) for item in value)
    if name in ("accredited_methods", "public_keys"):
        return tuple(value)
    return value


def event_to_record(event: Event) -> dict[str, Any]:
    """The event as a plain record (lists for sequences), ready for a codec."""
    record: dict[str, Any] = {}
    for name in record_fields(event.kind):
        value = getattr(event, name)
        if name in _NESTED:
            value = [{f.name: getattr(item, f.name) for f in fields(item)} for item in value]
        elif isinstance(value, tuple):
            value = list(value)
        record[name] = value
    return record
