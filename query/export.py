"""The recall scope as a regulator's spreadsheet: CSV (one sheet) or XLSX (with its data dictionary).

Both carry the rows of ``traceability.fsma``: one per tracking event, already neutralised
against formula injection. The XLSX adds sheets for the affected lots, the totals per country
and recipient, what the answer is (batch, moment, completeness) and the data dictionary.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import IO, TextIO

import xlsxwriter

from traceability import fsma
from traceability.json_form import utc_text
from traceability.scope import Recall


def write_csv(recall: Recall, out: TextIO) -> int:
    """Write the tracking events as CSV (RFC 4180, header row); returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fsma.HEADER)
    count = 0
    for row in fsma.rows(recall):
        writer.writerow(row)
        count += 1
    return count


def write_xlsx(recall: Recall, out: str | IO[bytes], now: datetime) -> int:
    """Write the workbook to a path or a binary file; returns the number of tracking-event rows."""
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "in_memory": not isinstance(out, str)})
    bold = book.add_format({"bold": True})
    count = _events_sheet(book, recall, bold)
    _table(book, "Affected lots", bold, ("batch_id", "depth", "status", "product_id", "quantity", "unit"),
           [(a.batch_id, a.depth, a.status, a.product_id, a.quantity if a.quantity is not None else "", a.unit)
            for a in recall.affected])
    _table(book, "Totals", bold, ("by", "key", "unit", "quantity", "shipments"),
           [("country", t.key, t.unit, t.quantity, t.shipments) for t in recall.by_country]
           + [("recipient", t.key, t.unit, t.quantity, t.shipments) for t in recall.by_recipient])
    _table(book, "About", bold, ("field", "value"), _about(recall, count, now))
    _table(book, "Data dictionary", bold, ("column", "meaning", "FSMA 204 key data element"),
           [(c.name, c.meaning, c.kde or "(Lotline)") for c in fsma.COLUMNS])
    book.close()
    return count


def xlsx_bytes(recall: Recall, now: datetime) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(recall, buffer, now)
    return buffer.getvalue()


def csv_text(recall: Recall) -> str:
    buffer = io.StringIO()
    write_csv(recall, buffer)
    return buffer.getvalue()


def _events_sheet(book: xlsxwriter.Workbook, recall: Recall, bold: object) -> int:
    sheet = book.add_worksheet("Recall scope")
    sheet.write_row(0, 0, fsma.HEADER, bold)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(fsma.rows(recall), start=1):
        _write_row(sheet, count, row)
    sheet.autofilter(0, 0, max(count, 1), len(fsma.HEADER) - 1)
    sheet.set_column(0, len(fsma.HEADER) - 1, 18)
    return count


def _table(book: xlsxwriter.Workbook, name: str, bold: object, header: tuple[str, ...],
           rows: list[tuple[fsma.Cell, ...]]) -> None:
    sheet = book.add_worksheet(name)
    sheet.write_row(0, 0, header, bold)
    sheet.freeze_panes(1, 0)
    for r, row in enumerate(rows, start=1):
        _write_row(sheet, r, tuple(fsma.neutralised(cell) for cell in row))
    sheet.set_column(0, len(header) - 1, 22)


def _write_row(sheet: object, r: int, row: tuple[fsma.Cell, ...]) -> None:
    # Strings go in as strings whatever they look like: never a formula, a number or a link.
    for c, cell in enumerate(row):
        if isinstance(cell, str):
            sheet.write_string(r, c, cell)  # type: ignore[attr-defined]
        else:
            sheet.write_number(r, c, cell)  # type: ignore[attr-defined]


def _about(recall: Recall, count: int, now: datetime) -> list[tuple[fsma.Cell, ...]]:
    flags = recall.completeness
    return [
        ("recalled lot", recall.batch_id),
        ("status", recall.status),
        ("risk sources", ", ".join(recall.risk_sources)),
        ("as of", utc_text(recall.as_of) if recall.as_of else "latest (no as_of)"),
        ("generated at", utc_text(now)),
        ("affected lots", len(recall.affected)),
        ("shipments", len(recall.shipments)),
        ("tracking events", count),
        ("complete", "yes" if flags.complete else "no"),
        ("lots with no production record", ", ".join(flags.unsourced_batches)),
        ("shipped with no production record", ", ".join(flags.shipped_without_production)),
        ("reports from unregistered labs", ", ".join(flags.unregistered_labs)),
    ]
