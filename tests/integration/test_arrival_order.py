"""Out-of-order and late events at scale: one generated supply chain published in several orders,
each into its own deployment, gives the same answers everywhere, and they are the oracle's.

The chain is 6 edges deep, with failures, corrections, withdrawals and shipments. Each order
arrives by a different channel and is late in its own way; a phase is stored (``lotline sync``)
before the next is sent, so "late" means processed later, not only placed later in a topic:

* shuffled: every event in random order and random partitions, a tenth of them twice (raw Avro);
* reports first: every report (corrections and withdrawals before the versions they replace) and
  every shipment, then the lineage, newest production first (``lotline publish``);
* late corrections: everything but a fifth of the productions and every correction or withdrawal;
  then those productions, after their outputs' own lineage and reports; then the corrections and
  withdrawals, after everything downstream of them, with stale copies of the versions they
  replace (``POST /v1/events``).

With ``LOTLINE_FAULT_SCALE=full`` the chain is about three times larger and two more shuffles
(other seeds) are compared.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from kafka import KafkaProducer

from query import lineage
from query.answers import recall_json, trace_json
from query.scope import ScopeReader
from schemas.codec import AvroCodec
from tests.integration.chains import (
    START,
    assert_matches_oracle,
    assert_serving_store_answers_as_clickhouse,
    expected,
    write_jsonl,
)
from tests.integration.conftest import Deployment
from tests.integration.scope_oracle import World, recall_as_compared, repeated_entries, trace_as_compared
from traceability.events import Event, LabResult, Production
from traceability.json_form import event_to_json
from traceability.simulation import ChainShape, supply_chain

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FULL = os.environ.get("LOTLINE_FAULT_SCALE") == "full"
#: tiers=5: raw lots -> 5 component tiers -> products, so the deepest batch has ancestors 6 edges up.
SHAPE = ChainShape(raw_lots=100, components=600, products=700, shipments_per_product=1, tested_fraction=0.5,
                   failure_rate=0.1, tiers=5, correction_rate=0.3, withdrawal_rate=0.2)
FULL_SHAPE = ChainShape(raw_lots=300, components=1800, products=2000, shipments_per_product=2, tested_fraction=0.5,
                        failure_rate=0.1, tiers=5, correction_rate=0.3, withdrawal_rate=0.2)
SEED = 73
EXTRA_SHUFFLES = (74, 75) if FULL else ()

Phases = list[list[Event]]


def test_the_same_events_in_several_orders_with_late_corrections_and_lineage_give_the_same_answers_as_the_oracle(
    deployments,
):
    events = list(supply_chain(SEED, FULL_SHAPE if FULL else SHAPE, START))
    want, world = expected(events), World.of(events)
    assert max(max(a.values()) for a in want.closure.values()) >= 6  # deep enough
    orders: dict[str, tuple[Phases, Callable[[Deployment, list[Event]], None]]] = {
        "shuffled": (_shuffled(events, SEED), _send_raw),
        "reports first": (_reports_first(events, SEED), _publish_lines),
        "late corrections": (_late_corrections(events, SEED), _post_events),
        **{f"shuffled, seed {seed}": (_shuffled(events, seed), _send_raw) for seed in EXTRA_SHUFFLES},
    }
    placed = {name: deployments(f"order-{i}") for i, name in enumerate(orders)}
    for dep in placed.values():
        dep.start_worker()
    with ThreadPoolExecutor(len(orders)) as pool:  # the deployments share nothing: run them side by side
        done = [pool.submit(_deliver, placed[name], phases, send) for name, (phases, send) in orders.items()]
        for future in done:
            future.result()

    checked = sorted({*_sample(world, random.Random(SEED)), *sorted(want.batches)[::30]})

    def answered(name: str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
        dep = placed[name]
        assert all(w.poll() is None for w in dep.workers), f"{name}: a worker died\n{dep.worker_logs()}"
        assert_matches_oracle(dep, want)  # closure (both indexes) and statuses
        assert_serving_store_answers_as_clickhouse(dep, checked)
        return _answers(dep, _sample(world, random.Random(SEED)))

    with ThreadPoolExecutor(len(orders)) as pool:  # ClickHouse answers one while Python compares another
        answers = dict(zip(placed, pool.map(answered, placed), strict=True))
    first, *others = placed
    closure, statuses = _tables(placed[first])
    for name in others:
        assert _tables(placed[name]) == (closure, statuses), f"{name} and {first} differ"
        assert answers[name] == answers[first], f"{name} and {first} answer differently"
    for batch, (trace, recall) in answers[first].items():
        assert not repeated_entries(trace, recall), batch
        assert trace_as_compared(trace) == world.trace(batch), batch
        got, oracle = recall_as_compared(recall, set()), world.recall(batch)
        del got["spreadsheet"], oracle["spreadsheet"]  # the spreadsheet is test_query_side's
        assert got == oracle, batch

    _report(events, want, orders, answers[first])


# -- orders -----------------------------------------------------------------------------------


def _shuffled(events: list[Event], seed: int) -> Phases:
    """Random order, a tenth of the events twice."""
    rng = random.Random(seed)
    sent = events + rng.sample(events, len(events) // 10)
    rng.shuffle(sent)
    return [sent]


def _reports_first(events: list[Event], seed: int) -> Phases:
    """Reports (newest version first) and shipments, then lineage from the products back to the raw lots."""
    rng = random.Random(seed)
    reports = sorted((e for e in events if isinstance(e, LabResult)), key=lambda r: -r.report_version)
    others = [e for e in events if not isinstance(e, LabResult | Production)]
    productions = [e for e in events if isinstance(e, Production)][::-1]
    stale = [r for r in reports if r.report_version == 1 and rng.random() < 0.2]
    return [reports + others, productions + stale + rng.sample(productions, len(productions) // 10)]


def _late_corrections(events: list[Event], seed: int) -> Phases:
    """Lineage held back and then sent, then corrections and withdrawals after all of it."""
    rng = random.Random(seed)
    revisions = [e for e in events if isinstance(e, LabResult) and e.report_version > 1]
    productions = [e for e in events if isinstance(e, Production)]
    held = rng.sample(productions, len(productions) // 5)
    late = {e.event_id for e in revisions + held}
    first = [e for e in events if e.event_id not in late]
    revised = {r.report_id for r in revisions}
    stale = [e for e in events if isinstance(e, LabResult) and e.report_id in revised and e.report_version == 1]
    assert revisions and stale
    again = rng.sample(productions, len(productions) // 10)
    return [_mixed(rng, first), _mixed(rng, held + again), _mixed(rng, revisions + stale)]


def _mixed(rng: random.Random, events: list[Event]) -> list[Event]:
    return rng.sample(events, len(events))


def _deliver(dep: Deployment, phases: Phases, send: Callable[[Deployment, list[Event]], None]) -> None:
    for phase in phases:
        send(dep, phase)
        dep.sync(timeout=300)


# -- channels ---------------------------------------------------------------------------------


def _send_raw(dep: Deployment, events: list[Event]) -> None:
    """Avro bytes straight to the raw topics, without keys: the producer spreads them over partitions."""
    codec = AvroCodec()
    producer = KafkaProducer(bootstrap_servers=dep.infra.kafka_bootstrap, linger_ms=20)
    for event in events:
        producer.send(dep.topics.for_kind(event.kind), codec.encode(event))
    producer.flush(timeout=120)
    producer.close()


def _publish_lines(dep: Deployment, events: list[Event]) -> None:
    path = write_jsonl(dep.root / f"phase-{uuid.uuid4().hex[:6]}.jsonl", events)
    done = dep.lotline("publish", str(path))
    assert done.returncode == 0, done.stderr[-2000:]


def _post_events(dep: Deployment, events: list[Event]) -> None:
    api = dep.api()
    for start in range(0, len(events), 2_000):
        chunk = [event_to_json(e) for e in events[start:start + 2_000]]
        answer = api.post("/v1/events", json=chunk)
        assert answer.status_code == 202 and answer.json()["published"] == len(chunk), answer.text[:2000]


# -- answers ----------------------------------------------------------------------------------


def _sample(world: World, rng: random.Random) -> list[str]:
    """Failed, at-risk, corrected and withdrawn batches, the deepest products, and some at random."""
    statuses = world.statuses
    failed = sorted(b for b, (s, _) in statuses.items() if s == "failed")
    at_risk = sorted(b for b, (s, _) in statuses.items() if s == "at_risk")
    revised = sorted(b for b, reports in world.reports.items() if any(r.report_version > 1 for r in reports))
    deepest = sorted(world.ancestors, key=lambda b: (-max(world.ancestors[b].values(), default=0), b))[:5]
    return sorted({*rng.sample(failed, min(8, len(failed))), *rng.sample(at_risk, min(8, len(at_risk))),
                   *rng.sample(revised, min(10, len(revised))), *deepest, *rng.sample(sorted(world.ancestors), 10)})


def _answers(dep: Deployment, batches: list[str]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """The trace and recall JSON of each batch, as the API and ``--json`` give them."""
    reader = ScopeReader(dep.client, dep.settings.database)
    try:
        return {b: (json.loads(json.dumps(trace_json(reader.trace(b)))),
                    json.loads(json.dumps(recall_json(reader.recall(b))))) for b in batches}
    finally:
        reader.close()


def _tables(dep: Deployment) -> tuple[dict[str, dict[str, int]], dict[str, lineage.StatusTuple]]:
    """The closure and the latest statuses (a batch never out of ``untested`` has no row: drop them)."""
    client, db = dep.client(), dep.settings.database
    statuses = {b: s for b, s in lineage.statuses(client, db).items() if s[0] != "untested"}
    return lineage.ancestry(client, db), statuses


def _report(events: list[Event], want: Any, orders: dict[str, Any], answers: dict[str, Any]) -> None:
    sent = {name: sum(len(phase) for phase in phases) for name, (phases, _) in orders.items()}
    kinds = {kind: sum(e.kind == kind for e in events) for kind in ("production", "lab_result", "shipment", "lab")}
    revisions = sum(isinstance(e, LabResult) and e.report_version > 1 for e in events)
    lines = [
        f"arrival order: {len(events):,} events ({', '.join(f'{k} {n:,}' for k, n in kinds.items())}; "
        f"{revisions} corrections or withdrawals), {len(want.batches):,} batches, {want.edges:,} edges, "
        f"{sum(len(a) for a in want.closure.values()):,} closure pairs, "
        f"deepest {max(max(a.values()) for a in want.closure.values())} edges",
        *(f"  {name}: {n:,} messages in {len(orders[name][0])} phase(s)" for name, n in sent.items()),
        f"  {len(orders)} deployments: closure, statuses and {len(answers)} traces and recalls identical and equal "
        "to the oracle; lost: 0, duplicate answers: 0",
    ]
    print("\n".join(lines))  # noqa: T201 - the figures are this test's report (pytest -s)
