"""Rows ↔ DDL, on a current ClickHouse (chdb, in process). The 18.16 server runs the same
DDL in the integration tier (tests/integration/test_ddl_on_server.py)."""

from __future__ import annotations

import pytest

from sinks.audit import AUDIT_COLUMNS
from sinks.ddl import statements
from sinks.rows import COLUMNS
from tests.contract.conftest import DATABASE, describe

pytestmark = pytest.mark.contract


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_every_row_mapping_matches_its_table_on_a_current_clickhouse(current_clickhouse, table):
    assert tuple(describe(current_clickhouse, table)) == COLUMNS[table]


def test_the_audit_row_matches_the_audit_table_on_a_current_clickhouse(current_clickhouse):
    assert tuple(describe(current_clickhouse, "audit")) == AUDIT_COLUMNS


def test_the_ddl_is_idempotent_on_a_current_clickhouse(current_clickhouse):
    for statement in statements(DATABASE):
        current_clickhouse.query(statement)
