"""Rows ↔ DDL, on a current ClickHouse (chdb, in process). The 18.16 server runs the same
DDL in the integration tier (tests/integration/test_ddl_on_server.py)."""

from __future__ import annotations

import json

import pytest

from sinks.ddl import statements
from sinks.rows import COLUMNS

pytestmark = pytest.mark.contract
chdb_session = pytest.importorskip("chdb.session")


@pytest.fixture(scope="module")
def current_clickhouse():
    session = chdb_session.Session()
    for statement in statements("contract"):
        session.query(statement)
    yield session
    session.close()


def describe(session, table):
    result = session.query(f"DESCRIBE TABLE contract.{table}", "JSONEachRow")
    return [json.loads(line)["name"] for line in str(result).splitlines() if line.strip()]


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_every_row_mapping_matches_its_table_on_a_current_clickhouse(current_clickhouse, table):
    assert tuple(describe(current_clickhouse, table)) == COLUMNS[table]


def test_the_ddl_is_idempotent_on_a_current_clickhouse(current_clickhouse):
    for statement in statements("contract"):
        current_clickhouse.query(statement)
