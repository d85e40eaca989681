"""The closure step against a fake broker: partitioned logs, batches, commits, crashes and rebuilds."""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.closure_codec import MAX_RECORD_BYTES, ClosureCodec
from schemas.codec import AvroCodec
from streams.closure import (
    SEQ_SHIFT,
    ClosureOutcome,
    ClosureStore,
    Delivered,
    by_partition,
    closure_partition,
    lineage_messages,
)
from streams.ingest import RawMessage, ingest
from streams.topics import TopicNames
from streams.trust import TrustReader
from tests.conftest import NOW
from tests.registry_samples import YW_TOYS
from tests.unit.lineage_scenarios import VERDICTS, Scenario, scenarios
from traceability.dead_letter import DeadLetter
from traceability.events import InputLot, LabResult, Measurement, OutputLot, Production, Shipment
from traceability.ledger import ReportArrived
from traceability.lineage import (
    AncestryUpdate,
    BatchState,
    Edge,
    Message,
    ResultSeen,
    RiskRegister,
    route,
    status_of,
)
from traceability.simulation import ChainShape, supply_chain
from traceability.testing import oracle
from traceability.testing.lineage_driver import run_to_quiescence

pytestmark = pytest.mark.unit
CODEC = ClosureCodec()
TOPICS = TopicNames("lt")
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUICK = settings(PROPERTY, max_examples=50)
StatusTuple = tuple[str, tuple[str, ...]]
#: Record size limits for the fake producer: one message per record, a few, many, the default.
RECORD_BYTES = st.sampled_from([0, 90, 250, 600, MAX_RECORD_BYTES])


def seq(offset: int, index: int = 0) -> int:
    """A status row's seq, as stored: the record's offset, then the message's index in the record."""
    return offset << 20 | index


# --- scenarios -----------------------------------------------------------------------------------


SCENARIOS = scenarios(max_batches=14, longest_chain=8, hub_degree=3, corrections=3)


# --- partitioning --------------------------------------------------------------------------------


def test_a_batch_always_has_the_same_closure_partition():
    # Pinned: every worker and producer, in every process and release, must agree (no salted hash()).
    assert closure_partition("lot-01", 7) == 3
    assert closure_partition("批次-7", 7) == 2
    assert closure_partition("lot-01", 1) == 0


@QUICK
@given(st.text(max_size=20), st.integers(1, 64))
def test_the_closure_partition_is_the_crc32_of_the_utf8_id_modulo_the_partitions(batch_id: str, partitions: int):
    partition = closure_partition(batch_id, partitions)
    assert 0 <= partition < partitions
    assert partition == zlib.crc32(batch_id.encode("utf-8")) % partitions
    assert partition == closure_partition(batch_id, partitions)


PARTITIONED_IDS = st.sampled_from(["", "a", "lot-01", "lot-02", "ЛОТ-☃", "批次-7", "😀"])
ROUTED: st.SearchStrategy[Message] = st.one_of(
    st.builds(Edge, PARTITIONED_IDS, PARTITIONED_IDS, st.sampled_from(["e1", "e2"]), st.binary(max_size=4)),
    st.builds(ResultSeen, PARTITIONED_IDS, st.just("r"), st.integers(0, 3), st.sampled_from(VERDICTS)),
    st.builds(AncestryUpdate, PARTITIONED_IDS, st.dictionaries(PARTITIONED_IDS, st.integers(1, 3), max_size=2),
              st.just({})),
)


@QUICK
@given(st.lists(ROUTED, max_size=20), st.integers(1, 5))
def test_by_partition_groups_messages_by_their_batchs_partition_keeping_their_order(
    messages: list[Message], partitions: int
):
    grouped = by_partition(messages, partitions)
    assert all(0 <= p < partitions and group for p, group in grouped.items())
    assert sorted(grouped) == sorted({closure_partition(route(m), partitions) for m in messages})
    for p, group in grouped.items():
        # The subsequence of the messages in that partition, in order, duplicates and all (`is`: edge
        # equality ignores the origin).
        expected = [m for m in messages if closure_partition(route(m), partitions) == p]
        assert len(group) == len(expected) and all(g is m for g, m in zip(group, expected, strict=True))
    assert sum(len(group) for group in grouped.values()) == len(messages)


def test_by_partition_of_nothing_is_empty():
    assert by_partition([], 3) == {}
    assert by_partition(iter([ResultSeen("a", "r", 0, "pass")]), 1) == {0: [ResultSeen("a", "r", 0, "pass")]}


# --- the fake broker and worker ------------------------------------------------------------------


def partition_of(message: Message, partitions: int) -> int:
    """The partition a producer puts a message in: that of the batch that must handle it."""
    return closure_partition(route(message), partitions)


class Broker:
    """The closure topic: one log of records per partition (offset = list index), each record a
    list of messages for batches of its partition, as `send_closure` writes them."""

    def __init__(self, partitions: int, record_bytes: int = MAX_RECORD_BYTES) -> None:
        self.logs: list[list[bytes]] = [[] for _ in range(partitions)]
        self.record_bytes = record_bytes

    def send(self, messages: Sequence[Message]) -> None:
        for partition, grouped in sorted(by_partition(messages, len(self.logs)).items()):
            self.logs[partition] += CODEC.records(grouped, self.record_bytes)

    def pending(self, positions: Sequence[int]) -> bool:
        return any(position < len(log) for position, log in zip(positions, self.logs, strict=True))

    def messages(self, partition: int, end: int | None = None) -> list[Message]:
        """Every message of the partition's records below ``end``, in order."""
        return [m for record in self.logs[partition][:end] for m in CODEC.decode(record)]


@dataclass
class Sink:
    """Everything the worker delivered: rows in insertion order, dead letters."""

    closure: list[tuple[Any, ...]] = field(default_factory=list)
    status: list[tuple[Any, ...]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)

    def store(self, outcome: ClosureOutcome) -> None:
        self.closure += outcome.rows["closure"]
        self.status += outcome.rows["batch_status"]
        self.dead_letters += outcome.dead_letters

    def shortest(self) -> dict[tuple[str, str], int]:
        """(descendant, ancestor) -> min depth over every closure row."""
        best: dict[tuple[str, str], int] = {}
        for descendant, ancestor, depth, known_at in self.closure:
            assert known_at == NOW
            key = (str(descendant), str(ancestor))
            best[key] = min(int(depth), best.get(key, int(depth)))
        return best

    def latest_status(self, batch: str) -> StatusTuple:
        """The row with the highest seq; rows sharing it must agree, or the answer is ambiguous."""
        rows = [row for row in self.status if row[0] == batch]
        if not rows:
            return ("untested", ())
        top = max(int(row[3]) for row in rows)
        answers = {(str(row[1]), tuple(row[2])) for row in rows if row[3] == top}
        assert len(answers) == 1, (batch, top, answers)
        return answers.pop()


class Worker:
    """One worker owning every partition: consumer positions, committed offsets and a ClosureStore."""

    def __init__(self, broker: Broker, sink: Sink, committed: list[int] | None = None) -> None:
        self.broker, self.sink = broker, sink
        partitions = range(len(broker.logs))
        self.committed = list(committed) if committed is not None else [0 for _ in partitions]
        self.position = list(self.committed)
        self.store = ClosureStore()
        for p in partitions:  # what ClosureLog.rebuild does
            self.store.reset(p, self.committed[p])
            self.store.fold(p, broker.messages(p, self.committed[p]))

    def take(self, limit: int, rng: random.Random) -> list[Delivered]:
        """Up to ``limit`` records from the current positions, partitions in random order, each
        record read as its messages."""
        delivered: list[Delivered] = []
        taken = 0
        for p in rng.sample(range(len(self.broker.logs)), len(self.broker.logs)):
            log = self.broker.logs[p]
            while taken < limit and self.position[p] < len(log):
                offset = self.position[p]
                delivered += (Delivered(p, offset, m, index=i) for i, m in enumerate(CODEC.decode(log[offset])))
                self.position[p] += 1
                taken += 1
        return delivered

    def apply(self, delivered: Sequence[Delivered]) -> ClosureOutcome:
        first: dict[int, int] = {}
        for item in delivered:
            first.setdefault(item.partition, item.offset)
        # What the agent checks for the first message of each partition; one owner, so never a gap.
        assert not any(self.store.has_gap(p, offset) for p, offset in first.items())
        return self.store.apply(delivered, NOW, CODEC, TOPICS.closure)

    def deliver(self, outcome: ClosureOutcome) -> None:
        self.broker.send(outcome.updates)
        self.sink.store(outcome)

    def commit(self) -> None:
        self.committed = list(self.position)

    def step(self, limit: int, rng: random.Random) -> ClosureOutcome:
        """Take, apply, deliver the effects, commit: the closure agent's loop body."""
        outcome = self.apply(self.take(limit, rng))
        self.deliver(outcome)
        self.commit()
        return outcome

    def drain(self, limit: int, rng: random.Random) -> None:
        for _ in range(100_000):
            if not self.broker.pending(self.position):
                return
            self.step(limit, rng)
        raise AssertionError("the closure did not quiesce")

    def states(self, batches: Sequence[str]) -> dict[str, BatchState]:
        partitions = len(self.broker.logs)
        return {b: self.store.state(closure_partition(b, partitions), b) or BatchState(b) for b in batches}


def assert_matches_the_oracle(scenario: Scenario, worker: Worker) -> None:
    states = worker.states(scenario.batches)
    expected_closure = oracle.closure(scenario.batches, scenario.edges)
    expected_status = scenario.expected_statuses()
    for batch, state in states.items():
        assert dict(state.ancestors) == expected_closure[batch], batch
        status = status_of(state)
        assert (status.status, status.risk_sources) == expected_status[batch], batch
    assert worker.sink.shortest() == scenario.expected_closure()
    for batch in scenario.batches:
        assert worker.sink.latest_status(batch) == expected_status[batch], batch
    assert not worker.sink.dead_letters


def with_duplicates(data: st.DataObject, inputs: list[Message]) -> list[Message]:
    """Ingest delivers at least once: some inputs twice, in any order."""
    duplicates = data.draw(st.lists(st.sampled_from(inputs), max_size=5)) if inputs else []
    return data.draw(st.permutations(inputs + duplicates))


# --- agreement with the oracle -------------------------------------------------------------------


@PROPERTY
@given(scenario=SCENARIOS, data=st.data())
def test_draining_the_topic_converges_to_the_oracle(scenario: Scenario, data: st.DataObject) -> None:
    partitions = data.draw(st.integers(1, 4))
    limit = data.draw(st.integers(1, 12))
    rng = data.draw(st.randoms(use_true_random=False))
    broker, inputs = Broker(partitions, data.draw(RECORD_BYTES)), with_duplicates(data, scenario.events())
    worker = Worker(broker, Sink())
    while inputs or broker.pending(worker.position):
        size = rng.randint(0, 6)
        broker.send(inputs[:size])
        inputs = inputs[size:]
        if broker.pending(worker.position):
            worker.step(limit, rng)
    assert_matches_the_oracle(scenario, worker)
    reference = run_to_quiescence(scenario.events())
    assert worker.states(scenario.batches) == {b: reference.states.get(b, BatchState(b)) for b in scenario.batches}


def run_with_crashes(scenario: Scenario, data: st.DataObject, *, lagging_commits: bool) -> Worker:
    """Drains the topic while the worker dies at random points and is rebuilt from the committed offsets.

    A crash comes after an apply: either none of its effects were delivered (with lagging commits,
    some of its rows may still have reached the sink), or, with lagging commits, all of them were
    but the commit was lost. Lagging commits also mean earlier delivered batches are handled again.
    """
    partitions = data.draw(st.integers(1, 4))
    limit = data.draw(st.integers(1, 12))
    rng = data.draw(st.randoms(use_true_random=False))
    crashes = data.draw(st.integers(1, 4))
    broker, sink = Broker(partitions, data.draw(RECORD_BYTES)), Sink()
    inputs = with_duplicates(data, scenario.events())
    broker.send(inputs[: len(inputs) // 2])
    late_inputs = inputs[len(inputs) // 2:]
    worker = Worker(broker, sink)
    for _ in range(100_000):
        if not (late_inputs or broker.pending(worker.position)):
            return worker
        if late_inputs and rng.random() < 0.3:
            broker.send(late_inputs[:3])
            late_inputs = late_inputs[3:]
        if not broker.pending(worker.position):
            continue
        outcome = worker.apply(worker.take(limit, rng))
        if crashes and rng.random() < 0.2:
            crashes -= 1
            if lagging_commits and rng.random() < 0.5:
                worker.deliver(outcome)  # effects delivered, the commit lost
            elif lagging_commits and rng.random() < 0.5:
                sink.status += outcome.rows["batch_status"]  # some rows made it, nothing else
                sink.closure += outcome.rows["closure"]
            worker = Worker(broker, sink, worker.committed)
            continue
        worker.deliver(outcome)
        if not lagging_commits or rng.random() < 0.6:
            worker.commit()
    raise AssertionError("the closure did not quiesce")


@PROPERTY
@given(scenario=SCENARIOS, data=st.data())
def test_crashes_that_lose_a_whole_batch_are_repaired_from_the_committed_offsets(
    scenario: Scenario, data: st.DataObject
) -> None:
    assert_matches_the_oracle(scenario, run_with_crashes(scenario, data, lagging_commits=False))


@PROPERTY
@given(scenario=SCENARIOS, data=st.data())
def test_crashes_with_lagging_commits_replay_to_the_oracle_states_and_closure_rows(
    scenario: Scenario, data: st.DataObject
) -> None:
    worker = run_with_crashes(scenario, data, lagging_commits=True)
    assert_matches_the_oracle(scenario, worker)


def test_a_replay_after_a_lost_commit_leaves_no_stale_status_row_on_top():
    a_fails = AncestryUpdate("B", {"A": 1}, {"A": RiskRegister("A", 1, True)})
    a_cleared = AncestryUpdate("B", {}, {"A": RiskRegister("A", 2, False)})
    rows: list[tuple[Any, ...]] = []
    first = ClosureStore()
    first.reset(0, 0)
    rows += first.apply([Delivered(0, 0, a_fails)], NOW, CODEC, "t").rows["batch_status"]
    assert [row[:4] for row in rows] == [("B", "at_risk", ["A"], seq(0))]
    # Its rows were stored but the worker died before committing offset 0; meanwhile offset 1 arrived.
    second = ClosureStore()
    second.reset(0, 0)
    rows += second.apply([Delivered(0, 0, a_fails), Delivered(0, 1, a_cleared)], NOW, CODEC, "t").rows["batch_status"]
    assert [row[:4] for row in rows[1:]] == [("B", "untested", [], seq(1))]  # the merged run restates its status
    assert status_of(second.state(0, "B") or BatchState("B")).status == "untested"
    sink = Sink(status=rows)
    assert sink.latest_status("B") == ("untested", ())


def test_a_replay_that_merges_messages_of_two_records_leaves_no_stale_status_row_on_top():
    a_fails = AncestryUpdate("B", {"A": 1}, {"A": RiskRegister("A", 1, True)})
    a_cleared = AncestryUpdate("B", {}, {"A": RiskRegister("A", 2, False)})
    # Record 4 holds B's first update; record 5 a result for another batch, then B's second update.
    records = {4: CODEC.encode([a_fails]), 5: CODEC.encode([ResultSeen("X", "r", 0, "pass"), a_cleared])}
    read = [Delivered(0, offset, m, index=i)
            for offset, raw in records.items() for i, m in enumerate(CODEC.decode(raw))]
    first = ClosureStore()
    first.reset(0, 4)
    rows = first.apply(read[:1], NOW, CODEC, "t").rows["batch_status"]
    assert [row[:5] for row in rows] == [("B", "at_risk", ["A"], seq(4, 0), 0)]
    # Stored, but the commit of record 4 was lost: the replay reads records 4 and 5 in one batch and
    # merges B's updates into one run, handled at its last message.
    second = ClosureStore()
    second.reset(0, 4)
    replayed = second.apply(read[::-1], NOW, CODEC, "t").rows["batch_status"]
    assert [row[:5] for row in replayed] == [("X", "clear", [], seq(5, 0), 0), ("B", "untested", [], seq(5, 1), 0)]
    assert Sink(status=rows + replayed).latest_status("B") == ("untested", ())


def test_a_crash_before_the_updates_were_sent_is_repaired_from_the_committed_offsets():
    scenario = Scenario(
        batches=("a", "b", "c", "d"),
        edges=frozenset({("a", "b"), ("b", "c"), ("c", "d")}),
        results=(("a", "r", 1, "fail"),),
    )
    broker, sink = Broker(2, record_bytes=0), Sink()  # a record per message
    broker.send(scenario.events())
    worker = Worker(broker, sink)
    rng = random.Random(0)
    worker.step(2, rng)
    committed = list(worker.committed)
    lost = worker.apply(worker.take(100, rng))
    assert lost.updates  # its updates never reach the topic, and nothing is committed
    rebuilt = Worker(broker, sink, committed)
    rebuilt.drain(100, rng)
    assert_matches_the_oracle(scenario, rebuilt)


# --- gaps, coalescing, cycles --------------------------------------------------------------------


def test_a_gap_is_reported_only_past_the_offsets_handled_since_the_reset():
    store = ClosureStore()
    assert not store.loaded(2)
    store.reset(2, 10)
    store.fold(2, [])
    assert store.loaded(2) and store.partitions() == {2}
    assert not store.has_gap(2, 10)
    store.apply([Delivered(2, o, ResultSeen(f"lot-{o}", "r", 0, "pass")) for o in (10, 11, 12)], NOW, CODEC, "t")
    assert not store.has_gap(2, 13)
    assert store.has_gap(2, 20)
    assert store.batches() == 3
    # The messages of one record share its offset: the next record is the next offset.
    store.apply([Delivered(2, 13, ResultSeen(f"lot-13-{i}", "r", 0, "pass"), index=i) for i in range(3)],
                NOW, CODEC, "t")
    assert not store.has_gap(2, 14)
    assert store.has_gap(2, 15)
    assert store.batches() == 6
    store.drop([2])
    assert not store.loaded(2) and store.state(2, "lot-10") is None and store.batches() == 0


def test_a_seq_is_the_offset_then_the_index_in_the_record():
    # Stored in batch_status.seq (UInt64): the row with the highest seq is the latest status.
    assert SEQ_SHIFT == 20
    message = ResultSeen("x", "r", 0, "pass")
    assert Delivered(0, 0, message).seq == 0
    assert Delivered(3, 7, message, index=5).seq == seq(7, 5) == 7 * 2**20 + 5
    assert Delivered(0, 7, message, index=2**20 - 1).seq < Delivered(0, 8, message).seq


def test_applying_a_message_of_a_partition_that_is_not_loaded_raises_key_error():
    with pytest.raises(KeyError):
        ClosureStore().apply([Delivered(0, 0, ResultSeen("x", "r", 0, "pass"))], NOW, CODEC, "t")


def hub_store() -> ClosureStore:
    """One partition: hub has two children c1, c2 and no ancestors yet."""
    store = ClosureStore()
    store.reset(0, 0)
    store.fold(0, [Edge("hub", "c1", "e1"), Edge("hub", "c2", "e2")])
    return store


FAN_IN = [
    AncestryUpdate("hub", {f"p{i}": 1, "root": 2 + i % 2}, {f"p{i}": RiskRegister(f"p{i}", i, i % 3 == 0)})
    for i in range(8)
]


def placed(position: tuple[int, int], message: Message) -> Delivered:
    offset, index = position
    return Delivered(0, offset, message, index=index)


#: Where the i-th message of a run sits: a record each, or all in one record.
LAYOUTS = {"record-per-message": lambda i: (i, 0), "one-record": lambda i: (0, i)}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_many_updates_for_one_batch_in_one_apply_send_one_update_per_child(layout: str):
    at = LAYOUTS[layout]
    together = hub_store()
    outcome = together.apply([placed(at(i), u) for i, u in enumerate(FAN_IN)][::-1], NOW, CODEC, "t")
    assert outcome.handled == 1
    assert sorted(u.target for u in outcome.updates) == ["c1", "c2"]
    assert [row[:5] for row in outcome.rows["batch_status"]] == [
        ("hub", "at_risk", ["p0", "p3", "p6"], seq(*at(len(FAN_IN) - 1)), 0)  # at the run's last message
    ]

    one_by_one = hub_store()
    sent: list[AncestryUpdate] = []
    for i, update in enumerate(FAN_IN):
        sent += one_by_one.apply([placed(at(i), update)], NOW, CODEC, "t").updates
    assert len(sent) == 2 * len(FAN_IN)
    assert together.state(0, "hub") == one_by_one.state(0, "hub")
    status = status_of(together.state(0, "hub") or BatchState("hub"))
    assert status.status == "at_risk" and status.risk_sources == ("p0", "p3", "p6")

    # The children end up the same too.
    base = len(FAN_IN)
    together.apply([placed(at(base + i), u) for i, u in enumerate(outcome.updates)], NOW, CODEC, "t")
    one_by_one.apply([placed(at(base + i), u) for i, u in enumerate(sent)], NOW, CODEC, "t")
    for child in ("c1", "c2"):
        assert together.state(0, child) == one_by_one.state(0, child)
        assert dict((together.state(0, child) or BatchState(child)).ancestors) == {
            "root": 3, **{f"p{i}": 2 for i in range(8)}  # fold has no effects: hub's own edge updates are not sent
        }


@pytest.mark.parametrize(
    "positions",
    [[(5, 0), (6, 0), (7, 0)], [(5, 0), (5, 1), (5, 2)], [(5, 3), (6, 0), (6, 1)], [(4, 2**20 - 1), (5, 0), (9, 0)]],
    ids=["record-each", "one-record", "mixed", "last-index-before-next-offset"],
)
def test_a_run_of_updates_ends_at_another_message_for_the_batch_and_rows_come_in_seq_order(
    positions: list[tuple[int, int]]
):
    store = hub_store()
    p_fails = AncestryUpdate("hub", {"p": 1}, {"p": RiskRegister("p", 1, True)})
    q_fails = AncestryUpdate("hub", {"q": 1}, {"q": RiskRegister("q", 1, True)})
    messages: list[Message] = [p_fails, ResultSeen("hub", "r", 0, "pass"), q_fails]
    delivered = [Delivered(0, offset, m, index=index) for (offset, index), m in zip(positions, messages, strict=True)]
    outcome = store.apply(delivered[::-1], NOW, CODEC, "t")  # handled in seq order, not delivery order
    # The result ends p's run: merging q's update into it would make the state at the result's seq
    # (or q's) depend on how a run happened to batch its messages.
    assert outcome.handled == 3
    assert [row[:5] for row in outcome.rows["batch_status"]] == [
        ("hub", "at_risk", ["p"], seq(*positions[0]), 0),
        ("hub", "at_risk", ["p", "q"], seq(*positions[2]), 0),
    ]
    assert sorted((row[1], row[0], row[2]) for row in outcome.rows["closure"]) == [("p", "hub", 1), ("q", "hub", 1)]


def test_an_edge_closing_a_cycle_becomes_one_dead_letter_and_changes_nothing():
    broker, sink = Broker(3), Sink()
    worker = Worker(broker, sink)
    rng = random.Random(1)
    broker.send([Edge("LOT-A", "LOT-B", "prd-ab", b"ab"), Edge("LOT-B", "LOT-C", "prd-bc", b"bc")])
    worker.drain(10, rng)
    before = worker.states(["LOT-A", "LOT-B", "LOT-C"])
    assert dict(before["LOT-C"].ancestors) == {"LOT-B": 1, "LOT-A": 2}

    closing = Edge("LOT-C", "LOT-A", "prd-ca", b"production event bytes of c->a")
    broker.send([closing])
    partition = partition_of(closing, 3)
    offset = len(broker.logs[partition]) - 1
    outcome = worker.step(10, rng)
    [letter] = outcome.dead_letters
    assert letter.original == closing.origin
    assert letter.event_kind == "production" and letter.event_id == "prd-ca"
    assert "cycle" in letter.reason and "LOT-A" in letter.reason and "LOT-C" in letter.reason
    assert (letter.topic, letter.partition, letter.offset) == (TOPICS.closure, partition, offset)
    assert letter.source == "worker" and letter.rejected_at == NOW
    assert not outcome.updates and not outcome.rows["closure"] and not outcome.rows["batch_status"]
    assert outcome.rows["refused_edges"] == [("prd-ca", "LOT-C", "LOT-A", letter.reason, NOW)]
    worker.drain(10, rng)
    assert worker.states(["LOT-A", "LOT-B", "LOT-C"]) == before
    assert sink.dead_letters == [letter]


@pytest.mark.parametrize("record_bytes", [0, MAX_RECORD_BYTES], ids=["record-per-message", "default-records"])
@pytest.mark.parametrize("partitions", [1, 3])
def test_a_cycle_hidden_by_arrival_order_is_dead_lettered_with_the_update_that_found_it(
    partitions: int, record_bytes: int
):
    broker, sink = Broker(partitions, record_bytes), Sink()
    worker = Worker(broker, sink)
    broker.send([Edge("LOT-A", "LOT-B", "ab", b"ab"), Edge("LOT-B", "LOT-C", "bc", b"bc"),
                 Edge("LOT-C", "LOT-A", "ca", b"ca")])  # all three before any update: no edge is refused
    worker.drain(10, random.Random(2))
    assert sink.dead_letters
    for letter in sink.dead_letters:
        assert letter.event_kind == "lineage_cycle" and "cycle" in letter.reason
        [found] = CODEC.decode(letter.original)  # a record of just the update that found the cycle
        assert isinstance(found, AncestryUpdate) and found.target in letter.reason
        assert letter.original == CODEC.encode([found])
        assert letter.topic == TOPICS.closure
        # The update (or the last of a merged run) came in the record at the letter's position.
        record = CODEC.decode(broker.logs[letter.partition][letter.offset])
        assert any(isinstance(m, AncestryUpdate) and m.target == found.target for m in record)
        assert letter.partition == partition_of(found, partitions)


# --- what ingest puts on the closure topic -------------------------------------------------------

T0 = NOW - timedelta(hours=1)
PRODUCTION = Production(
    "prd-1", "ORG-1", "plant", T0,
    (InputLot("RAW-1", 10.0, "kg"), InputLot("RAW-2", 5.0, "kg")),
    (OutputLot("CMP-1", "SKU-1", 100.0, "ea"), OutputLot("CMP-2", "SKU-2", 50.0, "ea")),
)
LAB_RESULT = LabResult(
    "res-1", "RPT-1", 2, "LAB-1", "CMP-1", "S-1", "GB 6675.4-2014", "fail", T0, T0 + timedelta(minutes=5),
    (Measurement("Pb (soluble)", 120.0, "mg/kg", 90.0, "fail"),),
)
SHIPMENT = Shipment("shp-1", "SHP-1", "CMP-1", 10.0, "ea", "ORG-1", "ORG-2", "Warehouse 1", "DE", T0)


def test_a_production_with_two_inputs_and_two_outputs_declares_four_edges_with_its_bytes():
    messages = lineage_messages(PRODUCTION, b"the original bytes")
    assert messages == [
        Edge("RAW-1", "CMP-1", "prd-1"), Edge("RAW-1", "CMP-2", "prd-1"),
        Edge("RAW-2", "CMP-1", "prd-1"), Edge("RAW-2", "CMP-2", "prd-1"),
    ]
    assert all(isinstance(m, Edge) and m.origin == b"the original bytes" for m in messages)


def test_a_lab_result_goes_to_its_batch_as_its_bytes_and_a_shipment_causes_nothing():
    assert lineage_messages(LAB_RESULT, b"x") == [ReportArrived("CMP-1", b"x")]
    assert lineage_messages(SHIPMENT, b"x") == []


def test_an_organisation_is_stored_from_the_registry_topic_and_reaches_no_closure_step():
    codec = AvroCodec()
    value = codec.encode(YW_TOYS)
    assert TOPICS.for_kind(YW_TOYS.kind) == TOPICS.registry
    assert lineage_messages(YW_TOYS, value) == []  # not a lab: nothing is broadcast to the partitions
    assert TrustReader(codec).lab(value) is None
    outcome = ingest([RawMessage(value, TOPICS.registry, 0, 0)], codec, TOPICS, NOW)
    assert (outcome.accepted, outcome.dead_letters, outcome.lineage, outcome.log_entries) == (1, [], [], [])
    assert {table for table, rows in outcome.rows.items() if rows} == {"organisations"}
    [letter] = ingest([RawMessage(value, TOPICS.lineage, 0, 1)], codec, TOPICS, NOW).dead_letters
    assert letter.reason == f"organisation published to {TOPICS.lineage}; it belongs on {TOPICS.registry}"


def test_a_report_from_an_unknown_lab_counts_only_when_it_fails_and_the_ledger_says_so():
    codec, store = AvroCodec(), ClosureStore()
    store.reset(0, 0)
    failing = store.apply([Delivered(0, 0, ReportArrived("CMP-1", codec.encode(LAB_RESULT)))], NOW, CODEC, "t")
    assert store.state(0, "CMP-1").reports.keys() == {"LAB-1 RPT-1"}
    assert [(r[1], r[0]) for r in failing.rows["batch_status"]] == [("failed", "CMP-1")]
    [judged] = failing.rows["report_judgements"]
    assert judged[5:8] == ("unsigned", "lab_unknown", "fail")
    passing = replace(LAB_RESULT, event_id="res-2", report_id="RPT-2", batch_id="CMP-2", verdict="pass",
                      measurements=())
    assert not store.apply([Delivered(0, 1, ReportArrived("CMP-2", codec.encode(passing)))], NOW, CODEC,
                           "t").rows["batch_status"]
    assert store.state(0, "CMP-2") is None  # its pass does not count: CMP-2 stays untested


def test_ingest_sends_the_closure_messages_of_accepted_events_only():
    codec = AvroCodec()
    events = list(supply_chain(5, ChainShape(raw_lots=2, components=2, products=2, tested_fraction=1.0),
                               NOW - timedelta(days=1)))
    raw = [RawMessage(codec.encode(e), TOPICS.for_kind(e.kind), 0, i) for i, e in enumerate(events)]
    productions = [i for i, e in enumerate(events) if isinstance(e, Production)]
    results = [i for i, e in enumerate(events) if isinstance(e, LabResult)]
    rejected = {productions[0], results[0]}
    for i in rejected:  # decodable, but published to the wrong topic
        raw[i] = RawMessage(raw[i].value, TOPICS.registry, 0, i)
    outcome = ingest(raw, codec, TOPICS, NOW)
    assert len(outcome.dead_letters) == len(rejected)
    expected = [m for i, e in enumerate(events) if i not in rejected for m in lineage_messages(e, raw[i].value)]
    assert expected and outcome.lineage == expected
    origins = [m.origin for m in outcome.lineage if isinstance(m, Edge)]
    assert origins == [m.origin for m in expected if isinstance(m, Edge)]
    assert all(raw[i].value not in origins for i in rejected)
    refused = events[results[0]]
    assert isinstance(refused, LabResult)
    seen = ResultSeen(refused.batch_id, refused.report_id, refused.report_version, refused.verdict)
    assert seen not in outcome.lineage
