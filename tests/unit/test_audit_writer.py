"""The audit writer queues records without waiting, inserts them in batches from its thread, retries
failed inserts, drops (and counts) the oldest records when its buffer is full, and flushes on close."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from clickhouse_driver.errors import ErrorCodes, NetworkError, ServerException

from deploy.processes import free_port
from sinks.audit import AUDIT_COLUMNS, AuditWriter, audit_row
from sinks.clickhouse import ClickHouseAddress
from sinks.retry import Backoff
from traceability.audit import AuditRecord

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FAST = Backoff(first=0.01, cap=0.02)


def record(n: int, principal: str = "key-ops", at: datetime = T0) -> AuditRecord:
    return AuditRecord(at=at + timedelta(milliseconds=n), request_id=f"req-{n}", principal_id=principal, role="admin",
                       method="GET", endpoint="/v1/batches/{batch_id}/trace", path=f"/v1/batches/LOT-{n}/trace",
                       objects=(f"LOT-{n}",), status=200, outcome="ok", client="127.0.0.1", duration_ms=1.5)


class FakeClient:
    """Stands in for clickhouse-driver's Client: keeps every insert, fails while told to."""

    def __init__(self) -> None:
        self.inserts: list[tuple[str, list[tuple[object, ...]]]] = []
        self.attempts = 0
        self.fail_next = 0
        self.failing: Callable[[], Exception] | None = None  # fails every insert while set
        self.disconnects = 0

    def execute(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        self.attempts += 1
        if self.failing is not None:
            raise self.failing()
        if self.fail_next:
            self.fail_next -= 1
            raise NetworkError("Code: 210. Connection refused (127.0.0.1:9000)")
        self.inserts.append((sql, list(rows)))

    def disconnect(self) -> None:
        self.disconnects += 1

    @property
    def request_ids(self) -> list[object]:
        return [row[AUDIT_COLUMNS.index("request_id")] for _sql, rows in self.inserts for row in rows]


class Connections:
    """``connect`` for the writer: one fake client, counting how often a connection was made."""

    def __init__(self) -> None:
        self.client = FakeClient()
        self.made = 0

    def __call__(self) -> FakeClient:
        self.made += 1
        return self.client


def writer_on(connections: Connections, **options: object) -> AuditWriter:
    return AuditWriter(connections, "lotline", **{"flush_seconds": 0.02, "backoff": FAST, **options})  # type: ignore[arg-type]


def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


@pytest.fixture
def connections() -> Connections:
    return Connections()


def test_records_are_inserted_in_order_in_batches_no_larger_than_max_batch(connections):
    writer = writer_on(connections, max_batch=10, flush_seconds=60)
    for n in range(25):
        writer.append(record(n))
    assert writer.flush(5)
    assert connections.client.request_ids == [f"req-{n}" for n in range(25)]
    assert all(len(rows) <= 10 for _sql, rows in connections.client.inserts)
    assert connections.client.inserts[0][0] == f"INSERT INTO lotline.audit ({', '.join(AUDIT_COLUMNS)}) VALUES"
    assert (writer.written, writer.dropped, writer.failures, writer.pending) == (25, 0, 0, 0)
    writer.close()


def test_a_record_is_inserted_within_flush_seconds_without_anyone_flushing(connections):
    writer = writer_on(connections, flush_seconds=0.05)
    writer.append(record(1))
    eventually(lambda: writer.written == 1, seconds=2)
    assert connections.client.request_ids == ["req-1"]
    writer.close()


def test_a_full_batch_is_inserted_at_once_without_waiting_for_flush_seconds(connections):
    writer = writer_on(connections, flush_seconds=60, max_batch=5)
    for n in range(5):
        writer.append(record(n))
    eventually(lambda: writer.written == 5, seconds=2)
    writer.close()


def test_a_failed_insert_is_retried_on_a_new_connection_and_the_batch_stored_once(connections):
    connections.client.fail_next = 3
    writer = writer_on(connections)
    for n in range(4):
        writer.append(record(n))
    assert writer.flush(5)
    assert connections.client.request_ids == ["req-0", "req-1", "req-2", "req-3"]
    assert writer.failures == 3 and writer.written == 4 and connections.client.attempts == 4
    assert connections.made == 4 and connections.client.disconnects >= 3  # a failed connection is not reused
    writer.close()


def test_an_error_no_wait_fixes_is_retried_too_so_a_missing_table_created_later_gets_the_records(connections):
    connections.client.failing = lambda: ServerException("Table lotline.audit doesn't exist.", ErrorCodes.UNKNOWN_TABLE)
    writer = writer_on(connections)
    writer.append(record(1))
    eventually(lambda: writer.failures >= 3)
    connections.client.failing = None  # the migration ran
    assert writer.flush(5)
    assert connections.client.request_ids == ["req-1"] and writer.written == 1
    writer.close()


def test_when_the_buffer_is_full_the_oldest_waiting_records_are_dropped_and_counted(connections):
    connections.client.failing = lambda: NetworkError("Code: 210. Connection refused")
    writer = writer_on(connections, max_buffer=5, max_batch=2)
    writer.append(record(0))
    eventually(lambda: writer.failures >= 1)  # record 0 is the batch being retried
    for n in range(1, 11):
        writer.append(record(n))
    assert writer.dropped == 5 and writer.pending == 6  # records 1-5 dropped; 0 in flight, 6-10 waiting
    assert not writer.flush(0.05)

    connections.client.failing = None
    assert writer.flush(5)
    assert connections.client.request_ids == ["req-0", *(f"req-{n}" for n in range(6, 11))]
    assert (writer.written, writer.dropped, writer.pending) == (6, 5, 0)
    writer.close()


def test_flush_waits_only_for_the_records_appended_before_it(connections):
    writer = writer_on(connections, flush_seconds=60)
    writer.append(record(1))
    assert writer.flush(5) and writer.written == 1
    assert writer.flush(0)  # nothing new: nothing to wait for
    writer.close()


def test_flush_gives_up_after_its_timeout_while_clickhouse_stays_down(connections):
    connections.client.failing = lambda: NetworkError("Code: 210. Connection refused")
    writer = writer_on(connections)
    writer.append(record(1))
    began = time.monotonic()
    assert not writer.flush(0.2)
    assert 0.2 <= time.monotonic() - began < 2 and writer.pending == 1 and writer.written == 0
    writer.close(0)


def test_close_writes_what_is_queued_then_stops_and_drops_what_comes_after(connections):
    others = _audit_writers()  # another test's API may still be serving in this process (the web world)
    writer = writer_on(connections, flush_seconds=60)
    for n in range(3):
        writer.append(record(n))
    assert writer.close()
    assert connections.client.request_ids == ["req-0", "req-1", "req-2"]
    writer.append(record(3))
    assert (writer.written, writer.dropped, writer.pending) == (3, 1, 0)
    assert _audit_writers() <= others  # its thread has ended
    assert connections.client.disconnects == 1


def test_close_during_an_outage_gives_up_after_its_timeout_and_stops_the_thread(connections):
    connections.client.failing = lambda: NetworkError("Code: 210. Connection refused")
    writer = writer_on(connections)
    writer.append(record(1))
    assert not writer.close(0.1)
    assert writer.pending == 1 and writer.written == 0
    attempts = connections.client.attempts
    time.sleep(0.1)
    assert connections.client.attempts == attempts  # no retries after close


def test_appends_from_many_threads_are_each_written_once(connections):
    writer = writer_on(connections, max_batch=500)

    def append_many(thread: int) -> None:
        for n in range(1000):
            writer.append(record(n, principal=f"key-{thread}"))

    threads = [threading.Thread(target=append_many, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert writer.flush(10)
    principals = [row[AUDIT_COLUMNS.index("principal_id")] for _sql, rows in connections.client.inserts for row in rows]
    assert writer.written == 8000 and sorted(principals) == sorted(f"key-{t}" for t in range(8) for _ in range(1000))
    writer.close()


@pytest.mark.parametrize(("change", "reason"), [
    ({"at": datetime(2026, 11, 20, 12, 0)}, "no time zone"),  # noqa: DTZ001 - the naive time under test
    ({"status": 70_000}, "status 70000"),
    ({"principal_id": None}, "principal_id is a NoneType"),
    ({"objects": "LOT-1"}, "objects is not a sequence of strings"),
    ({"objects": ("LOT-1", 7)}, "objects is not a sequence of strings"),
])
def test_a_record_that_could_never_be_stored_is_refused_by_append_and_nothing_is_queued(connections, change, reason):
    writer = writer_on(connections)
    bad = AuditRecord(**{**{f: getattr(record(1), f) for f in AuditRecord.__slots__}, **change})
    with pytest.raises(ValueError, match=reason):
        writer.append(bad)
    assert writer.pending == 0 and writer.close() and not connections.client.inserts


def test_a_row_holds_the_time_as_utc_seconds_and_milliseconds_and_every_field_by_name():
    at = datetime(2026, 11, 20, 14, 0, 5, 123_456, tzinfo=timezone(timedelta(hours=2)))
    row = dict(zip(AUDIT_COLUMNS, audit_row(record(0, at=at)), strict=True))
    assert row["at"] == int(datetime(2026, 11, 20, 12, 0, 5, tzinfo=UTC).timestamp()) and row["at_ms"] == 123
    assert row["objects"] == ["LOT-0"] and row["status"] == 200 and row["outcome"] == "ok"
    assert row["endpoint"] == "/v1/batches/{batch_id}/trace" and row["duration_ms"] == 1.5


def test_clickhouse_that_cannot_be_reached_is_retried_through_the_driver_error_translator():
    nowhere = ClickHouseAddress("127.0.0.1", free_port(), "nowhere")
    writer = AuditWriter(nowhere.client, "nowhere", flush_seconds=0.01, backoff=FAST)
    writer.append(record(1))
    eventually(lambda: writer.failures >= 2)
    assert not writer.close(0) and writer.pending == 1


def _audit_writers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "audit-writer" and t.is_alive()}
