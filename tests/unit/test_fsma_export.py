"""The electronic sortable spreadsheet as files: the XLSX read back with openpyxl, the CSV with ``csv``."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from query.fsma_export import XLSX_SHEETS, csv_text, write_csv, xlsx_bytes
from query.xlsx import Workbook
from tests.unit.test_fsma_template import FULL, PAYLOAD, chain, with_org
from traceability.errors import BadParameter
from traceability.fsma_template import SHEETS, Form, form
from traceability.tracking import TrackingRecords

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def workbook(records: TrackingRecords) -> tuple[Form, openpyxl.Workbook]:
    result = form(records)
    return result, openpyxl.load_workbook(io.BytesIO(xlsx_bytes(result, records, NOW)))


def values(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[tuple[object, ...]]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def as_written(cell: object) -> object:
    """openpyxl reads a date cell as a datetime at midnight."""
    return cell.date() if isinstance(cell, datetime) else cell


def test_the_workbook_has_the_templates_sheets_first_then_about_and_the_data_dictionary():
    _result, book = workbook(FULL)
    assert book.sheetnames == [*(s.name for s in SHEETS), "About", "Data dictionary"] == list(XLSX_SHEETS)


def test_each_event_sheet_has_the_templates_headers_bold_and_frozen_over_its_rows_and_an_autofilter():
    result, book = workbook(FULL)
    for sheet in SHEETS:
        found = book[sheet.name]
        rows = values(found)
        assert rows[0] == sheet.headers
        assert [tuple(as_written(cell) for cell in row) for row in rows[1:]] == list(result.rows[sheet.name])
        assert found["A1"].font.b and found.freeze_panes == "A2"
        assert found.auto_filter.ref == f"A1:{sheet.letters[-1]}{len(rows)}"


def test_dates_are_date_cells_in_us_form_numbers_are_numbers_and_the_rest_is_text():
    _result, book = workbook(FULL)
    for sheet in SHEETS:
        for column, header in zip(book[sheet.name].iter_cols(min_row=2), sheet.headers, strict=True):
            kinds = {(cell.data_type, cell.is_date) for cell in column}
            if "Date" in header:
                assert kinds == {("d", True)}, header  # a number in the file, a date to openpyxl
                assert {cell.number_format for cell in column} == {"mm/dd/yyyy"}
            elif "Quantity" in header:
                assert kinds == {("n", False)} and all(isinstance(c.value, int | float) for c in column), header
            else:
                assert kinds == {("s", False)}, header
    assert book["Shipping"]["X3"].value.date() == date(2026, 11, 5)


def test_the_about_sheet_says_what_was_asked_when_and_lists_every_missing_element():
    records = with_org(FULL, "ORG-MART", phone="")
    result, book = workbook(records)
    rows = values(book["About"])
    fields = {row[0]: row[1] for row in rows[1:] if row[0] != "missing"}
    assert fields == {
        "what was asked": "2 traceability lot codes", "as of": "2026-12-02T08:00:00Z",
        "generated at": "2026-12-03T09:30:00Z", "rows: Shipping": 2, "rows: Receiving": 2, "rows: Transformation": 3,
        "lots in scope": 2, "complete": "no", "missing elements": 2}
    assert [row for row in rows if row[0] == "missing"] == [
        ("missing", gap.sheet, gap.lot, gap.element, gap.event_id, gap.why) for gap in result.missing]
    assert ("missing", "Shipping", "TOY-1", "Immediate Subsequent Recipient: Phone Number", "ev-shp-toy",
            "ORG-MART has no phone in the registry") in rows
    assert book["About"].auto_filter.ref is not None


def test_a_complete_form_says_so():
    _result, book = workbook(FULL)
    assert ("complete", "yes", None, None, None, None) in values(book["About"])


def test_the_data_dictionary_has_every_column_of_every_sheet_with_its_element_citation_and_source():
    _result, book = workbook(FULL)
    rows = values(book["Data dictionary"])
    assert rows[0] == ("sheet", "column", "header", "key data element", "CFR citation", "required", "meaning",
                       "Lotline source")
    assert [row[:6] for row in rows[1:]] == [
        (s.name, letter, c.header, c.kde, c.cfr, "yes" if c.required else "no")
        for s in SHEETS for letter, c in zip(s.letters, s.columns, strict=True)]
    assert all(row[6] and row[7] for row in rows[1:])


def test_text_that_is_a_formula_stays_text_in_every_sheet_of_the_workbook():
    result, book = workbook(chain(PAYLOAD))
    assert result.missing == ()
    for sheet in SHEETS:
        texts = [cell for row in book[sheet.name].iter_rows(min_row=2) for cell in row if cell.data_type == "s"]
        assert texts and all(cell.value.startswith("'" + PAYLOAD) for cell in texts)
    hostile = with_org(chain(PAYLOAD), PAYLOAD + "ORG-MART", phone="")
    about = values(workbook(hostile)[1]["About"])
    missing = [row for row in about if row[0] == "missing"]
    assert missing and all(str(row[i]).startswith("'" + PAYLOAD) for row in missing for i in (2, 4, 5))  # lot, id, why


@pytest.mark.parametrize("sheet", [s.name for s in SHEETS])
def test_a_sheet_as_csv_round_trips_with_its_header_and_us_dates(sheet: str):
    records = chain(PAYLOAD)
    result = form(records)
    text = csv_text(result, sheet)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(header) == next(s for s in SHEETS if s.name == sheet).headers
    assert rows == [[_csv(cell) for cell in row] for row in result.rows[sheet]]
    assert write_csv(result, sheet, io.StringIO()) == len(result.rows[sheet])


def test_a_csv_day_is_month_day_year():
    rows = list(csv.reader(io.StringIO(csv_text(form(FULL), "Shipping"), newline="")))
    assert rows[2][rows[0].index("Ship Date")] == "11/05/2026"


def test_a_sheet_the_template_does_not_have_is_refused_by_name():
    with pytest.raises(BadParameter, match="sheet: expected one of Shipping, Receiving, Transformation"):
        write_csv(form(FULL), "About", io.StringIO())


def test_the_writer_refuses_a_moment_for_a_day_and_a_day_excel_cannot_count():
    for cell in (datetime(2026, 11, 5, tzinfo=UTC), date(1900, 2, 28)):
        with pytest.raises(ValueError, match="not a day"):
            Workbook(io.BytesIO()).add_sheet("S", ("d",), [(cell,)], width=10)


def _csv(cell: object) -> str:
    return f"{cell.month:02d}/{cell.day:02d}/{cell.year}" if isinstance(cell, date) else str(cell)
