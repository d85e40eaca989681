"""What the local-stack launcher needs to know, as one frozen object (built by the entrypoint)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streams.security import KafkaSecurity


@dataclass(frozen=True)
class StackConfig:
    """The launcher's view of the settings.

    Attributes:
        state_dir: Where the state file, logs and ClickHouse data live.
        kafka_bootstrap: An external broker to use instead of starting Tansu.
        clickhouse_url: An external ClickHouse to use instead of starting one.
        kafka_security: How topic set-up reaches the broker (SASL, TLS).
    """

    state_dir: Path
    kafka_bootstrap: str | None
    clickhouse_url: str | None
    topic_prefix: str
    database: str
    partitions: int
    workers: int
    api_host: str
    api_port: int
    kafka_security: KafkaSecurity = field(default_factory=KafkaSecurity)
