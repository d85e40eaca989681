"""The HTTP face of trusted reports: a report by its identity (lab and report id), its verification,
and a held credential's verification (the QR landing page ``/r/{lab}/{report}`` is a web page:
``query.web.pages``).

Verification is public: it tells anyone whether a report is real and counts, never what only some
roles may see (the measurements stay out of the page and of ``?public=true`` answers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Body, Path, Query

from query.answers import report_json, verification_json
from query.callers import Caller
from query.gate import Gate, signed_in
from query.params import ID_MAX, ID_PATTERN, identifier, moment
from query.verification import Verifier
from sinks.drivers import driver_errors
from traceability.access import verification_jurisdiction
from traceability.errors import BadParameter, ClickHouseUnavailable

LabId = Annotated[str, Path(description="lab id in the registry", examples=["LAB-CTI-YW"], pattern=ID_PATTERN,
                            max_length=ID_MAX)]
ReportId = Annotated[str, Path(description="the lab's report id", examples=["RPT-CTI-0002"], pattern=ID_PATTERN,
                               max_length=ID_MAX)]
Jurisdiction = Annotated[str | None, Query(
    description="a regulator's id or jurisdiction (DE, CN-ZJ): say whether its policy recognises the report "
    "(default: the calling regulator's own)", examples=["CN-ZJ"], pattern=ID_PATTERN, max_length=ID_MAX)]
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1,
                                      description="a version of the report (default: the one that counts)")]


class TrustServices(Protocol):
    def gate(self) -> Gate:
        """The access gate for the calling thread."""

    def verifier(self) -> Verifier:
        """A verifier for the calling thread."""


def trust_router(services: TrustServices, timed: Callable[[str], Any]) -> APIRouter:
    router = APIRouter()

    @router.get("/v1/labs/{lab_id}/reports/{report_id}", tags=["queries"],
                responses={404: {"description": "unknown report"}, 422: {"description": "malformed id or time"}})
    def lab_report(principal: Caller, lab_id: LabId, report_id: ReportId,
                   as_of: Annotated[str | None, Query(description="as known at this moment", max_length=64,
                                                      json_schema_extra={"format": "date-time"})] = None,
                   ) -> dict[str, Any]:
        """A lab's report at the version that counts, how each version was judged, the versions it supersedes
        (a lab reads its own; others the reports on batches they may read)."""
        lab, report, when = identifier("lab_id", lab_id), identifier("report_id", report_id), moment("as_of", as_of)
        signed_in(principal)
        with timed("report"), driver_errors(ClickHouseUnavailable):
            return report_json(services.gate().report(principal, report, when, lab_id=lab))

    @router.get("/v1/labs/{lab_id}/reports/{report_id}/verify", tags=["verification"],
                responses={404: {"description": "unknown report"}, 422: {"description": "malformed id"}})
    def verify(principal: Caller, lab_id: LabId, report_id: ReportId, jurisdiction: Jurisdiction = None,
               version: Version = None,
               public: Annotated[bool, Query(description="leave out the measurements")] = False) -> dict[str, Any]:
        """Is the report authentic, accredited, in scope, current, logged, and recognised in a jurisdiction?
        Anyone may ask; the measurements are shown only to whoever may read the report (`view` says which)."""
        lab, report = identifier("lab_id", lab_id), identifier("report_id", report_id)
        with timed("verify"), driver_errors(ClickHouseUnavailable):
            found = services.verifier().report(lab, report, version=version,
                                               jurisdiction=verification_jurisdiction(principal, jurisdiction))
            full = not public and services.gate().may_read_result(principal, found.version)
        return verification_json(found, public=not full)

    @router.post("/v1/verify", tags=["verification"], responses={422: {"description": "not a report credential"}})
    def verify_credential(principal: Caller, body: Annotated[dict[str, Any], Body(
        description='{"credential": "<compact JWS>"}: a credential held by the reader, checked against the registry',
        json_schema_extra={"required": ["credential"], "properties": {"credential": {
            "type": "string", "maxLength": 65536, "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"}}},
    )], jurisdiction: Jurisdiction = None) -> dict[str, Any]:
        """Verify a credential the reader holds; it need not have been published to Lotline."""
        token = body.get("credential")
        if not isinstance(token, str):
            raise BadParameter("credential", "expected the compact JWS as a string")
        with timed("verify"), driver_errors(ClickHouseUnavailable):
            return verification_json(services.verifier().credential(
                token, jurisdiction=verification_jurisdiction(principal, jurisdiction)))

    return router
