"""The streaming XLSX writer, read back with openpyxl: text stays text, numbers stay numbers."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from query.xlsx import Workbook

pytestmark = pytest.mark.unit


def written(sheets: dict[str, tuple[tuple[str, ...], list[tuple[object, ...]], bool]]) -> bytes:
    buffer = io.BytesIO()
    book = Workbook(buffer)
    for name, (header, rows, autofilter) in sheets.items():
        assert book.add_sheet(name, header, rows, width=20, autofilter=autofilter) == len(rows)
    book.close()
    return buffer.getvalue()


def unescaped(text: str) -> str:
    """What a spreadsheet program shows for an OOXML text: ``_xHHHH_`` is the character HHHH."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def test_sheets_come_back_in_order_with_a_bold_frozen_header_and_an_autofilter_over_the_rows():
    data = written({
        "Recall scope": (("lot", "quantity"), [("LOT-1", 12.5), ("LOT-2", 3)], True),
        "It's small": (("field", "value"), [("as of", "2026-11-21T00:00:00Z")], False),
    })
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Recall scope", "It's small"]
    first = book["Recall scope"]
    assert [tuple(r) for r in first.iter_rows(values_only=True)] == [("lot", "quantity"), ("LOT-1", 12.5), ("LOT-2", 3)]
    assert first["A1"].font.b and not first["A2"].font.b
    assert first.freeze_panes == "A2"
    assert first.auto_filter.ref == "A1:B3"
    assert book["It's small"].auto_filter.ref is None
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_text_that_looks_like_a_formula_a_number_or_markup_is_written_as_text():
    hostile = ["=HYPERLINK(\"http://x\")", "+1-555", "@SUM(A1:A9)", "42", "<b>&amp;</b>", "]]>", "'quoted'"]
    data = written({"S": (("v",), [(v,) for v in hostile], False)})
    cells = [row[0] for row in openpyxl.load_workbook(io.BytesIO(data))["S"].iter_rows(min_row=2)]
    assert [c.value for c in cells] == hostile
    assert {c.data_type for c in cells} == {"s"}


def test_a_number_that_is_not_finite_is_refused_rather_than_written_as_a_corrupt_cell():
    with pytest.raises(ValueError, match="nan"):
        written({"S": (("v",), [(float("nan"),)], False)})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(), st.floats(allow_nan=False, allow_infinity=False) | st.integers(-2**53, 2**53)),
                max_size=20))
def test_any_text_and_any_finite_number_come_back_as_written(rows):
    data = written({"S": (("text", "number"), rows, True)})
    back = list(openpyxl.load_workbook(io.BytesIO(data))["S"].iter_rows(min_row=2, values_only=True))
    assert [(unescaped(text or ""), number) for text, number in back] == [(t, n) for t, n in rows]
