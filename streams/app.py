"""The composition root of the stream side: ``create_app`` wires settings, adapters and agents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import NoReturn

import faust

from schemas.closure_codec import ClosureCodec
from schemas.codec import AvroCodec
from sinks.port import Sink
from sinks.retry import TRANSIENT, Backoff
from streams.agents import AgentSettings, register_agents
from streams.closure_log import ClosureLog
from streams.config import WorkerConfig
from streams.sink_writer import SinkWriter, exit_worker
from streams.topics import TopicNames
from streams.transport import LotlineApp


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: WorkerConfig,
    *,
    bootstrap: str,
    sink: Sink,
    closure_partitions: int | None = None,
    transient: tuple[type[BaseException], ...] = TRANSIENT,
    clock: Callable[[], datetime] = utc_now,
    give_up: Callable[[BaseException], NoReturn] = exit_worker,
) -> faust.App:
    """Build the Faust app for one Lotline deployment.

    Args:
        settings: Topic prefix, consumer group (``app_id``), batching, timeouts and the broker's
            security (SASL, TLS), which every client of the worker uses.
        bootstrap: ``host:port`` of the Kafka-protocol broker.
        sink: Where rows go (ClickHouse in production, in memory in agent tests).
        closure_partitions: Partitions of the closure topic as the broker has it (default: the
            ``partitions`` setting); every worker must agree, it decides which owns a batch.
        transient: Sink errors worth retrying.
        clock: The time used for validation and ``ingested_at``.
        give_up: What to do when a write fails for good: an error that is not transient, or
            failures past ``sink_retry_seconds`` (default: exit the process, code 75).
    """
    datadir = settings.datadir  # unused with memory://, but Faust creates it: never the cwd
    datadir.mkdir(parents=True, exist_ok=True)
    app = LotlineApp(
        settings.app_id,
        broker=f"kafka://{bootstrap}",
        broker_credentials=settings.security.faust_credentials(),
        store="memory://",
        value_serializer="raw",
        key_serializer="raw",
        web_enabled=False,
        datadir=str(datadir),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        topic_allow_declare=False,  # `lotline stack up` creates topics with the right partitions
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=settings.commit_interval,
        broker_session_timeout=settings.broker_session_timeout,
        broker_rebalance_timeout=settings.broker_rebalance_timeout,
        broker_heartbeat_interval=settings.broker_heartbeat_interval,
        producer_acks=-1,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
    backoff = Backoff(cap=settings.sink_backoff_max_seconds, budget=settings.sink_retry_seconds)
    writer = SinkWriter(sink, backoff=backoff, transient=transient, give_up=give_up)
    topics = TopicNames(settings.topic_prefix)
    register_agents(
        app,
        topics=topics,
        codec=AvroCodec(),
        writer=writer,
        closure_log=ClosureLog(bootstrap, settings.app_id, topics.closure, ClosureCodec(), security=settings.security),
        settings=AgentSettings(
            batch_size=settings.sink_batch_size,
            flush_seconds=settings.sink_flush_seconds,
            closure_batch_size=settings.closure_batch_size,
            closure_flush_seconds=settings.closure_flush_seconds,
            closure_partitions=closure_partitions or settings.partitions,
            require_signatures=settings.require_signatures,
        ),
        clock=clock,
        give_up=give_up,
    )
    return app
