"""The ``principals`` table (not written by the stream, so not in ``sinks.rows.COLUMNS``) has the
columns ``query.principals`` reads and writes, on a current ClickHouse (chdb); the 18.16 server is
checked in tests/integration/test_principals_cli.py."""

from __future__ import annotations

import pytest

from query.principals import COLUMNS
from tests.contract.conftest import describe

pytestmark = pytest.mark.contract


def test_the_principals_table_has_the_columns_the_store_uses_on_a_current_clickhouse(current_clickhouse):
    assert tuple(describe(current_clickhouse, "principals")) == COLUMNS
