"""The web pages' routes: home, sign-in and sign-out, search, the batch and recall pages, the docs.

The batch and recall pages are shells whatever the batch: whether it exists, and what of it the
reader may see, is for the API's answer to say (a batch one may not see is a 404 like an unknown
one), so a page can't tell more than the API would. Signed-out readers are sent to sign in; a
session whose key stopped working is closed and sent there too.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Annotated, Any, Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from query.callers import Reader, authenticated
from query.gate import Gate
from query.params import identifier
from query.trust_api import LabId, ReportId
from query.verification import Verifier
from query.web import session
from query.web.report_page import FullView, report_main
from query.web.shell import PAGE_HEADERS, batch_shell, document
from sinks.drivers import driver_errors
from traceability.access import PUBLIC, Principal
from traceability.errors import BadParameter, ClickHouseUnavailable, NotFound, Unauthenticated

#: Where ``npm run build`` (``web/``) puts the pages' scripts, styles and map geometry.
STATIC = Path(__file__).parent / "static"
#: Routes left out of the OpenAPI document: pages for browsers (the report page alone is documented).
_BROWSER_ONLY: dict[str, Any] = {"include_in_schema": False}
#: The most a sign-in form may carry (a key, a token, a path): anything longer is not ours.
_MAX_FORM_BYTES = 16 * 1024


class WebServices(Protocol):
    def verifier(self) -> Verifier:
        """A verifier for the calling thread (a pasted verification URL names a report)."""

    def gate(self) -> Gate:
        """The access gate for the calling thread (who may see a report in full)."""


def assets_built() -> bool:
    """Whether the pages' scripts were built (``deploy/bootstrap.sh`` builds them)."""
    return (STATIC / "build.json").is_file()


def web_router(services: WebServices) -> APIRouter:
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, **_BROWSER_ONLY)
    def home(request: Request, who: Reader) -> Response:
        reader = who or PUBLIC
        return _page(request, "Trace and verify", _home(reader), reader, script="home.js", forget=who is None)

    @router.get("/sign-in", response_class=HTMLResponse, **_BROWSER_ONLY)
    def sign_in_form(request: Request, who: Reader, next: str = "/", expired: bool = False) -> Response:
        note = "Your session has ended: sign in again." if expired or who is None else ""
        token = session.csrf_token(request)
        return _page(request, "Sign in", _sign_in(session.local_target(next), note, token), who or PUBLIC,
                     forget=who is None, csrf=token)

    @router.post("/sign-in", response_class=HTMLResponse, **_BROWSER_ONLY)
    async def sign_in(request: Request) -> Response:
        form = await _form(request)
        target = session.local_target(form.get("next"))
        token = session.csrf_token(request)
        problem = session.csrf_problem(request, form.get("csrf"))
        if problem:
            return _page(request, "Sign in", _sign_in(target, problem, token), PUBLIC, status=403, csrf=token)
        key = form.get("key", "").strip()
        if not key:
            return _page(request, "Sign in", _sign_in(target, "Enter your API key.", token), PUBLIC, status=422,
                         csrf=token)
        try:
            who = await authenticated(request, f"Bearer {key}")
        except Unauthenticated:
            note = "That key is not valid (unknown, revoked or expired)."
            return _page(request, "Sign in", _sign_in(target, note, token), PUBLIC, status=401, csrf=token)
        response = RedirectResponse(target, status_code=303)
        session.open_session(response, key)
        session.keep_csrf(response, session.new_csrf_token())  # a new token for the new session
        request.state.principal = who
        return response

    @router.post("/sign-out", **_BROWSER_ONLY)
    async def sign_out(request: Request) -> Response:
        form = await _form(request)
        problem = session.csrf_problem(request, form.get("csrf"))
        if problem:
            return _page(request, "Sign out", f'<main id="main"><p class="error" role="alert">{escape(problem)}</p>'
                         "</main>", PUBLIC, status=403)
        response = RedirectResponse("/", status_code=303)
        session.close_session(response)
        return response

    @router.get("/search", **_BROWSER_ONLY)
    def search(request: Request, who: Reader,
               q: Annotated[str, Query(max_length=2048)] = "") -> Response:
        reader = who or PUBLIC
        asked = q.strip()
        report = _report_in_url(asked)
        if report is not None:
            return _to_report(request, services, reader, *report)
        try:
            batch = identifier("batch_id", asked)
        except BadParameter as exc:
            problem = f"Not a batch id or a verification URL: {exc.reason}."
            return _page(request, "Search", _home(reader, problem), reader, status=422)
        return RedirectResponse(f"/batches/{quote(batch, safe='')}", status_code=303)

    @router.get("/batches/{batch_id}", response_class=HTMLResponse, **_BROWSER_ONLY)
    def batch_page(request: Request, who: Reader, batch_id: str) -> Response:
        return _batch_page(request, who, batch_id, "batch", f"Batch {batch_id}")

    @router.get("/batches/{batch_id}/recall", response_class=HTMLResponse, **_BROWSER_ONLY)
    def recall_page(request: Request, who: Reader, batch_id: str) -> Response:
        return _batch_page(request, who, batch_id, "recall", f"Recall scope of {batch_id}")

    @router.get("/r/{lab_id}/{report_id}", tags=["verification"], response_class=HTMLResponse,
                responses={404: {"description": "unknown report (a page saying so)", "content": {"text/html": {}}}})
    def report(request: Request, who: Reader, lab_id: LabId, report_id: ReportId) -> Response:
        """The QR landing page: the report's verification, readable on a phone; the measurements and the
        version history for a reader who may read the report in full."""
        lab, report_id = identifier("lab_id", lab_id), identifier("report_id", report_id)
        reader = who or PUBLIC
        with driver_errors(ClickHouseUnavailable):
            try:
                found, stored = services.verifier().report_and_versions(lab, report_id)
            except NotFound:
                return _page(request, "Unknown report", _unknown_report(lab, report_id), reader, status=404,
                             forget=who is None)
            full = FullView(stored) if services.gate().may_read_result(reader, found.version) else None
        json_url = str(request.url_for("verify", lab_id=lab, report_id=report_id)) + "?public=true"
        main = report_main(found, json_url=json_url, who=reader, full=full)
        return _page(request, f"Report {lab}/{report_id}", main, reader, forget=who is None)

    @router.get("/docs", response_class=HTMLResponse, **_BROWSER_ONLY)
    def docs(request: Request, who: Reader) -> Response:
        main = '<main id="main"><div id="swagger-ui"></div></main><script src="/static/swagger-ui-bundle.js"></script>'
        return _page(request, "API docs", main, who or PUBLIC, styles=("swagger-ui.css",), script="docs.js")

    return router


def _batch_page(request: Request, who: Principal | None, batch_id: str, page: str, title: str) -> Response:
    if who is None or who.role == "public":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse(f"/sign-in?next={quote(here, safe='')}", status_code=303)
        if who is None:
            session.close_session(response)
        return response
    try:
        identifier("batch_id", batch_id)
    except BadParameter as exc:
        return _page(request, "Not a batch id", _home(who, f"Not a batch id: {exc.reason}."), who,
                     status=422)
    return _page(request, title, batch_shell(page, batch_id), who, styles=(f"{page}.css",), script=f"{page}.js")


def _to_report(request: Request, services: WebServices, who: Principal, lab_id: str, report_id: str) -> Response:
    """A pasted verification URL: signed in, the batch the report is on; otherwise the report's page."""
    if who.role == "public":
        return RedirectResponse(f"/r/{quote(lab_id, safe='')}/{quote(report_id, safe='')}", status_code=303)
    try:
        with driver_errors(ClickHouseUnavailable):
            found = services.verifier().report(lab_id, report_id)
    except NotFound:
        return _page(request, "Search", _home(who, f"No report {lab_id}/{report_id} is known."), who,
                     status=404)
    return RedirectResponse(f"/batches/{quote(found.version.batch_id, safe='')}", status_code=303)


def _report_in_url(text: str) -> tuple[str, str] | None:
    """(lab, report) of a verification URL or path: ``…/r/LAB/REPORT`` or ``…/v1/labs/LAB/reports/REPORT…``."""
    if "/" not in text:
        return None
    parts = [unquote(p) for p in urlsplit(text).path.split("/") if p]
    for i, part in enumerate(parts):
        if part == "r" and len(parts) == i + 3:
            found = parts[i + 1], parts[i + 2]
            break
        if part == "labs" and len(parts) >= i + 4 and parts[i + 2] == "reports":
            found = parts[i + 1], parts[i + 3]
            break
    else:
        return None
    try:
        return identifier("lab_id", found[0]), identifier("report_id", found[1])
    except BadParameter:
        return None


async def _form(request: Request) -> dict[str, str]:
    """A url-encoded form's fields (the first value of each); an oversized or binary body is empty."""
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        return {}
    try:
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in fields.items()}


def _page(request: Request, title: str, main: str, who: Principal, *, status: int = 200,
          styles: tuple[str, ...] = (), script: str | None = None, forget: bool = False,
          csrf: str | None = None) -> HTMLResponse:
    """A page with its security headers and the CSRF cookie its forms need (``csrf``: the token ``main``
    already carries); ``forget`` closes a session whose key no longer works."""
    token = csrf or session.csrf_token(request)
    response = HTMLResponse(document(title, main, who=who, csrf=token, styles=styles, script=script),
                            status_code=status, headers=PAGE_HEADERS)
    session.keep_csrf(response, token)
    if forget:
        session.close_session(response)
    return response


def _home(who: Principal, problem: str = "") -> str:
    alert = f'<p class="error" role="alert">{escape(problem)}</p>' if problem else ""
    if who.role == "public":
        body = (
            "<p>Check a lab report: scan its QR code, or paste its verification URL in the search box. "
            "Anyone can verify a report.</p>"
            '<p><a href="/sign-in">Sign in</a> with your API key to trace batches and scope recalls '
            "(labs, brands and manufacturers, regulators).</p>"
        )
    else:
        body = (
            "<p>Enter a batch (lot) id in the search box to see its status, everything upstream and downstream, "
            "and every test on any of them; from there, its recall scope. A report's verification URL works too.</p>"
        )
    return f'<main id="main"><h1>Lotline</h1>{alert}{body}<p><a href="/docs">API docs</a></p></main>'


def _unknown_report(lab_id: str, report_id: str) -> str:
    """The QR page of a report Lotline does not know: a shopper must not read it as a verification."""
    return (
        f'<main id="main" class="report"><h1>Report {escape(lab_id)}/{escape(report_id)}</h1>'
        '<div class="badge bad" role="alert"><span class="sym" aria-hidden="true">✘</span>'
        "<strong>Lotline knows no such report</strong></div>"
        f"<p>No report {escape(report_id)} of the lab {escape(lab_id)} has been published to Lotline. If it was "
        "issued in the last few minutes, try again shortly; otherwise ask the lab named on the document, and "
        "do not rely on the report until it can be verified here.</p></main>"
    )


def _sign_in(target: str, note: str, csrf: str) -> str:
    alert = f'<p class="error" role="alert">{escape(note)}</p>' if note else ""
    return (
        '<main id="main" class="sign-in"><h1>Sign in</h1>'
        f'{alert}<form method="post" action="/sign-in">'
        '<label for="key">API key</label>'
        '<input id="key" name="key" type="password" autocomplete="current-password" required maxlength="8192" '
        'spellcheck="false" autofocus>'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="next" value="{escape(target)}">'
        '<button type="submit">Sign in</button></form>'
        '<p class="note">Your key comes from your Lotline operator (<code>lotline principals add</code>). '
        "It is kept in a cookie scripts cannot read, for 8 hours or until you sign out.</p></main>"
    )

