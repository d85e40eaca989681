"""The serving store's merges (``sinks.serving``): the rows the sink writes, applied in any order, any
number of times, leave the same store, and keep what ClickHouse's reads keep (the minimal depth, the
status and judgement with the highest seq, one copy of an event, a refused edge flagged whichever
arrives first). Its answers equal ClickHouse's in the integration tests (arrival order, faults)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgpack
import orjson
import pytest

from query.answers import answer_bytes, recall_json
from query.serving import AnswerCache, ServingReader
from sinks.rows import COLUMNS, Provenance, RowBatch, add_event, new_batch
from sinks.serving import EDGE_REFUSED, EDGES, JUDGED, STATUS, ServingStore
from traceability.errors import UnknownBatch
from traceability.events import LabResult, Production
from traceability.simulation import ChainShape, supply_chain
from traceability.testing import oracle

pytestmark = pytest.mark.contract

T0 = datetime(2026, 10, 1, tzinfo=UTC)
SHAPE = ChainShape(raw_lots=10, components=30, products=40, shipments_per_product=2, tested_fraction=0.5,
                   failure_rate=0.2, tiers=3, correction_rate=0.3, withdrawal_rate=0.1)


def _chain_rows(seed: int) -> RowBatch:
    """A generated chain's rows as the workers write them: events by the sink's mapping, closure and
    statuses by the oracle."""
    events = list(supply_chain(seed, SHAPE, T0))
    rows = new_batch()
    for i, event in enumerate(events):
        add_event(rows, event, Provenance(0, i, T0))
    edges = {(r[1], r[2]) for r in rows["lineage_edges"]}
    batches = {b for e in events if isinstance(e, Production) for b in
               [*(i.batch_id for i in e.inputs), *(o.batch_id for o in e.outputs)]}
    for child, ancestors in oracle.closure(batches, edges).items():
        rows["closure"] += [(child, a, d, T0) for a, d in ancestors.items()]
    results = [(e.batch_id, e.report_id, e.report_version, e.verdict) for e in events if isinstance(e, LabResult)]
    for batch, (status, sources) in oracle.statuses(batches, edges, results).items():
        rows["batch_status"].append((batch, status, list(sources), 1, 0, T0))
    return rows


def _content(store: ServingStore) -> dict[str, dict[bytes, object]]:
    """Every record of the store, decoded (maps compare as maps: their order is insertion's), but
    the sequence numbers of its writes (how many there were is how the rows were cut)."""
    with store._env.begin() as txn:  # noqa: SLF001 - the test reads the whole store
        return {name: {key: msgpack.unpackb(value) if value else value for key, value in txn.cursor(db)}
                for name, db in store._dbs.items() if name not in ("stamp", "meta")}  # noqa: SLF001


def _chunks(rows: RowBatch, rng: random.Random) -> list[RowBatch]:
    """The rows cut into small batches of mixed tables, shuffled, a fifth of them twice."""
    flat = [(table, row) for table, table_rows in rows.items() for row in table_rows]
    flat += rng.sample(flat, len(flat) // 5)
    rng.shuffle(flat)
    chunks = []
    for start in range(0, len(flat), 97):
        chunk = new_batch()
        for table, row in flat[start:start + 97]:
            chunk[table].append(row)
        chunks.append(chunk)
    return chunks


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rows_applied_in_any_order_and_twice_leave_the_store_they_leave_applied_once(tmp_path: Path, seed: int):
    rows = _chain_rows(seed)
    once = ServingStore(tmp_path / "once")
    once.apply(rows)
    shuffled = ServingStore(tmp_path / "shuffled")
    for chunk in _chunks(rows, random.Random(seed)):
        shuffled.apply(chunk)
    assert _content(shuffled) == _content(once)
    assert _content(once)["batch"], "the chain left records"


def test_every_batch_of_a_chain_is_answered_and_nobody_else(tmp_path: Path):
    rows = _chain_rows(4)
    store = ServingStore(tmp_path / "s")
    store.apply(rows)
    reader = ServingReader(store)
    products = {r[2] for r in rows["lineage_edges"]}
    for batch in sorted(products):
        trace = reader.trace(batch)
        assert trace.production is not None and trace.production.batch_id == batch
        assert {r.batch_id for r in trace.upstream} == {a for d, a, *_ in rows["closure"] if d == batch}
    with pytest.raises(UnknownBatch):
        reader.trace("NOBODY-KNOWS")
    with pytest.raises(UnknownBatch):
        reader.recall("NOBODY-KNOWS")


@pytest.mark.parametrize("seed", [5, 6])
def test_the_recall_joined_from_rendered_rows_is_the_json_of_the_recall_answer(tmp_path: Path, seed: int):
    """``recall_json`` joins rows the store rendered when it stored them; it must say what writing
    the reader's ``Recall`` as JSON says, for every batch: raw lots deep in the chain, products
    with shipments, batches only ever named as an input (no record), a batch with a refused edge."""
    rows = _chain_rows(seed)
    product = sorted({r[2] for r in rows["lineage_edges"]})[0]
    rows["lineage_edges"].append(_edge("e-cycle", product, "LONE"))
    rows["refused_edges"].append(_row("refused_edges", event_id="e-cycle", parent_batch=product, child_batch="LONE",
                                      reason="cycle"))
    store = ServingStore(tmp_path / "s")
    for chunk in _chunks(rows, random.Random(seed)):
        store.apply(chunk)
    reader = ServingReader(store)
    batches = {r[1] for r in rows["lineage_edges"]} | {r[2] for r in rows["lineage_edges"]}
    assert any(reader.recall(b).shipments for b in batches) and any(len(reader.recall(b).affected) > 20
                                                                     for b in batches)
    for batch in sorted(batches):
        try:
            want = orjson.loads(answer_bytes(recall_json(reader.recall(batch))))
        except UnknownBatch:  # LONE: its one edge was refused, so nothing is known of it
            with pytest.raises(UnknownBatch):
                reader.recall_json(batch)
            continue
        assert orjson.loads(reader.recall_json(batch)) == want, batch
    with pytest.raises(UnknownBatch):
        reader.recall_json("NOBODY-KNOWS")


def test_a_kept_answer_is_served_only_while_none_of_its_batches_was_written_since(tmp_path: Path):
    """Answers kept between asks (``AnswerCache``) against a reader that keeps none, after every
    write of the chain's last fifth (new edges below a lot, shipments, reports, statuses) and after a
    lab is registered: equal every time, and the kept object itself is served when nothing changed."""
    rows = _chain_rows(7)
    registered, rows["labs"] = rows["labs"], []  # registered last
    assert registered
    chunks = _chunks(rows, random.Random(7))
    held = len(chunks) // 5
    store = ServingStore(tmp_path / "s")
    for chunk in chunks[:-held]:
        store.apply(chunk)
    kept, fresh = ServingReader(store, AnswerCache(smallest=1)), ServingReader(store, AnswerCache(0))
    batches = sorted({r[1] for r in rows["lineage_edges"]} | {r[2] for r in rows["lineage_edges"]})
    asks = ("trace", "recall", "recall_json", "trace_json")

    def answers(reader: ServingReader) -> dict[tuple[str, str], object]:
        found: dict[tuple[str, str], object] = {}
        for batch in batches:
            for ask in asks:
                try:
                    found[ask, batch] = getattr(reader, ask)(batch)
                except UnknownBatch as unknown:
                    found[ask, batch] = str(unknown)
        return found

    first = answers(kept)
    assert len(kept._cache) > len(batches), "answers were kept"  # noqa: SLF001
    served = kept.kept().asked["served"]
    again = answers(kept)
    assert all(again[key] is first[key] for key in first if not isinstance(first[key], str))
    assert kept.kept().asked["served"] - served == sum(not isinstance(a, str) for a in first.values())
    for chunk in [*chunks[-held:], {"labs": registered}]:
        store.apply(chunk)
        now, want = answers(kept), answers(fresh)
        assert now == want
    assert now != first, "the held-back writes changed answers"
    assert kept.kept().asked["outdated"] > 0 and kept.kept().answers > 0


def _row(table: str, **values: object) -> tuple[object, ...]:
    return tuple(values.get(column, _DEFAULTS.get(column)) for column in COLUMNS[table])


_DEFAULTS: dict[str, object] = {"ingested_at": T0, "known_at": T0, "occurred_at": T0, "kafka_partition": 0,
                                "kafka_offset": 0, "closure_partition": 0, "risk_sources": []}


def _edge(event: str, parent: str, child: str) -> tuple[object, ...]:
    return _row("lineage_edges", event_id=event, parent_batch=parent, child_batch=child, parent_quantity=1.0,
                parent_unit="kg", child_product="P", child_quantity=2.0, child_unit="ea", org_id="ORG", site="S")


@pytest.mark.parametrize("refusal_first", [True, False])
def test_an_edge_refused_as_a_cycle_is_flagged_whether_the_refusal_or_the_edge_is_stored_first(
        tmp_path: Path, refusal_first: bool):
    store = ServingStore(tmp_path / "s")
    edge = {"lineage_edges": [_edge("e1", "A", "B"), _edge("e2", "C", "B")]}
    refusal = {"refused_edges": [_row("refused_edges", event_id="e1", parent_batch="A", child_batch="B",
                                      reason="cycle")]}
    for batch in ((refusal, edge) if refusal_first else (edge, refusal)):
        store.apply(batch)
    with store.reading() as view:
        record = view.batch("B")
    assert record is not None
    assert [(e[0], e[EDGE_REFUSED]) for e in record[EDGES]] == [("e1", True), ("e2", False)]


def test_the_status_and_judgement_with_the_highest_seq_win_in_any_order_and_depths_keep_their_minimum(
        tmp_path: Path):
    store = ServingStore(tmp_path / "s")
    later = T0 + timedelta(hours=1)
    statuses = [_row("batch_status", batch_id="B", status=s, seq=q, risk_sources=r)
                for s, q, r in (("at_risk", 5, ["A"]), ("failed", 9, ["B"]), ("clear", 2, []))]
    judged = [_row("report_judgements", batch_id="B", event_id="r1", outcome=o, acceptance="accredited",
                   counts_as="fail", seq=q, known_at=later) for o, q in (("authentic", 3), ("altered", 1))]
    closure = [_row("closure", descendant="B", ancestor="A", depth=d) for d in (4, 2, 3)]
    for table, rows in (("batch_status", statuses), ("report_judgements", judged), ("closure", closure)):
        for row in rows:
            store.apply({table: [row]})
    with store.reading() as view:
        record = view.batch("B")
        assert view.upstream("B") == {"A": 2} and view.downstream("A") == {"B": 2}
    assert record is not None
    assert record[STATUS] == ("failed", ("B",), 9)
    assert record[JUDGED]["r1"][:2] == (3, "authentic")
