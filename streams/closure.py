"""The closure step of the stream, Faust-free: batch states per partition, messages in, effects out.

The closure topic is both the work queue and the state log. Every change to a batch's state is
caused by a message in that batch's partition of the closure topic (edges, lab results and
ancestry updates alike), and merges are joins, so the state of a partition is exactly the fold
of its messages. A worker that gains a partition rebuilds it by folding the messages below the
group's committed offset (`ClosureStore.reset` and `fold`); their effects are already delivered, because the
agent acks a message only after its updates, dead letters and rows are stored. Messages from the
committed offset on are handled normally, and handling one twice is harmless.

This replaces a Faust table with a changelog: that would write every changed state again (a
batch with hundreds of ancestors, on every delta) and its recovery trusts the broker's high
watermark, which Tansu reports wrong (DESIGN §6). The cost is a replay from the start of the
partition on every (re)assignment; checkpoints would bound it (see the README's known limits).

Reports reach the lineage core through the partition's trust ledger (``traceability.ledger``):
a lab result travels here as its original bytes (``ReportArrived``), and every lab registry
snapshot is sent to every partition (``LabArrived``), so each partition judges its reports
against the labs it knows, again when a lab's record changes, and in the same way on a replay.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from schemas.closure_codec import ClosureCodec
from schemas.codec import AvroCodec
from sinks.rows import RowBatch, add_row, new_batch
from streams.trust import TrustReader
from traceability.dead_letter import DeadLetter
from traceability.events import Event, Lab, LabResult, Production
from traceability.ledger import ClosureMessage, Judged, LabArrived, LedgerStep, ReportArrived, TrustLedger
from traceability.lineage import (
    AncestryUpdate,
    BatchState,
    ClosureRow,
    CycleRejected,
    Edge,
    Fact,
    Message,
    StatusChange,
    coalesce_updates,
    handle,
    merge_updates,
    route,
    status_of,
)
from traceability.log_entries import report_entry

#: The most bytes one production event may copy into the closure topic. Its original bytes ride
#: with each of its edges, for the dead letter of an edge refused as a cycle; a production with n
#: inputs and m outputs would copy them n × m times, and its size grows with n + m too (5,000 long
#: input ids: 700 KB, copied 5,000 times). Beyond this, edges carry no copy (see `_cycle_letter`).
MAX_ORIGIN_COPIES_BYTES = 1_000_000


def lineage_messages(event: Event, original: bytes) -> list[ClosureMessage]:
    """The closure messages an accepted event causes: an edge per input × output, a report for its
    batch's ledger, or a lab snapshot for every partition's. Shipments and the other registry
    entries (bodies, regulators, organisations) cause none: they are rows, read by the query side."""
    if isinstance(event, Production):
        pairs = len(event.inputs) * len(event.outputs)
        origin = original if pairs * len(original) <= MAX_ORIGIN_COPIES_BYTES else b""
        return [
            Edge(i.batch_id, o.batch_id, event.event_id, origin)
            for i in event.inputs
            for o in event.outputs
        ]
    if isinstance(event, LabResult):
        return [ReportArrived(event.batch_id, original)]
    if isinstance(event, Lab):
        return [LabArrived(event.lab_id, original)]
    return []


def closure_partition(batch_id: str, partitions: int) -> int:
    """The closure partition that owns a batch: a stable hash, the same in every process."""
    return zlib.crc32(batch_id.encode()) % partitions


def by_partition(messages: Iterable[ClosureMessage], partitions: int) -> dict[int, list[ClosureMessage]]:
    """Messages grouped by the partition of the batch that must handle them (a lab snapshot: all)."""
    grouped: dict[int, list[ClosureMessage]] = {}
    for message in messages:
        if isinstance(message, LabArrived):
            for partition in range(partitions):
                grouped.setdefault(partition, []).append(message)
        else:
            grouped.setdefault(closure_partition(_route(message), partitions), []).append(message)
    return grouped


def _route(message: Message | ReportArrived) -> str:
    return message.batch_id if isinstance(message, ReportArrived) else route(message)


#: A status row's seq is ``offset << SEQ_SHIFT | index`` (index: the message's place in its record).
SEQ_SHIFT = 20


@dataclass(frozen=True, slots=True)
class Delivered:
    """One closure message as read: its record's partition and offset, its index in the record."""

    partition: int
    offset: int
    message: ClosureMessage
    index: int = 0
    merged: int = 1  # how many messages `_coalesced` merged into this one

    @property
    def seq(self) -> int:
        return self.offset << SEQ_SHIFT | self.index


@dataclass
class ClosureOutcome:
    """What applying a batch of messages asks the agent to do before it acks them."""

    updates: list[AncestryUpdate] = field(default_factory=list)
    rows: RowBatch = field(default_factory=new_batch)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    log_entries: list[bytes] = field(default_factory=list)
    handled: int = 0


class ClosureStore:
    """The batch states and trust ledgers of the closure partitions one worker owns.

    Args:
        trust: Reads reports and lab snapshots from their bytes and checks signatures.
        require_signatures: Refuse unsigned reports (``LOTLINE_REQUIRE_SIGNATURES``).
    """

    def __init__(self, trust: TrustReader | None = None, *, require_signatures: bool = False) -> None:
        self._partitions: dict[int, dict[str, BatchState]] = {}
        self._ledgers: dict[int, TrustLedger] = {}
        self._next_offset: dict[int, int] = {}
        self._trust = trust or TrustReader(AvroCodec())
        self._require_signatures = require_signatures

    def loaded(self, partition: int) -> bool:
        return partition in self._partitions

    def partitions(self) -> frozenset[int]:
        return frozenset(self._partitions)

    def batches(self) -> int:
        return sum(len(states) for states in self._partitions.values())

    def state(self, partition: int, batch_id: str) -> BatchState | None:
        return self._partitions.get(partition, {}).get(batch_id)

    def ledger(self, partition: int) -> TrustLedger:
        return self._ledgers[partition]

    def reset(self, partition: int, next_offset: int) -> None:
        """Start rebuilding a partition whose committed offset is ``next_offset``."""
        self._partitions[partition] = {}
        self._ledgers[partition] = TrustLedger(require_signatures=self._require_signatures)
        self._next_offset[partition] = next_offset

    def fold(self, partition: int, history: Iterable[ClosureMessage]) -> None:
        """Apply messages below the committed offset to a partition being rebuilt; no effects."""
        states = self._partitions[partition]
        for message in history:
            for lineage in self._lineage(partition, message)[0]:
                key = route(lineage)
                states[key] = handle(states.get(key) or BatchState(key), lineage).state

    def _lineage(self, partition: int, message: ClosureMessage) -> tuple[list[Message], list[Judged]]:
        """The lineage messages a closure message means, and the judgements it changed."""
        if isinstance(message, ReportArrived):
            facts = self._trust.report(message.batch_id, message.origin)
            step = LedgerStep() if facts is None else self._ledgers[partition].report(facts, self._trust.holds)
        elif isinstance(message, LabArrived):
            found = self._trust.lab(message.origin)
            step = LedgerStep() if found is None else self._ledgers[partition].lab(found[1], found[0],
                                                                                   self._trust.holds)
        else:
            return [message], []
        return list(step.results), step.judged

    def has_gap(self, partition: int, offset: int) -> bool:
        """True if messages before ``offset`` were handled elsewhere since this partition was
        rebuilt (another worker owned it meanwhile): the state is stale and must be rebuilt."""
        return offset > self._next_offset.get(partition, 0)

    def drop(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._partitions.pop(partition, None)
            self._ledgers.pop(partition, None)
            self._next_offset.pop(partition, None)

    def apply(self, delivered: Sequence[Delivered], now: datetime, codec: ClosureCodec, topic: str) -> ClosureOutcome:
        """Handle a batch of messages of loaded partitions.

        Runs of updates for one batch are merged before they are handled, and the updates this
        batch sends are merged per target, so a wide fan-in costs one message per child, not one
        per parent. Merging is allowed because the result does not depend on delivery order.

        Status rows carry the position of the message handled (offset, then index in its record)
        as ``seq``. A replay after a crash
        handles the same messages again, maybe merged differently; two rules keep the row with
        the highest seq the latest status in any case: the state at a seq is the same in every
        run (`_coalesced`), and a merged run always writes its status (`_restated`).

        Raises:
            KeyError: If a message belongs to a partition that is not loaded.
        """
        outcome = ClosureOutcome()
        sent: list[AncestryUpdate] = []
        for item in delivered:
            self._next_offset[item.partition] = max(self._next_offset[item.partition], item.offset + 1)
        for item in _coalesced(delivered):
            states = self._partitions[item.partition]
            lineage, judged = self._lineage(item.partition, item.message)
            for message in lineage:
                key = route(message)
                step = handle(states.get(key) or BatchState(key), message)
                states[key] = step.state
                sent += step.messages
                facts = step.facts
                if item.merged > 1 and not any(isinstance(f, StatusChange) for f in facts):
                    facts += (_restated(step.state),)
                for fact in facts:
                    _record(outcome, fact, item, now, codec, topic)
            for change in judged:
                _record_judgement(outcome, change, item, now, topic)
            outcome.handled += 1
        outcome.updates = list(coalesce_updates(sent))
        return outcome


def _coalesced(delivered: Sequence[Delivered]) -> list[Delivered]:
    """Runs of updates for one batch merged into one, at the run's last position, in seq order.

    A run ends at any other message for that batch (an edge, a result), so when the item at
    position s is handled, every message for its batch up to s has been handled: the batch's state
    there is the fold of its messages up to s, the same in every run, whatever the batch
    boundaries were. That makes a status row at seq s the same in every run (see `apply`).
    """
    items: list[Delivered] = []
    open_run: dict[str, int] = {}  # batch -> index in items of its update run still open
    for item in sorted(delivered, key=lambda d: (d.partition, d.seq)):
        message = item.message
        if isinstance(message, LabArrived):  # may touch any batch of the partition: ends every run
            open_run.clear()
            items.append(item)
            continue
        key = _route(message)
        at = open_run.get(key)
        if not isinstance(message, AncestryUpdate):
            open_run.pop(key, None)
            items.append(item)
        elif at is None:
            open_run[key] = len(items)
            items.append(item)
        else:
            known = items[at]
            assert isinstance(known.message, AncestryUpdate)
            items[at] = Delivered(item.partition, item.offset, merge_updates(known.message, message), item.index,
                                  known.merged + 1)
    # A merged run is handled at its last offset, after the messages of other batches before it.
    return sorted(items, key=lambda d: (d.partition, d.seq))


def _restated(state: BatchState) -> StatusChange:
    """The status after a merged run, written even if unchanged.

    A replay may merge differently from the run it repeats and so skip a status that run
    wrote; restating it at the run's offset keeps the row with the highest seq the latest status.
    """
    current = status_of(state)
    return StatusChange(state.batch_id, current.status, current.risk_sources)


def _record(outcome: ClosureOutcome, fact: Fact, item: Delivered, now: datetime, codec: ClosureCodec,
            topic: str) -> None:
    if isinstance(fact, ClosureRow):
        add_row(outcome.rows, "closure",
                {"descendant": fact.descendant, "ancestor": fact.ancestor, "depth": fact.depth, "known_at": now})
    elif isinstance(fact, StatusChange):
        add_row(outcome.rows, "batch_status", {
            "batch_id": fact.batch, "status": fact.status, "risk_sources": list(fact.risk_sources),
            "seq": item.seq, "closure_partition": item.partition, "known_at": now,
        })
    elif isinstance(fact, CycleRejected):
        outcome.dead_letters.append(_cycle_letter(fact, item, now, codec, topic))
        if fact.edge is not None:
            edge = fact.edge
            add_row(outcome.rows, "refused_edges", {
                "event_id": edge.event_id, "parent_batch": edge.parent, "child_batch": edge.child,
                "reason": fact.reason, "known_at": now,
            })


def _cycle_letter(fact: CycleRejected, item: Delivered, now: datetime, codec: ClosureCodec,
                  topic: str) -> DeadLetter:
    """A rejected edge carries its production event's bytes (the edge's own, when the event was too
    large to copy: `MAX_ORIGIN_COPIES_BYTES`); a cycle found late, the update's."""
    edge = fact.edge
    if edge is not None:
        reason = fact.reason if edge.origin else f"{fact.reason}; the production event is too large to copy here"
        return DeadLetter(
            original=edge.origin or codec.encode([edge]), reason=reason, source="worker", rejected_at=now,
            topic=topic, partition=item.partition, offset=item.offset, event_kind="production",
            event_id=edge.event_id,
        )
    return DeadLetter(
        original=codec.encode([item.message]), reason=fact.reason, source="worker",
        rejected_at=now, topic=topic, partition=item.partition, offset=item.offset,
        event_kind="lineage_cycle",
    )


def _record_judgement(outcome: ClosureOutcome, change: Judged, item: Delivered, now: datetime, topic: str) -> None:
    """A version's judgement changed: a row for it; a dead letter if it is newly refused, or refused
    for another reason (a key first unknown turns out not to verify); a log entry if it is newly
    accepted (a refusal after acceptance is logged by the revocation; a held version by nothing)."""
    facts, judgement = change.facts, change.judgement
    add_row(outcome.rows, "report_judgements", {
        "lab_id": facts.lab_id, "report_id": facts.report_id, "report_version": facts.report_version,
        "event_id": facts.event_id, "batch_id": facts.batch_id, "outcome": judgement.outcome,
        "acceptance": judgement.acceptance, "counts_as": judgement.counts_as or "",
        "seq": item.seq, "closure_partition": item.partition, "known_at": now,
    })
    before = change.before
    refused_alike = before is not None and before.refused and before.outcome == judgement.outcome
    if judgement.refused and not refused_alike:
        outcome.dead_letters.append(DeadLetter(
            original=facts.origin, reason=refusal_reason(change), source="worker", rejected_at=now, topic=topic,
            partition=item.partition, offset=item.offset, event_kind="lab_result", event_id=facts.event_id,
        ))
    elif judgement.accepted and (before is None or not before.accepted):
        outcome.log_entries.append(report_entry(facts, judgement))


def refusal_reason(change: Judged) -> str:
    """Why a report version is refused, in one line a lab can act on."""
    facts, judgement = change.facts, change.judgement
    what = f"report {facts.lab_id}/{facts.report_id} v{facts.report_version}"
    if judgement.outcome == "unsigned":
        return f"{what}: unsigned, and signatures are required (LOTLINE_REQUIRE_SIGNATURES)"
    detail = {
        "altered": "its fields differ from its signed credential"
        + (f" ({', '.join(facts.signed.differs)})" if facts.signed and facts.signed.differs else ""),
        "signature_invalid": "the signature does not verify"
        + (f" ({facts.signed.unreadable})" if facts.signed and facts.signed.unreadable else ""),
        "key_unknown": f"signed with a key the registry does not know for lab {facts.lab_id}"
        + (f" (kid {facts.signed.kid})" if facts.signed and facts.signed.kid else "")
        + "; judged again if the registry learns it",
        "key_revoked": "signed with a key revoked before the issue time",
        "key_not_valid_at_issue": "signed with a key outside its validity at the issue time",
    }[judgement.outcome]
    return f"{what}: {judgement.outcome}: {detail}"
