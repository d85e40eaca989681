"""Log entries travel many to a record, and come back out in order with their places."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.ingest import RawMessage
from streams.transparency import log_records, log_rows
from tests.conftest import NOW

pytestmark = pytest.mark.unit
ENTRIES = st.lists(st.binary(min_size=0, max_size=300).filter(lambda b: b"\n" not in b), max_size=60)


@given(ENTRIES, st.integers(50, 2000))
def test_records_keep_every_entry_in_order_and_stay_small(entries, limit):
    records = log_records(entries, max_bytes=limit)
    back = [entry for record in records for entry in record.split(b"\n")]
    assert back == entries or (not entries and not records)
    assert all(len(r) <= limit or b"\n" not in r for r in records)  # only a single huge entry exceeds it


def test_rows_carry_each_entry_with_its_record_offset_and_line():
    rows = log_rows([RawMessage(b'{"a":1}\n{"b":2}', "t.log", 0, 41), RawMessage(b'{"c":3}', "t.log", 0, 42)], NOW)
    assert [(r[0], r[3], r[4]) for r in rows["log_entries"]] == [
        (b'{"a":1}', 41, 0), (b'{"b":2}', 41, 1), (b'{"c":3}', 42, 0)]


def test_an_entry_with_a_newline_is_a_bug_not_a_record_boundary():
    with pytest.raises(ValueError, match="newline"):
        log_records([b"a\nb"])
