"""Retries are bounded; a sink that stays down stops the worker instead of losing rows."""

from __future__ import annotations

import asyncio

import pytest

from sinks.port import InMemorySink
from sinks.retry import retrying
from streams.sink_writer import SinkWriter
from traceability.errors import DeliveryError

pytestmark = pytest.mark.unit
ROW = ("r", "reason", "cli", "", "", b"x", "", -1, -1, None, 0, 0, None)


class GaveUp(Exception):
    pass


def give_up(exc):
    raise GaveUp(str(exc))


def test_retrying_backs_off_and_gives_up_when_the_budget_is_spent():
    clock = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds

    def fail():
        raise ConnectionError("down")

    with pytest.raises(DeliveryError, match="gave up after"):
        retrying(fail, what="insert", budget_seconds=10, sleep=sleep, clock=lambda: clock[0])
    assert sleeps[:4] == [0.1, 0.2, 0.4, 0.8]
    assert sum(sleeps) <= 10


def test_errors_that_are_not_transient_propagate_at_once():
    def bug():
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        retrying(bug, what="insert", budget_seconds=10, sleep=lambda s: None)


def test_a_sink_that_recovers_within_the_budget_stores_the_batch():
    sink = InMemorySink()
    sink.fail_next = 2
    writer = SinkWriter(sink, retry_seconds=5, give_up=give_up)
    asyncio.run(writer.write({"rejects": [ROW]}))
    assert sink.tables["rejects"] == [ROW] and sink.writes == 3


def test_a_sink_that_stays_down_makes_the_writer_give_up_instead_of_returning():
    sink = InMemorySink()
    sink.fail_next = 10_000
    writer = SinkWriter(sink, retry_seconds=0.5, give_up=give_up)
    with pytest.raises(GaveUp, match="clickhouse insert: gave up"):
        asyncio.run(writer.write({"rejects": [ROW]}))
    assert not sink.tables["rejects"]
