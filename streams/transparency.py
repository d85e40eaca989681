"""The transparency log's side of the stream: entries from the log topic into ClickHouse rows.

The log's order is the order of partition 0 of the log topic (every entry is sent there); the
agent is stateless: it stores each entry with its offset, and readers build the Merkle tree from
the stored entries in offset order, keeping the first of repeated entries (delivery is
at-least-once, so an entry may be sent twice; its bytes are the same, so it is one leaf).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sinks.rows import RowBatch, add_row, new_batch
from streams.ingest import RawMessage


def log_rows(messages: Sequence[RawMessage], now: datetime) -> RowBatch:
    """One ``log_entries`` row per message."""
    rows = new_batch()
    for message in messages:
        add_row(rows, "log_entries", {
            "entry": message.value, "entry_sha256": hashlib.sha256(message.value).hexdigest(),
            "log_partition": message.partition, "log_offset": message.offset, "known_at": now,
        })
    return rows
