"""The agents: thin loops that take a batch, call one pure step, write, then ack.

Acks happen only after the rows are stored and the dead letters delivered, so Faust commits
offsets (the highest *contiguous* acked offset) only past data that is safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NoReturn

import faust
import structlog

from schemas.codec import AvroCodec
from streams.ingest import RawMessage, ingest, store_dead_letters
from streams.sink_writer import SinkWriter
from streams.topics import TopicNames
from traceability.dead_letter import DeadLetter

log = structlog.get_logger(__name__)


def raw_message(event: Any) -> RawMessage:
    message = event.message
    headers = message.headers or ()
    if isinstance(headers, dict):
        headers = list(headers.items())
    return RawMessage(message.value, message.topic, message.partition, message.offset, tuple(headers))


async def send_dead_letters(topic: faust.TopicT, letters: Sequence[DeadLetter]) -> None:
    """Send and wait until the broker has every dead letter (``force``: no ack-time attachment)."""
    futures = [
        await topic.send(value=letter.original, headers=letter.headers(), force=True)
        for letter in letters
    ]
    await asyncio.gather(*futures)


def register_agents(
    app: faust.App,
    *,
    topics: TopicNames,
    codec: AvroCodec,
    writer: SinkWriter,
    batch_size: int,
    flush_seconds: float,
    clock: Callable[[], datetime],
    give_up: Callable[[BaseException], NoReturn],
) -> None:
    """Attach the ingest and dead-letter agents to ``app`` (concurrency 1: see faust #606)."""
    raw = app.topic(*topics.raw, value_serializer="raw", key_serializer="raw")
    dead_letter = app.topic(topics.dead_letter, value_serializer="raw", key_serializer="raw")

    async def ingest_agent(stream: faust.StreamT) -> None:
        async for events in stream.noack_take(batch_size, within=flush_seconds):
            try:
                outcome = ingest([raw_message(e) for e in events], codec, topics, clock())
                await send_dead_letters(dead_letter, outcome.dead_letters)
                await writer.write(outcome.rows)
            except Exception as exc:  # anything unexpected: stop before any ack (no data loss)
                give_up(exc)
            for event in events:
                await stream.ack(event)

    async def dead_letter_agent(stream: faust.StreamT) -> None:
        async for events in stream.noack_take(batch_size, within=flush_seconds):
            try:
                await writer.write(store_dead_letters([raw_message(e) for e in events], clock()))
            except Exception as exc:
                give_up(exc)
            for event in events:
                await stream.ack(event)

    app.agent(raw, name="ingest", concurrency=1)(ingest_agent)
    app.agent(dead_letter, name="dead-letters", concurrency=1)(dead_letter_agent)
