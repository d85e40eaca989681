"""Checks of what a user asks with (ids, moments), shared by the CLI and the HTTP API.

Both answer a malformed id or time with the field named and the reason, never with an empty
success: an answer to a question that was not the one meant is worse than a clear error.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from traceability.errors import BadParameter, InvalidEvent
from traceability.field_rules import MAX_ID_LENGTH
from traceability.json_form import parse_time
from traceability.validation import check_id

#: An id as the HTTP API states it in its OpenAPI document: ``identifier``'s rule, less ``/``,
#: which cannot travel inside one path segment.
ID_PATTERN = r"^[!-.0-~]+$"
ID_MAX = MAX_ID_LENGTH
#: The moments a stored row can carry (ClickHouse ``DateTime``): a moment outside asks as of the
#: nearest end, which answers the same (nothing is known before the first, all after the last).
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2105, 12, 31, tzinfo=UTC)
_RFC3339_LOWER = re.compile(r"^(\d{4}-\d\d-\d\d)t(.*?)(z?)$")


def identifier(field: str, value: str) -> str:
    """A batch, report or event id as events carry them (printable ASCII, no spaces, ≤ 128).

    Raises:
        BadParameter: naming ``field``.
    """
    try:
        check_id(field, value)
    except InvalidEvent as exc:
        raise BadParameter(field, exc.reason.removeprefix(f"{field}: ")) from None
    return value


def moment(field: str, value: str | None) -> datetime | None:
    """An ISO 8601 time with a zone (``Z`` allowed), in UTC; ``None`` stays ``None``.

    Raises:
        BadParameter: naming ``field``.
    """
    if value is None:
        return None
    try:
        parsed = parse_time(field, _rfc3339(value))
    except InvalidEvent as exc:
        raise BadParameter(field, exc.reason.removeprefix(f"{field}: ")) from None
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:  # an offset past year 1 or 9999
        return _EARLIEST if parsed.year < _EARLIEST.year else _LATEST
    return min(max(utc, _EARLIEST), _LATEST)


def _rfc3339(value: str) -> str:
    """RFC 3339's spellings ISO 8601 parsing in Python refuses: a lower-case ``t`` or ``z``, and a
    leap second (read as the last instant of its minute)."""
    lowered = _RFC3339_LOWER.match(value)
    if lowered:
        value = f"{lowered[1]}T{lowered[2]}{'Z' if lowered[3] else ''}"
    return re.sub(r"(T\d\d:\d\d:)60", r"\g<1>59.999999", value, count=1) if ":60" in value else value


_DAY = re.compile(r"^\d{4}-\d\d-\d\d$")


def day_or_moment(field: str, value: str, *, end: bool = False) -> datetime:
    """A date range's bound: a day (``2026-11-01``, UTC) or a moment (as `moment`).

    A day ending a range is inclusive: its bound is the next midnight, so ``--from 2026-11-01 --to
    2026-11-30`` covers November. A moment is taken as it is (exclusive at the end).

    Raises:
        BadParameter: naming ``field``.
    """
    if _DAY.match(value):
        try:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise BadParameter(field, f"not a date: {value!r:.40}") from None
        return day + timedelta(days=1) if end else day
    found = moment(field, value)
    assert found is not None  # a str in, a datetime out
    return found


def date_range(start_field: str, start: str, end_field: str, end: str) -> tuple[datetime, datetime]:
    """``[start, end)`` from two bounds (see `day_or_moment`).

    Raises:
        BadParameter: a malformed bound, or an end not after the start.
    """
    first, last = day_or_moment(start_field, start), day_or_moment(end_field, end, end=True)
    if last <= first:
        raise BadParameter(end_field, f"the range ends ({last.isoformat()}) before it starts ({first.isoformat()})")
    return first, last
