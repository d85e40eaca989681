"""What a stream worker needs to know, as one frozen object (the entrypoint builds it from the
settings; nothing in the stream reads the environment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streams.security import KafkaSecurity


@dataclass(frozen=True)
class WorkerConfig:
    """One worker's configuration; ``lotline.settings.Settings`` documents every field.

    Attributes:
        app_id: The Faust app id, which is the consumer group.
        datadir: Where Faust may write (it creates the directory even with in-memory tables).
        sink_retry_seconds: Give up on a failing insert after this long and stop the worker;
            ``None`` waits until the store is back.
        security: How the worker's Kafka clients authenticate and encrypt (SASL, TLS).
    """

    app_id: str
    topic_prefix: str
    partitions: int
    datadir: Path
    sink_batch_size: int
    sink_flush_seconds: float
    sink_retry_seconds: float | None
    sink_backoff_max_seconds: float
    commit_interval: float
    closure_batch_size: int
    closure_flush_seconds: float
    fetch_max_wait_ms: int
    broker_session_timeout: float
    broker_rebalance_timeout: float
    broker_heartbeat_interval: float
    require_signatures: bool = False
    security: KafkaSecurity = field(default_factory=KafkaSecurity)
