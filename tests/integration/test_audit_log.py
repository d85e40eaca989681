"""The audit log on the real server: records the writer appends are stored to the millisecond, and
`lotline audit` reads back exactly the ones asked for, by principal and time, as text and as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from query.audit import audit_json, audit_records, audit_time
from sinks.audit import AuditWriter
from traceability.audit import AuditRecord

pytestmark = pytest.mark.integration


def request(n: int, at: datetime, principal: str, role: str, objects: tuple[str, ...] = (), status: int = 200,
            outcome: str = "ok") -> AuditRecord:
    return AuditRecord(at=at, request_id=f"req-{n}", principal_id=principal, role=role, method="GET",
                       endpoint="/v1/batches/{batch_id}/trace", path=f"/v1/batches/{'/'.join(objects)}/trace",
                       objects=objects, status=status, outcome=outcome, client="127.0.0.1", duration_ms=n + 0.25)


@pytest.fixture
def recorded(deployment) -> list[AuditRecord]:
    """Five requests over the last three hours, oldest first, stored through the writer."""
    now = datetime.now(UTC).replace(microsecond=123_000)
    records = [
        request(1, now - timedelta(hours=3), "key-cti-ops", "lab", ("RPT-CTI-0002",)),
        request(2, now - timedelta(minutes=30), "key-cti-ops", "lab", ("TOY-CAR-2611-01", "RPT-CTI-0002")),
        request(3, now - timedelta(minutes=20), "key-samr-zj", "regulator", ("PIG-RED-2610-07",)),
        request(4, now - timedelta(minutes=5), "", "public", status=404, outcome="not_found"),
        request(5, now - timedelta(minutes=1), "key-cti-ops", "lab", ("TOY-CAR-2611-01",), status=403,
                outcome="refused"),
    ]
    with AuditWriter(deployment.address.client, deployment.settings.database, flush_seconds=0.05) as writer:
        for record in reversed(records):  # appended in any order: read back by time
            writer.append(record)
        assert writer.flush(30), f"not written: {writer.pending} pending, {writer.failures} failures"
        assert (writer.written, writer.dropped) == (5, 0)
    return records


def audit(deployment, *args: str) -> list[dict]:
    done = deployment.lotline("audit", "--json", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def ids(lines: list[dict]) -> list[str]:
    return [line["request_id"] for line in lines]


def test_records_read_back_exactly_as_appended_to_the_millisecond_oldest_first(deployment, recorded):
    assert audit_records(deployment.client(), deployment.settings.database) == recorded
    assert audit(deployment) == [audit_json(r) for r in recorded]


def test_audit_by_principal_lists_only_that_principals_requests(deployment, recorded):
    assert ids(audit(deployment, "--principal", "key-cti-ops")) == ["req-1", "req-2", "req-5"]
    assert ids(audit(deployment, "--principal", "key-samr-zj")) == ["req-3"]
    assert ids(audit(deployment, "--principal", "")) == ["req-4"]  # without a credential
    assert audit(deployment, "--principal", "key-nobody") == []


def test_audit_since_an_age_or_a_moment_lists_the_requests_from_then_to_the_millisecond(deployment, recorded):
    assert ids(audit(deployment, "--since", "45m")) == ["req-2", "req-3", "req-4", "req-5"]
    assert ids(audit(deployment, "--since", "45m", "--principal", "key-cti-ops")) == ["req-2", "req-5"]
    third = recorded[2].at
    assert ids(audit(deployment, "--since", audit_time(third))) == ["req-3", "req-4", "req-5"]  # included
    assert ids(audit(deployment, "--since", audit_time(third + timedelta(milliseconds=1)))) == ["req-4", "req-5"]
    assert ids(audit(deployment, "--since", "2h", "--until", audit_time(third))) == ["req-2"]  # until: excluded


def test_a_limit_keeps_the_latest_requests_and_says_older_ones_match(deployment, recorded):
    done = deployment.lotline("audit", "--json", "--limit", "2")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["request_id"] for line in done.stdout.splitlines()] == ["req-4", "req-5"]
    assert "older requests match too" in done.stderr


def test_audit_as_text_is_a_table_of_the_matching_requests(deployment, recorded):
    done = deployment.lotline("audit", "--principal", "key-cti-ops", "--since", "2h")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["time", "principal", "role", "method", "endpoint", "objects", "status", "outcome"]
    assert lines[2].split() == [audit_time(recorded[1].at), "key-cti-ops", "lab", "GET", "/v1/batches/{batch_id}/trace",
                                "TOY-CAR-2611-01,RPT-CTI-0002", "200", "ok"]
    assert lines[3].split()[-2:] == ["403", "refused"] and lines[-1] == "2 requests"
    assert "key-samr-zj" not in done.stdout and "req-" not in done.stdout


def test_a_malformed_time_is_a_usage_error_naming_the_option(deployment):
    done = deployment.lotline("audit", "--since", "yesterday")
    assert done.returncode == 2 and "--since" in done.stderr and "15m" in done.stderr
