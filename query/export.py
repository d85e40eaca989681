"""The recall scope as a regulator's spreadsheet: CSV (one sheet) or XLSX (with its data dictionary).

Both carry the rows of ``traceability.fsma``: one per tracking event, already neutralised
against formula injection. The XLSX adds sheets for the affected lots, the totals per country
and recipient, what the answer is (batch, moment, completeness) and the data dictionary.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, TextIO

from query import xlsx
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


#: The workbook's sheets, in order.
XLSX_SHEETS = ("Recall scope", "Affected lots", "Totals", "About", "Data dictionary")


def write_xlsx(recall: Recall, out: str | IO[bytes], now: datetime) -> int:
    """Write the workbook to a path or a binary file; returns the number of tracking-event rows."""
    book = xlsx.Workbook(out)
    scope, lots, totals, about, dictionary = XLSX_SHEETS
    count = book.add_sheet(scope, fsma.HEADER, fsma.rows(recall), width=18, autofilter=True)
    book.add_sheet(lots, ("batch_id", "depth", "status", "product_id", "quantity", "unit"),
                   _neutralised((a.batch_id, a.depth, a.status, a.product_id,
                                 a.quantity if a.quantity is not None else "", a.unit) for a in recall.affected),
                   width=22)
    book.add_sheet(totals, ("by", "key", "unit", "quantity", "shipments"),
                   _neutralised([("country", t.key, t.unit, t.quantity, t.shipments) for t in recall.by_country]
                                + [("recipient", t.key, t.unit, t.quantity, t.shipments) for t in recall.by_recipient]),
                   width=22)
    book.add_sheet(about, ("field", "value"), _neutralised(_about(recall, count, now)), width=22)
    book.add_sheet(dictionary, ("column", "meaning", "FSMA 204 key data element"),
                   _neutralised((c.name, c.meaning, c.kde or "(Lotline)") for c in fsma.COLUMNS), width=22)
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


def _neutralised(rows: Iterable[tuple[fsma.Cell, ...]]) -> Iterator[tuple[fsma.Cell, ...]]:
    return (tuple(fsma.neutralised(cell) for cell in row) for row in rows)


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
