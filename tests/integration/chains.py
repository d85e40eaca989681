"""Generated supply chains published in disorder, the oracle's answer for them, and small
hand-written chains for the `as_of` and cycle tests."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from query import lineage
from query.answers import answer_bytes, recall_json
from query.scope import ScopeReader
from tests.integration.conftest import Deployment
from tests.integration.scope_oracle import counting_results
from traceability.errors import UnknownBatch
from traceability.events import Event, InputLot, Lab, LabResult, Measurement, OutputLot, Production
from traceability.json_form import event_to_json
from traceability.simulation import ChainShape, supply_chain
from traceability.testing import oracle

START = datetime(2026, 10, 1, tzinfo=UTC)
#: About 2,500 batches, 7 edges deep, with merges across tiers, failures, corrections, withdrawals.
SHAPE = ChainShape(
    raw_lots=250, components=1000, products=1250, shipments_per_product=1, tested_fraction=0.5,
    failure_rate=0.08, tiers=6, correction_rate=0.3, withdrawal_rate=0.2,
)


@dataclass(frozen=True)
class Expected:
    """The oracle's closure (batches with ancestors only) and statuses (all but untested)."""

    closure: dict[str, dict[str, int]]
    statuses: dict[str, oracle.StatusTuple]
    batches: frozenset[str]
    edges: int


def expected(events: list[Event]) -> Expected:
    batches: set[str] = set()
    edges: set[tuple[str, str]] = set()
    for event in events:
        if isinstance(event, Production):
            for i in event.inputs:
                for o in event.outputs:
                    edges.add((i.batch_id, o.batch_id))
                    batches |= {i.batch_id, o.batch_id}
        elif isinstance(event, LabResult):
            batches.add(event.batch_id)
    closure = {b: a for b, a in oracle.closure(batches, edges).items() if a}
    results = counting_results(events)
    statuses = {b: s for b, s in oracle.statuses(batches, edges, results).items() if s[0] != "untested"}
    return Expected(closure, statuses, frozenset(batches), len(edges))


def disordered(seed: int, shape: ChainShape = SHAPE, duplicates: float = 0.1) -> list[Event]:
    """The chain's events shuffled, with a fraction of them repeated at random places."""
    rng = random.Random(seed)
    events = list(supply_chain(seed, shape, START))
    events += rng.sample(events, k=int(len(events) * duplicates))
    rng.shuffle(events)
    return events


def write_jsonl(path: Path, events: list[Event]) -> Path:
    path.write_text("".join(json.dumps(event_to_json(e)) + "\n" for e in events))
    return path


def assert_matches_oracle(dep: Deployment, want: Expected) -> None:
    """ClickHouse's closure (both indexes) and statuses equal the oracle's, batch for batch."""
    client, db = dep.client(), dep.settings.database
    got_closure = lineage.ancestry(client, db)
    assert got_closure.keys() == want.closure.keys()
    wrong = [b for b in want.closure if got_closure[b] != want.closure[b]]
    if wrong:
        b = wrong[0]
        raise AssertionError(f"{len(wrong)} batches differ, e.g. {b}: {got_closure[b]} != {want.closure[b]}")

    got_statuses = {b: s for b, s in lineage.statuses(client, db).items() if s[0] != "untested"}
    assert got_statuses == want.statuses

    downstream: dict[str, dict[str, int]] = {}
    for child, ancestors in want.closure.items():
        for ancestor, depth in ancestors.items():
            downstream.setdefault(ancestor, {})[child] = depth
    for batch in sorted(downstream)[:: max(1, len(downstream) // 25)]:
        assert lineage.descent(client, db, batch) == downstream[batch]


def assert_serving_store_answers_as_clickhouse(dep: Deployment, batches: list[str]) -> None:
    """The workers' serving store gives every one of ``batches`` the trace and recall ClickHouse gives,
    value for value (statuses, depths, links, reports and their judgements, shipments, completeness)."""
    serving, clickhouse = dep.serving(), ScopeReader(dep.client, dep.settings.database)
    try:
        for batch in batches:
            for question in ("trace", "recall"):
                try:
                    want = getattr(clickhouse, question)(batch)
                except UnknownBatch:
                    with pytest.raises(UnknownBatch):
                        getattr(serving, question)(batch)
                    if question == "recall":
                        with pytest.raises(UnknownBatch):
                            serving.recall_json(batch)
                    continue
                got = getattr(serving, question)(batch)
                assert got == want, f"the serving store's {question} of {batch} differs from ClickHouse's"
                if question == "recall":  # and the JSON joined from its rendered rows is that answer's
                    assert orjson.loads(serving.recall_json(batch)) == orjson.loads(answer_bytes(recall_json(want))), \
                        f"the serving store's recall JSON of {batch} differs from ClickHouse's answer"
    finally:
        clickhouse.close()


#: A day ago: old enough for every validation rule, recent enough to read as current.
RECENT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


#: The lab of `report`, registered with an accreditation for its method (its passes count).
LAB_1 = Lab("lab-ev-lab-1", "LAB-1", "Lab One", "CNAS", "CNAS L0001", ("GB 6675.4-2014",), "CN-ZJ",
            RECENT - timedelta(days=365), RECENT + timedelta(days=365), (), RECENT - timedelta(days=30))


def production(event_id: str, inputs: list[str], output: str) -> Production:
    """One production event: 10 kg of each input make 100 of ``output``."""
    return Production(event_id, "ORG-1", "Yiwu", RECENT, tuple(InputLot(b, 10.0, "kg") for b in inputs),
                      (OutputLot(output, "SKU-1", 100.0, "ea"),))


def report(batch: str, version: int, verdict: str) -> LabResult:
    """Version ``version`` of the lead report on ``batch``, with a measurement matching its verdict."""
    return LabResult(f"res-{batch}-{version}", f"RPT-{batch}", version, "LAB-1", batch, f"S-{batch}",
                     "GB 6675.4-2014", verdict, RECENT, RECENT + timedelta(hours=1),
                     (Measurement("Pb (soluble)", 120.0 if verdict == "fail" else 20.0, "mg/kg", 90.0, verdict),))


def tick() -> datetime:
    """A moment strictly between two writes (rows are stamped to the second)."""
    time.sleep(1.1)
    moment = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    return moment
