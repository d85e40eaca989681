"""The one settings object (``LOTLINE_*`` environment variables), built once in ``main()``.

Lower layers never see it: each gets the narrow, frozen config it needs (``worker()`` for the
stream, ``stack()`` for the launcher), so nothing below the entrypoints reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from deploy.config import StackConfig
from query.limits import ServerLimits
from query.serving import CACHE_BATCHES
from streams.config import WorkerConfig
from streams.security import KafkaSecurity, SaslMechanism, SecurityProtocol
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

    # A production Kafka (README "Production Kafka"): every client, workers included, uses these.
    # Tansu, the local broker, speaks PLAINTEXT only.
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = Field(None, description="the SASL user: the Kafka principal the ACLs name")
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(None, description="CA of the broker's certificate (unset: the system's)")
    kafka_ssl_certfile: Path | None = Field(None, description="this client's certificate, for mutual TLS")
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_check_hostname: bool = True

    api_port: int = Field(8400, ge=0, le=65535, description="port `lotline stack up` serves the API on if free")
    api_host: str = "127.0.0.1"
    # Access by role (DESIGN §5): API keys from `lotline principals add`, and, behind an identity
    # provider, JWT bearer tokens of one issuer with `role` and `lab` / `org` / `regulator` claims.
    jwt_issuer: str | None = Field(None, description="the `iss` of accepted JWT bearer tokens (unset: none)")
    jwt_jwks: str | None = Field(None, description="the issuer's JWK set: a file path or an http(s) URL")
    jwt_audience: str | None = Field(None, description="the `aud` an accepted token must name (unset: not checked)")
    principal_refresh_seconds: float = Field(
        1.0, gt=0, description="longest a revoked API key still works in a running API (principals reloaded)"
    )
    metrics_public: bool = Field(False, description="/metrics open to anyone (a scraper without a key); "
                                 "otherwise admins only")
    # Hostile clients: every bound answers before the excess is read (query.limits).
    api_max_body_bytes: int = Field(16 * 1024 * 1024, gt=0, description="a longer request body is a 413, refused "
                                    "by its Content-Length before it is read")
    api_max_query_bytes: int = Field(4096, gt=0, description="a longer query string is a 414")
    api_max_query_params: int = Field(32, gt=0, description="more query parameters are a 422")
    api_max_header_bytes: int = Field(16 * 1024, gt=0, description="a longer request head is a 431")
    api_header_timeout_seconds: float = Field(10.0, gt=0, description="a request head not complete this long "
                                              "after the connection or the previous response is a 408")
    api_keep_alive_seconds: int = Field(5, gt=0, description="an idle keep-alive connection is closed after this")
    api_max_connections: int = Field(256, gt=0, description="with this many connections open, requests are a 503")

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
    # The serving store (DESIGN §4, issue 17): the workers keep current answers' facts in an LMDB store
    # next to ClickHouse, and the API and CLI answer current traces and recalls from it. Every worker
    # and API process of a deployment must agree; a worker without it marks the store incomplete.
    serving_store: bool = Field(True, description="keep and read the serving store (false: ClickHouse only)")
    serving_dir: Path | None = Field(None, description="the serving store's directory (default: "
                                     "<state_dir>/serving/<database>; one per machine, shared by its processes)")
    answer_cache_batches: int = Field(CACHE_BATCHES, ge=0, description="how many batches the large current "
                                      "answers an API process keeps between asks may cover in all (0: keep none); "
                                      "a kept answer is served only while none of its batches was written since")

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
            require_signatures=self.require_signatures, security=self.kafka_security(),
        )

    def stack(self) -> StackConfig:
        """What the local-stack launcher and endpoint lookup need."""
        return StackConfig(
            state_dir=self.state_dir, kafka_bootstrap=self.kafka_bootstrap, clickhouse_url=self.clickhouse_url,
            topic_prefix=self.topic_prefix, database=self.database, partitions=self.partitions,
            workers=self.workers, api_host=self.api_host, api_port=self.api_port,
            kafka_security=self.kafka_security(),
        )

    def serving_path(self) -> Path:
        """The serving store's directory on this machine."""
        return self.serving_dir or self.state_dir / "serving" / self.database

    def api_limits(self) -> ServerLimits:
        """The bounds the API server puts on its clients."""
        return ServerLimits(max_body_bytes=self.api_max_body_bytes, max_query_bytes=self.api_max_query_bytes,
                            max_query_params=self.api_max_query_params, max_header_bytes=self.api_max_header_bytes,
                            header_timeout_seconds=self.api_header_timeout_seconds,
                            keep_alive_seconds=self.api_keep_alive_seconds, max_connections=self.api_max_connections)

    def kafka_security(self) -> KafkaSecurity:
        """How every Kafka client (workers, publisher, API, ``sync``, topic set-up) reaches the broker.

        Raises:
            SetupError: a combination that cannot work or a missing file, the ``LOTLINE_KAFKA_*`` setting named.
        """
        password = self.kafka_sasl_password
        return KafkaSecurity(
            protocol=self.kafka_security_protocol, sasl_mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username, password=password.get_secret_value() if password else None,
            ca_file=self.kafka_ssl_cafile, cert_file=self.kafka_ssl_certfile, key_file=self.kafka_ssl_keyfile,
            check_hostname=self.kafka_ssl_check_hostname,
        )
