"""The same DDL on the ClickHouse server the stack runs (18.16 here): columns match the rows."""

from __future__ import annotations

import pytest

from sinks.audit import AUDIT_COLUMNS
from sinks.clickhouse import migrate
from sinks.rows import COLUMNS

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_every_row_mapping_matches_its_table_on_the_server(deployment, table):
    migrate(deployment.address)  # twice: idempotent
    rows = deployment.client().execute(f"DESCRIBE TABLE {deployment.settings.database}.{table}")
    assert tuple(r[0] for r in rows) == COLUMNS[table]


def test_the_audit_row_matches_the_audit_table_on_the_server(deployment):
    rows = deployment.client().execute(f"DESCRIBE TABLE {deployment.settings.database}.audit")
    assert tuple(r[0] for r in rows) == AUDIT_COLUMNS
