"""The tracking records of a regulator's request, read from ClickHouse (``traceability.tracking``).

A request names its lots three ways: a recall scope (the batch and every descendant, from the
closure), a list of lot codes, or a product (every lot a production made of it) over a date range.
Then four reads, each indexed by lot: the transformations that made the lots (whole production
events: their event ids come from the lineage edges, ordered by child; edges refused as cycles do
not count), the productions that made their inputs (for the inputs' product descriptions), and the
shipments and receivings of the lots. The registry's organisations and products come last.

As everywhere on the read side, rows may repeat (at-least-once delivery): events are deduplicated
by event id, each field from the copy written last (``argMax(…, ingested_at)``: an event id published
again with more fields, say by a publisher moving to v2, reads as its latest copy), and ``as_of`` keeps
only rows written by then (``ingested_at``; the closure's
``known_at``). A product's date range filters the events, not the lots' making records: a lot made
before the range but shipped in it still shows where it was made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clickhouse_driver import Client

from query import registry
from query.scope import unknown_batch, unpadded
from traceability.events import InputLot, OutputLot, Production, Receiving, ReferenceDocument, Shipment
from traceability.json_form import utc_moment
from traceability.tracking import Request, TrackingRecords


class TrackingReader:
    """Reads `TrackingRecords` from one database; one reader per calling thread (it keeps a client)."""

    def __init__(self, client: Client, database: str) -> None:
        self._client = client
        self._db = database

    def records(self, request: Request, as_of: datetime | None = None,
                keep: Callable[[str], bool] | None = None) -> TrackingRecords:
        """Everything the official forms need about the request's lots (those ``keep`` keeps, if given).

        Raises:
            UnknownBatch: a recall of a batch nothing is known about (as of ``as_of``).
        """
        lots = self._lots(request, as_of)
        if keep is not None:
            lots = [lot for lot in lots if keep(lot)]
        # The recall scope as the closure subquery it came from: no 10,000 literals to escape and parse.
        recall = request.kind == "recall" and keep is None
        where = _Where(f"({self._scope(request, as_of)})", batch=request.batch_id) if recall else _Where.of(lots)
        span = (request.start, request.end) if request.kind == "product" else (None, None)
        productions = self._productions(where, as_of, span)
        making = productions if span == (None, None) else self._productions(where, as_of, (None, None))
        inputs = sorted({i.batch_id for p in making for i in p.inputs} - set(lots))
        made = _earliest_by_lot([*making, *self._productions(_Where.of(inputs), as_of, (None, None))])
        shipments, receivings = self._shipments(where, as_of, span), self._receivings(where, as_of, span)
        products = registry.products(self._client, self._db, {o.product_id for p in made.values() for o in p.outputs},
                                     as_of)
        return TrackingRecords(
            request=request, as_of=as_of, lots=tuple(lots), productions=tuple(productions),
            shipments=tuple(shipments), receivings=tuple(receivings), made=made,
            organisations=registry.organisations(self._client, self._db, as_of), products=products,
        )

    def _scope(self, request: Request, as_of: datetime | None) -> str:
        known = "AND known_at <= %(as_of)s" if as_of else ""
        return (f"SELECT %(batch)s UNION ALL SELECT descendant FROM {self._db}.closure_by_ancestor "
                f"WHERE ancestor = %(batch)s {known}")

    def _lots(self, request: Request, as_of: datetime | None) -> list[str]:
        if request.kind == "lots":
            return sorted(set(request.lots))
        params: dict[str, Any] = {"batch": request.batch_id, "product": request.product_id, "as_of": as_of}
        if request.kind == "product":
            sql = (f"SELECT DISTINCT child_batch FROM {self._db}.lineage_edges WHERE child_product = %(product)s "
                   f"{_ingested(as_of)} ORDER BY child_batch")
            return [lot for (lot,) in self._client.execute(sql, params)]
        sql = f"SELECT DISTINCT * FROM ({self._scope(request, as_of)})"
        lots = sorted(lot for (lot,) in self._client.execute(sql, params))
        if len(lots) == 1 and not self._known(request.batch_id, as_of):
            raise unknown_batch(request.batch_id, as_of)
        return lots

    def _known(self, batch_id: str, as_of: datetime | None) -> bool:
        """Whether any event names the batch (made, used, shipped, received or tested)."""
        where = f"%(batch)s {_ingested(as_of)}"
        sql = " UNION ALL ".join([
            f"SELECT 1 FROM {self._db}.lineage_edges WHERE child_batch = {where} LIMIT 1",
            f"SELECT 1 FROM {self._db}.lineage_edges WHERE parent_batch = {where} LIMIT 1",
            f"SELECT 1 FROM {self._db}.shipments WHERE batch_id = {where} LIMIT 1",
            f"SELECT 1 FROM {self._db}.receivings WHERE batch_id = {where} LIMIT 1",
            f"SELECT 1 FROM {self._db}.lab_results WHERE batch_id = {where} LIMIT 1",
        ])
        return bool(self._client.execute(sql, {"batch": batch_id, "as_of": as_of}))

    def _productions(self, lots: _Where, as_of: datetime | None, span: _Span) -> list[Production]:
        """The whole production events with an accepted edge into ``lots``, oldest first."""
        if lots.empty:
            return []
        edges = (f"SELECT event_id FROM {self._db}.lineage_edges WHERE child_batch IN {lots.sql} {_ingested(as_of)} "
                 f"AND (event_id, parent_batch, child_batch) NOT IN "
                 f"(SELECT event_id, parent_batch, child_batch FROM {self._db}.refused_edges)")
        columns = _latest("org_id", "site", "toUInt32(occurred_at)", "inputs.batch_id", "inputs.quantity",
                          "inputs.unit", "outputs.batch_id", "outputs.product_id", "outputs.quantity", "outputs.unit",
                          "location_id", "tlc_source_reference", *_DOCUMENTS)
        sql = (f"SELECT event_id, {columns} FROM {self._db}.production_events WHERE event_id IN ({edges}) "
               f"{_ingested(as_of)} {_during(span)} GROUP BY event_id ORDER BY {_ORDER}")
        return [_production(row) for row in self._client.execute(sql, lots.params(as_of, span))]

    def _shipments(self, lots: _Where, as_of: datetime | None, span: _Span) -> list[Shipment]:
        if lots.empty:
            return []
        columns = _latest("shipment_id", "batch_id", "quantity", "unit", "from_org", "to_org", "to_location",
                          "to_country", "toUInt32(occurred_at)", "from_location", "to_location_id", *_DOCUMENTS)
        sql = (f"SELECT event_id, {columns} FROM {self._db}.shipments WHERE batch_id IN {lots.sql} "
               f"{_ingested(as_of)} {_during(span)} GROUP BY event_id ORDER BY {_ORDER}")
        return [_shipment(row) for row in self._client.execute(sql, lots.params(as_of, span))]

    def _receivings(self, lots: _Where, as_of: datetime | None, span: _Span) -> list[Receiving]:
        if lots.empty:
            return []
        columns = _latest("receipt_id", "batch_id", "quantity", "unit", "from_org", "to_org", "location_id",
                          "toUInt32(occurred_at)", "from_location", "shipment_id", *_DOCUMENTS)
        sql = (f"SELECT event_id, {columns} FROM {self._db}.receivings WHERE batch_id IN {lots.sql} "
               f"{_ingested(as_of)} {_during(span)} GROUP BY event_id ORDER BY {_ORDER}")
        return [_receiving(row) for row in self._client.execute(sql, lots.params(as_of, span))]


_Span = tuple[datetime | None, datetime | None]


@dataclass(frozen=True, slots=True)
class _Where:
    """The lots a read is about, as what ``IN`` takes: a subquery in parentheses (about ``batch``), or
    a list (``%(lots)s``, rendered ``('A', 'B')``)."""

    sql: str
    lots: tuple[str, ...] = ()
    batch: str = ""

    @classmethod
    def of(cls, lots: Sequence[str]) -> _Where:
        return cls("%(lots)s", tuple(lots))

    @property
    def empty(self) -> bool:
        return self.sql == "%(lots)s" and not self.lots

    def params(self, as_of: datetime | None, span: _Span) -> dict[str, Any]:
        return {"lots": self.lots, "as_of": as_of, "start": span[0], "end": span[1], "batch": self.batch}
_DOCUMENTS = ("reference_document_types", "reference_document_numbers")
#: Oldest first (by the latest copy's time; ``occurred_at`` itself would name the raw column here).
_ORDER = "argMax(occurred_at, ingested_at), event_id"


def _latest(*columns: str) -> str:
    """Each column from the copy of its event written last (``toUInt32(c)`` as the seconds of ``c``)."""
    def one(column: str) -> str:
        if column.startswith("toUInt32("):
            return f"toUInt32(argMax({column[9:-1]}, ingested_at))"
        return f"argMax({column}, ingested_at)"
    return ", ".join(map(one, columns))


def _ingested(as_of: datetime | None) -> str:
    return "AND ingested_at <= %(as_of)s" if as_of else ""


def _during(span: _Span) -> str:
    start, end = span
    return ("AND occurred_at >= %(start)s " if start else "") + ("AND occurred_at < %(end)s" if end else "")


def _earliest_by_lot(productions: Iterable[Production]) -> dict[str, Production]:
    made: dict[str, Production] = {}
    for p in sorted(productions, key=lambda p: (p.occurred_at, p.event_id)):
        for out in p.outputs:
            made.setdefault(out.batch_id, p)
    return made


def _documents(types: Sequence[str], numbers: Sequence[str]) -> tuple[ReferenceDocument, ...]:
    return tuple(ReferenceDocument(t, n) for t, n in zip(types, numbers, strict=True))


def _production(row: Sequence[Any]) -> Production:
    (event_id, org_id, site, at, in_lots, in_qty, in_units, out_lots, out_products, out_qty, out_units, location,
     reference, doc_types, doc_numbers) = row
    return Production(event_id, org_id, site, utc_moment(at),
                      tuple(map(InputLot, in_lots, in_qty, in_units)),
                      tuple(map(OutputLot, out_lots, out_products, out_qty, out_units)),
                      location, reference, _documents(doc_types, doc_numbers))


def _shipment(row: Sequence[Any]) -> Shipment:
    (event_id, shipment_id, batch_id, quantity, unit, from_org, to_org, to_location, to_country, at, from_location,
     to_location_id, doc_types, doc_numbers) = row
    return Shipment(event_id, shipment_id, batch_id, quantity, unit, from_org, to_org, to_location,
                    unpadded(to_country), utc_moment(at), from_location, to_location_id,
                    _documents(doc_types, doc_numbers))


def _receiving(row: Sequence[Any]) -> Receiving:
    (event_id, receipt_id, batch_id, quantity, unit, from_org, to_org, location_id, at, from_location, shipment_id,
     doc_types, doc_numbers) = row
    return Receiving(event_id, receipt_id, batch_id, quantity, unit, from_org, to_org, location_id, utc_moment(at),
                     from_location, shipment_id, _documents(doc_types, doc_numbers))
