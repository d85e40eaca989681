"""A failing sink is retried with capped backoff until it is back (or a configured budget is
spent, then the worker stops); a write never returns having stored less."""

from __future__ import annotations

import asyncio

import pytest

from deploy.processes import free_port
from sinks.clickhouse import ClickHouseAddress, ClickHouseSink
from sinks.port import InMemorySink
from sinks.retry import TRANSIENT, Backoff
from streams.sink_writer import SinkWriter
from traceability.errors import ClickHouseUnavailable

pytestmark = pytest.mark.unit
ROW = ("r", "reason", "cli", "", "", b"x", "", -1, -1, None, 0, 0, None)


class GaveUp(Exception):
    pass


def give_up(exc):
    raise GaveUp(str(exc))


class FakeTime:
    """A clock that only moves when the writer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def writer_on(sink, backoff: Backoff, time: FakeTime) -> SinkWriter:
    return SinkWriter(sink, backoff=backoff, give_up=give_up, sleep=time.sleep, clock=time.clock)


def test_backoff_doubles_from_its_first_wait_up_to_its_cap():
    backoff = Backoff(first=0.1, cap=5.0)
    assert [backoff.delay(n) for n in range(1, 9)] == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    assert backoff.delay(10_000) == 5.0


def test_without_a_budget_a_sink_down_for_an_hour_is_waited_for_and_the_batch_stored():
    sink, time = InMemorySink(), FakeTime()
    sink.fail_next = 800  # 800 failures, about 4,000 s apart from the first few
    asyncio.run(writer_on(sink, Backoff(cap=5.0), time).write({"rejects": [ROW]}))
    assert sink.tables["rejects"] == [ROW] and sink.writes == 801
    assert time.now > 3_600 and max(time.sleeps) == 5.0


def test_with_a_budget_the_writer_gives_up_once_the_budget_is_spent_instead_of_returning():
    sink, time = InMemorySink(), FakeTime()
    sink.fail_next = 10_000
    with pytest.raises(GaveUp, match="sink write: gave up after"):
        asyncio.run(writer_on(sink, Backoff(cap=5.0, budget=60), time).write({"rejects": [ROW]}))
    assert not sink.tables["rejects"]
    assert 55 <= sum(time.sleeps) <= 60


def test_a_sink_that_recovers_stores_the_batch_once():
    sink, time = InMemorySink(), FakeTime()
    sink.fail_next = 2
    asyncio.run(writer_on(sink, Backoff(budget=5), time).write({"rejects": [ROW]}))
    assert sink.tables["rejects"] == [ROW] and sink.writes == 3 and time.sleeps == [0.1, 0.2]


def test_errors_that_are_not_transient_propagate_at_once():
    class BrokenSink:
        writes = 0

        def write(self, batch):
            self.writes += 1
            raise ZeroDivisionError

    sink = BrokenSink()
    with pytest.raises(ZeroDivisionError):
        asyncio.run(writer_on(sink, Backoff(), FakeTime()).write({"rejects": [ROW]}))
    assert sink.writes == 1


def test_stopping_the_worker_during_an_outage_cancels_the_retries():
    sink = InMemorySink()
    sink.fail_next = 10_000
    writer = SinkWriter(sink, backoff=Backoff(first=0.01, cap=0.01), give_up=give_up)

    async def stop_during_outage() -> int:
        task = asyncio.create_task(writer.write({"rejects": [ROW]}))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        attempts = sink.writes
        await asyncio.sleep(0.2)
        return sink.writes - attempts

    assert asyncio.run(stop_during_outage()) == 0
    assert sink.writes > 1 and not sink.tables["rejects"]


def test_an_empty_batch_is_not_written():
    sink = InMemorySink()
    asyncio.run(writer_on(sink, Backoff(), FakeTime()).write({"rejects": [], "closure": []}))
    assert sink.writes == 0


def test_clickhouse_that_cannot_be_reached_is_a_transient_error_to_the_writer():
    sink = ClickHouseSink(ClickHouseAddress("127.0.0.1", free_port(), "nowhere"))
    with pytest.raises(ClickHouseUnavailable, match="Code: 210") as caught:
        sink.write({"rejects": [ROW]})
    assert isinstance(caught.value, TRANSIENT)
