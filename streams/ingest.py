"""Raw messages in, rows and dead letters out: the ingest step, pure and Faust-free."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from schemas.codec import AvroCodec
from sinks.rows import Provenance, RowBatch, add_event, add_reject, new_batch
from streams.closure import lineage_messages
from streams.topics import TopicNames
from traceability.dead_letter import DeadLetter, from_headers
from traceability.errors import InvalidEvent
from traceability.events import Lab
from traceability.ledger import ClosureMessage
from traceability.log_entries import key_entries
from traceability.validation import validate

SIGNATURE_HEADER = "lotline-signature"  # reserved for signed reports (DESIGN §5)


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One Kafka message as the worker read it."""

    value: bytes
    topic: str
    partition: int
    offset: int
    headers: Sequence[tuple[str, bytes]] = ()


@dataclass
class IngestOutcome:
    rows: RowBatch = field(default_factory=new_batch)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    lineage: list[ClosureMessage] = field(default_factory=list)
    log_entries: list[bytes] = field(default_factory=list)  # key registrations and revocations
    accepted: int = 0


def ingest(
    messages: Sequence[RawMessage], codec: AvroCodec, topics: TopicNames, now: datetime
) -> IngestOutcome:
    """Decode and validate every message; accepted events become rows and closure messages, the rest
    dead letters."""
    outcome = IngestOutcome()
    for message in messages:
        try:
            event = validate(codec.decode(message.value), now)
            expected = topics.for_kind(event.kind)
            if message.topic != expected:
                raise InvalidEvent(f"{event.kind} published to {message.topic}; it belongs on {expected}")
        except InvalidEvent as exc:
            outcome.dead_letters.append(_dead_letter(message, exc.reason, now, codec))
            continue
        signature = dict(message.headers).get(SIGNATURE_HEADER, b"").decode("ascii", "replace")
        add_event(outcome.rows, event, Provenance(message.partition, message.offset, now, signature))
        outcome.lineage += lineage_messages(event, message.value)
        if isinstance(event, Lab):
            outcome.log_entries += [entry for key in event.keys for entry in key_entries(event.lab_id, key)]
        outcome.accepted += 1
    return outcome


def _dead_letter(message: RawMessage, reason: str, now: datetime, codec: AvroCodec) -> DeadLetter:
    kind, event_id = codec.peek(message.value)
    return DeadLetter(
        original=message.value, reason=reason, source="worker", rejected_at=now,
        topic=message.topic, partition=message.partition, offset=message.offset,
        event_kind=kind, event_id=event_id,
    )


def store_dead_letters(messages: Sequence[RawMessage], now: datetime) -> RowBatch:
    """Rows for the rejects table from dead-letter messages (this step never refuses anything)."""
    rows = new_batch()
    for message in messages:
        letter = from_headers(message.value, message.headers, now)
        add_reject(rows, letter, Provenance(message.partition, message.offset, now))
    return rows
