"""The ClickHouse side: connection URLs, migrations and the batch writer (blocking I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as DriverError
from clickhouse_driver.errors import ErrorCodes

from sinks.ddl import statements
from sinks.rows import COLUMNS, RowBatch

#: Errors that pass with time: the server is down, restarting, overloaded or briefly read-only.
#: Anything else (a wrong column, a missing table) is a bug that no retry fixes.
_PASSING = frozenset({
    ErrorCodes.NETWORK_ERROR, ErrorCodes.SOCKET_TIMEOUT, ErrorCodes.TIMEOUT_EXCEEDED,
    ErrorCodes.TOO_MANY_SIMULTANEOUS_QUERIES, ErrorCodes.MEMORY_LIMIT_EXCEEDED, ErrorCodes.TOO_MANY_PARTS,
    ErrorCodes.TABLE_IS_READ_ONLY, ErrorCodes.NO_ZOOKEEPER, ErrorCodes.KEEPER_EXCEPTION,
    ErrorCodes.UNKNOWN_STATUS_OF_INSERT,
})


class ClickHouseUnavailable(ConnectionError):
    """ClickHouse cannot take the insert now; the same insert may succeed later."""


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
            raise ValueError(f"expected clickhouse://host:port/database, got {url!r}")
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
    """Create the database and every table (idempotent)."""
    client = address.client()
    try:
        for statement in statements(address.database):
            client.execute(statement)
    finally:
        client.disconnect()


class ClickHouseSink:
    """Inserts row batches, one INSERT per table; the caller retries a batch that raised.

    Raises ``ClickHouseUnavailable`` (a ``ConnectionError``, so transient to the writer) when
    the server is unreachable or busy; any other driver error propagates as it is.
    """

    def __init__(self, address: ClickHouseAddress) -> None:
        self._address = address
        self._client: Client | None = None

    def write(self, batch: RowBatch) -> None:
        client = self._client or self._address.client()
        self._client = client
        try:
            for table, rows in batch.items():
                if rows:
                    columns = ", ".join(f"`{c}`" for c in COLUMNS[table])
                    client.execute(
                        f"INSERT INTO {self._address.database}.{table} ({columns}) VALUES", rows
                    )
        except DriverError as exc:
            self.close()  # a half-used connection is not reused
            if exc.code in _PASSING:
                raise ClickHouseUnavailable(str(exc)) from exc
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client = None
