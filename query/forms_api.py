"""The regulators' forms over HTTP: FSMA 204's sortable spreadsheet (by recall scope, by lot codes, by
product over dates) and an EU Safety Gate notification draft.

They are for regulators (the lots they may read, as their recalls) and admins; to anybody else a
batch is the same 404 as an unknown one, and a list of lots or a product has no records.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import StringConstraints

from query import fsma_export
from query.callers import Caller
from query.gate import Gate, signed_in
from query.params import ID_MAX, ID_PATTERN, date_range, identifier, moment
from query.render.safety_gate import CONTENT_SECURITY_POLICY, notification_html, notification_json
from query.scope import answer_building
from sinks.drivers import driver_errors
from traceability.access import Principal
from traceability.errors import ClickHouseUnavailable
from traceability.fsma_template import SHEETS, form
from traceability.tracking import Request

_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The most lot codes one request may name.
MAX_LOTS = 10_000
_SHEET_NAMES = tuple(sheet.name.lower() for sheet in SHEETS)
#: The draft as a page: its own inline style and nothing else, never framed, never cached.
_PAGE_HEADERS = {"Content-Security-Policy": f"{CONTENT_SECURITY_POLICY}; frame-ancestors 'none'",
                 "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}

AsOf = Annotated[str | None, Query(description="as known at this moment (RFC 3339 / ISO 8601 with a zone)",
                                   max_length=64, json_schema_extra={"format": "date-time"})]
Format = Annotated[Literal["xlsx", "csv"], Query(description="xlsx (every sheet, the About sheet and the data "
                                                 "dictionary) or csv (one sheet, named by `sheet`)")]
SheetName = Annotated[Literal["shipping", "receiving", "transformation"], Query(
    description="with format=csv: the sheet to give (a CSV holds one)")]
BatchId = Annotated[str, Path(description="batch (lot) id", examples=["PIG-RED-2610-07"], pattern=ID_PATTERN,
                              max_length=ID_MAX)]
ProductId = Annotated[str, Path(description="product id, as production outputs name it", examples=["SKU-CAR-RED"],
                                pattern=ID_PATTERN, max_length=ID_MAX)]
LotCode = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=ID_MAX)]
Bound = Annotated[str, Query(description="a day (2026-11-01, UTC; `to` is inclusive) or a moment", max_length=64)]


class FormServices(Protocol):
    def gate(self) -> Gate:
        """The access gate for the calling thread."""


def forms_router(services: FormServices, timed: Callable[[str], Any], now: Callable[[], datetime]) -> APIRouter:
    router = APIRouter()

    def spreadsheet(principal: Principal, request: Request, as_of: datetime | None, format: str,
                    sheet: str, name: str) -> Response:
        with timed("fsma"), answer_building():
            with driver_errors(ClickHouseUnavailable):
                records = services.gate().tracking(principal, request, as_of)
            filled = form(records)
            if format == "csv":
                title = SHEETS[_SHEET_NAMES.index(sheet)].name
                body, media = fsma_export.csv_text(filled, title).encode(), "text/csv; charset=utf-8"
                name = f"{name}.{sheet}.csv"
            else:
                body, media, name = fsma_export.xlsx_bytes(filled, records, now()), _XLSX, f"{name}.xlsx"
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    _sheets = {200: {"content": {_XLSX: {}, "text/csv": {}}, "description": "the sortable spreadsheet"}}

    @router.get("/v1/batches/{batch_id}/fsma", tags=["forms"],
                responses={**_sheets, 404: {"description": "unknown batch"}, 422: {"description": "malformed"}})
    def fsma_recall(principal: Caller, batch_id: BatchId, as_of: AsOf = None, format: Format = "xlsx",
                    sheet: SheetName = "shipping") -> Response:
        """FSMA 204's electronic sortable spreadsheet of the recall scope of a batch (it and every
        descendant): Shipping, Receiving and Transformation as the FDA's template lays them out, an About
        sheet naming every element the records leave empty, and the data dictionary."""
        batch, when = identifier("batch_id", batch_id), moment("as_of", as_of)
        signed_in(principal)
        return spreadsheet(principal, Request("recall", batch_id=batch), when, format, sheet, f"fsma-{batch}")

    @router.get("/v1/products/{product_id}/fsma", tags=["forms"],
                responses={**_sheets, 422: {"description": "malformed id or date"}})
    def fsma_product(principal: Caller, product_id: ProductId, from_: Annotated[str, Query(
                         alias="from", description="first day (2026-11-01, UTC) or moment", max_length=64)],
                     to: Bound, as_of: AsOf = None, format: Format = "xlsx", sheet: SheetName = "shipping") -> Response:
        """The sortable spreadsheet of every lot of a product, with the tracking events between `from` and
        `to` (as the rule lets FDA ask: a food over a date range)."""
        product = identifier("product_id", product_id)
        start, end = date_range("from", from_, "to", to)
        when = moment("as_of", as_of)
        signed_in(principal)
        request = Request("product", product_id=product, start=start, end=end)
        return spreadsheet(principal, request, when, format, sheet, f"fsma-{product}")

    @router.post("/v1/fsma", tags=["forms"], responses={**_sheets, 422: {"description": "malformed lot codes"}})
    def fsma_lots(principal: Caller, lots: Annotated[list[LotCode], Body(
                      embed=True, description=f"the traceability lot codes (at most {MAX_LOTS:,})",
                      examples=[["TOY-CAR-2611-01", "BODY-2611-01"]], min_length=1, max_length=MAX_LOTS)],
                  as_of: AsOf = None, format: Format = "xlsx", sheet: SheetName = "shipping") -> Response:
        """The sortable spreadsheet of a set of traceability lot codes (a JSON body `{"lots": [...]}`)."""
        codes = tuple(identifier(f"lots[{i}]", lot) for i, lot in enumerate(lots))
        when = moment("as_of", as_of)
        signed_in(principal)
        return spreadsheet(principal, Request("lots", lots=codes), when, format, sheet, "fsma-lots")

    @router.get("/v1/batches/{batch_id}/safety-gate", tags=["forms"],
                responses={200: {"content": {"application/json": {}, "text/html": {}},
                                 "description": "the notification draft"},
                           404: {"description": "unknown batch"}, 422: {"description": "malformed id or time"}})
    def safety_gate(principal: Caller, batch_id: BatchId, as_of: AsOf = None,
                    format: Annotated[Literal["json", "html"], Query(description="json or a printable html page")
                                      ] = "json") -> Any:
        """An EU Safety Gate notification draft for a batch: the products placed on the market from it, the
        traceability (destinations with quantities; manufacturer, exporters, importers, distributors with
        contacts), the risk (failing measurements with method, value and limit, the lab and its
        accreditation, the standards not met); the measures are left to the authority."""
        batch, when = identifier("batch_id", batch_id), moment("as_of", as_of)
        signed_in(principal)
        with timed("safety_gate"), driver_errors(ClickHouseUnavailable):
            notification = services.gate().safety_gate(principal, batch, when, now())
        if format == "html":
            return HTMLResponse(notification_html(notification), headers=_PAGE_HEADERS)
        return notification_json(notification)

    return router
