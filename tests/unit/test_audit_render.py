"""``lotline audit`` output and arguments: the table, the JSON lines, and times given as ISO 8601 or as an age."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from query.audit import audit_json, moment_or_age
from query.render.audit import audit_text
from tests.conftest import NOW
from traceability.audit import AuditRecord
from traceability.errors import BadParameter

pytestmark = pytest.mark.unit

TRACE = AuditRecord(at=NOW + timedelta(milliseconds=250), request_id="req-1", principal_id="key-regulator-zj",
                    role="regulator", method="GET", endpoint="/v1/batches/{batch_id}/trace",
                    path="/v1/batches/TOY-CAR-2611-01/trace", objects=("TOY-CAR-2611-01",), status=200, outcome="ok",
                    client="10.0.0.7", duration_ms=12.25)
VERIFY = AuditRecord(at=NOW + timedelta(seconds=3), request_id="req-2", principal_id="", role="public", method="GET",
                     endpoint="/v1/health", path="/v1/health", objects=(), status=503, outcome="unavailable",
                     client="10.0.0.9", duration_ms=0.5)


def shown(records, more=False) -> list[str]:
    out = io.StringIO()
    audit_text(records, out, more=more)
    return out.getvalue().splitlines()


def test_the_table_shows_each_request_with_its_time_principal_endpoint_objects_and_outcome():
    lines = shown([TRACE, VERIFY])
    assert lines[0].split() == ["time", "principal", "role", "method", "endpoint", "objects", "status", "outcome"]
    assert lines[2].split() == ["2026-11-20T12:00:00.250Z", "key-regulator-zj", "regulator", "GET",
                                "/v1/batches/{batch_id}/trace", "TOY-CAR-2611-01", "200", "ok"]
    assert lines[3].split() == ["2026-11-20T12:00:03.000Z", "-", "public", "GET", "/v1/health", "-", "503",
                                "unavailable"]
    assert lines[-1] == "2 requests"


def test_a_list_cut_at_the_limit_says_that_older_requests_match_too():
    assert shown([TRACE], more=True)[-1] == "1 request; older ones match too (raise --limit or narrow --since)"


def test_no_match_says_so_instead_of_an_empty_table():
    assert shown([]) == ["no audit records match"]


def test_a_json_line_holds_every_field_with_the_time_in_utc_to_the_millisecond():
    assert audit_json(TRACE) == {
        "at": "2026-11-20T12:00:00.250Z", "request_id": "req-1", "principal_id": "key-regulator-zj",
        "role": "regulator", "method": "GET", "endpoint": "/v1/batches/{batch_id}/trace",
        "path": "/v1/batches/TOY-CAR-2611-01/trace", "objects": ["TOY-CAR-2611-01"], "status": 200, "outcome": "ok",
        "client": "10.0.0.7", "duration_ms": 12.25,
    }


@pytest.mark.parametrize(("given", "expected"), [
    ("90s", NOW - timedelta(seconds=90)), ("15m", NOW - timedelta(minutes=15)), ("2h", NOW - timedelta(hours=2)),
    ("7d", NOW - timedelta(days=7)), ("1w", NOW - timedelta(weeks=1)),
    ("2026-11-19T08:30:00Z", datetime(2026, 11, 19, 8, 30, tzinfo=UTC)),
    ("2026-11-19T10:30:00.125+02:00", datetime(2026, 11, 19, 8, 30, 0, 125_000, tzinfo=UTC)),
])
def test_a_time_is_an_iso_moment_with_a_zone_or_an_age_before_now(given, expected):
    assert moment_or_age("--since", given, NOW) == expected


@pytest.mark.parametrize(("given", "reason"), [
    ("2026-11-19T08:30:00", "needs a time zone"), ("yesterday", "not an ISO 8601 timestamp"),
    ("15x", "or give an age such as 15m, 2h, 7d"), ("-2h", "not an ISO 8601 timestamp"),
])
def test_a_time_that_is_neither_is_a_bad_parameter_naming_the_option(given, reason):
    with pytest.raises(BadParameter, match=reason) as raised:
        moment_or_age("--since", given, NOW)
    assert raised.value.field == "--since"


def test_no_time_given_is_no_bound():
    assert moment_or_age("--until", None, NOW) is None
