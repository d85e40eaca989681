"""FSMA 204's electronic sortable spreadsheet as files: the XLSX workbook, or one sheet as CSV.

The rows are ``traceability.fsma_template``'s, already neutralised against formula injection; this
module only lays them out. The workbook has the template's three sheets in its order, then "About"
(what was asked, as of when, whether the records are complete, and one row per missing element, so
that a regulator can sort what is lacking like the rest) and "Data dictionary" (per column, the key
data element, its CFR citation, its meaning and where Lotline takes it from).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, TextIO

from query import xlsx
from traceability.errors import BadParameter
from traceability.fsma import neutralised
from traceability.fsma_template import SHEET_NAMES, SHEETS, Cell, Form, Row
from traceability.json_form import utc_text
from traceability.tracking import TrackingRecords

#: The workbook's sheets, in order: the template's, then Lotline's two.
XLSX_SHEETS: tuple[str, ...] = (*SHEET_NAMES, "About", "Data dictionary")
_ABOUT = ("field", "value or sheet", "lot", "element", "event id", "why")
_DICTIONARY = ("sheet", "column", "header", "key data element", "CFR citation", "required", "meaning",
               "Lotline source")


def write_xlsx(form: Form, records: TrackingRecords, out: str | IO[bytes], now: datetime) -> int:
    """Write the workbook to a path or a binary file.

    Args:
        form: The filled sheets (``traceability.fsma_template.form(records)``).
        records: What they were filled from (for the About sheet: the request, the moment, the lots).
        out: A path, or a binary file open for writing.
        now: When the workbook is generated.

    Returns:
        The number of rows of the three tracking-event sheets together.
    """
    book = xlsx.Workbook(out)
    count = sum(book.add_sheet(sheet.name, sheet.headers, form.rows[sheet.name], width=24, autofilter=True)
                for sheet in SHEETS)
    book.add_sheet("About", _ABOUT, _neutralised(_about(form, records, now)), width=28, autofilter=True)
    book.add_sheet("Data dictionary", _DICTIONARY, _neutralised(_dictionary()), width=28, autofilter=True)
    book.close()
    return count


def write_csv(form: Form, sheet: str, out: TextIO) -> int:
    """Write one sheet as CSV (RFC 4180: CRLF, a header row; days as ``MM/DD/YYYY``).

    Raises:
        BadParameter: ``sheet`` is not one of the template's sheets.
    """
    if sheet not in SHEET_NAMES:
        raise BadParameter("sheet", f"expected one of {', '.join(SHEET_NAMES)}, got {sheet!r}")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SHEETS[SHEET_NAMES.index(sheet)].headers)
    writer.writerows([_us_day(cell) for cell in row] for row in form.rows[sheet])
    return len(form.rows[sheet])


def write_csv_files(form: Form, records: TrackingRecords, name: Path, now: datetime) -> list[Path]:
    """The CSV form of the workbook: one file per sheet beside ``name`` (``NAME.shipping.csv``, …,
    ``NAME.about.csv``; a CSV holds one sheet), returned in the workbook's order."""
    written = []
    for sheet in SHEET_NAMES:
        path = name.with_suffix(f".{sheet.lower()}.csv")
        with path.open("w", newline="", encoding="utf-8") as out:
            write_csv(form, sheet, out)
        written.append(path)
    about = name.with_suffix(".about.csv")
    with about.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(_ABOUT)
        writer.writerows(_neutralised(_about(form, records, now)))
    return [*written, about]


def xlsx_bytes(form: Form, records: TrackingRecords, now: datetime) -> bytes:
    """The workbook of `write_xlsx`, in memory (an HTTP answer)."""
    buffer = io.BytesIO()
    write_xlsx(form, records, buffer, now)
    return buffer.getvalue()


def csv_text(form: Form, sheet: str) -> str:
    """One sheet as the CSV of `write_csv`, in memory."""
    buffer = io.StringIO()
    write_csv(form, sheet, buffer)
    return buffer.getvalue()


def _about(form: Form, records: TrackingRecords, now: datetime) -> Iterator[tuple[xlsx.Cell, ...]]:
    yield "what was asked", records.request.describe()
    yield "as of", utc_text(records.as_of) if records.as_of else "latest (no as_of)"
    yield "generated at", utc_text(now)
    for sheet in SHEETS:
        yield f"rows: {sheet.name}", len(form.rows[sheet.name])
    yield "lots in scope", len(records.lots)
    yield "complete", "yes" if form.complete else "no"
    yield "missing elements", len(form.missing)
    for gap in form.missing:
        yield "missing", gap.sheet, gap.lot, gap.element, gap.event_id, gap.why


def _dictionary() -> Iterator[tuple[xlsx.Cell, ...]]:
    for sheet in SHEETS:
        for letter, column in zip(sheet.letters, sheet.columns, strict=True):
            yield (sheet.name, letter, column.header, column.kde, column.cfr,
                   "yes" if column.required else "no", column.meaning, column.source)


def _neutralised(rows: Iterable[tuple[xlsx.Cell, ...]]) -> Iterator[Row]:
    """Text from publishers (lot codes, event ids, the reasons that name them) made safe."""
    return (tuple(cell if isinstance(cell, date) else neutralised(cell) for cell in row) for row in rows)


def _us_day(cell: Cell) -> Cell:
    """A day as the template's US form (``11/21/2026``); anything else as it is."""
    return f"{cell.month:02d}/{cell.day:02d}/{cell.year:04d}" if isinstance(cell, date) else cell
