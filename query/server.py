"""The API on the real stack: ClickHouse and Kafka clients behind ``ApiServices``, served by uvicorn."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime

import uvicorn
from clickhouse_driver import Client
from clickhouse_driver.errors import Error as ClickHouseError
from kafka.errors import KafkaError

from deploy.local_stack import Endpoints, resolve_endpoints
from lotline.kafka_producer import CheckedProducer
from lotline.publish import PublishReport, publish
from lotline.settings import Settings
from lotline.sync import Lag, OffsetReader
from query.api import Unavailable, create_api
from query.metrics import PipelineReading, pipeline_text
from query.scope import ScopeReader
from schemas.codec import AvroCodec
from streams.topics import TopicNames


class StackServices:
    """One per API process. ClickHouse clients are per thread; the Kafka clients are shared under locks."""

    def __init__(self, settings: Settings, endpoints: Endpoints) -> None:
        self._settings = settings
        self._endpoints = endpoints
        self._topics = TopicNames(settings.topic_prefix)
        self._codec = AvroCodec()
        self._local = threading.local()
        self._publishing = threading.Lock()
        self._producer: CheckedProducer | None = None
        self._reading = threading.Lock()
        self._offsets: OffsetReader | None = None

    def reader(self) -> ScopeReader:
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = ScopeReader(self._endpoints.clickhouse.client,
                                                      self._endpoints.clickhouse.database)
        return reader

    def publish(self, lines: list[bytes]) -> PublishReport:
        # One request at a time: a failed send must fail the request that made it, not the next one.
        with self._publishing:
            try:
                self._producer = self._producer or CheckedProducer(self._endpoints.kafka_bootstrap)
                return publish(lines, self._producer, codec=self._codec, topics=self._topics,
                               now=datetime.now(UTC), source="api")
            except KafkaError as exc:
                self._producer = None
                raise Unavailable(f"the broker at {self._endpoints.kafka_bootstrap} cannot be reached: {exc}") \
                    from exc

    def health(self) -> dict[str, str]:
        checks = {"kafka": _reachable(self._endpoints.kafka_bootstrap)}
        try:
            self._client().execute("SELECT 1")
            checks["clickhouse"] = "ok"
        except (ClickHouseError, OSError, EOFError) as exc:
            checks["clickhouse"] = f"unreachable: {exc}"
        return checks

    def pipeline_metrics(self) -> str:
        return pipeline_text(PipelineReading(self._lags(), *self._stored()))

    def _lags(self) -> list[Lag] | None:
        if _reachable(self._endpoints.kafka_bootstrap) != "ok":
            return None
        with self._reading:
            try:
                self._offsets = self._offsets or OffsetReader(self._endpoints.kafka_bootstrap, self._settings.app_id)
                return self._offsets.lags(self._topics.consumed, exact=False)
            except KafkaError:
                self._offsets = None
                return None

    def _stored(self) -> tuple[dict[str, int] | None, int | None]:
        try:
            rows = self._client().execute(
                "SELECT table, sum(rows) FROM system.parts WHERE database = %(db)s AND active GROUP BY table",
                {"db": self._endpoints.clickhouse.database},
            )
        except (ClickHouseError, OSError, EOFError):
            return None, None
        stored = {table: int(n) for table, n in rows}
        return stored, stored.get("rejects", 0)

    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._endpoints.clickhouse.client()
        return client


def _reachable(bootstrap: str) -> str:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
            return "ok"
    except OSError as exc:
        return f"unreachable: {exc}"


def serve(settings: Settings, host: str, port: int) -> None:
    """Run the API in the foreground until interrupted."""
    app = create_api(StackServices(settings, resolve_endpoints(settings)))
    uvicorn.run(app, host=host, port=port, log_level="warning" if settings.log_level == "info" else settings.log_level)
