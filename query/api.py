"""The HTTP API (FastAPI; OpenAPI at ``/docs``): trace, recall, reports, publishing, health, metrics.

``create_api`` takes its services as one object, so the same app runs on the real stack
(``query.services``) and in tests. Endpoints are plain ``def``: FastAPI runs them in its thread
pool, where the blocking ClickHouse and Kafka clients belong (one ClickHouse client per thread).

Errors have one shape: ``{"detail": ...}``, and each status comes from one branch of Lotline's
error tree (``traceability.errors``): a malformed id or time (``BadParameter``) is a 422 whose
detail lists ``{"loc": [where, field], "msg": reason}`` like FastAPI's own validation errors; an
unknown batch or report (``NotFound``) is a 404 naming it; a broker or database that cannot be
reached (``Unavailable``, translated from the drivers by ``sinks.drivers``) is a 503. Anything
else is a bug: a 500 without details, and a log line with the traceback.

Access (``traceability.access``, applied by ``query.gate``): a request carries ``Authorization:
Bearer <API key or JWT>``; without one it is the public, which verifies reports and reads the log.
A credential that is not valid is a 401 (and repeated failures from one client are slowed, see
``query.throttle``); an object the caller may not read is a 404 exactly like an unknown one; a
write as somebody else is a 403 naming the reason, and nothing of that request is published.
Every request, however it ends, is one audit record (``query.auditing``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Protocol, TypeVar

import structlog
from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from query import export
from query.answers import report_json
from query.auditing import AuditTrail
from query.callers import Authentication, Caller, caller
from query.forms_api import forms_router
from query.gate import Gate, signed_in
from query.limits import RequestLimits, ServerLimits
from query.metrics import ApiMetrics
from query.params import ID_MAX, ID_PATTERN, identifier, moment
from query.throttle import FailureThrottle
from query.trust_api import trust_router
from query.verification import Verifier
from query.web.pages import STATIC, assets_built, web_router
from sinks.drivers import driver_errors
from streams.publishing import PublishReport
from traceability.access import Principal, write_refusal
from traceability.audit import AuditRecord
from traceability.errors import (
    BadParameter,
    ClickHouseUnavailable,
    Forbidden,
    NotFound,
    SetupError,
    Unauthenticated,
    Unavailable,
)

log = structlog.get_logger(__name__)
_A = TypeVar("_A")

#: The most events one POST may carry; more is a 413 (send them in several requests).
MAX_EVENTS = 10_000


class ApiServices(Protocol):
    def publish(self, lines: list[bytes]) -> PublishReport:
        """Validate and publish JSON events (one per item), bad ones to the dead-letter topic."""

    def health(self) -> dict[str, str]:
        """Component -> "ok" or the reason it is not."""

    def pipeline_metrics(self) -> str:
        """Prometheus text about the pipeline (topics, lag, stored events), read now."""

    def verifier(self) -> Verifier:
        """A verifier of reports and credentials for the calling thread."""

    def gate(self) -> Gate:
        """The access gate of trace, recall and report answers, for the calling thread."""

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller an ``Authorization`` header names (the public without one).

        Raises:
            Unauthenticated: the credential is not valid.
        """

    def audit(self, record: AuditRecord) -> None:
        """Append an audit record (must not block)."""


@dataclass(frozen=True)
class _Asked:
    id: str
    as_of: datetime | None


AsOf = Annotated[str | None, Query(description="answer as known at this moment (RFC 3339 / ISO 8601 with a zone)",
                                   examples=["2026-11-20T12:00:00Z"], max_length=64,
                                   json_schema_extra={"format": "date-time"})]
BatchId = Annotated[str, Path(description="batch (lot) id", examples=["TOY-CAR-2611-001"], pattern=ID_PATTERN,
                              max_length=ID_MAX)]
ReportId = Annotated[str, Path(description="report id", examples=["RPT-CTI-0002"], pattern=ID_PATTERN,
                               max_length=ID_MAX)]


#: Answers every route can give, whatever it does.
_EVERY_ROUTE: dict[int | str, dict[str, Any]] = {
    401: {"description": "the credential is not valid (unknown, revoked, expired, wrongly signed)"},
    413: {"description": "the request body is larger than the server takes"},
    414: {"description": "the query string is longer than the server takes"},
    422: {"description": "a malformed parameter, named"},
}


def create_api(services: ApiServices, now: Callable[[], datetime] = lambda: datetime.now(UTC),
               log_routes: APIRouter | None = None, *, metrics_public: bool = False,
               throttle: FailureThrottle | None = None, limits: ServerLimits | None = None) -> FastAPI:
    """The API on ``services``.

    Args:
        limits: The bounds on a request's body and query (``query.limits``; default: its defaults).
        metrics_public: ``/metrics`` open to anyone (a scraper without a key); otherwise admins only.
        throttle: Slows clients after repeated failed authentications (default: 5 free a minute).
    """
    api = FastAPI(
        title="Lotline", version="1", responses=_EVERY_ROUTE, docs_url=None, redoc_url=None,  # docs: query.web
        description="Trace a batch, scope a recall, read a lab report, publish events. Every answer can be "
        "asked as known at a moment (`as_of`), and is cut to the caller's share (labs, organisations, "
        "regulators; see the README's access table). Errors: 401 an invalid credential, 403 a write as "
        "somebody else, 404 an unknown batch or report (or one the caller may not see: the same answer), "
        "422 names the malformed field, 503 the service that cannot be reached.",
    )
    metrics = ApiMetrics()
    bounds = limits or ServerLimits()
    api.add_middleware(RequestLimits, max_body_bytes=bounds.max_body_bytes, max_query_bytes=bounds.max_query_bytes,
                       max_query_params=bounds.max_query_params)
    api.add_middleware(AuditTrail, record=services.audit)  # outermost: refusals by the limits are audited too

    api.state.authentication = Authentication(services.authenticate, throttle or FailureThrottle(),
                                              metrics.auth_failures.inc, metrics.auth_throttled.inc)

    @api.exception_handler(Unauthenticated)
    def _unauthenticated(request: Request, exc: Unauthenticated) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    @api.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @api.exception_handler(BadParameter)
    def _bad(request: Request, exc: BadParameter) -> JSONResponse:
        where = "path" if exc.field in request.path_params else "query"
        return JSONResponse({"detail": [{"loc": [where, exc.field], "msg": exc.reason, "type": "value_error"}]},
                            status_code=422)

    @api.exception_handler(NotFound)
    def _unknown(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @api.exception_handler(Unavailable)
    def _down(request: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @api.exception_handler(SetupError)
    def _misconfigured(request: Request, exc: SetupError) -> JSONResponse:  # e.g. the broker refusing the API
        log.error("request failed: the deployment is not set up for it", path=request.url.path, reason=str(exc))
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @api.exception_handler(Exception)
    def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("request failed", method=request.method, path=request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal error (logged)"}, status_code=500)

    @contextmanager
    def timed(query: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        metrics.query_seconds.labels(query).observe(time.perf_counter() - start)

    @api.get("/v1/batches/{batch_id}/trace", tags=["queries"], response_model=dict[str, Any],
             responses={404: {"description": "unknown batch"}, 422: {"description": "malformed id or time"}})
    def trace(principal: Caller, batch_id: BatchId, as_of: AsOf = None) -> Any:
        """Status and risk sources, every upstream and downstream batch with depth, the production events
        linking them upstream, every report on the batch or upstream, its shipments, completeness flags.
        An organisation sees other parties' batches as id, depth and status only (`withheld` counts the rest)."""
        asked = _asked("batch_id", batch_id, as_of)
        signed_in(principal)
        with timed("trace"):
            return Response(_answer(lambda: services.gate().trace_json(principal, asked.id, asked.as_of)),
                            media_type="application/json")

    @api.get("/v1/batches/{batch_id}/recall", tags=["queries"],
             responses={200: {"content": {"text/csv": {}, _XLSX: {}}, "description": "the recall scope"},
                        404: {"description": "unknown batch"}, 422: {"description": "malformed id or time"}})
    def recall(principal: Caller, batch_id: BatchId, as_of: AsOf = None,
               format: Annotated[Literal["json", "csv", "xlsx"], Query(
                   description="json (default), or the FSMA 204 style sortable spreadsheet as csv or xlsx")] = "json",
               ) -> Any:
        """The batch and every descendant (depth, product, quantity), every shipment of any of them,
        totals per country and recipient, completeness flags; or the regulator's spreadsheet."""
        asked = _asked("batch_id", batch_id, as_of)
        signed_in(principal)
        with timed("recall"):
            if format == "json":
                return Response(_answer(lambda: services.gate().recall_json(principal, asked.id, asked.as_of)),
                                media_type="application/json")
            answer, _withheld = _answer(lambda: services.gate().recall(principal, asked.id, asked.as_of))
            name = f"recall-{asked.id}.{format}"
            body = export.csv_text(answer).encode() if format == "csv" else export.xlsx_bytes(answer, now())
        media = "text/csv; charset=utf-8" if format == "csv" else _XLSX
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @api.get("/v1/reports/{report_id}", tags=["queries"],
             responses={404: {"description": "unknown report"}, 422: {"description": "malformed id or time"}})
    def report(principal: Caller, report_id: ReportId, as_of: AsOf = None) -> dict[str, Any]:
        """A lab report at the version that counts, with the versions it supersedes (a lab reads its own;
        others the reports on batches they may read)."""
        asked = _asked("report_id", report_id, as_of)
        signed_in(principal)
        with timed("report"):
            return report_json(_answer(lambda: services.gate().report(principal, asked.id, asked.as_of)))

    @api.post("/v1/events", status_code=202, tags=["publishing"],
              responses={403: {"description": "an event written as somebody else: nothing was published"},
                         413: {"description": f"more than {MAX_EVENTS} events"},
                         422: {"description": "the body is not a list of JSON objects"},
                         503: {"description": "the broker cannot be reached"}})
    def events(request: Request, principal: Caller, body: Annotated[Any, Body(
        description="A JSON array of events in the JSON form of DESIGN §2 (or {\"events\": [...]})",
        json_schema_extra={"oneOf": [
            {"type": "array", "maxItems": MAX_EVENTS, "items": {"type": "object"}},
            {"type": "object", "required": ["events"],
             "properties": {"events": {"type": "array", "maxItems": MAX_EVENTS, "items": {"type": "object"}}}},
        ]},
        examples=[[{"type": "shipment", "event_id": "shp-ev-1", "shipment_id": "SHP-1", "batch_id": "TOY-1",
                    "quantity": 200, "unit": "ea", "from_org": "ORG-A", "to_org": "ORG-B",
                    "to_location": "Hamburg DC", "to_country": "DE", "occurred_at": "2026-11-20T10:00:00Z"}]],
    )]) -> Any:
        """Validate and publish events, the same checks as `lotline publish`. Accepted (202) with a result
        per event: `published`, or `rejected` with the reason (rejected ones go to the dead-letter topic)."""
        items = body.get("events") if isinstance(body, dict) else body
        if not isinstance(items, list):
            return JSONResponse({"detail": [{"loc": ["body"], "msg": "expected a JSON array of events",
                                             "type": "value_error"}]}, status_code=422)
        if len(items) > MAX_EVENTS:
            return JSONResponse({"detail": f"{len(items)} events in one request; at most {MAX_EVENTS}"},
                                status_code=413)
        request.state.objects = [e for e in map(_event_id, items) if e is not None]
        signed_in(principal)
        refused = [(i, reason) for i, item in enumerate(items) if (reason := write_refusal(principal, item))]
        if refused:
            shown = "; ".join(f"item {i}: {reason}" for i, reason in refused[:5])
            more = f" (and {len(refused) - 5} more)" if len(refused) > 5 else ""
            raise Forbidden(f"nothing was published: {shown}{more}")
        report = services.publish([json.dumps(item).encode() for item in items])
        reasons = {error.line - 1: error.reason for error in report.rejected}
        metrics.events.labels("published").inc(report.published)
        metrics.events.labels("rejected").inc(len(reasons))
        results = [
            {"index": i, "event_id": _event_id(item),
             "status": "rejected" if i in reasons else "published", **({"reason": reasons[i]} if i in reasons else {})}
            for i, item in enumerate(items)
        ]
        return {"published": report.published, "rejected": len(reasons), "results": results}

    api.include_router(trust_router(services, timed))
    api.include_router(forms_router(services, timed, now))
    api.include_router(web_router(services))
    if not assets_built():
        log.warning("the web pages' scripts are not built: run deploy/bootstrap.sh (or npm run build in web/)")
    api.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    _optional_credentials(api)
    if log_routes is not None:  # the transparency log (`query.log_api.log_router`), wired by `lotline api`
        api.include_router(log_routes, dependencies=[Depends(caller)])  # public, but a bad credential is a 401

    @api.get("/healthz", tags=["operations"],
             responses={503: {"description": "ClickHouse or the broker does not answer"}})
    def healthz(principal: Caller) -> JSONResponse:
        """200 when ClickHouse and the broker answer, 503 naming what does not."""
        checks = services.health()
        healthy = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503)

    @api.get("/metrics", tags=["operations"], response_class=PlainTextResponse,
             responses={403: {"description": "metrics are for admins on this deployment"}})
    def prometheus(principal: Caller) -> PlainTextResponse:
        """Prometheus text: events in/out/rejected, consumer lag, query latency, API counters (admins, or
        anyone when the deployment says so: `LOTLINE_METRICS_PUBLIC`)."""
        if not metrics_public and principal.role != "admin":
            signed_in(principal)
            raise Forbidden("metrics are for admins on this deployment (LOTLINE_METRICS_PUBLIC opens them)")
        return PlainTextResponse(metrics.render() + services.pipeline_metrics(),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    return api


def _optional_credentials(api: FastAPI) -> None:
    """State in the OpenAPI document that a credential is optional everywhere (``security: [{}, bearer]``):
    without one a request is the public, which some routes answer in full and others with a 401."""
    plain = api.openapi

    def document() -> dict[str, Any]:
        if api.openapi_schema is None:  # built once by FastAPI, and amended once here
            for path in plain().get("paths", {}).values():
                for operation in path.values():
                    if isinstance(operation, dict) and operation.get("security"):
                        operation["security"] = [{}, *operation["security"]]
        return plain()  # FastAPI's cached document, amended

    api.openapi = document  # type: ignore[method-assign]


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _event_id(item: Any) -> str | None:
    """The item's event id as text an answer can carry: a lone surrogate is escaped, a non-string left out."""
    event_id = item.get("event_id") if isinstance(item, dict) else None
    return event_id.encode("utf-8", "backslashreplace").decode() if isinstance(event_id, str) else None


def _asked(field: str, value: str, as_of: str | None) -> _Asked:
    return _Asked(identifier(field, value), moment("as_of", as_of))


def _answer(ask: Callable[[], _A]) -> _A:
    with driver_errors(ClickHouseUnavailable):
        return ask()

