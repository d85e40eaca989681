"""Rebuilding closure partitions from the closure topic itself (see `streams.closure`)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from schemas.closure_codec import ClosureCodec
from streams.closure import ClosureStore
from streams.security import PLAINTEXT, KafkaSecurity
from traceability.errors import BrokerUnavailable, UndecodableEvent
from traceability.lineage import Message

log = structlog.get_logger(__name__)
REPLAY_STALL_SECONDS = 30.0


class ClosureLog:
    """Reads the group's committed offsets and replays partitions of the closure topic.

    It uses its own consumer with the workers' group id only to read committed offsets; it
    never joins the group and never commits. It reaches the broker as Faust's own consumers do
    (the same credentials, turned into aiokafka's arguments by Faust's own function).
    """

    def __init__(self, bootstrap: str, group: str, topic: str, codec: ClosureCodec, *,
                 security: KafkaSecurity = PLAINTEXT) -> None:
        self._security = security
        self._topic = topic
        self._codec = codec
        self._bootstrap = bootstrap
        self._group = group
        self._consumer: AIOKafkaConsumer | None = None  # created in the worker's event loop

    async def rebuild(self, store: ClosureStore, partition: int) -> None:
        """Fold every message below the committed offset of ``partition`` into ``store``."""
        consumer = await self._started_consumer()
        tp = TopicPartition(self._topic, partition)
        committed = await consumer.committed(tp) or 0
        store.reset(partition, committed)
        began = time.monotonic()
        position = 0
        if committed:
            consumer.assign([tp])
            consumer.seek(tp, 0)
        idle_since = time.monotonic()
        while position < committed:
            fetched = (await consumer.getmany(tp, timeout_ms=1000, max_records=10_000)).get(tp, [])
            if not fetched:
                if time.monotonic() - idle_since > REPLAY_STALL_SECONDS:
                    raise BrokerUnavailable(f"{self._topic}[{partition}]: replay stalled at {position} of {committed}")
                continue
            idle_since = time.monotonic()
            store.fold(partition, self._messages(r.value for r in fetched if r.offset < committed))
            position = fetched[-1].offset + 1
        log.info("closure partition rebuilt", partition=partition, records=committed,
                 batches=store.batches(), seconds=round(time.monotonic() - began, 3))

    def _messages(self, values: Iterable[bytes | None]) -> Iterator[Message]:
        """Decodable messages only: one that is not was dead-lettered when it was first read."""
        for value in values:
            try:
                yield from self._codec.decode(value or b"")
            except UndecodableEvent:
                continue

    async def _started_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap, group_id=self._group, enable_auto_commit=False,
                auto_offset_reset="earliest", max_partition_fetch_bytes=8 * 1024 * 1024,
                **credentials_to_aiokafka_auth(self._security.faust_credentials()),
            )
            await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
