"""FSMA 204's electronic sortable spreadsheet (21 CFR 1.1455(c)(3)), filled from a lot's tracking records.

The FDA's template (``FSMAFoodTraceability-ElectronicSortableSpreadsheet-June2024.xlsx``) has one
sheet per critical tracking event; `SHEETS` holds Shipping, Receiving and Transformation with the
template's column positions, each header in the wording of the regulation's key data elements
(the file itself could not be read here; ``tests/data/fda`` records what is known of it). `form`
fills them from a `TrackingRecords`: one row per shipment, per receiving, per (input lot, new lot)
of a transformation.

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
from traceability.registry import Location
from traceability.tracking import TrackingRecords

#: A cell: text, a number, or a day (written as a date, so that the column sorts as dates).
Cell = str | float | int | date
Row = tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a sheet.

    Attributes:
        header: In the wording of the regulation's key data elements; unique within its sheet.
        kde: The key data element the column carries (part of), as the regulation words it.
        cfr: The paragraph that asks for it (``21 CFR 1.1340(a)(4)``).
        meaning: What the cell holds.
        source: Where Lotline takes it from.
        required: ``False`` where an empty cell lacks nothing: "if applicable" elements, the
            alternative of the traceability lot code source, the second reference document.
    """

    header: str
    kde: str
    cfr: str
    meaning: str
    source: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class Sheet:
    """One critical tracking event's sheet: its name in the template, the section, the columns in order."""

    name: str
    cfr: str
    columns: tuple[Column, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(column.header for column in self.columns)

    @property
    def letters(self) -> tuple[str, ...]:
        """The columns' letters (``A`` … ``AJ``)."""
        return tuple(_letter(number) for number in range(1, len(self.columns) + 1))


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


# --- the columns ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Part:
    """One part of a product or location description: its header, how a reason names it, where from."""

    header: str
    noun: str
    meaning: str
    source: str
    required: bool = True


_PRODUCT_PARTS = (
    _Part("Product Name", "name", "The product name.", "name"),
    _Part("Brand", "brand", "The brand, if applicable.", "brand", required=False),
    _Part("Commodity", "commodity", "The commodity, if applicable.", "commodity", required=False),
    _Part("Variety", "variety", "The variety, if applicable.", "variety", required=False),
    _Part("Packaging Size", "packaging size", "The packaging size ('1 car, 14 cm').", "packaging_size"),
    _Part("Packaging Style", "packaging style", "The packaging style ('window box').", "packaging_style"),
)
_BUSINESS_PARTS = (
    _Part("Business Name", "name", "The business name.", "organisation.name"),
    _Part("Phone Number", "phone", "The business's phone number, with its country code.", "organisation.phone"),
)
_LOCATION_PARTS = (
    _Part("Physical Location Address", "street address or coordinates",
          "The street address, or else the geographic coordinates (latitude, longitude).",
          "location.street, else location.latitude and longitude"),
    _Part("City", "city", "The city.", "location.city"),
    _Part("State", "region", "The state (province or region, for a foreign location).", "location.region"),
    _Part("Zip Code", "postal code", "The zip code (postal code, for a foreign location).", "location.postal_code"),
    _Part("Country", "country", "The country (ISO 3166-1 alpha-2).", "location.country"),
)

_LOT, _QUANTITY, _UNIT = "Traceability Lot Code", "Quantity", "Unit of Measure"
_RECIPIENT, _SHIP_FROM, _SOURCE = "Immediate Subsequent Recipient", "Ship-From Location", "Traceability Lot Code Source"
_PREVIOUS, _RECEIVED_AT, _TRANSFORMED_AT = "Immediate Previous Source", "Receiving Location", "Transformation Location"
_SHIP_DATE, _RECEIVE_DATE, _TRANSFORMED_ON = "Ship Date", "Receive Date", "Date Transformation Completed"
_REFERENCE = "Traceability Lot Code Source Reference"
_INPUT, _NEW = "Input ", "New "
_DOCUMENTS = (("Reference Document Type", "Reference Document Number"),
              ("Reference Document Type (2)", "Reference Document Number (2)"))
_PRODUCT_KDE, _QUANTITY_KDE = "Product description", "Quantity and unit of measure"
_SOURCE_KDE = "Location description for the traceability lot code source, or the traceability lot code source reference"


def _place_headers(role: str) -> list[str]:
    return [f"{role}: {part.header}" for part in (*_BUSINESS_PARTS, *_LOCATION_PARTS)]


def _lot_columns(cfr: str, event: str, done: str) -> tuple[Column, ...]:
    return (Column(_LOT, "Traceability lot code", f"{cfr}(1)", f"The traceability lot code of the lot {done}.",
                   f"{event}.batch_id"),
            Column(_QUANTITY, _QUANTITY_KDE, f"{cfr}(2)", f"The quantity {done}, a number.", f"{event}.quantity"),
            Column(_UNIT, _QUANTITY_KDE, f"{cfr}(2)", "The unit of measure of the quantity.", f"{event}.unit"))


def _product_columns(prefix: str, kde: str, cfr: str, whose: str) -> tuple[Column, ...]:
    return tuple(Column(prefix + part.header, kde, cfr, part.meaning, f"registry: product.{part.source} of {whose}",
                        part.required) for part in _PRODUCT_PARTS)


def _place_columns(role: str, kde: str, cfr: str, org: str, location: str, country: str = "") -> tuple[Column, ...]:
    business = [f"registry: {part.source} of {org}" for part in _BUSINESS_PARTS]
    where = [f"registry: {part.source} of the location {location} of {org}" for part in _LOCATION_PARTS]
    where[-1] += f"; else {country}" if country else ""
    return tuple(Column(header, kde, cfr, f"{role}: {part.meaning[0].lower()}{part.meaning[1:]}", source)
                 for header, part, source in zip(_place_headers(role), (*_BUSINESS_PARTS, *_LOCATION_PARTS),
                                                 (*business, *where), strict=True))


def _source_columns(cfr: str) -> tuple[Column, ...]:
    made = "the production that made the lot"
    return (*_place_columns(_SOURCE, _SOURCE_KDE, cfr, f"production.org_id of {made}", "production.location_id"),
            Column(_REFERENCE, _SOURCE_KDE, cfr, "Where the source's location can be learnt (an FDA Food Facility "
                   "Registration number, a GS1 Digital Link URI), when it is not disclosed.",
                   f"production.tlc_source_reference of {made}", required=False))


def _document_columns(cfr: str, event: str) -> tuple[Column, ...]:
    kde, columns = "Reference document type and reference document number", []
    for index, (type_header, number_header) in enumerate(_DOCUMENTS):
        which = ("first", "second")[index]
        columns += [Column(type_header, kde, cfr, f"The {which} reference document's type (bill of lading, ...).",
                           f"{event}.reference_documents[{index}].type, by its name", required=index == 0),
                    Column(number_header, kde, cfr, f"The {which} reference document's number, as written.",
                           f"{event}.reference_documents[{index}].number", required=index == 0)]
    return tuple(columns)


@dataclass(frozen=True, slots=True)
class _Party:
    """One end of a shipment or receiving: its header prefix, its element, the event's fields naming it."""

    role: str
    kde: str
    org: str
    location: str
    country: str = ""  # the event's field that stands in for the location's country


def _movement(name: str, section: str, event: str, near: _Party, here: _Party, date_header: str, done: str) -> Sheet:
    """Shipping or Receiving: the other party (``near``), this end (``here``), the day it was ``done``."""
    def party(end: _Party, paragraph: str) -> tuple[Column, ...]:
        country = f"{event}.{end.country}" if end.country else ""
        return _place_columns(end.role, end.kde, paragraph, f"{event}.{end.org}", f"{event}.{end.location}", country)

    return Sheet(name, section, (
        *_lot_columns(section, event, done),
        *_product_columns("", _PRODUCT_KDE, f"{section}(3)", "the lot's product"),
        *party(near, f"{section}(4)"), *party(here, f"{section}(5)"),
        Column(date_header, f"Date {done}", f"{section}(6)", f"The day (UTC) the lot was {done}.",
               f"{event}.occurred_at"),
        *_source_columns(f"{section}(7)"),
        *_document_columns(f"{section}(8)", event)))


def _transformation_sheet() -> Sheet:
    used, new, section = "21 CFR 1.1350(a)(2)(i)", "21 CFR 1.1350(a)(2)(ii)", "21 CFR 1.1350(a)"
    where = "Location description for where the food was transformed (the traceability lot code source)"
    return Sheet("Transformation", section, (
        Column(_INPUT + _LOT, "Traceability lot code of the food used", f"{used}(A)", "A lot used.",
               "production.inputs[].batch_id"),
        *_product_columns(_INPUT, "Product description of the food used", f"{used}(B)", "the input lot's product"),
        Column(_INPUT + _QUANTITY, "Quantity and unit of measure of the food used", f"{used}(C)",
               "The quantity used of that lot, a number.", "production.inputs[].quantity"),
        Column(_INPUT + _UNIT, "Quantity and unit of measure of the food used", f"{used}(C)",
               "The unit of measure of the quantity used.", "production.inputs[].unit"),
        Column(_NEW + _LOT, "New traceability lot code", f"{new}(A)", "The lot made.", "production.outputs[].batch_id"),
        *_place_columns(_TRANSFORMED_AT, where, f"{new}(B)", "production.org_id", "production.location_id"),
        Column(_REFERENCE, "Traceability lot code source reference (if applicable)", f"{new}(B)",
               "Where the location can be learnt, if the maker gave a reference.",
               "production.tlc_source_reference", required=False),
        Column(_TRANSFORMED_ON, "Date transformation was completed", f"{new}(C)",
               "The day (UTC) the transformation was completed.", "production.occurred_at"),
        *_product_columns(_NEW, "Product description of the new food", f"{new}(D)", "the new lot's product"),
        Column(_NEW + _QUANTITY, "Quantity and unit of measure of the new food", f"{new}(E)",
               "The quantity made, a number.", "production.outputs[].quantity"),
        Column(_NEW + _UNIT, "Quantity and unit of measure of the new food", f"{new}(E)",
               "The unit of measure of the quantity made.", "production.outputs[].unit"),
        *_document_columns(f"{new}(F)", "production")))


_SHIPPED_TO = _Party(_RECIPIENT, "Location description for the immediate subsequent recipient (other than a "
                     "transporter)", "to_org", "to_location_id", "to_country")
_SHIPPED_FROM = _Party(_SHIP_FROM, "Location description for the location from which the food was shipped",
                       "from_org", "from_location")
_RECEIVED_FROM = _Party(_PREVIOUS, "Location description for the immediate previous source (other than a "
                        "transporter)", "from_org", "from_location")
_RECEIVED_WHERE = _Party(_RECEIVED_AT, "Location description for where the food was received", "to_org", "location_id")

#: The sheets, in the template's order: Shipping (A–AJ), Receiving (A–AJ), Transformation (A–AE).
SHEETS: tuple[Sheet, ...] = (
    _movement("Shipping", "21 CFR 1.1340(a)", "shipment", _SHIPPED_TO, _SHIPPED_FROM, _SHIP_DATE, "shipped"),
    _movement("Receiving", "21 CFR 1.1345(a)", "receiving", _RECEIVED_FROM, _RECEIVED_WHERE, _RECEIVE_DATE, "received"),
    _transformation_sheet(),
)
SHEET_NAMES: tuple[str, ...] = tuple(sheet.name for sheet in SHEETS)
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
            **_place(records, _RECIPIENT, s.to_org, s.to_location_id, "the shipment names no to_location_id",
                     s.to_country),
            **_place(records, _SHIP_FROM, s.from_org, s.from_location, "the shipment names no from_location"),
            _SHIP_DATE: _day(s.occurred_at),
            **_source(records, s.batch_id),
            **_documents(s.reference_documents, "the shipment")})


def _receiving(records: TrackingRecords) -> Iterator[_Line]:
    for r in sorted(records.receivings, key=lambda r: (_day(r.occurred_at), r.batch_id, r.receipt_id, r.event_id)):
        yield _Line(r.batch_id, r.event_id, {
            **_lot(records, r.batch_id, r.quantity, r.unit, "the receiving"),
            **_place(records, _PREVIOUS, r.from_org, r.from_location, "the receiving names no from_location"),
            **_place(records, _RECEIVED_AT, r.to_org, r.location_id, "the receiving names no location_id"),
            _RECEIVE_DATE: _day(r.occurred_at),
            **_source(records, r.batch_id),
            **_documents(r.reference_documents, "the receiving")})


def _transformation(records: TrackingRecords) -> Iterator[_Line]:
    in_scope = frozenset(records.lots)
    for p in sorted(records.productions, key=lambda p: (_day(p.occurred_at), p.event_id)):
        event: _Cells = {_TRANSFORMED_ON: _day(p.occurred_at), **_transformed_at(records, p),
                         **_documents(p.reference_documents, f"production {p.event_id}")}
        for made in sorted((out for out in p.outputs if out.batch_id in in_scope), key=lambda out: out.batch_id):
            new = _new(records, made)
            for used in p.inputs or (None,):
                yield _Line(made.batch_id, p.event_id, {**event, **new, **_used(records, used, p.event_id)})


def _new(records: TrackingRecords, made: OutputLot) -> _Cells:
    return {_NEW + _LOT: _known(made.batch_id, "the output names no lot"), _NEW + _QUANTITY: made.quantity,
            _NEW + _UNIT: _known(made.unit, "the output records no unit"),
            **_product(records, _NEW, made.product_id, f"output {made.batch_id} names no product")}


def _used(records: TrackingRecords, used: InputLot | None, event_id: str) -> _Cells:
    if used is None:
        headers = [_INPUT + _LOT, _INPUT + _QUANTITY, _INPUT + _UNIT, *(_INPUT + p.header for p in _PRODUCT_PARTS)]
        return _gaps(headers, f"production {event_id} records no input lot")
    return {_INPUT + _LOT: _known(used.batch_id, "the input names no lot"), _INPUT + _QUANTITY: used.quantity,
            _INPUT + _UNIT: _known(used.unit, "the input records no unit"),
            **_product(records, _INPUT, records.product_of(used.batch_id),
                       f"input lot {used.batch_id} has no production record")}


def _lot(records: TrackingRecords, lot: str, quantity: float, unit: str, event: str) -> _Cells:
    """Traceability lot code, quantity, unit of measure and the lot's product description."""
    return {_LOT: _known(lot, f"{event} names no lot"), _QUANTITY: quantity,
            _UNIT: _known(unit, f"{event} records no unit"),
            **_product(records, "", records.product_of(lot), f"lot {lot} has no production record")}


def _product(records: TrackingRecords, prefix: str, product_id: str, unknown: str) -> _Cells:
    """A product description (six cells); ``unknown`` says why when no product is named."""
    headers = [prefix + part.header for part in _PRODUCT_PARTS]
    product = records.products.get(product_id)
    if product is None:
        return _gaps(headers, f"product {product_id} is not in the registry" if product_id else unknown)
    values = (product.name, product.brand, product.commodity, product.variety, product.packaging_size,
              product.packaging_style)
    return {header: value if value or not part.required else _Gap(f"product {product_id} has no {part.noun}")
            for header, value, part in zip(headers, values, _PRODUCT_PARTS, strict=True)}


def _place(records: TrackingRecords, role: str, org_id: str, location_id: str, unnamed: str,
           country: str = "") -> _Cells:
    """A location description (seven cells): the organisation's name and phone, then its location.

    ``unnamed`` says why when the event names no location; ``country`` is the event's own word
    for the location's country (a shipment's ``to_country``), used when the location is not known.
    """
    business, phone, *parts = _place_headers(role)
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
            for header, value, part in zip(headers, values, _LOCATION_PARTS, strict=True)}


def _source(records: TrackingRecords, lot: str) -> _Cells:
    """The lot's traceability lot code source: where the production that made it took place, or a reference.

    Either one satisfies the element (21 CFR 1.1340(a)(7), 1.1345(a)(7)): given a reference, what is
    not known of the location is left empty, not listed; given neither, both are listed.
    """
    made = records.made.get(lot)
    if made is None:
        return _gaps([*_place_headers(_SOURCE), _REFERENCE], f"lot {lot} has no production record")
    cells = _place(records, _SOURCE, made.org_id, made.location_id, f"production {made.event_id} names no location_id")
    if made.tlc_source_reference:
        cells = {header: "" if isinstance(value, _Gap) else value for header, value in cells.items()}
        return {**cells, _REFERENCE: made.tlc_source_reference}
    located = records.location(made.org_id, made.location_id) is not None
    cells[_REFERENCE] = "" if located else _Gap(
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
    return {**_place(records, _TRANSFORMED_AT, made.org_id, made.location_id, unnamed), _REFERENCE: reference}


def _documents(documents: Sequence[ReferenceDocument], event: str) -> _Cells:
    """The event's reference documents (two pairs of cells): the type by its name, the number as written."""
    cells: _Cells = {}
    for index, (type_header, number_header) in enumerate(_DOCUMENTS):
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


def _letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
