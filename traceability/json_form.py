"""The JSON form of events (DESIGN §2): one object per line, tagged with ``"type"``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any, cast

from traceability.errors import InvalidEvent
from traceability.events import EVENT_KINDS, Event, EventKind, event_from_record, event_to_record

TIME_FIELDS = frozenset({"tested_at", "issued_at", "occurred_at", "valid_from", "valid_until", "registered_at"})
_OPTIONAL_DEFAULTS: dict[str, Any] = {"measurements": [], "accredited_methods": [], "public_keys": []}


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
    kind = obj.get("type")
    if kind not in EVENT_KINDS:
        raise InvalidEvent(f"type: expected one of {', '.join(EVENT_KINDS)}, got {kind!r:.40}")
    record = {**_OPTIONAL_DEFAULTS, **obj}
    for name in TIME_FIELDS.intersection(record):
        record[name] = parse_time(name, record[name])
    event = event_from_record(cast(EventKind, kind), record)
    _check_types(event)
    return event


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


def utc_text(moment: datetime) -> str:
    """A moment as ISO 8601 in UTC with a trailing ``Z`` (how answers and exports write times)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_to_json(event: Event) -> dict[str, Any]:
    """The JSON form of ``event`` (times as ISO 8601 in UTC)."""
    record = event_to_record(event)
    for name in TIME_FIELDS.intersection(record):
        record[name] = record[name].isoformat().replace("+00:00", "Z")
    return {"type": event.kind, **record}


_NUMBERS = (int, float)
_AVRO_INT = range(-(2**31), 2**31)
_LARGEST_DOUBLE = int(sys.float_info.max)
#: The fields that are lists in the contract; every other value is a scalar.
_LISTS = frozenset({"measurements", "inputs", "outputs", "accredited_methods", "public_keys"})


def _check_types(event: Event) -> None:
    """JSON is loosely typed; the schema is not. Check the scalars the codec would refuse."""
    for name, value in event_to_record(event).items():
        if name not in _LISTS:
            _check_value(name, value)
            continue
        for i, item in enumerate(value):
            if isinstance(item, dict):  # a measurement, an input or an output lot
                for key, scalar in item.items():
                    _check_value(f"{name}[{i}].{key}", scalar)
            else:
                _check_value(f"{name}[{i}]", item)


def _check_value(name: str, value: object) -> None:
    """One scalar; a list or an object where a scalar belongs is refused like any wrong type."""
    if name.endswith(("quantity", "value", "limit")):
        if value is None and name.endswith("limit"):  # a measurement may have no limit
            return
        if isinstance(value, bool) or not isinstance(value, _NUMBERS):
            raise InvalidEvent(f"{name}: expected a number, got {type(value).__name__}")
        if isinstance(value, int) and not -_LARGEST_DOUBLE <= value <= _LARGEST_DOUBLE:
            raise InvalidEvent(f"{name}: too large for a number (a double)")
    elif name == "report_version":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidEvent(f"{name}: expected an integer, got {type(value).__name__}")
        if value not in _AVRO_INT:
            raise InvalidEvent(f"{name}: out of range (a 32-bit integer)")
    elif name.endswith("verdict"):
        if value not in ("pass", "fail", "withdrawn"):
            raise InvalidEvent(f"{name}: expected pass, fail or withdrawn, got {value!r:.40}")
    elif name not in TIME_FIELDS and not isinstance(value, str):
        raise InvalidEvent(f"{name}: expected a string, got {type(value).__name__}")
    elif isinstance(value, str) and not value.isascii():
        _check_unicode(name, value)


def _check_unicode(name: str, text: str) -> None:
    """JSON may escape a lone UTF-16 surrogate (``"\\ud800"``); no UTF-8 encoder takes it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidEvent(f"{name}: not valid Unicode (lone surrogate at position {exc.start})") from None
