"""Hostile input, generated from a seed: every case is bad by construction and names the rule its
reason must give.

Three channels take it. Raw bytes go straight to the raw topics (no publisher checks them):
random, truncated, wrong magic, unknown fingerprints, schema versions nobody published, trailing
bytes, the wrong topic, tombstones, messages over a megabyte, and valid Avro with bad values.
JSON lines go through ``lotline publish`` and JSON items through ``POST /v1/events``: the same
bad values, plus what only JSON can get wrong (types, missing fields, NaN, huge numbers, lone
surrogates, nesting). Semantic breaks work on the typed event, so all three channels share them.
"""

from __future__ import annotations

import copy
import io
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import fastavro

from schemas import SCHEMA_DIR
from schemas.codec import MAGIC, AvroCodec, single_object_fingerprint
from streams.topics import TopicNames
from traceability.dead_letter import MAX_ORIGINAL_BYTES
from traceability.events import Event, InputLot, Lab, LabResult, Production, Shipment, event_to_record
from traceability.json_form import event_to_json

#: The reason fragment of a case whose rule depends on how its bytes happen to read: every reason has it.
ANY_REASON = ""
FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class Bad:
    """One hostile message or line: what was broken, the bytes sent, the reason fragment expected."""

    kind: str
    value: bytes | None  # None: a tombstone
    reason: str
    topic: str = ""

    @property
    def stored(self) -> bytes:
        """The original bytes the rejects table must hold (a dead letter keeps at most MAX_ORIGINAL_BYTES)."""
        return (self.value or b"")[:MAX_ORIGINAL_BYTES]


@dataclass(frozen=True)
class BadItem:
    """One hostile item of a ``POST /v1/events`` body."""

    kind: str
    item: Any
    reason: str


def canonical(item: Any) -> str:
    """A JSON value in one spelling, to match an item with the original the API stored."""
    return json.dumps(item, sort_keys=True)


# -- semantic breaks: typed events with one rule broken ------------------------------------------

Break = tuple[str, Callable[[random.Random, Any], Any], str]


def _lot_breaks(field: str) -> list[Break]:
    """Breaks of the first input or output lot of a production."""

    def first(event: Production, **changes: Any) -> Production:
        lot, *rest = getattr(event, field)
        return replace(event, **{field: (replace(lot, **changes), *rest)})

    return [
        ("quantity <= 0", lambda r, e: first(e, quantity=r.choice([0.0, -0.0, -1.0, -r.uniform(1, 1e9), -5e-324])),
         f"{field}[0].quantity: must be > 0"),
        ("quantity NaN/inf", lambda r, e: first(e, quantity=r.choice([math.nan, math.inf, -math.inf])),
         f"{field}[0].quantity: must be a finite number"),
        ("unknown unit", lambda r, e: first(e, unit=r.choice(["bushels", "", "KG", "kg ", "еа", "k\x00g"])),
         f"{field}[0].unit: unknown unit"),
        ("empty id", lambda r, e: first(e, batch_id=""), f"{field}[0].batch_id: must not be empty"),
        ("id not printable ASCII",
         lambda r, e: first(e, batch_id=r.choice(["A B", "lot\t1", "批次-1", "x\x7f"]) + str(r.random())),
         f"{field}[0].batch_id: only printable ASCII"),
        ("huge id", lambda r, e: first(e, batch_id="B" * r.choice([129, 4_096, 200_000])),
         f"{field}[0].batch_id: longer than 128 characters"),
    ]


def _time_breaks(field: str) -> list[Break]:
    return [
        ("date in year 9999", lambda r, e: replace(e, **{field: FAR_FUTURE}), f"{field}: 9999-12-31"),
        ("date before 1990", lambda r, e: replace(e, **{field: datetime(r.choice([1, 1900, 1969, 1989]), 6, 1,
                                                                           tzinfo=UTC)}), "is before 1990"),
        ("date days ahead", lambda r, e: replace(e, **{field: datetime.now(UTC) + timedelta(days=r.randint(2, 900))}),
         "is in the future"),
    ]


def _text_breaks(field: str, optional: bool = False) -> list[Break]:
    """Text too long, blank (for an ``optional`` field: blank but not empty) or with control characters."""
    shortest = 1 if optional else 0
    return [
        ("huge string", lambda r, e: replace(e, **{field: "x" * r.choice([1_001, 65_536, 300_000])}),
         f"{field}: longer than 1000 characters"),
        ("blank text", lambda r, e: replace(e, **{field: " " * r.randint(shortest, 5)}),
         f"{field}: must not be empty"),
        ("control characters", lambda r, e: replace(e, **{field: f"a{chr(r.randint(0, 31))}b"}),
         f"{field}: contains control characters"),
    ]


def _id_breaks(field: str) -> list[Break]:
    return [
        ("empty id", lambda r, e: replace(e, **{field: ""}), f"{field}: must not be empty"),
        ("huge id", lambda r, e: replace(e, **{field: "I" * r.choice([129, 100_000])}),
         f"{field}: longer than 128 characters"),
        ("id not printable ASCII", lambda r, e: replace(e, **{field: f"id {r.random()}"}),
         f"{field}: only printable ASCII"),
    ]


def _first_measurement(event: LabResult, **changes: Any) -> LabResult:
    first, *rest = event.measurements
    return replace(event, measurements=(replace(first, **changes), *rest))


def _production_breaks() -> list[Break]:
    def own_input(r: random.Random, e: Production) -> Production:
        return replace(e, inputs=(*e.inputs, replace(e.inputs[0], batch_id=e.outputs[0].batch_id)))

    return [
        *_id_breaks("org_id"), *_text_breaks("site"), *_time_breaks("occurred_at"),
        *_lot_breaks("inputs"), *_lot_breaks("outputs"),
        ("no inputs", lambda r, e: replace(e, inputs=()), "inputs: a production needs at least one input"),
        ("no outputs", lambda r, e: replace(e, outputs=()), "outputs: a production needs at least one output"),
        ("10,001 inputs", lambda r, e: replace(e, inputs=tuple(replace(e.inputs[0], batch_id=f"I{i}")
                                                               for i in range(10_001))),
         "inputs: more than 10000 items"),
        ("lot listed twice", lambda r, e: replace(e, inputs=(*e.inputs, e.inputs[0])), "listed twice"),
        ("own input (self cycle)", own_input, "is its own input"),
        ("empty product id", lambda r, e: replace(e, outputs=(replace(e.outputs[0], product_id=""),)),
         "outputs[0].product_id: must not be empty"),
    ]


def _shipment_breaks() -> list[Break]:
    return [
        *_id_breaks("shipment_id"), *_id_breaks("batch_id"), *_id_breaks("to_org"),
        *_text_breaks("to_location"), *_time_breaks("occurred_at"),
        ("quantity <= 0", lambda r, e: replace(e, quantity=r.choice([0.0, -1.0, -r.uniform(1, 1e12)])),
         "shipment.quantity: must be > 0"),
        ("quantity NaN/inf", lambda r, e: replace(e, quantity=r.choice([math.nan, math.inf, -math.inf])),
         "shipment.quantity: must be a finite number"),
        ("unknown unit", lambda r, e: replace(e, unit=r.choice(["bushels", "EA", ""])), "shipment.unit: unknown unit"),
        ("bad country", lambda r, e: replace(e, to_country=r.choice(["Germany", "de", "", "D3", "DEU"])),
         "to_country: expected an ISO 3166 alpha-2 code"),
    ]


def _lab_result_breaks() -> list[Break]:
    return [
        *_id_breaks("report_id"), *_id_breaks("lab_id"), *_id_breaks("batch_id"), *_id_breaks("sample_id"),
        *_text_breaks("method"),
        ("report version < 1", lambda r, e: replace(e, report_version=r.choice([0, -1, -(2**31)])),
         "report_version: must be >= 1"),
        ("date in year 9999", lambda r, e: replace(e, issued_at=FAR_FUTURE), "issued_at: 9999-12-31"),
        ("date in year 9999", lambda r, e: replace(e, tested_at=FAR_FUTURE, issued_at=FAR_FUTURE),
         "tested_at: 9999-12-31"),
        ("issued before tested", lambda r, e: replace(e, issued_at=e.tested_at - timedelta(seconds=r.randint(1, 9))),
         "issued_at: a report cannot be issued before its test"),
        ("measurement NaN/inf", lambda r, e: _first_measurement(e, value=r.choice([math.nan, math.inf, -math.inf])),
         "measurements[0].value: must be a finite number"),
        ("measurement NaN/inf", lambda r, e: _first_measurement(e, limit=r.choice([math.nan, math.inf])),
         "measurements[0].limit: must be a finite number"),
        ("withdrawn measurement", lambda r, e: _first_measurement(e, verdict="withdrawn"),
         "only a whole report can be withdrawn"),
        ("pass with a failing measurement", lambda r, e: replace(_first_measurement(e, verdict="fail"),
                                                                 verdict="pass"), "verdict: report passes but"),
        ("10,001 measurements", lambda r, e: replace(e, measurements=e.measurements * 10_001),
         "measurements: more than 10000 items"),
        ("control characters", lambda r, e: _first_measurement(e, analyte="Pb\x1b[31m"),
         "measurements[0].analyte: contains control characters"),
    ]


def _lab_breaks() -> list[Break]:
    return [
        *_text_breaks("name"), *_text_breaks("region", optional=True), *_id_breaks("lab_id"),
        ("validity ends before it starts", lambda r, e: replace(e, valid_until=e.valid_from),
         "must be after valid_from"),
        ("date in year 9999", lambda r, e: replace(e, valid_until=FAR_FUTURE), "valid_until: 9999-12-31"),
        ("date before 1990", lambda r, e: replace(e, valid_from=datetime(1900, 1, 1, tzinfo=UTC)),
         "valid_from: 1900-01-01"),
        ("date in year 9999", lambda r, e: replace(e, registered_at=FAR_FUTURE), "registered_at: 9999-12-31"),
    ]


BREAKS: dict[type, list[Break]] = {
    Production: _production_breaks(), Shipment: _shipment_breaks(), LabResult: _lab_result_breaks(),
    Lab: _lab_breaks(),
}


#: Every (event type, break): a run walks through all of them once before drawing at random.
ALL_BREAKS = [(cls, brk) for cls, breaks in BREAKS.items() for brk in breaks]


class SemanticBreaks:
    """Valid events of the chain with one rule broken, as (kind of break, event, reason)."""

    def __init__(self, rng: random.Random, base: list[Event]) -> None:
        self._rng = rng
        self._base = {cls: [e for e in base if isinstance(e, cls)] for cls in BREAKS}
        self._drawn = 0

    def draw(self, serial: str) -> tuple[str, Event, str]:
        """The serial goes into the event id and into a text field, so that the case stays unique
        whichever of the two its break replaces."""
        rng = self._rng
        cls, (name, brk, reason) = ALL_BREAKS[self._drawn] if self._drawn < len(ALL_BREAKS) else rng.choice(ALL_BREAKS)
        self._drawn += 1
        event = rng.choice(self._base[cls])
        event = replace(event, event_id=serial, **{_TEXT[event.kind]: serial})
        if isinstance(event, LabResult) and event.verdict == "pass" and rng.random() < 0.5:
            event = replace(event, report_id=f"RPT-{serial}")  # a report nobody else published
        if name == "empty id" and rng.random() < 0.3:
            return name, replace(event, event_id=""), "event_id: must not be empty"
        return name, brk(rng, event), reason


# -- raw bytes ------------------------------------------------------------------------------------


class RawCases:
    """Hostile message values for the raw topics, built around valid encodings of ``base``."""

    def __init__(self, rng: random.Random, codec: AvroCodec, topics: TopicNames, base: list[Event]) -> None:
        self._rng, self._codec, self._topics, self._base = rng, codec, topics, base
        self._breaks = SemanticBreaks(rng, base)
        self._known = {codec.current(kind).fingerprint for kind in ("lab_result", "production", "shipment", "lab")}
        self._evolved = [self._evolved_schema(kind, i) for kind in ("production", "lab_result", "shipment")
                         for i in range(4)]

    def make(self, serial: str) -> Bad:
        rng = self._rng
        maker = rng.choices(
            [self._random, self._truncated, self._magic, self._fingerprint, self._unknown_version, self._trailing,
             self._wrong_topic, self._other_kind, self._semantic],
            weights=[10, 10, 4, 4, 4, 4, 3, 3, 25],
        )[0]
        return maker(serial)

    def oversized(self, size: int) -> Bad:
        """Garbage bigger than a Kafka message usually is (Tansu takes any size)."""
        return Bad("over a megabyte", b"\x00" + self._rng.randbytes(size - 1), "missing C3 01 header",
                   self._rng.choice(self._topics.raw))

    def oversized_avro(self, serial: str) -> Bad:
        """Valid Avro just under 1 MB whose text is too long: its dead letter must still fit."""
        shipment = next(e for e in self._base if isinstance(e, Shipment))
        event = replace(shipment, event_id=serial, to_location="L" * 990_000)
        return Bad("huge string", self._codec.encode(event), "to_location: longer than 1000 characters",
                   self._topics.lineage)

    def tombstone(self) -> Bad:
        return Bad("tombstone (null value)", None, "missing C3 01 header", self._rng.choice(self._topics.raw))

    def _valid(self, serial: str) -> tuple[bytes, str]:
        event = replace(self._rng.choice(self._base), event_id=serial)
        return self._codec.encode(event), self._topics.for_kind(event.kind)

    def _random(self, serial: str) -> Bad:
        value = self._rng.randbytes(self._rng.randint(1, 400))
        if value[:2] == MAGIC:
            value = b"\x00" + value
        return Bad("random bytes", value, "missing C3 01 header", self._rng.choice(self._topics.raw))

    def _truncated(self, serial: str) -> Bad:
        value, topic = self._valid(serial)
        cut = self._rng.randint(1, len(value) - 1)
        reason = "missing C3 01 header" if cut < 10 else "bytes do not match the schema"
        return Bad("truncated", value[:cut], reason, topic)

    def _magic(self, serial: str) -> Bad:
        value, topic = self._valid(serial)
        magic = self._rng.randbytes(2)
        while magic == MAGIC:
            magic = self._rng.randbytes(2)
        return Bad("wrong magic", magic + value[2:], "missing C3 01 header", topic)

    def _fingerprint(self, serial: str) -> Bad:
        value, topic = self._valid(serial)
        fingerprint = self._rng.randbytes(8)
        return Bad("unknown fingerprint", value[:2] + fingerprint + value[10:],
                   f"unknown writer schema fingerprint {fingerprint.hex()}", topic)

    def _unknown_version(self, serial: str) -> Bad:
        kind, parsed, extra = self._rng.choice(self._evolved)
        event = replace(next(e for e in self._base if e.kind == kind), event_id=serial)
        buf = io.BytesIO()
        fingerprint = single_object_fingerprint(parsed)
        buf.write(MAGIC + fingerprint)
        fastavro.schemaless_writer(buf, parsed, {**event_to_record(event), extra: serial})
        return Bad("schema version nobody published", buf.getvalue(),
                   f"unknown writer schema fingerprint {fingerprint.hex()}", self._topics.for_kind(kind))

    def _trailing(self, serial: str) -> Bad:
        value, topic = self._valid(serial)
        return Bad("trailing bytes", value + self._rng.randbytes(self._rng.randint(1, 40)), "trailing bytes", topic)

    def _wrong_topic(self, serial: str) -> Bad:
        value, topic = self._valid(serial)
        other = self._rng.choice([t for t in self._topics.raw if t != topic])
        return Bad("right bytes, wrong topic", value, "it belongs on", other)

    def _other_kind(self, serial: str) -> Bad:
        """A valid body behind the fingerprint of another kind's schema."""
        value, topic = self._valid(serial)
        other = self._rng.choice([f for f in self._known if f != value[2:10]])
        return Bad("fingerprint of another schema", value[:2] + other + value[10:], ANY_REASON, topic)

    def _semantic(self, serial: str) -> Bad:
        name, event, reason = self._breaks.draw(serial)
        return Bad(name, self._codec.encode_record(event.kind, event_to_record(event)), reason,
                   self._topics.for_kind(event.kind))

    def _evolved_schema(self, kind: str, i: int) -> tuple[str, Any, str]:
        """A later version of a kind's schema that was never published (an extra field)."""
        schema = json.loads((SCHEMA_DIR / kind / "v1.avsc").read_text())
        extra = f"extension_{i}_{self._rng.randrange(10**6)}"
        schema["fields"].append({"name": extra, "type": "string", "default": ""})
        parsed = fastavro.parse_schema(schema, named_schemas={})
        assert single_object_fingerprint(parsed) not in self._known
        return kind, parsed, extra


# -- JSON: lines for `lotline publish`, items for the API ----------------------------------------

JsonBreak = tuple[str, Callable[[random.Random, dict[str, Any]], Any], str]
#: Breaks only JSON can carry. Each applies to any kind of event unless it names kinds.
JSON_BREAKS: list[JsonBreak] = [
    ("not an object", lambda r, o: r.choice([[o], o["event_id"], [o["event_id"], len(o)]]),
     "expected a JSON object"),
    ("unknown type", lambda r, o: {**o, "type": r.choice(["invoice", "", None, 5, ["shipment"], {"k": 1}])},
     "type: expected one of"),
    ("missing field", lambda r, o: _without(o, r.choice([k for k in o if k not in _OPTIONAL])), "missing field"),
    ("wrong type", lambda r, o: {**o, "event_id": r.choice([5, 1.5, True, {"id": 1}])}, "event_id: expected a string"),
    ("wrong type", lambda r, o: {**o, _TEXT[o["type"]]: r.choice([[], [[]], {}, [1], 7])}, "expected a string, got"),
    ("list that is not a list", lambda r, o: {**o, _LIST[o["type"]]: r.choice(["RAW-1", {"batch_id": "RAW-1"}, 3])},
     "malformed record"),
    ("bad time", lambda r, o: {**o, _TIME[o["type"]]: r.choice(["2026-10-01T00:00:00", "2026-10-01"])},
     "needs a time zone"),
    ("bad time", lambda r, o: {**o, _TIME[o["type"]]: r.choice(["yesterday", "2026-13-45T00:00:00Z", ""])},
     "not an ISO 8601 timestamp"),
    ("bad time", lambda r, o: {**o, _TIME[o["type"]]: r.choice([1_700_000_000, None, []])},
     "expected an ISO 8601 string"),
    ("huge number", lambda r, o: _number(o, 10 ** r.choice([309, 400, 4_000])), "too large for a number"),
    ("number of the wrong type", lambda r, o: _number(o, r.choice([None, "12", True, [1.0]])),
     "expected a number, got"),
    ("NaN/inf literal", lambda r, o: _number(o, r.choice([math.nan, math.inf, -math.inf, 1e400])),
     "must be a finite number"),
    ("report version out of range", lambda r, o: {**o, "report_version": r.choice([2**31, 2**70, -(2**63)])},
     "report_version: out of range"),
    ("lone surrogate", lambda r, o: {**o, _TEXT[o["type"]]: f"plant {r.random()} \udc80"}, "not valid Unicode"),
    ("lone surrogate", lambda r, o: {**o, "event_id": f"{o['event_id']}\ud800"}, "event_id: not valid Unicode"),
    ("wrong type", lambda r, o: {**o, "event_id": r.choice([math.nan, math.inf])}, "event_id: expected a string"),
    ("deep nesting", lambda r, o: {**o, _TEXT[o["type"]]: _nested(r.randint(2, 200))}, "expected a string, got list"),
]
_NUMERIC = ("production", "shipment", "lab_result")
#: Which kinds each break applies to (the rest: every kind).
_KINDS = {
    "huge number": _NUMERIC, "number of the wrong type": _NUMERIC, "NaN/inf literal": _NUMERIC,
    "report version out of range": ("lab_result",), "list that is not a list": ("production", "lab_result", "lab"),
}
_TEXT = {"production": "site", "shipment": "to_location", "lab_result": "method", "lab": "name"}
_TIME = {"production": "occurred_at", "shipment": "occurred_at", "lab_result": "tested_at", "lab": "registered_at"}
_LIST = {"production": "inputs", "lab_result": "measurements", "lab": "accredited_methods"}
#: Fields the JSON form may leave out (lists default to empty, a lab's v1 fields to its first
#: accreditation's or blanks, the fields added since v1 to theirs) and the tag, never left out here.
_OPTIONAL = {"type", "measurements", "accredited_methods", "public_keys", "credential", "accreditation_body",
             "accreditation_number", "region", "valid_from", "valid_until", "legal_id", "names", "accreditations",
             "qualifications", "keys", "location_id", "tlc_source_reference", "reference_documents", "from_location",
             "to_location_id"}


def _without(obj: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != name}


def _number(obj: dict[str, Any], value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(obj)
    if obj["type"] == "production":
        broken["inputs"][0]["quantity"] = value
    elif obj["type"] == "lab_result":
        broken["measurements"][0]["value"] = value
    else:
        broken["quantity"] = value
    return broken


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def _with_serial(event: Event, serial: str) -> dict[str, Any]:
    return event_to_json(replace(event, event_id=serial, **{_TEXT[event.kind]: serial}))


class JsonCases:
    """Hostile JSON objects (for the API) and lines (for ``lotline publish``)."""

    def __init__(self, rng: random.Random, base: list[Event]) -> None:
        self._rng = rng
        self._base = base
        self._breaks = SemanticBreaks(rng, base)

    def item(self, serial: str) -> BadItem:
        rng = self._rng
        if rng.random() < 0.5:
            name, event, reason = self._breaks.draw(serial)
            return BadItem(name, event_to_json(event), reason)
        name, brk, reason = rng.choice(JSON_BREAKS)
        kind = rng.choice(_KINDS.get(name, ("production", "shipment", "lab_result", "lab")))
        base = rng.choice([e for e in self._base if e.kind == kind])
        return BadItem(name, brk(rng, _with_serial(base, serial)), reason)

    def line(self, serial: str) -> Bad:
        """A line as ``lotline publish`` reads it (stripped, as the rejects table keeps it)."""
        rng = self._rng
        draw = rng.random()
        if draw < 0.08:
            value = f"{{not json {serial}".encode() + rng.choice([b"", b"\x00", b"'", b"}"])
            return Bad("not JSON", value, "not valid JSON")
        if draw < 0.14:
            junk = bytes(b for b in rng.randbytes(rng.randint(1, 300)) if b != ord("\n"))
            return Bad("random bytes", (b"\xff" + junk + serial.encode()).strip(), "not valid JSON")
        if draw < 0.17:
            return Bad("deep nesting", b"[" * 100_000 + serial.encode() + b"]" * 100_000, "nested too deeply")
        if draw < 0.19:
            digits = "9" * rng.choice([4_301, 50_000])
            value = f'{{"type": "shipment", "event_id": "{serial}", "quantity": {digits}}}'.encode()
            return Bad("huge number", value, "not valid JSON: Exceeds the limit")
        bad = self.item(serial)
        return Bad(bad.kind, json.dumps(bad.item).encode(), bad.reason)

    def too_big_line(self, serial: str) -> Bad:
        """A valid production too big for one Kafka message (9,000 inputs with long ids)."""
        made = next(e for e in self._base if isinstance(e, Production))
        inputs = tuple(InputLot(f"{serial}-{i:05d}-" + "i" * 100, 1.0, "kg") for i in range(9_000))
        return Bad("valid but over a megabyte as Avro", json.dumps(_with_serial(replace(made, inputs=inputs), serial))
                   .encode(), "bytes as Avro, more than a message takes")

    def huge_line(self, serial: str) -> Bad:
        """A line over a megabyte: refused, and its dead letter cut to fit."""
        obj = _with_serial(next(e for e in self._base if isinstance(e, Shipment)), serial)
        return Bad("huge string", json.dumps({**obj, "to_location": "L" * 1_100_000}).encode(),
                   "to_location: longer than 1000 characters")
