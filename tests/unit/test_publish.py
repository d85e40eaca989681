"""Publishing JSON lines: good lines out, bad lines reported and dead-lettered."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import credential
from schemas.codec import AvroCodec
from streams.publishing import credential_signer, publish, registry_entries_only, signed
from streams.topics import TopicNames
from tests.conftest import NOW, jsonl
from tests.registry_samples import REGISTRY, RESULT
from traceability.simulation import ChainShape, supply_chain

pytestmark = pytest.mark.unit
TOPICS = TopicNames("lt")
CODEC = AvroCodec()


class RecordingProducer:
    def __init__(self):
        self.sent = []
        self.flushed = False

    def send(self, topic, value, key=None, headers=None):
        self.sent.append((topic, key, value, dict(headers or ())))

    def flush(self, timeout=None):
        self.flushed = True


def lines():
    events = list(supply_chain(5, ChainShape(raw_lots=2, components=2, products=2), NOW))
    good = jsonl(events).splitlines(keepends=True)
    bad = [b'{"type": "shipment"}\n', b"\n", b"oops\n"]
    return good[:3] + bad + good[3:], len(events)


def test_good_lines_are_published_to_their_topics_and_bad_lines_to_the_dead_letter_topic():
    producer = RecordingProducer()
    data, valid = lines()
    report = publish(data, producer, codec=CODEC, topics=TOPICS, now=NOW)
    assert report.published == valid
    assert [(e.line, e.reason.split(":")[0]) for e in report.rejected] == [(4, "shipment"), (6, "not valid JSON")]
    dead = [s for s in producer.sent if s[0] == TOPICS.dead_letter]
    assert [d[2] for d in dead] == [b'{"type": "shipment"}', b"oops"]
    assert dead[0][3]["lotline-source"] == b"cli"
    assert dead[0][3]["lotline-event-kind"] == b"shipment"
    assert producer.flushed
    lab_result = next(s for s in producer.sent if s[0] == TOPICS.lab_results)
    assert CODEC.decode(lab_result[2]).batch_id.encode() == lab_result[1]  # keyed by batch


def test_strict_mode_holds_back_every_valid_line_when_one_is_bad():
    producer = RecordingProducer()
    data, valid = lines()
    report = publish(data, producer, codec=CODEC, topics=TOPICS, now=NOW, strict=True)
    assert (report.published, report.held_back, len(report.rejected)) == (0, valid, 2)
    assert {s[0] for s in producer.sent} == {TOPICS.dead_letter}


def test_strict_mode_publishes_a_clean_file_whole():
    producer = RecordingProducer()
    data, valid = lines()
    clean = [line for line in data if line.strip() and json.loads(line.replace(b"oops", b"{}")).get("event_id")]
    report = publish(clean, producer, codec=CODEC, topics=TOPICS, now=NOW, strict=True)
    assert report.published == valid and not report.rejected


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_any_line_is_published_or_refused_with_a_reason_never_raised(data):
    """Valid lines with fields swapped for arbitrary JSON, and arbitrary JSON itself."""
    events = [json.loads(line) for line in jsonl(list(supply_chain(3, ChainShape(2, 2, 2), NOW))).splitlines()]
    event = dict(data.draw(st.sampled_from(events)))
    for name in data.draw(st.lists(st.sampled_from(sorted(event)), max_size=3)):
        event[name] = data.draw(_JSON)
    line = data.draw(st.sampled_from([json.dumps(event), json.dumps(data.draw(_JSON))]))
    producer = RecordingProducer()
    report = publish([line.encode()], producer, codec=CODEC, topics=TOPICS, now=NOW)
    assert report.published + len(report.rejected) == 1
    assert all(error.reason for error in report.rejected)
    assert len(producer.sent) == 1


def test_with_a_signer_every_lab_result_carries_a_credential_that_verifies_and_others_pass_unchanged():
    producer, key = RecordingProducer(), credential.new_key()
    data, valid = lines()
    report = publish(data, producer, codec=CODEC, topics=TOPICS, now=NOW,
                     signer=credential_signer(key, accreditation="CNAS L1234"))
    assert report.published == valid
    events = [CODEC.decode(value) for topic, _, value, _ in producer.sent if topic != TOPICS.dead_letter]
    results = [e for e in events if e.kind == "lab_result"]
    assert results and all(e.credential for e in results)
    assert all(getattr(e, "credential", "") == "" for e in events if e.kind != "lab_result")
    for result in results:
        token = credential.read(result.credential)
        assert token.kid == credential.default_kid(result.lab_id, key)
        assert credential.signature_holds(token, credential.public_jwk(key, token.kid))
        assert credential.claims_differ(result, token) == []
        assert credential.claimed_accreditation(token) == credential.ClaimedAccreditation("CNAS", "CNAS L1234")


def test_a_signer_with_a_kid_and_no_accreditation_claims_none():
    key = credential.new_key()
    token = credential.read(signed(RESULT, credential_signer(key, kid="cti-2026")).credential)
    assert token.kid == "cti-2026" and credential.claimed_accreditation(token) is None


def test_registry_entries_only_refuses_every_other_kind_with_the_reason():
    producer = RecordingProducer()
    data, _ = lines()
    registry = jsonl(list(REGISTRY))
    report = publish([*data, *registry.splitlines(keepends=True)], producer, codec=CODEC, topics=TOPICS, now=NOW,
                     accept=registry_entries_only)
    labs_simulated = sum(1 for line in data if b'"type": "lab"' in line)
    assert report.published == len(REGISTRY) + labs_simulated
    refused = {e.reason for e in report.rejected}
    assert "type: shipment is not a registry entry (expected one of lab, accreditation_body, regulator, " \
           "organisation, product); publish it with `lotline publish`" in refused
    assert {topic for topic, *_ in producer.sent} == {TOPICS.registry, TOPICS.dead_letter}
    keyed = {CODEC.decode(value).event_id: key for topic, key, value, _ in producer.sent if topic == TOPICS.registry}
    assert keyed["ab-cnas"] == b"CNAS" and keyed["reg-samr-zj"] == b"SAMR-ZJ" and keyed["lab-ev-cti-2"] == b"LAB-CTI-YW"
    assert keyed["org-ev-yw-toys"] == b"ORG-YW-TOYS"
