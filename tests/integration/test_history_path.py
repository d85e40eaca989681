"""Labs and manufacturers publish; the stream validates and stores; history is queryable."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaConsumer, TopicPartition

from query import history
from tests.integration.mixed_file import mixed_file

pytestmark = pytest.mark.integration


def test_ten_thousand_lines_with_a_hundred_bad_ones_leave_exactly_the_valid_events_and_the_rejects(
    deployment, tmp_file
):
    data, valid = mixed_file(total=10_000, invalid=100)
    path = tmp_file("mixed.jsonl", data)
    deployment.start_worker()

    published = deployment.lotline("publish", str(path))
    assert published.returncode == 1, published.stderr  # 1 = some lines were rejected
    assert f"published {valid:,}, rejected 100" in published.stdout
    assert "mixed.jsonl:" in published.stderr  # each bad line is named by number
    deployment.sync()

    counts = history.counts(deployment.client(), deployment.settings.database)
    assert counts.accepted == valid == 9_900
    assert counts.rejects == 100

    again = deployment.lotline("publish", str(path))
    assert again.returncode == 1
    deployment.sync()
    recount = history.counts(deployment.client(), deployment.settings.database)
    assert (recount.accepted, recount.rejects, recount.lineage_edges) == (
        valid, 100, counts.lineage_edges,
    )
    assert recount.rows["shipments"] > counts.rows["shipments"]  # stored twice, answered once


def test_a_strict_publish_of_a_file_with_a_bad_line_publishes_nothing(deployment, tmp_file):
    data, _ = mixed_file(total=200, invalid=1)
    deployment.start_worker()
    done = deployment.lotline("publish", "--strict", str(tmp_file("strict.jsonl", data)))
    assert done.returncode == 1
    assert "published 0, rejected 1, 199 valid lines held back (--strict)" in done.stdout
    deployment.sync()
    counts = history.counts(deployment.client(), deployment.settings.database)
    assert (counts.accepted, counts.rejects) == (0, 1)


def test_every_rejected_line_keeps_its_reason_and_original_bytes(deployment, tmp_file):
    line = b'{"type": "shipment", "event_id": "neg-1", "shipment_id": "S1", "batch_id": "B1", ' \
        b'"quantity": -3, "unit": "ea", "from_org": "A", "to_org": "B", "to_location": "Hamburg", ' \
        b'"to_country": "DE", "occurred_at": "2026-11-01T00:00:00Z"}'
    deployment.start_worker()
    deployment.lotline("publish", str(tmp_file("one.jsonl", line + b"\n")))
    deployment.sync()
    [reject] = history.rejects(deployment.client(), deployment.settings.database)
    assert reject["original"] == line
    assert reject["reason"] == "shipment.quantity: must be > 0, got -3"
    assert reject["source"] == "cli"


def test_the_dead_letter_topic_carries_the_reason_in_headers_and_the_original_bytes(deployment, tmp_file):
    deployment.lotline("publish", str(tmp_file("bad.jsonl", b"[1, 2]\n")))
    consumer = KafkaConsumer(bootstrap_servers=deployment.infra.kafka_bootstrap, consumer_timeout_ms=3000,
                             auto_offset_reset="earliest")
    consumer.assign([TopicPartition(deployment.topics.dead_letter, p) for p in range(4)])
    consumer.seek_to_beginning()
    deadline = time.monotonic() + 10
    messages = []
    while not messages and time.monotonic() < deadline:
        messages = [m for batch in consumer.poll(timeout_ms=500).values() for m in batch]
    consumer.close()
    [message] = messages
    headers = dict(message.headers)
    assert message.value == b"[1, 2]"
    assert headers["lotline-reason"] == b"expected a JSON object"
    assert headers["lotline-source"] == b"cli"
