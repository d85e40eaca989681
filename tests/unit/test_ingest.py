"""The ingest step and dead letters, without Kafka: raw messages in, rows and rejects out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.codec import AvroCodec
from sinks.rows import COLUMNS
from streams.ingest import RawMessage, ingest, store_dead_letters
from streams.topics import TopicNames
from tests.conftest import NOW
from traceability.dead_letter import DeadLetter, from_headers
from traceability.simulation import ChainShape, supply_chain

pytestmark = pytest.mark.unit
CODEC = AvroCodec()
TOPICS = TopicNames("lt")
SHAPE = ChainShape(raw_lots=3, components=3, products=3, tested_fraction=1.0)
EVENTS = list(supply_chain(9, SHAPE, NOW - timedelta(days=1)))


def messages(events):
    return [RawMessage(CODEC.encode(e), TOPICS.for_kind(e.kind), 0, i) for i, e in enumerate(events)]


def test_accepted_events_become_rows_that_fit_their_tables():
    outcome = ingest(messages(EVENTS), CODEC, TOPICS, NOW)
    assert outcome.accepted == len(EVENTS) and not outcome.dead_letters
    for table, rows in outcome.rows.items():
        assert all(len(row) == len(COLUMNS[table]) for row in rows), table
    productions = [e for e in EVENTS if e.kind == "production"]
    edges = sum(len(p.inputs) * len(p.outputs) for p in productions)
    assert len(outcome.rows["lineage_edges"]) == edges
    assert len(outcome.rows["production_events"]) == len(productions)


def test_a_bad_message_becomes_a_dead_letter_and_its_neighbours_are_still_accepted():
    good = messages(EVENTS[:3])
    bad = RawMessage(b"\x00garbage", TOPICS.lineage, 2, 77)
    outcome = ingest([good[0], bad, *good[1:]], CODEC, TOPICS, NOW)
    assert outcome.accepted == 3
    [letter] = outcome.dead_letters
    assert (letter.original, letter.topic, letter.partition, letter.offset) == (b"\x00garbage", TOPICS.lineage, 2, 77)
    assert letter.source == "worker" and "C3 01" in letter.reason


def test_events_judged_against_the_injected_clock_not_the_wall_clock():
    outcome = ingest(messages(EVENTS), CODEC, TOPICS, NOW - timedelta(days=400))
    assert outcome.accepted == 0
    assert all("in the future" in d.reason for d in outcome.dead_letters)


def test_a_dead_letter_survives_the_trip_through_kafka_headers():
    letter = DeadLetter(b"raw", "x: bad", "worker", NOW, "t", 3, 9, "shipment", "e-1")
    assert from_headers(letter.original, letter.headers(), NOW + timedelta(hours=1)) == letter


def test_a_dead_letter_message_without_headers_is_still_stored_with_a_reason():
    rows = store_dead_letters([RawMessage(b"?", "lt.dead-letter", 1, 5)], NOW)
    [row] = rows["rejects"]
    record = dict(zip(COLUMNS["rejects"], row, strict=True))
    assert record["reason"] == "dead letter without a lotline-reason header"
    assert (record["original"], record["dead_letter_partition"], record["dead_letter_offset"]) == (b"?", 1, 5)


def test_the_same_bad_bytes_are_the_same_reject():
    a = DeadLetter(b"same", "r1", "cli", NOW)
    b = DeadLetter(b"same", "r2", "worker", NOW + timedelta(days=1))
    assert a.reject_id == b.reject_id != DeadLetter(b"other", "r1", "cli", NOW).reject_id
