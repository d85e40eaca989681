"""Hostile input on the real stack: thousands of generated bad messages, lines and API items,
interleaved with a valid supply chain, and one worker that must survive all of it.

Every bad input ends in the dead-letter topic and in the rejects table with a reason naming the
rule it broke and its original bytes (cut to `MAX_ORIGINAL_BYTES` only when it is larger). The
valid events around them are all stored and give the oracle's answers. Three inputs look odd but
are legitimate in a stream with any arrival order, so they are accepted, not rejected:

* a duplicate (the same event again, by any channel) is stored again and counted once: answers
  deduplicate by event id;
* a report on a batch nobody has declared yet is stored and answered: the trace shows the report
  and the status it gives, and flags the batch as unsourced (no production record);
* a production whose edge would close a lineage cycle is stored, but that edge is refused: it goes
  to the dead-letter topic and the rejects table with the production's bytes, and answers leave it out.

``LOTLINE_FAULT_SCALE=full`` multiplies the cases (the default keeps the file under ~90 s here).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord

from query import history, lineage
from query.answers import recall_json, trace_json
from query.scope import ScopeReader
from schemas.codec import AvroCodec
from streams.offsets import OffsetReader
from streams.topics import partition_key
from tests.integration.chains import START
from tests.integration.hostile_cases import Bad, BadItem, JsonCases, RawCases, canonical
from tests.integration.scope_oracle import World, recall_as_compared, repeated_entries, trace_as_compared
from traceability.dead_letter import MAX_ORIGINAL_BYTES
from traceability.events import Event, InputLot, LabResult, Measurement, OutputLot, Production
from traceability.json_form import event_to_json
from traceability.simulation import ChainShape, supply_chain

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FULL = os.environ.get("LOTLINE_FAULT_SCALE") == "full"
#: Bad raw messages, bad JSON lines, bad API items, lineage cycles.
RAW, LINES, ITEMS, CYCLES = (24_000, 8_000, 6_000, 300) if FULL else (4_000, 1_400, 1_000, 60)
OVERSIZED = (1_200_000, 3_000_000, 12_000_000) if FULL else (1_200_000, 3_000_000)
WIDE_INPUTS = 3_000 if FULL else 600
SHAPE = ChainShape(raw_lots=30, components=90, products=120, shipments_per_product=1, tested_fraction=0.5,
                   failure_rate=0.1, tiers=3, correction_rate=0.3, withdrawal_rate=0.2)
SEED = 61
CODEC = AvroCodec()


@dataclass
class Sent:
    """What phase 2 sent: the distinct bad inputs per channel, the valid events, and totals."""

    raw: list[Bad]
    lines: list[Bad]
    items: list[BadItem]
    cycles: list[tuple[Production, str]]  # a valid production whose edge closes a cycle, and the reason
    valid: list[Event]
    sent_again: int = 0
    bad_sends: int = 0  # bad messages, lines and items sent, duplicates included
    refused_requests: int = 0


def test_thousands_of_hostile_inputs_are_dead_lettered_with_reasons_and_the_valid_events_around_them_answer_right(
    deployment, tmp_path,
):
    worker = deployment.start_worker()
    chain = _store_chain(deployment)  # first, so that the cycles can aim at it
    sent = _send_hostile_input(deployment, tmp_path, random.Random(SEED), chain)
    assert worker.poll() is None, "the worker died while the hostile input was sent\n" + deployment.worker_logs()
    deployment.sync(timeout=180)

    # The same worker process survived everything: never stopped, never restarted.
    assert worker.poll() is None and deployment.workers == [worker], deployment.worker_logs()
    assert "stopping worker" not in deployment.worker_logs()
    letters = _assert_every_bad_input_is_rejected_once_with_its_reason(deployment, sent)
    sample, closure_bytes = _assert_the_valid_events_answer_like_the_oracle(deployment, chain, sent)

    kinds = Counter(f"raw: {b.kind}" for b in sent.raw) + Counter(f"line: {b.kind}" for b in sent.lines) + Counter(
        f"api: {b.kind}" for b in sent.items) + Counter({"any channel: production closing a cycle": len(sent.cycles)})
    _report(kinds, deployment, bad_sent=sent.bad_sends + len(sent.cycles), dead_letters=letters,
            requests_refused_whole=sent.refused_requests, valid_events=len(sent.valid) + len(chain),
            valid_sent_again=sent.sent_again, batches_compared=sample, closure_topic_bytes=closure_bytes,
            worker_pid=worker.pid)


def _store_chain(dep) -> list[Event]:
    """Phase 1: a valid chain as raw Avro, stored."""
    chain = list(supply_chain(SEED, SHAPE, START))
    with _hostile_producer(dep) as producer:
        _send(producer, [(dep.topics.for_kind(e.kind), partition_key(e), CODEC.encode(e)) for e in chain])
    dep.sync()
    return chain


def _send_hostile_input(dep, tmp_path, rng: random.Random, chain: list[Event]) -> Sent:
    """Phase 2: bad input of every kind through every channel, valid events and duplicates between."""
    raw, json_cases = RawCases(rng, CODEC, dep.topics, chain), JsonCases(rng, chain)
    lines = [json_cases.line(f"bad-line-{n}") for n in range(LINES)]
    lines += [json_cases.huge_line("bad-line-huge"), json_cases.too_big_line("bad-line-too-big")]
    items = _unique([json_cases.item(f"bad-item-{n}") for n in range(ITEMS)], key=lambda b: canonical(b.item))
    sent = Sent(
        raw=_unique([raw.make(f"bad-raw-{n}") for n in range(RAW)], key=lambda b: b.stored)
        + [raw.tombstone(), raw.oversized_avro("bad-raw-huge")] + [raw.oversized(size) for size in OVERSIZED],
        lines=_unique(lines, key=lambda b: b.stored),
        # An item over MAX_ORIGINAL_BYTES would be stored cut and could not be matched as JSON here
        # (lines and raw messages test the cut).
        items=[b for b in items if len(canonical(b.item)) < MAX_ORIGINAL_BYTES // 2],
        cycles=_cycles(rng, chain, CYCLES),
        valid=_valid_events(rng),
    )
    raw_part, line_part, item_part = _split(rng, sent.valid + [e for e, _ in sent.cycles])
    again = rng.sample(sent.valid, len(sent.valid) // 10)
    sent.sent_again = len(again)

    bad_messages = sent.raw + rng.sample(sent.raw, len(sent.raw) // 20)  # some twice: one reject each
    messages = [(b.topic, None, b.value) for b in bad_messages]
    messages += [(dep.topics.for_kind(e.kind), partition_key(e), CODEC.encode(e)) for e in raw_part + again]
    rng.shuffle(messages)
    with _hostile_producer(dep) as producer:
        _send(producer, messages)

    bad_lines = [b.value for b in sent.lines + rng.sample(sent.lines, len(sent.lines) // 20)]
    file_lines = bad_lines + [json.dumps(event_to_json(e)).encode() for e in line_part]
    rng.shuffle(file_lines)
    (tmp_path / "hostile.jsonl").write_bytes(b"\n".join(file_lines) + b"\n")
    published = dep.lotline("publish", str(tmp_path / "hostile.jsonl"))
    assert published.returncode == 1 and "Traceback" not in published.stderr, published.stderr[-3000:]
    assert published.stdout.strip() == f"published {len(line_part):,}, rejected {len(bad_lines):,}"

    api = dep.api()
    _post_events(api, rng, sent.items, [event_to_json(e) for e in item_part])
    sent.refused_requests = _post_bad_bodies(api)
    sent.bad_sends = len(bad_messages) + len(bad_lines) + len(sent.items)
    return sent


def _assert_every_bad_input_is_rejected_once_with_its_reason(dep, sent: Sent) -> int:
    """Rejects and dead letters hold exactly the bad inputs, each once, with the reason expected."""
    client, db = dep.client(), dep.settings.database
    rejects = _rejects(client, db)
    by_worker = {b.stored: b.reason for b in sent.raw} | {CODEC.encode(e): reason for e, reason in sent.cycles}
    by_cli = {b.stored: b.reason for b in sent.lines}
    by_api = {canonical(b.item): b.reason for b in sent.items}
    _assert_rejects(rejects, "worker", by_worker, key=lambda original: original)
    _assert_rejects(rejects, "cli", by_cli, key=lambda original: original)
    _assert_rejects(rejects, "api", by_api, key=lambda original: canonical(json.loads(original)))
    cut = [r for r in rejects if len(r["original"]) == MAX_ORIGINAL_BYTES]
    assert len(cut) == sum(len(b.value or b"") > MAX_ORIGINAL_BYTES for b in sent.raw + sent.lines)
    assert len(cut) >= len(OVERSIZED) + 2 and all("bytes, sha256" in r["reason"] for r in cut)

    letters = _read_topic(dep.infra.kafka_bootstrap, dep.topics.dead_letter)
    assert all(dict(r.headers).get("lotline-reason") for r in letters)
    sources = [(dict(r.headers)["lotline-source"].decode(), r.value) for r in letters]
    assert {value for source, value in sources if source != "api"} == by_worker.keys() | by_cli.keys()
    assert {canonical(json.loads(value)) for source, value in sources if source == "api"} == by_api.keys()
    # One dead letter and one rejects row per bad input sent (per refused edge for a cycle), no more:
    # the worker never restarted, so nothing was delivered twice.
    assert len(letters) == history.counts(client, db).rows["rejects"] == sent.bad_sends + len(sent.cycles)
    return len(letters)


def _assert_the_valid_events_answer_like_the_oracle(dep, chain: list[Event], sent: Sent) -> tuple[int, int]:
    """Every valid event stored (counted once per event id); closure, statuses and answers as the oracle's."""
    client, db = dep.client(), dep.settings.database
    productions = [e for e, _ in sent.cycles]
    world = World.of(chain + sent.valid + productions, refused={_edge(e) for e in productions})
    counts = history.counts(client, db)
    assert counts.events == _distinct_by_table(chain + sent.valid + productions)
    assert counts.rows["shipments"] > counts.events["shipments"]  # duplicates did arrive
    assert lineage.ancestry(client, db) == {b: a for b, a in world.ancestors.items() if a}
    assert {b: s for b, s in lineage.statuses(client, db).items() if s[0] != "untested"} == {
        b: s for b, s in world.statuses.items() if s[0] != "untested"}
    sample = _sample(random.Random(SEED), world, sent.cycles)
    reader = ScopeReader(dep.client, db)
    try:
        _assert_answers(reader, world, sample)
        _assert_orphans_are_answered_as_unsourced(reader, world)
    finally:
        reader.close()
    # The wide production's bytes are not copied once per edge into the closure topic.
    closure_bytes = sum(len(r.value) for r in _read_topic(dep.infra.kafka_bootstrap, dep.topics.closure))
    assert closure_bytes < 32 * 1024 * 1024, f"{closure_bytes:,} bytes on the closure topic"
    return len(sample), closure_bytes


# -- the valid side ------------------------------------------------------------------------------


def _valid_events(rng: random.Random) -> list[Event]:
    """A second chain, reports on batches nobody declared, and one very wide production."""
    chain = list(supply_chain(SEED + 1, SHAPE, START + timedelta(days=2)))
    when = START + timedelta(days=5)
    orphans = [
        LabResult(f"orphan-ev-{i}", f"RPT-ORPHAN-{i}", 1, f"LAB-{SEED}", f"ORPHAN-{i:03d}", f"S-ORPHAN-{i}",
                  "GB 6675.4-2014", verdict, when, when + timedelta(hours=1),
                  (Measurement("Pb (soluble)", 120.0 if verdict == "fail" else 12.0, "mg/kg", 90.0, verdict),))
        for i, verdict in enumerate(rng.choice(["pass", "fail"]) for _ in range(20))
    ]
    wide_inputs = tuple(InputLot(_wide_input(i), 1.5, "kg") for i in range(WIDE_INPUTS))
    wide = Production("wide-ev-1", "ORG-WIDE", "Blending hall", when, wide_inputs,
                      (OutputLot("WIDE-OUT-1", "SKU-BLEND", 1.0, "t"),))
    wide_fail = replace(orphans[0], event_id="wide-fail-ev", report_id="RPT-WIDE-FAIL", verdict="fail",
                        batch_id=wide_inputs[7].batch_id,
                        measurements=(Measurement("Cd (soluble)", 99.0, "mg/kg", 75.0, "fail"),))
    return chain + orphans + [wide, wide_fail]


def _wide_input(i: int) -> str:
    """The wide production's inputs have long ids, so that its bytes are many (and were copied per edge)."""
    return f"WIDE-IN-{i:05d}-" + "w" * 110


def _cycles(rng: random.Random, chain: list[Event], count: int) -> list[tuple[Production, str]]:
    """Productions whose one edge, descendant -> ancestor, closes a cycle in the stored chain."""
    ancestors = World.of(chain).ancestors
    pairs = sorted((a, d) for d, up in ancestors.items() for a in up)
    cycles = []
    for n, (ancestor, descendant) in enumerate(rng.sample(pairs, count)):
        event = Production(f"cycle-ev-{n}", "ORG-CYCLE", "Rework", START + timedelta(days=6),
                           (InputLot(descendant, 1.0, "kg"),), (OutputLot(ancestor, "SKU-REWORK", 1.0, "ea"),))
        cycles.append((event, f"{descendant} -> {ancestor} (edge {event.event_id} rejected)"))
    return cycles


def _edge(production: Production) -> tuple[str, str]:
    return production.inputs[0].batch_id, production.outputs[0].batch_id


def _split(rng: random.Random, events: list[Event]) -> tuple[list[Event], list[Event], list[Event]]:
    """Half the events as raw bytes, a quarter through ``lotline publish``, a quarter through the API."""
    shuffled = rng.sample(events, len(events))
    half, three_quarters = len(events) // 2, len(events) * 3 // 4
    return shuffled[:half], shuffled[half:three_quarters], shuffled[three_quarters:]


def _distinct_by_table(events: list[Event]) -> dict[str, int]:
    tables = {"lab_result": "lab_results", "production": "production_events", "shipment": "shipments",
              "receiving": "receivings", "lab": "labs", "accreditation_body": "accreditation_bodies",
              "regulator": "regulators", "organisation": "organisations", "product": "products"}
    found = Counter(tables[e.kind] for e in {e.event_id: e for e in events}.values())
    return {table: found.get(table, 0) for table in tables.values()}


# -- sending -------------------------------------------------------------------------------------


@contextmanager
def _hostile_producer(dep) -> Iterator[KafkaProducer]:
    """A producer that sends anything, up to 16 MB (Tansu takes it; a default Kafka would stop at 1 MiB)."""
    producer = KafkaProducer(bootstrap_servers=dep.infra.kafka_bootstrap, max_request_size=16 * 1024 * 1024,
                             linger_ms=20)
    try:
        yield producer
    finally:
        producer.close()


def _send(producer: KafkaProducer, messages: list[tuple[str, bytes | None, bytes | None]]) -> None:
    for topic, key, value in messages:
        producer.send(topic, value=value, key=key if value is not None else b"tombstone")  # a tombstone needs a key
    producer.flush(timeout=120)


def _post_events(api: TestClient, rng: random.Random, bad: list[BadItem], good: list[dict[str, Any]]) -> None:
    """Bad and good items mixed, in requests of up to 400; every result says what happened."""
    items = [(b.item, b.reason) for b in bad] + [(g, None) for g in good]
    rng.shuffle(items)
    for start in range(0, len(items), 400):
        chunk = items[start:start + 400]
        answer = api.post("/v1/events", content=json.dumps([item for item, _ in chunk]),
                          headers={"content-type": "application/json"})
        assert answer.status_code == 202, answer.text[:2000]
        for (item, reason), result in zip(chunk, answer.json()["results"], strict=True):
            if reason is None:
                assert result["status"] == "published", (item, result)
            else:
                assert result["status"] == "rejected" and reason in result["reason"], (reason, result)


def _post_bad_bodies(api: TestClient) -> int:
    """Bodies that are no list of events at all: refused by the request (4xx), nothing to dead-letter."""
    bodies = [b"[" * 100_000 + b"]" * 100_000, b"{not json", b'{"events": 5}', b'"events"', b"\xff\xfe",
              json.dumps([{}] * 10_001).encode()]
    for body in bodies:
        answer = api.post("/v1/events", content=body, headers={"content-type": "application/json"})
        assert 400 <= answer.status_code < 500, (body[:40], answer.status_code, answer.text[:300])
    return len(bodies)


# -- reading back --------------------------------------------------------------------------------


def _rejects(client: Any, db: str) -> list[dict[str, Any]]:
    """One row per distinct reject (rejects repeat: one row per sighting)."""
    rows = client.execute(
        f"SELECT reject_id, any(reason), any(source), any(original) FROM {db}.rejects GROUP BY reject_id",
        settings={"strings_as_bytes": True},
    )
    return [{"reason": reason.decode("utf-8", "replace"), "source": source.decode(), "original": original}
            for _, reason, source, original in rows]


def _assert_rejects(rejects: list[dict[str, Any]], source: str, expected: dict[Any, str], key: Any) -> None:
    """The rejects from ``source`` are exactly the expected originals, each with its reason."""
    found = {key(r["original"]): r for r in rejects if r["source"] == source}
    missing, extra = expected.keys() - found.keys(), found.keys() - expected.keys()
    assert not missing and not extra, (
        f"{source}: {len(missing)} bad inputs not in rejects, e.g. {sorted(missing)[:2]!r:.300}; "
        f"{len(extra)} unexpected, e.g. {[found[k]['reason'] for k in sorted(extra)[:2]]}")
    wrong = [(reason, found[k]["reason"]) for k, reason in expected.items() if reason not in found[k]["reason"]]
    assert not wrong, f"{source}: {len(wrong)} reasons name another rule, e.g. {wrong[:3]}"
    assert all(r["reason"] for r in found.values())


def _read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    """Every record of ``topic`` up to its true end (an assigned consumer: no group join)."""
    reader = OffsetReader(bootstrap, "hostile-input-reader")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_bytes=64 * 1024 * 1024,
                             max_partition_fetch_bytes=16 * 1024 * 1024)
    try:
        partitions = reader.partitions([topic])
        ends = reader.true_ends(partitions, consumer.end_offsets(partitions))
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            assert time.monotonic() < deadline, f"{topic}: could not read to the end"
            for batch in consumer.poll(timeout_ms=500).values():
                records += batch
        return records
    finally:
        consumer.close()
        reader.close()


def _sample(rng: random.Random, world: World, cycles: list[tuple[Production, str]]) -> list[str]:
    """Batches on both ends of refused cycle edges, failed and at-risk ones, orphans, the wide blend."""
    ends = {b for e, _ in cycles[:8] for b in _edge(e)}
    failed = sorted(b for b, (s, _) in world.statuses.items() if s == "failed")
    at_risk = sorted(b for b, (s, _) in world.statuses.items() if s == "at_risk")
    return sorted(ends | {*rng.sample(failed, min(8, len(failed))), *rng.sample(at_risk, min(8, len(at_risk))),
                          *rng.sample(sorted(world.ancestors), 10), "WIDE-OUT-1", _wide_input(7),
                          "ORPHAN-000"})


def _assert_answers(reader: ScopeReader, world: World, batches: list[str]) -> None:
    for batch in batches:
        trace = json.loads(json.dumps(trace_json(reader.trace(batch))))
        assert trace_as_compared(trace) == world.trace(batch), batch
        recall = json.loads(json.dumps(recall_json(reader.recall(batch))))
        got, want = recall_as_compared(recall, set()), world.recall(batch)
        del got["spreadsheet"], want["spreadsheet"]  # the spreadsheet is test_query_side's
        assert got == want, batch
        assert not repeated_entries(trace, recall), batch


def _assert_orphans_are_answered_as_unsourced(reader: ScopeReader, world: World) -> None:
    orphans = sorted(b for b in world.reports if b.startswith("ORPHAN-"))
    assert len(orphans) == 20
    for batch in orphans:
        trace = reader.trace(batch)
        verdict = world.reports[batch][0].verdict
        assert (trace.status, trace.completeness.unsourced_batches) == (
            "failed" if verdict == "fail" else "clear", (batch,))
        assert [r.current.event_id for r in trace.reports] == [world.reports[batch][0].event_id]
        assert not (trace.upstream or trace.downstream or trace.links)


def _unique(cases: list[Any], key: Any) -> list[Any]:
    """Cases whose originals differ (two equal bad inputs are one reject: that is tested apart)."""
    return list({key(c): c for c in cases}.values())


def _report(kinds: Counter[str], dep, **figures: Any) -> None:
    counts = history.counts(dep.client(), dep.settings.database)
    lines = [f"hostile input: {sum(kinds.values()):,} distinct bad inputs tried, by channel and kind:"]
    lines += [f"  {n:6,}  {kind}" for kind, n in sorted(kinds.items())]
    lines.append("  " + ", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in figures.items()))
    stored = ", ".join(f"{table} {n:,} / {counts.rows[table]:,}" for table, n in counts.events.items())
    lines.append(f"  stored events (distinct / rows): {stored}")
    lines.append(f"  rejects (distinct / rows): {counts.rejects:,} / {counts.rows['rejects']:,}")
    lines.append("  lost: 0, duplicate answers: 0 (asserted)")
    print("\n".join(lines))  # noqa: T201 - the figures are this test's report (pytest -s)
