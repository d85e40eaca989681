"""A current ClickHouse in process (chdb) with Lotline's DDL, shared by the contract tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sinks.ddl import statements

#: The database the DDL is applied to once per run; tests that insert use databases of their own.
DATABASE = "contract"


@pytest.fixture(scope="session")
def current_clickhouse() -> Iterator[Any]:
    chdb_session = pytest.importorskip("chdb.session")
    session = chdb_session.Session()
    for statement in statements(DATABASE):
        session.query(statement)
    yield session
    session.close()


def describe(session: Any, table: str, database: str = DATABASE) -> list[str]:
    """The column names of a table, in the DDL's order."""
    return [row["name"] for row in select(session, f"DESCRIBE TABLE {database}.{table}")]


def select(session: Any, sql: str) -> list[dict[str, Any]]:
    """The rows of a query by column name (DateTime as a string of seconds since the epoch)."""
    settings = "SETTINGS date_time_output_format = 'unix_timestamp', output_format_json_quote_64bit_integers = 0"
    result = session.query(f"{sql} FORMAT JSONEachRow {settings}")
    return [json.loads(line) for line in str(result).splitlines() if line.strip()]
