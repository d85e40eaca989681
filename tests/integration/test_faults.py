"""Nothing accepted is lost: not when an insert fails, not when the worker is killed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from kafka import KafkaProducer

from deploy.processes import free_port
from query import history
from schemas.codec import AvroCodec
from sinks.clickhouse import migrate
from streams.offsets import OffsetReader
from tests.conftest import NOW, jsonl
from tests.integration.mixed_file import mixed_file
from traceability.events import event_to_record
from traceability.simulation import ChainShape, supply_chain

pytestmark = pytest.mark.integration


def test_a_failing_insert_commits_no_offset_and_a_restarted_worker_stores_everything(deployment, tmp_file):
    events = list(supply_chain(3, ChainShape(raw_lots=10, components=20, products=30), NOW))
    assert deployment.lotline("publish", str(tmp_file("chain.jsonl", jsonl(events)))).returncode == 0
    dead_clickhouse = f"clickhouse://127.0.0.1:{free_port()}"

    broken = deployment.start_worker(LOTLINE_CLICKHOUSE_URL=dead_clickhouse, LOTLINE_SINK_RETRY_SECONDS="2")
    assert broken.wait(timeout=90) == 75, deployment.worker_logs()  # gave up, loudly

    reader = OffsetReader(deployment.infra.kafka_bootstrap, deployment.settings.app_id)
    lags = reader.lags(deployment.topics.raw)
    reader.close()
    assert sum(lag.end for lag in lags) == len(events)
    assert all(lag.committed == 0 for lag in lags), lags  # nothing committed past unwritten rows

    deployment.start_worker()
    deployment.sync()
    counts = history.counts(deployment.client(), deployment.settings.database)
    assert counts.accepted == len(events)


def test_an_insert_error_no_retry_can_fix_stops_the_worker_at_once_and_a_fixed_store_gets_everything(
    deployment, tmp_file
):
    events = list(supply_chain(4, ChainShape(raw_lots=5, components=10, products=10), NOW))
    client, db = deployment.client(), deployment.settings.database
    client.execute(f"DROP TABLE {db}.shipments")  # ClickHouse answers, but the insert can never succeed
    assert deployment.lotline("publish", str(tmp_file("chain.jsonl", jsonl(events)))).returncode == 0

    broken = deployment.start_worker()
    assert broken.wait(timeout=90) == 75, deployment.worker_logs()
    logs = deployment.worker_logs()
    assert "stopping worker: data could not be stored" in logs and "Code: 60" in logs
    assert "sink write failed" not in logs  # not retried: waiting would never end

    migrate(deployment.address)  # the fix: the table is back
    deployment.start_worker()
    deployment.sync()
    assert history.counts(client, db).accepted == len(events)


def test_a_worker_killed_mid_load_and_restarted_ends_with_the_same_answers(deployment, tmp_file):
    data, valid = mixed_file(total=10_000, invalid=100, seed=11)
    path = tmp_file("load.jsonl", data)
    worker = deployment.start_worker(LOTLINE_SINK_BATCH_SIZE="500")
    publisher = subprocess.Popen([sys.executable, "-m", "lotline", "publish", str(path)],
                                 env=deployment.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    client = deployment.client()
    db = deployment.settings.database
    deadline = time.monotonic() + 120
    while history.counts(client, db).accepted == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    partial = history.counts(client, db).accepted
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert 0 < partial < valid, "the kill must land mid-load"

    publisher.wait(timeout=120)
    deployment.start_worker()
    deployment.sync()
    counts = history.counts(client, db)
    assert (counts.accepted, counts.rejects) == (valid, 100)


def test_bytes_the_worker_cannot_accept_are_dead_lettered_with_a_reason_and_valid_neighbours_are_stored(
    deployment,
):
    codec = AvroCodec()
    good, other = list(supply_chain(5, ChainShape(raw_lots=1, components=1, products=1), NOW))[1:3]
    good_bytes = codec.encode(good)
    bad_semantics = event_to_record(other)
    bad_semantics["inputs"][0]["quantity"] = -1.0
    topics = deployment.topics
    poison = {
        b"\x00\x01garbage": topics.lineage,
        good_bytes[:-3]: topics.lineage,  # truncated
        b"\xc3\x01" + b"\xff" * 8 + good_bytes[10:]: topics.lineage,  # unknown fingerprint
        codec.encode_record("production", bad_semantics): topics.lineage,
        codec.encode(good): topics.lab_results,  # right bytes, wrong topic
    }
    producer = KafkaProducer(bootstrap_servers=deployment.infra.kafka_bootstrap)
    for value, topic in poison.items():
        producer.send(topic, value)
    producer.send(topics.lineage, good_bytes)
    producer.flush()
    producer.close()

    deployment.start_worker()
    deployment.sync()
    client = deployment.client()
    rejects = history.rejects(client, deployment.settings.database, limit=100)
    assert {r["original"] for r in rejects} == set(poison)
    reasons = {r["original"]: r["reason"] for r in rejects}
    assert "C3 01 header" in reasons[b"\x00\x01garbage"]
    assert "unknown writer schema fingerprint ffffffffffffffff" in reasons[b"\xc3\x01" + b"\xff" * 8 + good_bytes[10:]]
    assert "inputs[0].quantity: must be > 0" in reasons[codec.encode_record("production", bad_semantics)]
    assert "belongs on" in reasons[codec.encode(good)]
    assert all(r["source"] == "worker" for r in rejects)
    assert history.counts(client, deployment.settings.database).events["production_events"] == 1
