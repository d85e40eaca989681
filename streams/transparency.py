"""The transparency log's side of the stream: entries into records of the log topic, records into
ClickHouse rows.

The log's order is the order of partition 0 of the log topic (every record is sent there) and,
within a record, of its lines: entries are canonical JSON, which never holds a raw newline, so a
record is its entries joined by newlines, as many as fit ``MAX_RECORD_BYTES`` (one Faust event per
report would have doubled the stream's per-event cost). The agent is stateless: it stores each
entry with its record's offset and its line, and readers build the Merkle tree from the stored
entries in that order, keeping the first of repeated entries (delivery is at-least-once, so an
entry may be sent twice; its bytes are the same, so it is one leaf).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from sinks.rows import RowBatch, add_row, new_batch
from streams.ingest import RawMessage

#: Records stay under Kafka's default 1 MB message limit, like the closure topic's.
MAX_RECORD_BYTES = 200 * 1024


def log_records(entries: Iterable[bytes], max_bytes: int = MAX_RECORD_BYTES) -> list[bytes]:
    """Entries joined by newlines into as few records as keep each under about ``max_bytes``.

    Raises:
        ValueError: an entry holds a newline (entries are canonical JSON: a bug).
    """
    records: list[bytes] = []
    chunk: list[bytes] = []
    size = 0
    for entry in entries:
        if b"\n" in entry:
            raise ValueError("a log entry holds a newline; entries are canonical JSON")
        if chunk and size + len(entry) + 1 > max_bytes:
            records.append(b"\n".join(chunk))
            chunk, size = [], 0
        chunk.append(entry)
        size += len(entry) + 1
    if chunk:
        records.append(b"\n".join(chunk))
    return records


def log_rows(messages: Sequence[RawMessage], now: datetime) -> RowBatch:
    """One ``log_entries`` row per entry of each record, with the record's offset and the entry's line."""
    rows = new_batch()
    for message in messages:
        for index, entry in enumerate(message.value.split(b"\n")):
            add_row(rows, "log_entries", {
                "entry": entry, "entry_sha256": hashlib.sha256(entry).hexdigest(), "log_partition": message.partition,
                "log_offset": message.offset, "log_index": index, "known_at": now,
            })
    return rows
