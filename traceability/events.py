"""The event contracts of DESIGN §2 and §5 as frozen dataclasses.

The JSON form (CLI, HTTP API, fixtures) and the Avro records map 1:1 to these classes; the
conversions here work on plain mappings so that the core never imports a codec library. Nested
records (measurements, lots, a lab's accreditations with their status histories, keys, a body's
MRA periods) are converted by the field types of their dataclasses, so a new nested record needs
no conversion code of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields, is_dataclass
from datetime import datetime
from types import NoneType, UnionType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, Union, get_args, get_origin, get_type_hints

from traceability import registry
from traceability.errors import InvalidEvent
from traceability.registry import (
    Accreditation,
    AccreditationBody,
    Location,
    Organisation,
    Period,
    Product,
    Qualification,
    Regulator,
    SigningKey,
    StatusChange,
)

if TYPE_CHECKING:
    from traceability.trust import LabRecord

__all__ = [
    "EVENT_KINDS", "MAX_REFERENCE_DOCUMENTS", "REFERENCE_DOCUMENT_TYPES", "REGISTRY_KINDS", "TRACKING_KINDS",
    "Accreditation", "AccreditationBody", "Event", "EventKind", "InputLot", "Lab", "LabResult", "Location",
    "Measurement", "Organisation", "OutputLot", "Period", "Product", "Production", "Qualification", "Receiving",
    "ReferenceDocument", "Regulator", "Shipment", "SigningKey", "StatusChange", "Verdict", "event_from_record",
    "event_to_record", "lab_accreditations", "lab_record", "record_fields",
]

Verdict: TypeAlias = Literal["pass", "fail", "withdrawn"]
EventKind: TypeAlias = Literal["lab_result", "production", "shipment", "receiving", "lab", "accreditation_body",
                               "regulator", "organisation", "product"]
EVENT_KINDS: tuple[EventKind, ...] = ("lab_result", "production", "shipment", "receiving", "lab", "accreditation_body",
                                      "regulator", "organisation", "product")
#: The kinds of the registry (DESIGN §5): they go to the registry topic, ``lotline registry load`` takes only them.
REGISTRY_KINDS: tuple[EventKind, ...] = ("lab", "accreditation_body", "regulator", "organisation", "product")
#: The tracking events of a lot (FSMA 204's critical tracking events): they go to the lineage topic.
TRACKING_KINDS: tuple[EventKind, ...] = ("production", "shipment", "receiving")


@dataclass(frozen=True, slots=True)
class Measurement:
    analyte: str
    value: float
    unit: str
    limit: float | None
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class LabResult:
    """One version of a lab's report on one batch.

    ``credential`` is the compact JWS (``schemas.credential``) of this very version, signed by the
    lab; "" when the report is unsigned.
    """

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
    credential: str = ""

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
class ReferenceDocument:
    """A business document that records a tracking event (FSMA 204 "reference document type and
    number"): ``type`` one of `REFERENCE_DOCUMENT_TYPES` (``bill_of_lading``, ``asn``, …),
    ``number`` as the document shows it."""

    type: str
    number: str


#: The reference document types a tracking event may name (21 CFR 1.1310's examples; up to two per event).
REFERENCE_DOCUMENT_TYPES: dict[str, str] = {
    "bill_of_lading": "Bill of lading", "purchase_order": "Purchase order", "asn": "Advance shipping notice",
    "invoice": "Invoice", "work_order": "Work order", "batch_log": "Batch log", "production_log": "Production log",
    "receipt": "Receipt", "database_record": "Database record",
}
MAX_REFERENCE_DOCUMENTS = 2


@dataclass(frozen=True, slots=True)
class Production:
    """A production run (transformation). v2 names where: ``location_id``, one of the maker's
    registered locations, which is its outputs' traceability lot code source; or, when the maker
    does not disclose the location, ``tlc_source_reference`` (an FDA Food Facility Registration
    number or a GS1 Digital Link URI) saying where it can be learnt."""

    event_id: str
    org_id: str
    site: str
    occurred_at: datetime
    inputs: tuple[InputLot, ...]
    outputs: tuple[OutputLot, ...]
    location_id: str = ""
    tlc_source_reference: str = ""
    reference_documents: tuple[ReferenceDocument, ...] = ()

    kind: EventKind = "production"


@dataclass(frozen=True, slots=True)
class Shipment:
    """A quantity of one lot shipped. v2 names the ship-from location (``from_location``, one of
    ``from_org``'s) and the ship-to location (``to_location_id``, one of ``to_org``'s; ``to_location``
    stays its free-text name), and the shipment's reference documents."""

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
    from_location: str = ""
    to_location_id: str = ""
    reference_documents: tuple[ReferenceDocument, ...] = ()

    kind: EventKind = "shipment"


@dataclass(frozen=True, slots=True)
class Receiving:
    """A lot received, published by the receiver ``to_org`` (FSMA 204's receiving event).

    ``location_id`` is where it was received (one of ``to_org``'s locations), ``from_org`` and
    ``from_location`` the immediate previous source. ``quantity`` is what arrived, which may differ
    from what was shipped; ``shipment_id`` names the shipment received, when known ("").
    """

    event_id: str
    receipt_id: str
    batch_id: str
    quantity: float
    unit: str
    from_org: str
    to_org: str
    location_id: str
    occurred_at: datetime
    from_location: str = ""
    shipment_id: str = ""
    reference_documents: tuple[ReferenceDocument, ...] = ()

    kind: EventKind = "receiving"


@dataclass(frozen=True, slots=True)
class Lab:
    """A lab's registry entry as its publisher knows it at ``registered_at`` (a full snapshot).

    The v1 fields describe one accreditation (``accreditation_body``, ``accreditation_number``,
    ``accredited_methods``, ``valid_from``/``valid_until``); a v2 record lists its accreditations,
    with status histories, in ``accreditations`` instead (see `lab_accreditations`). v1
    ``public_keys`` are not signing keys (no kid, no validity): they are kept, and unused; the
    keys that verify credentials are ``keys``.
    """

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
    legal_id: str = ""
    names: tuple[str, ...] = ()
    accreditations: tuple[Accreditation, ...] = ()
    qualifications: tuple[Qualification, ...] = ()
    keys: tuple[SigningKey, ...] = ()

    kind: EventKind = "lab"


Event: TypeAlias = (LabResult | Production | Shipment | Receiving | Lab | AccreditationBody | Regulator | Organisation
                   | Product)

_CLASSES: dict[str, type] = {
    "lab_result": LabResult,
    "production": Production,
    "shipment": Shipment,
    "receiving": Receiving,
    "lab": Lab,
    "accreditation_body": AccreditationBody,
    "regulator": Regulator,
    "organisation": Organisation,
    "product": Product,
}


def lab_accreditations(lab: Lab) -> tuple[Accreditation, ...]:
    """The lab's accreditations: the explicit ones, or else the one its v1 fields describe.

    A v1 record names its number with or without the body (``L1234`` or ``CNAS L1234``); the
    accreditation made of it is numbered ``CNAS L1234`` either way, granted for its whole
    validity. A record that names no body or no number has no accreditation.
    """
    if lab.accreditations:
        return lab.accreditations
    body, number = lab.accreditation_body, lab.accreditation_number
    if not body or not number:
        return ()
    full = number if number.startswith(body) else f"{body} {number}"
    return (Accreditation(body, full, lab.valid_from, lab.valid_until, (StatusChange("granted", lab.valid_from),),
                          lab.accredited_methods, (), ()),)


def lab_record(lab: Lab) -> LabRecord:
    """What judging a report needs of ``lab`` (``traceability.trust``): its accreditations and keys."""
    from traceability.trust import LabRecord  # here: trust's rules may come to import the contracts

    return LabRecord(lab.lab_id, lab_accreditations(lab), lab.keys)


def record_fields(kind: EventKind) -> tuple[str, ...]:
    """The record's field names, in contract order (without the ``kind`` tag)."""
    return _FIELD_NAMES[kind]


#: Turns a timestamp field's value into a datetime; gets the field's path (``keys[0].not_before``).
TimeParser: TypeAlias = Callable[[str, Any], datetime]
#: Turns a datetime into a timestamp field's value.
TimeWriter: TypeAlias = Callable[[datetime], Any]


def event_from_record(kind: EventKind, record: Mapping[str, Any], parse_time: TimeParser | None = None) -> Event:
    """Build the typed event from a decoded record.

    A field with a default in the dataclass (one added after v1) may be missing. Nested records
    are built from mappings; optional times may be ``None``.

    Args:
        kind: The event kind.
        record: An Avro record, or a JSON object.
        parse_time: Applied to every timestamp value (JSON text); ``None``: the values already are
            datetimes (Avro).

    Raises:
        InvalidEvent: a field is missing or has the wrong shape (or ``parse_time``'s reason).
    """
    try:
        return _PLANS[_CLASSES[kind]].build(record, "", parse_time)  # type: ignore[no-any-return]
    except KeyError as missing:
        raise InvalidEvent(f"{kind}: missing field {missing.args[0]!r}") from None
    except (TypeError, AttributeError) as exc:
        raise InvalidEvent(f"{kind}: malformed record ({exc})") from None


def event_to_record(event: Event, write_time: TimeWriter | None = None) -> dict[str, Any]:
    """The event as a plain record (lists for sequences, mappings for nested records), ready for a codec.

    Args:
        event: The event.
        write_time: Applied to every datetime (e.g. ISO 8601 text for JSON); ``None`` keeps them.
    """
    return _PLANS[type(event)].unbuild(event, write_time)


# --- conversion by field type ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    """How one field of a record converts: as a scalar, a time, a list, or nested record(s)."""

    name: str
    shape: Literal["scalar", "time", "scalars", "record", "records"]
    optional: bool
    required: bool
    default: Any
    plan: _Plan | None = None


class _Plan:
    """The conversion of one dataclass from and to a plain record, worked out once from its types."""

    def __init__(self, cls: type, *, event: bool = False) -> None:
        self.cls = cls
        hints = get_type_hints(cls, vars(registry) | globals())
        # An event's ``kind`` is its tag, not a field of the record (a qualification's is).
        self.fields = tuple(_field(f.name, hints[f.name], f.default) for f in fields(cls)
                            if not (event and f.name == "kind"))
        self.names = tuple(f.name for f in self.fields)

    def build(self, record: Mapping[str, Any], path: str, parse_time: TimeParser | None) -> Any:
        values = {}
        for f in self.fields:
            try:
                raw = record[f.name]
            except KeyError:
                if f.required:
                    raise KeyError(f"{path}{f.name}") from None
                continue  # a field added after v1: its default
            values[f.name] = _value(f, raw, path, parse_time)
        return self.cls(**values)

    def unbuild(self, value: Any, write_time: TimeWriter | None) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for f in self.fields:
            item = getattr(value, f.name)
            if f.shape == "records":
                item = [f.plan.unbuild(v, write_time) for v in item]  # type: ignore[union-attr]
            elif f.shape == "record":
                item = f.plan.unbuild(item, write_time)  # type: ignore[union-attr]
            elif f.shape == "scalars":
                item = list(item)
            elif f.shape == "time" and write_time is not None and item is not None:
                item = write_time(item)
            record[f.name] = item
        return record


def _value(f: _Field, value: Any, prefix: str, parse_time: TimeParser | None) -> Any:
    """One field's value; ``prefix`` is the path of its record (kept only for JSON's messages)."""
    if value is None and f.optional:
        return None
    if f.shape == "time":
        return value if parse_time is None else parse_time(prefix + f.name, value)
    if f.shape == "scalar":
        return value
    plan = f.plan  # set for the record shapes
    if f.shape == "record":
        return plan.build(value, f"{prefix}{f.name}." if parse_time else "", parse_time)  # type: ignore[union-attr]
    if not isinstance(value, list | tuple):  # a string would iterate as its characters
        raise TypeError(f"{prefix}{f.name} is a {type(value).__name__}, not a list")
    if f.shape == "scalars":
        return tuple(value)
    if parse_time is None:  # Avro: the hot path builds no paths
        return tuple(plan.build(item, "", None) for item in value)  # type: ignore[union-attr]
    return tuple(plan.build(item, f"{prefix}{f.name}[{i}].", parse_time)  # type: ignore[union-attr]
                 for i, item in enumerate(value))


def _field(name: str, hint: Any, default: Any) -> _Field:
    optional = False
    if get_origin(hint) in (Union, UnionType) and NoneType in get_args(hint):
        optional = True
        (hint,) = [arg for arg in get_args(hint) if arg is not NoneType]
    required = default is MISSING
    if hint is datetime:
        return _Field(name, "time", optional, required, default)
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        if is_dataclass(item):
            return _Field(name, "records", optional, required, default, _plan(item))  # type: ignore[arg-type]
        return _Field(name, "scalars", optional, required, default)
    if is_dataclass(hint):
        return _Field(name, "record", optional, required, default, _plan(hint))  # type: ignore[arg-type]
    return _Field(name, "scalar", optional, required, default)


_CACHE: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    if cls not in _CACHE:
        _CACHE[cls] = _Plan(cls)
    return _CACHE[cls]


_PLANS: dict[type, _Plan] = {cls: _Plan(cls, event=True) for cls in _CLASSES.values()}
_FIELD_NAMES: dict[str, tuple[str, ...]] = {kind: _PLANS[cls].names for kind, cls in _CLASSES.items()}
