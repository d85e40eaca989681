"""The agents: thin loops that take a batch, call one pure step, deliver its effects, then ack.

Acks happen only after the closure messages and dead letters are on the broker and the rows
are stored, so Faust commits offsets (the highest *contiguous* acked offset) only past data
that is safe. Every agent runs with concurrency 1 (faust #606: with more, acks of one instance
could commit past unfinished events of another).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import faust
import structlog

from schemas.closure_codec import ClosureCodec
from schemas.codec import AvroCodec
from streams.closure import ClosureStore, Delivered, by_partition
from streams.closure_log import ClosureLog
from streams.ingest import RawMessage, ingest, store_dead_letters
from streams.sink_writer import SinkWriter
from streams.topics import TopicNames
from streams.transparency import log_records, log_rows
from streams.trust import TrustReader
from traceability.dead_letter import DeadLetter
from traceability.errors import UndecodableEvent
from traceability.ledger import ClosureMessage

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class AgentSettings:
    batch_size: int
    flush_seconds: float
    closure_batch_size: int
    closure_flush_seconds: float
    closure_partitions: int
    require_signatures: bool = False


def raw_message(event: Any) -> RawMessage:
    message = event.message
    headers = message.headers or ()
    if isinstance(headers, dict):
        headers = list(headers.items())
    # A tombstone (null value) is refused like any other bytes, not passed on as None.
    return RawMessage(message.value or b"", message.topic, message.partition, message.offset, tuple(headers))


async def send_dead_letters(topic: faust.TopicT, letters: Sequence[DeadLetter]) -> None:
    """Send and wait until the broker has every dead letter (``force``: no ack-time attachment)."""
    fitted = [letter.fitted() for letter in letters]
    futures = [await topic.send(value=letter.original, headers=letter.headers(), force=True) for letter in fitted]
    await asyncio.gather(*futures)


async def send_log_entries(topic: faust.TopicT, entries: Sequence[bytes]) -> None:
    """Append entries to the transparency log, many per record, always to partition 0 (one order)."""
    futures = [await topic.send(value=record, partition=0, force=True) for record in log_records(entries)]
    await asyncio.gather(*futures)


async def send_closure(topic: faust.TopicT, codec: ClosureCodec, messages: Sequence[ClosureMessage],
                       partitions: int) -> None:
    """Send lineage messages to the partitions of the batches that must handle them, many per
    record, and wait for the broker."""
    futures = [
        await topic.send(value=record, partition=partition, force=True)
        for partition, grouped in sorted(by_partition(messages, partitions).items())
        for record in codec.records(grouped)
    ]
    await asyncio.gather(*futures)


def register_agents(
    app: faust.App,
    *,
    topics: TopicNames,
    codec: AvroCodec,
    writer: SinkWriter,
    closure_log: ClosureLog,
    settings: AgentSettings,
    clock: Callable[[], datetime],
    give_up: Callable[[BaseException], NoReturn],
) -> None:
    """Attach the ingest, closure and dead-letter agents to ``app``."""
    raw = app.topic(*topics.raw, value_serializer="raw", key_serializer="raw")
    closure = app.topic(topics.closure, value_serializer="raw", key_serializer="raw")
    dead_letter = app.topic(topics.dead_letter, value_serializer="raw", key_serializer="raw")
    log_topic = app.topic(topics.log, value_serializer="raw", key_serializer="raw")
    closure_codec = ClosureCodec()
    store = ClosureStore(TrustReader(codec), require_signatures=settings.require_signatures)

    async def owned_messages(events: Sequence[Any], now: datetime) -> tuple[list[Delivered], list[DeadLetter]]:
        """Decode the events of partitions this worker owns, rebuilding partitions as needed.

        Events of partitions no longer assigned are skipped (their new owner reads them again).
        """
        owned = {tp.partition for tp in app.consumer.assignment() if tp.topic == topics.closure}
        delivered: list[Delivered] = []
        letters: list[DeadLetter] = []
        checked: set[int] = set()
        for event in events:
            m = event.message
            if m.partition not in owned:
                continue
            if m.partition not in checked:  # the first event of a partition in this batch
                checked.add(m.partition)
                if not store.loaded(m.partition) or store.has_gap(m.partition, m.offset):
                    await closure_log.rebuild(store, m.partition)
            try:
                messages = closure_codec.decode(m.value or b"")
                delivered += (Delivered(m.partition, m.offset, msg, i) for i, msg in enumerate(messages))
            except UndecodableEvent as exc:
                letters.append(DeadLetter(
                    original=m.value or b"", reason=exc.reason, source="worker", rejected_at=now,
                    topic=topics.closure, partition=m.partition, offset=m.offset, event_kind="closure_message",
                ))
        return delivered, letters

    async def ingest_agent(stream: faust.StreamT) -> None:
        async for events in stream.noack_take(settings.batch_size, within=settings.flush_seconds):
            try:
                outcome = ingest([raw_message(e) for e in events], codec, topics, clock())
                await send_closure(closure, closure_codec, outcome.lineage, settings.closure_partitions)
                await send_dead_letters(dead_letter, outcome.dead_letters)
                await send_log_entries(log_topic, outcome.log_entries)
                await writer.write(outcome.rows)
            except Exception as exc:  # anything unexpected: stop before any ack (no data loss)
                give_up(exc)
            for event in events:
                await stream.ack(event)

    async def closure_agent(stream: faust.StreamT) -> None:
        async for events in stream.noack_take(settings.closure_batch_size, within=settings.closure_flush_seconds):
            try:
                now = clock()
                delivered, letters = await owned_messages(events, now)
                outcome = store.apply(delivered, now, closure_codec, topics.closure)
                await send_closure(closure, closure_codec, outcome.updates, settings.closure_partitions)
                await send_dead_letters(dead_letter, letters + outcome.dead_letters)
                await send_log_entries(log_topic, outcome.log_entries)
                await writer.write(outcome.rows)
            except Exception as exc:
                give_up(exc)
            for event in events:
                await stream.ack(event)

    async def dead_letter_agent(stream: faust.StreamT) -> None:
        async for events in stream.noack_take(settings.batch_size, within=settings.flush_seconds):
            try:
                await writer.write(store_dead_letters([raw_message(e) for e in events], clock()))
            except Exception as exc:
                give_up(exc)
            for event in events:
                await stream.ack(event)

    async def log_agent(stream: faust.StreamT) -> None:
        """Stores the log's entries with their offsets; the order of the log is the topic's."""
        async for events in stream.noack_take(settings.batch_size, within=settings.flush_seconds):
            try:
                await writer.write(log_rows([raw_message(e) for e in events], clock()))
            except Exception as exc:
                give_up(exc)
            for event in events:
                await stream.ack(event)

    @app.on_partitions_assigned.connect
    async def forget_lost_partitions(sender: Any, assigned: set[Any], **kwargs: Any) -> None:
        owned = {tp.partition for tp in assigned if tp.topic == topics.closure}
        store.drop(store.partitions() - owned)

    @app.on_before_shutdown.connect
    async def close_closure_log(sender: Any, **kwargs: Any) -> None:
        await closure_log.close()

    app.agent(raw, name="ingest", concurrency=1)(ingest_agent)
    app.agent(closure, name="closure", concurrency=1)(closure_agent)
    app.agent(dead_letter, name="dead-letters", concurrency=1)(dead_letter_agent)
    app.agent(log_topic, name="transparency-log", concurrency=1)(log_agent)
