"""Whatever bytes arrive, the ingest step answers with rows or a dead letter; it never raises."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.codec import AvroCodec
from streams.ingest import RawMessage, ingest
from streams.topics import TopicNames
from tests.conftest import NOW
from traceability.simulation import ChainShape, supply_chain

pytestmark = pytest.mark.unit
CODEC = AvroCodec()
TOPICS = TopicNames("lt")
EVENTS = list(supply_chain(13, ChainShape(raw_lots=2, components=2, products=2, tested_fraction=1.0),
                           NOW - timedelta(days=1)))
VALID = [(CODEC.encode(e), TOPICS.for_kind(e.kind)) for e in EVENTS]


def outcome_of(value: bytes, topic: str):
    outcome = ingest([RawMessage(value, topic, 0, 0)], CODEC, TOPICS, NOW)
    assert outcome.accepted + len(outcome.dead_letters) == 1
    for letter in outcome.dead_letters:
        assert letter.reason and letter.original == value
    return outcome


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.sampled_from(TOPICS.raw))
def test_random_bytes_become_dead_letters(value, topic):
    assert outcome_of(value, topic).dead_letters


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID), st.data())
def test_mutated_valid_messages_are_accepted_or_dead_lettered_never_raised(valid, data):
    value, topic = valid
    body = bytearray(value)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(2, len(body) - 1))
        body[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(10, len(body)))
    outcome_of(bytes(body[:cut]), topic)


def test_a_header_with_a_known_fingerprint_and_a_huge_length_prefix_is_refused_quickly():
    header = VALID[0][0][:10]
    huge_string = b"\xfe\xff\xff\xff\xff\xff\xff\xff\x7f"  # zig-zag varint of a very large length
    assert outcome_of(header + huge_string, VALID[0][1]).dead_letters
