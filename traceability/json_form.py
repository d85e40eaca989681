"""The JSON form of events (DESIGN §2, §5): one object per line, tagged with ``"type"``.

It is the Avro record with times as ISO 8601 text, with two conveniences for registry entries: a
signing key's ``jwk`` is a JSON object (the record holds it as compact JSON text), and a lab
record may leave out the v1 fields, which then describe its first accreditation (or none: no
body, no number, an empty validity at ``registered_at``), so a v1 reader sees the same lab. Some
fields may be left out for their defaults (``_OPTIONAL_DEFAULTS``: no measurements, an
organisation's blank subdivision and no roles).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from traceability.errors import InvalidEvent
from traceability.events import (
    EVENT_KINDS,
    Event,
    EventKind,
    Lab,
    event_from_record,
    event_to_record,
)

#: The optional timestamps (null when open or absent); every timestamp is parsed by its field's type.
OPTIONAL_TIME_FIELDS = frozenset({"end", "not_after", "revoked_at"})
#: Fields a JSON object may leave out, with the values they then take (an organisation's have Avro defaults too).
_OPTIONAL_DEFAULTS: dict[str, Any] = {"measurements": [], "accredited_methods": [], "public_keys": [],
                                      "subdivision": "", "roles": []}
#: The v1 lab fields a v2 lab record may leave out (module docstring).
LAB_V1_FIELDS = ("accreditation_body", "accreditation_number", "accredited_methods", "region", "valid_from",
                 "valid_until", "public_keys")


def parse_event(text: str | bytes) -> Event:
    """Parse one JSON event.

    Raises:
        InvalidEvent: not JSON, nested too deeply, no known ``type``, a missing field, a wrong type
            or a bad time.
    """
    try:
        return _parse(text)
    except RecursionError:  # json.loads, repr and the type checks all recurse into nested values
        raise InvalidEvent("not valid JSON: nested too deeply") from None


def _parse(text: str | bytes) -> Event:
    try:
        obj = json.loads(text)
    except ValueError as exc:  # a JSONDecodeError, bad UTF-8, or an integer of over 4,300 digits
        raise InvalidEvent(f"not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidEvent("expected a JSON object")
    return parse_object(obj)


def parse_object(obj: Mapping[str, Any]) -> Event:
    """The event of a decoded JSON object (``parse_event`` after ``json.loads``; the read side
    rebuilds stored registry entries with it).

    Raises:
        InvalidEvent: as ``parse_event``.
    """
    kind = obj.get("type")
    if kind not in EVENT_KINDS:
        raise InvalidEvent(f"type: expected one of {', '.join(EVENT_KINDS)}, got {kind!r:.40}")
    record = {**_OPTIONAL_DEFAULTS, **obj}
    left_out: tuple[str, ...] = ()
    if kind == "lab":
        left_out = tuple(name for name in LAB_V1_FIELDS if name not in obj)
        record = _lab_record(record)
    event = event_from_record(cast(EventKind, kind), record, parse_time)
    if left_out:
        event = _v1_from_accreditations(cast(Lab, event), left_out)
    _check_types(event)
    return event


def _lab_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A lab's JSON object as its record: blanks for the v1 fields left out, each key's JWK as text."""
    if "registered_at" not in record:  # named as such, not as the validity that would default to it
        raise InvalidEvent("lab: missing field 'registered_at'")
    blanks = {"accreditation_body": "", "accreditation_number": "", "region": "",
              "valid_from": record["registered_at"], "valid_until": record["registered_at"]}  # an empty validity
    keys = record.get("keys")
    if isinstance(keys, list):
        record = {**record, "keys": [_jwk_as_text(i, key) for i, key in enumerate(keys)]}
    return {**blanks, **record}


def _jwk_as_text(i: int, key: Any) -> Any:
    if not isinstance(key, dict) or "jwk" not in key:
        return key  # the record's own checks name what is wrong
    if not isinstance(key["jwk"], dict):
        raise InvalidEvent(f"keys[{i}].jwk: expected a JSON object (a public JWK), got {type(key['jwk']).__name__}")
    return {**key, "jwk": json.dumps(key["jwk"], separators=(",", ":"))}


def _v1_from_accreditations(lab: Lab, left_out: tuple[str, ...]) -> Lab:
    """The v1 fields ``left_out`` of a v2 lab, from its first accreditation (if it has one)."""
    if not lab.accreditations:
        return lab
    first = lab.accreditations[0]
    derived: dict[str, Any] = {"accreditation_body": first.body_id, "accreditation_number": first.number,
               "accredited_methods": first.methods, "valid_from": first.valid_from, "valid_until": first.valid_until}
    return dataclasses.replace(lab, **{name: derived[name] for name in left_out if name in derived})


def parse_time(name: str, value: object) -> datetime:
    """An ISO 8601 timestamp with a UTC offset (``Z`` allowed)."""
    if not isinstance(value, str):
        raise InvalidEvent(f"{name}: expected an ISO 8601 string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidEvent(f"{name}: not an ISO 8601 timestamp: {value!r:.40}") from None
    if parsed.tzinfo is None:
        raise InvalidEvent(f"{name}: timestamp needs a time zone (e.g. a trailing 'Z')")
    return parsed


def utc_moment(seconds: int) -> datetime:
    """A moment stored as whole seconds since the epoch (ClickHouse's ``DateTime``, the serving
    store), as an aware UTC moment: no time zone to guess."""
    return datetime.fromtimestamp(seconds, UTC)


def utc_text(moment: datetime) -> str:
    """A moment as ISO 8601 in UTC with a trailing ``Z`` (how answers and exports write times)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _time_text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def event_to_json(event: Event) -> dict[str, Any]:
    """The JSON form of ``event`` (times as ISO 8601, a key's JWK as an object)."""
    record = event_to_record(event, _time_text)
    if isinstance(event, Lab):
        record["keys"] = [{**key, "jwk": _jwk_object(key["jwk"])} for key in record["keys"]]
    return {"type": event.kind, **record}


def _jwk_object(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:  # refused by validation; shown as it is
        return text


_NUMBERS = (int, float)
_AVRO_INT = range(-(2**31), 2**31)
_LARGEST_DOUBLE = int(sys.float_info.max)
#: The fields that are lists of records in the contract, and the lists of strings.
_RECORD_LISTS = frozenset({"measurements", "inputs", "outputs", "accreditations", "qualifications", "keys",
                           "mra_testing", "statuses", "locations", "reference_documents"})
_SCALAR_LISTS = frozenset({"accredited_methods", "public_keys", "names", "methods", "analytes",
                           "product_categories", "jurisdiction", "recognised_bodies", "required_qualifications",
                           "roles"})
_STATUSES = ("granted", "suspended", "withdrawn")


def _check_types(event: Event) -> None:
    """JSON is loosely typed; the schema is not. Check the scalars the codec would refuse."""
    _check_record("", event_to_record(event))


def _check_record(prefix: str, record: Mapping[str, Any]) -> None:
    for key, value in record.items():
        name = f"{prefix}{key}"
        if key in _RECORD_LISTS:  # built from mappings, or refused when the event was built
            for i, item in enumerate(value):
                _check_record(f"{name}[{i}].", item)
        elif key in _SCALAR_LISTS:
            for i, item in enumerate(value):
                _check_value(f"{name}[{i}]", item)
        else:
            _check_value(name, value)


def _check_value(name: str, value: object) -> None:
    """One scalar; a list or an object where a scalar belongs is refused like any wrong type."""
    field = name.rsplit(".", 1)[-1]
    if isinstance(value, datetime) or (value is None and field in OPTIONAL_TIME_FIELDS):
        return  # parsed (and so checked) as a time
    if field in ("quantity", "value", "limit", "latitude", "longitude"):
        if value is None and field in ("limit", "latitude", "longitude"):  # no limit; no coordinates
            return
        if isinstance(value, bool) or not isinstance(value, _NUMBERS):
            raise InvalidEvent(f"{name}: expected a number, got {type(value).__name__}")
        if isinstance(value, int) and not -_LARGEST_DOUBLE <= value <= _LARGEST_DOUBLE:
            raise InvalidEvent(f"{name}: too large for a number (a double)")
    elif field == "report_version":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidEvent(f"{name}: expected an integer, got {type(value).__name__}")
        if value not in _AVRO_INT:
            raise InvalidEvent(f"{name}: out of range (a 32-bit integer)")
    elif field == "verdict":
        if value not in ("pass", "fail", "withdrawn"):
            raise InvalidEvent(f"{name}: expected pass, fail or withdrawn, got {value!r:.40}")
    elif field == "status":
        if value not in _STATUSES:
            raise InvalidEvent(f"{name}: expected {', '.join(_STATUSES)}, got {value!r:.40}")
    elif field == "recognises_mra_signatories":
        if not isinstance(value, bool):
            raise InvalidEvent(f"{name}: expected true or false, got {type(value).__name__}")
    elif not isinstance(value, str):
        raise InvalidEvent(f"{name}: expected a string, got {type(value).__name__}")
    elif not value.isascii():
        _check_unicode(name, value)


def _check_unicode(name: str, text: str) -> None:
    """JSON may escape a lone UTF-16 surrogate (``"\\ud800"``); no UTF-8 encoder takes it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidEvent(f"{name}: not valid Unicode (lone surrogate at position {exc.start})") from None
