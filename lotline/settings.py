"""The one settings object (``LOTLINE_*`` environment variables), built once in ``main()``.

Lower layers never see it: each gets the narrow, frozen config it needs (``worker()`` for the
stream, ``stack()`` for the launcher), so nothing below the entrypoints reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from deploy.config import StackConfig
from streams.config import WorkerConfig
from traceability.errors import SetupError


def _default_state_dir() -> Path:
    return Path.home() / ".local" / "state" / "lotline"


class Settings(BaseSettings):
    """Everything configurable, with defaults for the local stack.

    Endpoints left unset are read from the local stack's state file (``lotline stack up``).
    """

    model_config = SettingsConfigDict(env_prefix="LOTLINE_", frozen=True, extra="ignore")

    kafka_bootstrap: str | None = Field(None, description="host:port of an external Kafka broker")
    clickhouse_url: str | None = Field(
        None, description="clickhouse://host:port/database of an external ClickHouse server"
    )
    state_dir: Path = Field(default_factory=_default_state_dir)
    topic_prefix: str = "lotline"
    database: str = "lotline"
    app_id: str = "lotline-worker"
    partitions: int = Field(4, ge=1)
    workers: int = Field(1, ge=0)

    sink_batch_size: int = Field(5_000, ge=1)
    sink_flush_seconds: float = Field(0.25, gt=0)
    # A failing insert is retried with capped exponential backoff while the worker stops consuming;
    # by default until ClickHouse is back (a production sink must not drop or hoard events).
    sink_retry_seconds: float | None = Field(
        None, gt=0, description="give up after this many seconds of failures and stop the worker (exit 75)"
    )
    sink_backoff_max_seconds: float = Field(5.0, gt=0, description="longest wait between two attempts")
    commit_interval: float = Field(0.5, gt=0)
    # Every hop of a lineage update waits at most this long for company; a chain of depth d
    # settles in about d hops, so it bounds the propagation delay (DESIGN §3, §8).
    closure_batch_size: int = Field(2_000, ge=1)
    closure_flush_seconds: float = Field(0.05, gt=0)
    fetch_max_wait_ms: int = Field(50, ge=1, description="longest a worker's fetch waits on the broker")

    # Short group timeouts join a Tansu group in ~3 s instead of ~30 s (DESIGN §6).
    broker_session_timeout: float = 6.0
    broker_rebalance_timeout: float = 6.0
    broker_heartbeat_interval: float = 1.0

    api_port: int = Field(8400, ge=0, le=65535, description="port `lotline stack up` serves the API on if free")
    api_host: str = "127.0.0.1"

    log_level: str = "info"

    # Labs move to signing gradually: unsigned reports are accepted and flagged unless this is set.
    require_signatures: bool = Field(False, description="dead-letter lab results that carry no credential")

    # The transparency log (DESIGN §5). Its origin names it in every checkpoint and is its key's name
    # (C2SP): a deployment sets it to its public host and path, e.g. `trace.example.org/log`, and keeps
    # both for good, since witnesses pin the key and hold the log to the checkpoints it signed.
    log_key_file: Path = Field(
        default_factory=lambda data: Path(data.get("state_dir") or _default_state_dir()) / "log.key.pem",
        description="the log's Ed25519 signing key (PKCS#8 PEM, made with mode 0600 on first use)",
    )
    log_origin: str = Field("lotline/log", pattern=r"^[^\s+\x00-\x1f\x7f]+$",
                            description="the log's C2SP origin: set it to the deployment's public host + path")
    # Where the public reaches the API: QR codes lead to <public_url>/r/<lab>/<report>.
    public_url: str | None = Field(None, description="the API's public address, for QR codes "
                                   "(default: the local stack's API)")

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """The settings from ``LOTLINE_*`` variables and ``overrides``.

        Raises:
            SetupError: a variable holds a value out of its range or of the wrong type (named).
        """
        try:
            return cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            wrong = "; ".join(f"LOTLINE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
            raise SetupError(f"bad setting: {wrong}") from None

    def worker(self) -> WorkerConfig:
        """What one stream worker needs."""
        return WorkerConfig(
            app_id=self.app_id, topic_prefix=self.topic_prefix, partitions=self.partitions,
            datadir=self.state_dir / "faust", sink_batch_size=self.sink_batch_size,
            sink_flush_seconds=self.sink_flush_seconds, sink_retry_seconds=self.sink_retry_seconds,
            sink_backoff_max_seconds=self.sink_backoff_max_seconds, commit_interval=self.commit_interval,
            closure_batch_size=self.closure_batch_size, closure_flush_seconds=self.closure_flush_seconds,
            fetch_max_wait_ms=self.fetch_max_wait_ms, broker_session_timeout=self.broker_session_timeout,
            broker_rebalance_timeout=self.broker_rebalance_timeout,
            broker_heartbeat_interval=self.broker_heartbeat_interval,
            require_signatures=self.require_signatures,
        )

    def stack(self) -> StackConfig:
        """What the local-stack launcher and endpoint lookup need."""
        return StackConfig(
            state_dir=self.state_dir, kafka_bootstrap=self.kafka_bootstrap, clickhouse_url=self.clickhouse_url,
            topic_prefix=self.topic_prefix, database=self.database, partitions=self.partitions,
            workers=self.workers, api_host=self.api_host, api_port=self.api_port,
        )
