"""The recall scope as a sortable spreadsheet, after FSMA 204's electronic sortable spreadsheet.

One row per tracking event in scope (each production of an affected lot, each shipment of one),
every key data element in its own column, so a regulator can sort and filter without reading
anything else. The columns and their meanings are the data dictionary shipped with the XLSX.

Cells are plain values; text that a spreadsheet program would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is neutralised with a leading apostrophe.
Lot codes and names come from publishers, so they are untrusted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from traceability.json_form import utc_text
from traceability.scope import Recall

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The first characters that make a spreadsheet program read text as a formula.
FORMULA_FIRST = frozenset(_FORMULA_STARTS)
_FORMULA_FIRST = FORMULA_FIRST


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    meaning: str
    kde: str  # the FSMA 204 key data element the column carries, or "" for Lotline's own


COLUMNS: tuple[Column, ...] = (
    Column("event_type", "Critical tracking event: 'transformation' (the lot was made) or 'shipping'.",
           "Critical tracking event"),
    Column("traceability_lot_code", "The lot this row is about (batch id).", "Traceability lot code"),
    Column("product", "Product id of the lot, from its production record ('' if none is known).",
           "Product description"),
    Column("quantity", "Quantity of the lot made, or shipped, in this event.", "Quantity"),
    Column("unit", "Unit of measure of the quantity (UN/ECE Rec. 20 style code).", "Unit of measure"),
    Column("depth", "Production steps between the recalled lot and this lot (0 = the recalled lot).", ""),
    Column("lot_status", "Lotline status of the lot: failed, at_risk, clear or untested.", ""),
    Column("input_lots", "Transformation only: input lots with quantity and unit, separated by '; '.",
           "Traceability lot codes and quantities of the food used"),
    Column("organisation", "Organisation that made the lot (transformation) or shipped it (shipping).",
           "Location description (transformation) / ship-from"),
    Column("site", "Transformation only: the site where the lot was made.", "Location of the transformation"),
    Column("ship_to_organisation", "Shipping only: the immediate subsequent recipient.",
           "Location description of the immediate subsequent recipient"),
    Column("ship_to_location", "Shipping only: where the lot was shipped to.", "Ship-to location"),
    Column("ship_to_country", "Shipping only: ISO 3166 alpha-2 country code of the ship-to location.",
           "Ship-to location"),
    Column("event_date", "When the event happened, UTC, ISO 8601.", "Date of transformation / ship date"),
    Column("reference_document_type", "What the reference is: 'production event' or 'shipment'.",
           "Reference document type"),
    Column("reference_document_number", "The event id of the production event, or the shipment id.",
           "Reference document number"),
)
HEADER: tuple[str, ...] = tuple(c.name for c in COLUMNS)

Cell = str | float | int


def neutralised(value: Cell) -> Cell:
    """A cell that no spreadsheet program will run as a formula (numbers pass unchanged)."""
    if isinstance(value, str) and value[:1] in _FORMULA_FIRST:
        return "'" + value
    return value


def rows(recall: Recall) -> Iterator[tuple[Cell, ...]]:
    """The tracking events of a recall scope, by date then lot, cells already neutralised."""
    depth = {a.batch_id: a for a in recall.affected}
    events: list[tuple[datetime, str, tuple[Cell, ...]]] = []
    for p in recall.productions:
        lot = depth[p.batch_id]
        inputs = "; ".join(f"{i.batch_id} ({_number(i.quantity)} {i.unit})" for i in p.inputs)
        events.append((p.occurred_at, p.batch_id, (
            "transformation", p.batch_id, p.product_id, p.quantity, p.unit, lot.depth, lot.status, inputs,
            p.org_id, p.site, "", "", "", utc_text(p.occurred_at), "production event", p.event_id,
        )))
    for s in recall.shipments:
        lot = depth[s.batch_id]
        events.append((s.occurred_at, s.batch_id, (
            "shipping", s.batch_id, lot.product_id, s.quantity, s.unit, lot.depth, lot.status, "",
            s.from_org, "", s.to_org, s.to_location, s.to_country, utc_text(s.occurred_at), "shipment", s.shipment_id,
        )))
    events.sort(key=lambda e: (e[0], e[1], e[2][0], str(e[2][-1])))
    for _when, _lot, row in events:
        yield tuple([neutralised(cell) for cell in row])


def _number(value: float) -> str:
    return f"{value:g}"
