"""The checks every kind of event applies to its fields: ids, text, lists, numbers, times.

Each raises :class:`InvalidEvent` with a reason that names the field. ``now`` is injected: the
rules never read the clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sized
from datetime import datetime, timedelta

from traceability.errors import InvalidEvent

MAX_ID_LENGTH = 128
MAX_TEXT_LENGTH = 1_000
MAX_ITEMS = 10_000
#: Clocks drift and time zones get confused; a day ahead is a typo or worse, not drift.
MAX_CLOCK_SKEW = timedelta(days=1)
EARLIEST = datetime.fromisoformat("1990-01-01T00:00:00+00:00")
#: The latest date an event may name (an accreditation's end). Later is a typo or a "forever"
#: placeholder such as 9999-12-31, and no stored time reaches it (ClickHouse's DateTime ends in 2106).
LATEST = datetime.fromisoformat("2100-01-01T00:00:00+00:00")

_ID = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: ids end up in URLs and QR codes


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


def check_text(name: str, value: str, *, optional: bool = False) -> None:
    """Free text: not blank (unless ``optional``), at most 1,000 characters, no control characters."""
    if not value.strip() and not (optional and not value):
        raise InvalidEvent(f"{name}: must not be empty")
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidEvent(f"{name}: longer than {MAX_TEXT_LENGTH} characters")
    if any(ord(ch) < 0x20 for ch in value):
        raise InvalidEvent(f"{name}: contains control characters")


def check_count(name: str, items: Sized) -> None:
    if len(items) > MAX_ITEMS:
        raise InvalidEvent(f"{name}: more than {MAX_ITEMS} items")


def check_finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise InvalidEvent(f"{name}: must be a finite number, got {value}")


def check_time(name: str, value: datetime, now: datetime) -> None:
    """A moment that has happened: zone-aware, from 1990 on, not more than a day ahead of ``now``."""
    if value.tzinfo is None:
        raise InvalidEvent(f"{name}: timestamp needs a time zone (e.g. a trailing 'Z')")
    if value < EARLIEST:
        raise InvalidEvent(f"{name}: {value.isoformat()} is before {EARLIEST.year}")
    if value > now + MAX_CLOCK_SKEW:
        raise InvalidEvent(f"{name}: {value.isoformat()} is in the future")


def check_validity(name: str, value: datetime) -> None:
    """A validity date may lie in the future, but not before `EARLIEST` nor from `LATEST` on."""
    if value.tzinfo is None:
        raise InvalidEvent(f"{name}: timestamp needs a time zone (e.g. a trailing 'Z')")
    if not EARLIEST <= value < LATEST:
        raise InvalidEvent(f"{name}: {value.isoformat()} is outside {EARLIEST.year}-{LATEST.year - 1}")


def check_window(name: str, start: datetime, end: datetime | None, start_name: str) -> None:
    """``end`` (open when ``None``) is a validity date after ``start``."""
    if end is None:
        return
    check_validity(name, end)
    if end <= start:
        raise InvalidEvent(f"{name}: must be after {start_name}")
