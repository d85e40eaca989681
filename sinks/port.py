"""The sink port: what the stream needs from storage, and an in-memory fake for tests."""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from sinks.rows import COLUMNS, Row, RowBatch
from traceability.errors import Unavailable


class Sink(Protocol):
    """Blocking, all-or-raise writes of row batches (the stream calls it from a thread)."""

    def write(self, batch: RowBatch) -> None:
        """Store every row of ``batch`` or raise; a retry may store some rows twice.

        Raises:
            Unavailable: the store cannot take the rows now; the writer retries. Anything else
                is a bug and stops the worker.
        """


class InMemorySink:
    """Keeps rows in lists; ``fail_next`` makes the next writes raise, like a down server."""

    def __init__(self) -> None:
        self.tables: dict[str, list[Row]] = defaultdict(list)
        self.fail_next = 0
        self.writes = 0

    def write(self, batch: RowBatch) -> None:
        self.writes += 1
        if self.fail_next:
            self.fail_next -= 1
            raise Unavailable("told to fail", service="the in-memory sink")
        for table, rows in batch.items():
            width = len(COLUMNS[table])
            if any(len(row) != width for row in rows):
                raise ValueError(f"{table}: row width differs from {width} columns")
            self.tables[table].extend(rows)
