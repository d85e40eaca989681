"""Checks of what a user asks with (ids, moments), shared by the CLI and the HTTP API.

Both answer a malformed id or time with the field named and the reason, never with an empty
success: an answer to a question that was not the one meant is worse than a clear error.
"""

from __future__ import annotations

from datetime import UTC, datetime

from traceability.errors import BadParameter, InvalidEvent
from traceability.json_form import parse_time
from traceability.validation import check_id


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
        return parse_time(field, value).astimezone(UTC)
    except InvalidEvent as exc:
        raise BadParameter(field, exc.reason.removeprefix(f"{field}: ")) from None
