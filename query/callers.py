"""Who is calling: the FastAPI dependency every route takes (``Caller``), and what it needs.

A request's credential is its ``Authorization`` header, or for a safe method without one, a web
session's cookie (``query.web.session``): the same key, checked the same way.
``create_api`` puts an ``Authentication`` on the app's state; the dependency reads it from there,
so routers defined in other modules (``query.trust_api``) authenticate the same way. The
principal is also left in the request's state for the audit record (``query.auditing``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPBearer

from query.throttle import FailureThrottle
from query.web.session import session_authorization
from traceability.access import Principal
from traceability.errors import Unauthenticated

BEARER = HTTPBearer(auto_error=False, description="An API key from `lotline principals add`, or a JWT from "
                    "the deployment's identity provider. Without one, the public view: verification and the log.")


@dataclass(frozen=True)
class Authentication:
    """How the app authenticates: ``authenticate`` may block (it runs in the thread pool)."""

    authenticate: Callable[[str | None], Principal]
    throttle: FailureThrottle
    failed: Callable[[], None]  # counts a failed authentication
    slowed: Callable[[], None]  # counts a request slowed by the throttle


async def caller(request: Request, _scheme: Annotated[Any, Security(BEARER)]) -> Principal:
    """The authenticated caller (the public without a credential).

    Raises:
        Unauthenticated: the credential is not valid (after the client's throttle delay, if any).
    """
    return await authenticated(request, request.headers.get("authorization") or session_authorization(request))


async def authenticated(request: Request, authorization: str | None) -> Principal:
    """The principal ``authorization`` names, with the throttle and the counters of failures.

    Raises:
        Unauthenticated: the credential is not valid (after the client's throttle delay, if any).
    """
    auth: Authentication = request.app.state.authentication
    client = request.client.host if request.client else ""
    wait = auth.throttle.delay(client)
    if wait:
        auth.slowed()
        await asyncio.sleep(wait)
    try:
        principal = await run_in_threadpool(auth.authenticate, authorization)
    except Unauthenticated:
        auth.throttle.failed(client)
        auth.failed()
        request.state.unauthenticated = True
        raise
    if principal.role != "public":
        auth.throttle.succeeded(client)
    request.state.principal = principal
    return principal


async def reader(request: Request, _scheme: Annotated[Any, Security(BEARER)]) -> Principal | None:
    """A page's reader: the caller, or ``None`` when the session's key no longer works (revoked,
    expired), so the page can send the browser to sign in again instead of answering a 401. A bad
    ``Authorization`` header is still a 401: that is a client's mistake, not an old session."""
    if "authorization" in request.headers:
        return await caller(request, None)
    try:
        return await caller(request, None)
    except Unauthenticated:
        return None


Caller = Annotated[Principal, Depends(caller)]
Reader = Annotated[Principal | None, Depends(reader)]
