"""FSMA 204's electronic sortable spreadsheet (21 CFR 1.1455(c)(3)), filled from a lot's tracking records.

The sheets and columns are ``traceability.fsma_sheets``' (the FDA template's layout). `form` fills
them from a `TrackingRecords`: one row per shipment, per receiving, per (input lot, new lot) of a
transformation.

Completeness is stated, not hidden: a key data element the records do not know is an empty cell
*and* a `Missing` entry saying why, so a form sent within the 24 hours says what it lacks. Cells
the rule does not ask for stay empty with no entry: brand, commodity and variety ("if
applicable"), the traceability lot code source reference when the source's location is known (and
that location when a reference is given instead), a second reference document. Text comes from
publishers, so every text cell is neutralised against formula injection.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import itemgetter

from traceability.events import REFERENCE_DOCUMENT_TYPES, InputLot, OutputLot, Production, ReferenceDocument
from traceability.fsma import FORMULA_FIRST, neutralised
from traceability.fsma_sheets import (
    DOCUMENTS,
    INPUT,
    LOCATION_PARTS,
    LOT,
    NEW,
    PREVIOUS,
    PRODUCT_PARTS,
    QUANTITY,
    RECEIVE_DATE,
    RECEIVED_AT,
    RECIPIENT,
    REFERENCE,
    SHEET_NAMES,
    SHEETS,
    SHIP_DATE,
    SHIP_FROM,
    SOURCE,
    TRANSFORMED_AT,
    TRANSFORMED_ON,
    UNIT,
    Column,
    Sheet,
    place_headers,
)
from traceability.registry import Location
from traceability.tracking import TrackingRecords

__all__ = ["SHEETS", "SHEET_NAMES", "Cell", "Column", "Form", "Missing", "Row", "Sheet", "form"]

#: A cell: text, a number, or a day (written as a date, so that the column sorts as dates).
Cell = str | float | int | date
Row = tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Missing:
    """A key data element the records do not know, in one row of one sheet.

    Attributes:
        sheet: The sheet (``Shipping``).
        lot: The row's traceability lot code (the new lot, for a transformation).
        element: The column's header (``Immediate Subsequent Recipient: Phone Number``).
        event_id: The tracking event the row is made of.
        why: What is not known, so that someone can mend it (``ORG-US-TOYMART has no phone in the registry``).
    """

    sheet: str
    lot: str
    element: str
    event_id: str
    why: str


@dataclass(frozen=True, slots=True)
class Form:
    """The sheets' rows (by sheet name, in `SHEETS` order) and every element they lack, in row order."""

    rows: Mapping[str, tuple[Row, ...]]
    missing: tuple[Missing, ...]

    @property
    def complete(self) -> bool:
        """Every key data element of every row is known."""
        return not self.missing


#: Each sheet's cells of a row in column order, from the row's cells by header.
_PICK = {sheet.name: (sheet.headers, itemgetter(*sheet.headers)) for sheet in SHEETS}


# --- filling them -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Gap:
    """A cell the records cannot fill, and why."""

    why: str


#: A row being filled, by header: a value (``""`` where nothing is asked for) or a gap.
_Cells = dict[str, "Cell | _Gap"]


@dataclass(frozen=True, slots=True)
class _Line:
    lot: str
    event_id: str
    cells: _Cells


def form(records: TrackingRecords) -> Form:
    """The electronic sortable spreadsheet of ``records``, rows sorted by date then lot, and what it lacks.

    Args:
        records: The lots asked about and everything recorded about them.

    Returns:
        The rows of each sheet (cells in column order, text neutralised, days as dates) and one
        `Missing` per empty cell the rule asks for.
    """
    missing: list[Missing] = []
    lines = {"Shipping": _shipping, "Receiving": _receiving, "Transformation": _transformation}
    rows = {sheet.name: tuple(_row(sheet, line, missing) for line in lines[sheet.name](records)) for sheet in SHEETS}
    return Form(rows, tuple(missing))


def _row(sheet: Sheet, line: _Line, missing: list[Missing]) -> Row:
    """The cells in column order (taken by header: a line that lacks a column fails here), gaps listed.

    The hot loop of a big form (36 cells a row, 50,000 rows for a 10,000-lot recall): one
    ``itemgetter`` takes the row's cells, and text is neutralised inline (as `neutralised` does).
    """
    row: list[Cell] = []
    headers, pick = _PICK[sheet.name]
    for header, value in zip(headers, pick(line.cells), strict=True):
        kind = type(value)
        if kind is str:
            row.append("'" + value if value[:1] in FORMULA_FIRST else value)
        elif kind is _Gap:
            missing.append(Missing(sheet.name, line.lot, header, line.event_id, value.why))
            row.append("")
        else:
            row.append(neutralised(value))
    return tuple(row)


def _shipping(records: TrackingRecords) -> Iterator[_Line]:
    for s in sorted(records.shipments, key=lambda s: (_day(s.occurred_at), s.batch_id, s.shipment_id, s.event_id)):
        yield _Line(s.batch_id, s.event_id, {
            **_lot(records, s.batch_id, s.quantity, s.unit, "the shipment"),
            **_place(records, RECIPIENT, s.to_org, s.to_location_id, "the shipment names no to_location_id",
                     s.to_country),
            **_place(records, SHIP_FROM, s.from_org, s.from_location, "the shipment names no from_location"),
            SHIP_DATE: _day(s.occurred_at),
            **_source(records, s.batch_id),
            **_documents(s.reference_documents, "the shipment")})


def _receiving(records: TrackingRecords) -> Iterator[_Line]:
    for r in sorted(records.receivings, key=lambda r: (_day(r.occurred_at), r.batch_id, r.receipt_id, r.event_id)):
        yield _Line(r.batch_id, r.event_id, {
            **_lot(records, r.batch_id, r.quantity, r.unit, "the receiving"),
            **_place(records, PREVIOUS, r.from_org, r.from_location, "the receiving names no from_location"),
            **_place(records, RECEIVED_AT, r.to_org, r.location_id, "the receiving names no location_id"),
            RECEIVE_DATE: _day(r.occurred_at),
            **_source(records, r.batch_id),
            **_documents(r.reference_documents, "the receiving")})


def _transformation(records: TrackingRecords) -> Iterator[_Line]:
    in_scope = frozenset(records.lots)
    for p in sorted(records.productions, key=lambda p: (_day(p.occurred_at), p.event_id)):
        event: _Cells = {TRANSFORMED_ON: _day(p.occurred_at), **_transformed_at(records, p),
                         **_documents(p.reference_documents, f"production {p.event_id}")}
        for made in sorted((out for out in p.outputs if out.batch_id in in_scope), key=lambda out: out.batch_id):
            new = _new(records, made)
            for used in p.inputs or (None,):
                yield _Line(made.batch_id, p.event_id, {**event, **new, **_used(records, used, p.event_id)})


def _new(records: TrackingRecords, made: OutputLot) -> _Cells:
    return {NEW + LOT: _known(made.batch_id, "the output names no lot"), NEW + QUANTITY: made.quantity,
            NEW + UNIT: _known(made.unit, "the output records no unit"),
            **_product(records, NEW, made.product_id, f"output {made.batch_id} names no product")}


def _used(records: TrackingRecords, used: InputLot | None, event_id: str) -> _Cells:
    if used is None:
        headers = [INPUT + LOT, INPUT + QUANTITY, INPUT + UNIT, *(INPUT + p.header for p in PRODUCT_PARTS)]
        return _gaps(headers, f"production {event_id} records no input lot")
    return {INPUT + LOT: _known(used.batch_id, "the input names no lot"), INPUT + QUANTITY: used.quantity,
            INPUT + UNIT: _known(used.unit, "the input records no unit"),
            **_product(records, INPUT, records.product_of(used.batch_id),
                       f"input lot {used.batch_id} has no production record")}


def _lot(records: TrackingRecords, lot: str, quantity: float, unit: str, event: str) -> _Cells:
    """Traceability lot code, quantity, unit of measure and the lot's product description."""
    return {LOT: _known(lot, f"{event} names no lot"), QUANTITY: quantity,
            UNIT: _known(unit, f"{event} records no unit"),
            **_product(records, "", records.product_of(lot), f"lot {lot} has no production record")}


def _product(records: TrackingRecords, prefix: str, product_id: str, unknown: str) -> _Cells:
    """A product description (six cells); ``unknown`` says why when no product is named."""
    headers = [prefix + part.header for part in PRODUCT_PARTS]
    product = records.products.get(product_id)
    if product is None:
        return _gaps(headers, f"product {product_id} is not in the registry" if product_id else unknown)
    values = (product.name, product.brand, product.commodity, product.variety, product.packaging_size,
              product.packaging_style)
    return {header: value if value or not part.required else _Gap(f"product {product_id} has no {part.noun}")
            for header, value, part in zip(headers, values, PRODUCT_PARTS, strict=True)}


def _place(records: TrackingRecords, role: str, org_id: str, location_id: str, unnamed: str,
           country: str = "") -> _Cells:
    """A location description (seven cells): the organisation's name and phone, then its location.

    ``unnamed`` says why when the event names no location; ``country`` is the event's own word
    for the location's country (a shipment's ``to_country``), used when the location is not known.
    """
    business, phone, *parts = place_headers(role)
    org = records.organisations.get(org_id)
    if org is None:
        why = f"{org_id} is not in the registry" if org_id else "the event names no organisation"
        cells = _gaps([business, phone, *parts], why)
    else:
        place = org.location(location_id) if location_id else None
        cells = {business: _known(org.name, f"{org_id} has no name in the registry"),
                 phone: _known(org.phone, f"{org_id} has no phone in the registry"),
                 **_location(parts, org_id, location_id, place, unnamed)}
    if country and isinstance(cells[parts[-1]], _Gap):
        cells[parts[-1]] = country
    return cells


def _location(headers: list[str], org_id: str, location_id: str, place: Location | None, unnamed: str) -> _Cells:
    if place is None:
        return _gaps(headers, f"{org_id} has no location {location_id} in the registry" if location_id else unnamed)
    values = (place.address_or_coordinates(), place.city, place.region, place.postal_code, place.country)
    return {header: value or _Gap(f"{org_id}'s location {location_id} has no {part.noun} in the registry")
            for header, value, part in zip(headers, values, LOCATION_PARTS, strict=True)}


def _source(records: TrackingRecords, lot: str) -> _Cells:
    """The lot's traceability lot code source: where the production that made it took place, or a reference.

    Either one satisfies the element (21 CFR 1.1340(a)(7), 1.1345(a)(7)): given a reference, what is
    not known of the location is left empty, not listed; given neither, both are listed.
    """
    made = records.made.get(lot)
    if made is None:
        return _gaps([*place_headers(SOURCE), REFERENCE], f"lot {lot} has no production record")
    cells = _place(records, SOURCE, made.org_id, made.location_id, f"production {made.event_id} names no location_id")
    if made.tlc_source_reference:
        cells = {header: "" if isinstance(value, _Gap) else value for header, value in cells.items()}
        return {**cells, REFERENCE: made.tlc_source_reference}
    located = records.location(made.org_id, made.location_id) is not None
    cells[REFERENCE] = "" if located else _Gap(
        f"production {made.event_id} gives no TLC source reference and its location is not known")
    return cells


def _transformed_at(records: TrackingRecords, made: Production) -> _Cells:
    """Where the food was transformed, and the TLC source reference if one is given.

    21 CFR 1.1350(a)(2)(ii)(B) asks for that location *and*, if applicable, the reference: unlike on
    the Shipping and Receiving sheets, a reference does not stand in for the location here.
    """
    reference = made.tlc_source_reference
    unnamed = f"production {made.event_id} names no location_id" + (f", only the TLC source reference {reference}"
                                                                     if reference else "")
    return {**_place(records, TRANSFORMED_AT, made.org_id, made.location_id, unnamed), REFERENCE: reference}


def _documents(documents: Sequence[ReferenceDocument], event: str) -> _Cells:
    """The event's reference documents (two pairs of cells): the type by its name, the number as written."""
    cells: _Cells = {}
    for index, (type_header, number_header) in enumerate(DOCUMENTS):
        if index >= len(documents):  # the second is asked for only when there is one
            cells[type_header] = cells[number_header] = "" if index else _Gap(f"{event} names no reference document")
            continue
        kind = documents[index].type
        cells[type_header] = _known(REFERENCE_DOCUMENT_TYPES.get(kind, kind), f"{event} names a document of no type")
        cells[number_header] = _known(documents[index].number, f"{event} names a {kind or 'document'} of no number")
    return cells


def _known(value: str, why: str) -> str | _Gap:
    return value if value else _Gap(why)


def _gaps(headers: Sequence[str], why: str) -> _Cells:
    return dict.fromkeys(headers, _Gap(why))


def _day(moment: datetime) -> date:
    """The UTC day of a moment (what the date columns hold)."""
    return moment.astimezone(UTC).date()
