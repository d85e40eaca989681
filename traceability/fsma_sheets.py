"""The layout of FSMA 204's electronic sortable spreadsheet (21 CFR 1.1455(c)(3)): its sheets and columns.

The FDA's template (``FSMAFoodTraceability-ElectronicSortableSpreadsheet-June2024.xlsx``) has one
sheet per critical tracking event; `SHEETS` holds Shipping (A–AJ), Receiving (A–AJ) and
Transformation (A–AE) with the template's column positions, each header in the wording of the
regulation's key data elements (the file itself could not be read here; ``tests/data/fda`` records
what is known of it, and a test holds the two equal). Each column says which element it carries,
the paragraph that asks for it, what it means and where Lotline takes it from: the data dictionary
of the workbook. ``traceability.fsma_template`` fills them.
"""

from __future__ import annotations

from dataclasses import dataclass


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


# --- the columns ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Part:
    """One part of a product or location description: its header, how a reason names it, where from."""

    header: str
    noun: str
    meaning: str
    source: str
    required: bool = True


PRODUCT_PARTS = (
    _Part("Product Name", "name", "The product name.", "name"),
    _Part("Brand", "brand", "The brand, if applicable.", "brand", required=False),
    _Part("Commodity", "commodity", "The commodity, if applicable.", "commodity", required=False),
    _Part("Variety", "variety", "The variety, if applicable.", "variety", required=False),
    _Part("Packaging Size", "packaging size", "The packaging size ('1 car, 14 cm').", "packaging_size"),
    _Part("Packaging Style", "packaging style", "The packaging style ('window box').", "packaging_style"),
)
BUSINESS_PARTS = (
    _Part("Business Name", "name", "The business name.", "organisation.name"),
    _Part("Phone Number", "phone", "The business's phone number, with its country code.", "organisation.phone"),
)
LOCATION_PARTS = (
    _Part("Physical Location Address", "street address or coordinates",
          "The street address, or else the geographic coordinates (latitude, longitude).",
          "location.street, else location.latitude and longitude"),
    _Part("City", "city", "The city.", "location.city"),
    _Part("State", "region", "The state (province or region, for a foreign location).", "location.region"),
    _Part("Zip Code", "postal code", "The zip code (postal code, for a foreign location).", "location.postal_code"),
    _Part("Country", "country", "The country (ISO 3166-1 alpha-2).", "location.country"),
)

LOT, QUANTITY, UNIT = "Traceability Lot Code", "Quantity", "Unit of Measure"
RECIPIENT, SHIP_FROM, SOURCE = "Immediate Subsequent Recipient", "Ship-From Location", "Traceability Lot Code Source"
PREVIOUS, RECEIVED_AT, TRANSFORMED_AT = "Immediate Previous Source", "Receiving Location", "Transformation Location"
SHIP_DATE, RECEIVE_DATE, TRANSFORMED_ON = "Ship Date", "Receive Date", "Date Transformation Completed"
REFERENCE = "Traceability Lot Code Source Reference"
INPUT, NEW = "Input ", "New "
DOCUMENTS = (("Reference Document Type", "Reference Document Number"),
              ("Reference Document Type (2)", "Reference Document Number (2)"))
_PRODUCT_KDE, _QUANTITY_KDE = "Product description", "Quantity and unit of measure"
_SOURCE_KDE = "Location description for the traceability lot code source, or the traceability lot code source reference"


def place_headers(role: str) -> list[str]:
    return [f"{role}: {part.header}" for part in (*BUSINESS_PARTS, *LOCATION_PARTS)]


def _lot_columns(cfr: str, event: str, done: str) -> tuple[Column, ...]:
    return (Column(LOT, "Traceability lot code", f"{cfr}(1)", f"The traceability lot code of the lot {done}.",
                   f"{event}.batch_id"),
            Column(QUANTITY, _QUANTITY_KDE, f"{cfr}(2)", f"The quantity {done}, a number.", f"{event}.quantity"),
            Column(UNIT, _QUANTITY_KDE, f"{cfr}(2)", "The unit of measure of the quantity.", f"{event}.unit"))


def _product_columns(prefix: str, kde: str, cfr: str, whose: str) -> tuple[Column, ...]:
    return tuple(Column(prefix + part.header, kde, cfr, part.meaning, f"registry: product.{part.source} of {whose}",
                        part.required) for part in PRODUCT_PARTS)


def _place_columns(role: str, kde: str, cfr: str, org: str, location: str, country: str = "") -> tuple[Column, ...]:
    business = [f"registry: {part.source} of {org}" for part in BUSINESS_PARTS]
    where = [f"registry: {part.source} of the location {location} of {org}" for part in LOCATION_PARTS]
    where[-1] += f"; else {country}" if country else ""
    return tuple(Column(header, kde, cfr, f"{role}: {part.meaning[0].lower()}{part.meaning[1:]}", source)
                 for header, part, source in zip(place_headers(role), (*BUSINESS_PARTS, *LOCATION_PARTS),
                                                 (*business, *where), strict=True))


def _source_columns(cfr: str) -> tuple[Column, ...]:
    made = "the production that made the lot"
    return (*_place_columns(SOURCE, _SOURCE_KDE, cfr, f"production.org_id of {made}", "production.location_id"),
            Column(REFERENCE, _SOURCE_KDE, cfr, "Where the source's location can be learnt (an FDA Food Facility "
                   "Registration number, a GS1 Digital Link URI), when it is not disclosed.",
                   f"production.tlc_source_reference of {made}", required=False))


def _document_columns(cfr: str, event: str) -> tuple[Column, ...]:
    kde, columns = "Reference document type and reference document number", []
    for index, (type_header, number_header) in enumerate(DOCUMENTS):
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
        Column(INPUT + LOT, "Traceability lot code of the food used", f"{used}(A)", "A lot used.",
               "production.inputs[].batch_id"),
        *_product_columns(INPUT, "Product description of the food used", f"{used}(B)", "the input lot's product"),
        Column(INPUT + QUANTITY, "Quantity and unit of measure of the food used", f"{used}(C)",
               "The quantity used of that lot, a number.", "production.inputs[].quantity"),
        Column(INPUT + UNIT, "Quantity and unit of measure of the food used", f"{used}(C)",
               "The unit of measure of the quantity used.", "production.inputs[].unit"),
        Column(NEW + LOT, "New traceability lot code", f"{new}(A)", "The lot made.", "production.outputs[].batch_id"),
        *_place_columns(TRANSFORMED_AT, where, f"{new}(B)", "production.org_id", "production.location_id"),
        Column(REFERENCE, "Traceability lot code source reference (if applicable)", f"{new}(B)",
               "Where the location can be learnt, if the maker gave a reference.",
               "production.tlc_source_reference", required=False),
        Column(TRANSFORMED_ON, "Date transformation was completed", f"{new}(C)",
               "The day (UTC) the transformation was completed.", "production.occurred_at"),
        *_product_columns(NEW, "Product description of the new food", f"{new}(D)", "the new lot's product"),
        Column(NEW + QUANTITY, "Quantity and unit of measure of the new food", f"{new}(E)",
               "The quantity made, a number.", "production.outputs[].quantity"),
        Column(NEW + UNIT, "Quantity and unit of measure of the new food", f"{new}(E)",
               "The unit of measure of the quantity made.", "production.outputs[].unit"),
        *_document_columns(f"{new}(F)", "production")))


_SHIPPED_TO = _Party(RECIPIENT, "Location description for the immediate subsequent recipient (other than a "
                     "transporter)", "to_org", "to_location_id", "to_country")
_SHIPPED_FROM = _Party(SHIP_FROM, "Location description for the location from which the food was shipped",
                       "from_org", "from_location")
_RECEIVED_FROM = _Party(PREVIOUS, "Location description for the immediate previous source (other than a "
                        "transporter)", "from_org", "from_location")
_RECEIVED_WHERE = _Party(RECEIVED_AT, "Location description for where the food was received", "to_org", "location_id")

#: The sheets, in the template's order: Shipping (A–AJ), Receiving (A–AJ), Transformation (A–AE).
SHEETS: tuple[Sheet, ...] = (
    _movement("Shipping", "21 CFR 1.1340(a)", "shipment", _SHIPPED_TO, _SHIPPED_FROM, SHIP_DATE, "shipped"),
    _movement("Receiving", "21 CFR 1.1345(a)", "receiving", _RECEIVED_FROM, _RECEIVED_WHERE, RECEIVE_DATE, "received"),
    _transformation_sheet(),
)
SHEET_NAMES: tuple[str, ...] = tuple(sheet.name for sheet in SHEETS)


def _letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
