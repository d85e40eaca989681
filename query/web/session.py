"""A browser's session: the API key in an HttpOnly cookie, and the CSRF token of the sign-in forms.

The cookie holds the key itself, not a server-side session id: the key is checked on every request
as a header would be, so a revoked key ends its sessions within the principal refresh interval, and
API processes share no session store. The browser never lets a script read it (``HttpOnly``), sends
it only over HTTPS or to loopback (``Secure``), and only with same-site requests and top-level
navigations (``SameSite=Lax``: a QR code opened from a phone's camera is a cross-site navigation,
and an inspector signed in should still see their full view).

The cookie authenticates only safe methods (GET, HEAD). A write always needs an ``Authorization``
header, so no page of another site can publish with a reader's session (CSRF on the API is
impossible by construction). The two forms that change the session, sign-in and sign-out, carry a
token that must equal the ``lotline_csrf`` cookie (double submit, compared in constant time), and
a request whose ``Origin`` names another site is refused.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "lotline_session"
CSRF_COOKIE = "lotline_csrf"
#: How long a sign-in lasts without signing in again (the key itself may be revoked sooner).
SESSION_SECONDS = 8 * 3600
_SAFE_METHODS = frozenset({"GET", "HEAD"})


def session_authorization(request: Request) -> str | None:
    """The ``Authorization`` value a request's session cookie stands for: only for safe methods, and
    only when the request carries no header of its own (an explicit credential wins)."""
    if request.method not in _SAFE_METHODS or "authorization" in request.headers:
        return None
    key = request.cookies.get(SESSION_COOKIE)
    return f"Bearer {key}" if key else None


def open_session(response: Response, key: str) -> None:
    response.set_cookie(SESSION_COOKIE, key, max_age=SESSION_SECONDS, path="/", secure=True, httponly=True,
                        samesite="lax")


def close_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")


def csrf_token(request: Request) -> str:
    """The request's CSRF token (its cookie's), or a new one; ``keep_csrf`` sets it on the response."""
    return request.cookies.get(CSRF_COOKIE) or new_csrf_token()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def keep_csrf(response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, path="/", secure=True, httponly=True, samesite="strict")


def csrf_problem(request: Request, submitted: str | None) -> str | None:
    """Why a form post is not this site's own (``None`` when it is)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and not _same_origin(origin, request):
        return "the form was sent from another site"
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()):
        return "the form has expired: load the page again"
    return None


def local_target(next_path: str | None, default: str = "/") -> str:
    """Where to go after signing in: a path of this site only (never ``//host`` or ``https://…``)."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return default
    if any(c <= " " or c == "\x7f" for c in next_path):  # browsers drop tabs and newlines: "/\t/evil" is "//evil"
        return default
    parts = urlsplit(next_path)
    if parts.scheme or parts.netloc:
        return default
    return next_path


def _same_origin(origin: str, request: Request) -> bool:
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host", "") and parts.scheme in ("http", "https")
