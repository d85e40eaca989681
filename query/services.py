"""The API's services on a real deployment: ClickHouse and Kafka clients behind ``ApiServices``."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime

from clickhouse_driver import Client

from query.gate import Gate
from query.metrics import PipelineReading, pipeline_text
from query.principals import Authenticator, authenticator_for
from query.scope import ScopeReader
from query.serving import ServingSource
from query.transparency import LogReader
from query.verification import Verifier
from schemas.codec import AvroCodec
from sinks.audit import AuditWriter
from sinks.clickhouse import ClickHouseAddress
from sinks.drivers import driver_errors
from streams.offsets import Lag, OffsetReader
from streams.producer import CheckedProducer
from streams.publishing import PublishReport, publish
from streams.security import PLAINTEXT, KafkaSecurity
from streams.topics import TopicNames
from traceability.access import Principal
from traceability.audit import AuditRecord
from traceability.errors import BrokerUnavailable, ClickHouseUnavailable, Unavailable


class StackServices:
    """One per API process. ClickHouse clients are per thread; the Kafka clients are shared under locks.

    Args:
        kafka_bootstrap: ``host:port`` of the broker events are published to.
        clickhouse: Where answers are read.
        topics: The deployment's topics.
        group: The workers' consumer group, whose lag ``/metrics`` reports.
        authenticator: Who a request's credential names (default: the deployment's API keys only).
        audit: Where each request's audit record goes (default: the deployment's ``audit`` table).
        security: How the API's own Kafka clients authenticate and encrypt (the API's Kafka principal).
        serving: The serving store current answers come from once the workers have built it
            (default: none, every answer from ClickHouse).

    ``close`` writes the audit records still queued.
    """

    def __init__(self, kafka_bootstrap: str, clickhouse: ClickHouseAddress, topics: TopicNames, group: str, *,
                 require_signatures: bool = False, log: LogReader | None = None,
                 authenticator: Authenticator | None = None, audit: AuditWriter | None = None,
                 security: KafkaSecurity = PLAINTEXT, serving: ServingSource | None = None) -> None:
        self._serving = serving
        self._security = security
        self._require_signatures = require_signatures
        self._log = log
        self._bootstrap = kafka_bootstrap
        self._clickhouse = clickhouse
        self._topics = topics
        self._group = group
        self._codec = AvroCodec()
        self._local = threading.local()
        self._publishing = threading.Lock()
        self._producer: CheckedProducer | None = None
        self._reading = threading.Lock()
        self._offsets: OffsetReader | None = None
        self._authenticator = authenticator or authenticator_for(clickhouse.client, clickhouse.database,
                                                                 jwt_issuer=None, jwt_jwks=None)
        self.audit_writer = audit or AuditWriter(clickhouse.client, clickhouse.database)

    def close(self) -> None:
        self.audit_writer.close()
        if self._serving is not None:
            self._serving.close()

    def authenticate(self, authorization: str | None) -> Principal:
        return self._authenticator.authenticate(authorization)

    def audit(self, record: AuditRecord) -> None:
        self.audit_writer.append(record)

    def gate(self) -> Gate:
        gate = getattr(self._local, "gate", None)
        if gate is None:
            gate = self._local.gate = Gate(self.reader(), self._client, self._clickhouse.database,
                                           serving=self._serving)
        return gate

    def reader(self) -> ScopeReader:
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = ScopeReader(self._clickhouse.client, self._clickhouse.database)
        return reader

    def verifier(self) -> Verifier:
        verifier = getattr(self._local, "verifier", None)
        if verifier is None:
            verifier = self._local.verifier = Verifier(self.reader(), self._client, self._clickhouse.database,
                                                       log=self._log, require_signatures=self._require_signatures)
        return verifier

    def publish(self, lines: list[bytes]) -> PublishReport:
        # One request at a time: a failed send must fail the request that made it, not the next one.
        with self._publishing:
            try:
                self._producer = self._producer or CheckedProducer(self._bootstrap, security=self._security)
                return publish(lines, self._producer, codec=self._codec, topics=self._topics,
                               now=datetime.now(UTC), source="api")
            except Unavailable:
                self._producer = None
                raise

    def health(self) -> dict[str, str]:
        checks = {"kafka": _reachable(self._bootstrap)}
        try:
            with driver_errors(ClickHouseUnavailable):
                self._client().execute("SELECT 1")
            checks["clickhouse"] = "ok"
        except Unavailable as exc:
            checks["clickhouse"] = f"unreachable: {exc.detail}"
        return checks

    def pipeline_metrics(self) -> str:
        kept = self._serving.kept() if self._serving is not None else None
        return pipeline_text(PipelineReading(self._lags(), *self._stored(), kept=kept))

    def _lags(self) -> list[Lag] | None:
        if _reachable(self._bootstrap) != "ok":
            return None
        with self._reading:
            try:
                self._offsets = self._offsets or OffsetReader(self._bootstrap, self._group, security=self._security)
                return self._offsets.lags(self._topics.consumed, exact=False)
            except BrokerUnavailable:
                self._offsets = None
                return None

    def _stored(self) -> tuple[dict[str, int] | None, int | None]:
        try:
            with driver_errors(ClickHouseUnavailable):
                rows = self._client().execute(
                    "SELECT table, sum(rows) FROM system.parts WHERE database = %(db)s AND active GROUP BY table",
                    {"db": self._clickhouse.database},
                )
        except Unavailable:
            return None, None
        stored = {table: int(n) for table, n in rows}
        return stored, stored.get("rejects", 0)

    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._clickhouse.client()
        return client


def _reachable(bootstrap: str) -> str:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
            return "ok"
    except OSError as exc:
        return f"unreachable: {exc}"
