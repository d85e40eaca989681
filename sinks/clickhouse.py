"""The ClickHouse side: connection URLs, migrations and the batch writer (blocking I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from clickhouse_driver import Client

from sinks.ddl import column_addition, statements
from sinks.drivers import driver_errors
from sinks.rows import COLUMNS, RowBatch
from traceability.errors import ClickHouseUnavailable, SetupError


@dataclass(frozen=True)
class ClickHouseAddress:
    host: str
    port: int
    database: str

    @classmethod
    def parse(cls, url: str, default_database: str = "lotline") -> ClickHouseAddress:
        """``clickhouse://host:port/database`` (native protocol; database optional)."""
        parts = urlparse(url if "://" in url else f"clickhouse://{url}")
        if parts.scheme != "clickhouse" or not parts.hostname:
            raise SetupError(f"expected clickhouse://host:port/database, got {url!r}")
        return cls(parts.hostname, parts.port or 9000, parts.path.strip("/") or default_database)

    def url(self) -> str:
        return f"clickhouse://{self.host}:{self.port}/{self.database}"

    def client(self, **settings: object) -> Client:
        """A new client on this address (clients are not thread-safe: one per thread)."""
        return Client(
            self.host, port=self.port, database="default", connect_timeout=3,
            send_receive_timeout=60, settings=dict(settings),
        )


def migrate(address: ClickHouseAddress) -> None:
    """Create the database and every table, and add the columns later versions added (idempotent)."""
    client = address.client()
    try:
        with driver_errors(ClickHouseUnavailable):
            for statement in statements(address.database):
                _apply(client, statement)
    finally:
        client.disconnect()


def _apply(client: Client, statement: str) -> None:
    """Run one DDL statement; an added column only if it is missing (18.16 has no ADD COLUMN IF NOT EXISTS)."""
    adds = column_addition(statement)
    if adds is None:
        client.execute(statement)
        return
    present = client.execute(
        "SELECT count() FROM system.columns WHERE database = %(db)s AND table = %(table)s AND name = %(column)s",
        {"db": adds.database, "table": adds.table, "column": adds.column},
    )[0][0]
    if not present:
        client.execute(adds.unconditional)


class ClickHouseSink:
    """Inserts row batches, one INSERT per table; the caller retries a batch that raised.

    Raises ``ClickHouseUnavailable`` (transient to the writer) when the server is unreachable or
    busy; any other driver error propagates as it is (``sinks.drivers`` decides which is which).
    """

    def __init__(self, address: ClickHouseAddress) -> None:
        self._address = address
        self._client: Client | None = None

    def write(self, batch: RowBatch) -> None:
        client = self._client or self._address.client()
        self._client = client
        try:
            with driver_errors(ClickHouseUnavailable):
                for table, rows in batch.items():
                    if rows:
                        columns = ", ".join(f"`{c}`" for c in COLUMNS[table])
                        client.execute(
                            f"INSERT INTO {self._address.database}.{table} ({columns}) VALUES", rows
                        )
        except BaseException:
            self.close()  # a half-used connection is not reused
            raise

    def close(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client = None
