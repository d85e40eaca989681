"""The official forms of a request, read and filled: FSMA 204's sortable spreadsheet and an EU Safety Gate
notification draft.

Both are pure functions of what the history knows (``traceability.fsma_template``,
``traceability.safety_gate``); this reader gathers it: the tracking records of the request
(``query.tracking``), and for a notification the batch's trace (its failing upstream lots and their
reports), the records of its recall scope (where its goods went), and the registry's labs and
accreditation bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from clickhouse_driver import Client

from query import registry
from query.scope import ScopeReader, collector_paused
from query.tracking import TrackingReader
from traceability.notification import Notification
from traceability.safety_gate import draft
from traceability.tracking import Request, TrackingRecords


class FormReader:
    """One per calling thread, like the scope reader it uses."""

    def __init__(self, reader: ScopeReader, client: Client, database: str) -> None:
        self._reader = reader
        self._client = client
        self._db = database

    @collector_paused
    def tracking(self, request: Request, as_of: datetime | None = None,
                 keep: Callable[[str], bool] | None = None) -> TrackingRecords:
        """The request's tracking records; ``keep`` picks the lots a caller may read (default: all).

        Raises:
            UnknownBatch: a recall of a batch nothing is known about (as of ``as_of``).
        """
        return TrackingReader(self._client, self._db).records(request, as_of, keep)

    @collector_paused
    def safety_gate(self, batch_id: str, as_of: datetime | None, now: datetime) -> Notification:
        """The notification draft for ``batch_id``, from its trace, its recall scope's records and the registry.

        Raises:
            UnknownBatch: nothing is known about the batch (as of ``as_of``).
        """
        trace = self._reader.trace(batch_id, as_of)
        records = self.tracking(Request("recall", batch_id=batch_id), as_of)
        labs = registry.labs(self._client, self._db, as_of)
        bodies = registry.bodies(self._client, self._db, as_of)
        return draft(trace, records, labs, bodies, now)
