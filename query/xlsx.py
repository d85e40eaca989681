"""A small streaming XLSX writer: sheets of text and numbers, rows written as they come.

A recall spreadsheet has tens of thousands of rows of 16 cells. A general writer spends several
microseconds per cell (xlsxwriter: about 6); this one writes each row as one piece of XML with its
strings inline (no shared-string table to build), so a sheet costs about the time to format its
text. It does only what the export needs: a bold, frozen header row, one width for every column,
an optional autofilter, strings that are always text (never a formula, number or link), finite
numbers, and days (``datetime.date``), written as Excel serial day numbers formatted
``mm/dd/yyyy`` so that a date column sorts and filters as dates.

Text is escaped for XML. Characters XML 1.0 cannot carry or would not keep (control characters,
carriage returns, lone surrogates) and text that looks like an OOXML escape (``_x0041_``) are
written as OOXML escapes, so what a spreadsheet program shows is what was written.
"""

from __future__ import annotations

import functools
import math
import re
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from typing import IO
from xml.sax.saxutils import escape, quoteattr

Cell = str | int | float | date

_NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_ROWS_PER_WRITE = 2_000
#: Day 0 of Excel's 1900 date system, as it counts from 1900-03-01 on (it holds 1900 a leap year).
_EPOCH = date(1899, 12, 30)
_FIRST_DAY = date(1900, 3, 1)


class Workbook:
    """Sheets are written in the order added; ``close`` writes the workbook parts and the zip's end."""

    def __init__(self, out: str | IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._sheets: list[tuple[str, str | None]] = []  # name, autofilter range

    def add_sheet(self, name: str, header: Iterable[str], rows: Iterable[Iterable[Cell]], *, width: float,
                  autofilter: bool = False) -> int:
        """Write a sheet: the bold header, then the rows. Returns the number of rows (header excluded)."""
        header = tuple(header)
        number = len(self._sheets) + 1
        count = 0
        selected = ' tabSelected="1"' if number == 1 else ""
        with self._zip.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
            part.write((
                f'{_DECLARATION}<worksheet {_NS}><sheetViews><sheetView workbookViewId="0"{selected}>'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
                f'<cols><col min="1" max="{len(header)}" width="{width}" customWidth="1"/></cols>'
                '<sheetData><row r="1">'
                + "".join(f'<c s="1" t="inlineStr"><is><t xml:space="preserve">{_text(h)}</t></is></c>' for h in header)
                + "</row>"
            ).encode())
            chunk: list[str] = []
            for count, row in enumerate(rows, start=1):
                chunk.append(f'<row r="{count + 1}">{"".join(map(_cell, row))}</row>')
                if len(chunk) == _ROWS_PER_WRITE:
                    part.write("".join(chunk).encode())
                    chunk.clear()
            part.write("".join(chunk).encode())
            area = f"A1:{_column(len(header))}{count + 1}" if autofilter else None
            part.write(("</sheetData>" + (f'<autoFilter ref="{area}"/>' if area else "") + "</worksheet>").encode())
        self._sheets.append((name, area))
        return count

    def close(self) -> None:
        sheets = range(1, len(self._sheets) + 1)
        self._zip.writestr("[Content_Types].xml", (
            f'{_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
                      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for n in sheets)
            + "</Types>"))
        self._zip.writestr("_rels/.rels", (
            f'{_DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        self._zip.writestr("xl/_rels/workbook.xml.rels", (
            f'{_DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                      f'relationships/worksheet" Target="worksheets/sheet{n}.xml"/>' for n in sheets)
            + f'<Relationship Id="rId{len(self._sheets) + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>'))
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
            f"{escape(_sheet_ref(name))}!{_absolute(area)}</definedName>"
            for n, (name, area) in enumerate(self._sheets) if area)
        self._zip.writestr("xl/workbook.xml", (
            f"{_DECLARATION}<workbook {_NS}><bookViews><workbookView/></bookViews><sheets>"
            + "".join(f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
                      for n, (name, _area) in enumerate(self._sheets, start=1))
            + "</sheets>" + (f"<definedNames>{filters}</definedNames>" if filters else "") + "</workbook>"))
        self._zip.writestr("xl/styles.xml", (
            f'{_DECLARATION}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="mm/dd/yyyy"/></numFmts>'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"))
        self._zip.close()


def _cell(value: Cell) -> str:
    if type(value) is str:  # the common case first, without isinstance's walk
        return _text_cell(value)
    if isinstance(value, str):
        return _cell(str(value))
    if isinstance(value, date):
        return f'<c s="2"><v>{_serial(value)}</v></c>'
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"not a number a spreadsheet can hold: {value!r}")
    return f"<c><v>{value!r}</v></c>"


@functools.lru_cache(maxsize=65_536)
def _text_cell(value: str) -> str:
    """A text cell. Remembered: a form repeats its names, places and reasons in row after row (an LRU
    of 64k cells halves the time of a 50,000-row FSMA workbook, measured); an empty cell is ``<c/>``,
    kept in its place (left out, the cells after it would move left)."""
    if not value:
        return "<c/>"
    return f'<c t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'


def _serial(day: date) -> int:
    """Excel's serial number of a day; a moment is refused (its day would depend on a time zone)."""
    if isinstance(day, datetime) or day < _FIRST_DAY:
        raise ValueError(f"not a day a spreadsheet can hold: {day!r}")
    return (day - _EPOCH).days


def _text(value: str) -> str:
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return escape(_UNWRITABLE.sub(_ooxml_escape, value))


def _ooxml_escape(found: re.Match[str]) -> str:
    """``_xHHHH_`` for a character XML cannot carry; ``_x005F_`` for the underscore of a literal escape."""
    return f"_x{ord(found.group()):04X}_"


def _column(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_ref(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _absolute(area: str) -> str:
    return ":".join("$" + re.sub(r"(\d+)", r"$\1", corner) for corner in area.split(":"))
