"""The web session's rules without a server: where a sign-in may lead, and which forms are our own."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from query.web.session import CSRF_COOKIE, SESSION_COOKIE, csrf_problem, local_target, session_authorization

pytestmark = pytest.mark.unit


def request(method: str = "POST", headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in {"host": "lotline.example", **(headers or {})}.items()]
    return Request({"type": "http", "method": method, "path": "/", "headers": raw, "query_string": b""})


@pytest.mark.parametrize("asked, goes", [
    ("/batches/TOY-1?as_of=2026-11-30T00%3A00%3A00Z", "/batches/TOY-1?as_of=2026-11-30T00%3A00%3A00Z"),
    ("/r/LAB-1/R-1", "/r/LAB-1/R-1"),
    (None, "/"), ("", "/"), ("batches/TOY-1", "/"),
    ("//evil.example/", "/"), ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("\\\\evil.example", "/"),
    ("/\t/evil.example", "/"), ("/\n/evil.example", "/"), ("/ /evil", "/"), ("javascript:alert(1)", "/"),
])
def test_a_sign_in_leads_only_to_a_path_of_this_site(asked: str | None, goes: str) -> None:
    assert local_target(asked) == goes


def test_a_form_is_ours_when_its_token_is_the_cookies_and_no_other_site_sent_it() -> None:
    token = "t" * 43
    cookie = {"cookie": f"{CSRF_COOKIE}={token}"}
    assert csrf_problem(request(headers=cookie), token) is None
    assert csrf_problem(request(headers={**cookie, "origin": "https://lotline.example"}), token) is None
    assert csrf_problem(request(headers={**cookie, "origin": "https://evil.example"}), token) == \
        "the form was sent from another site"
    assert csrf_problem(request(headers=cookie), "u" * 43) is not None
    assert csrf_problem(request(headers=cookie), None) is not None
    assert csrf_problem(request(), token) is not None  # no cookie: no token to match


def test_the_session_cookie_authenticates_only_safe_methods_without_a_header_of_their_own() -> None:
    cookie = {"cookie": f"{SESSION_COOKIE}=lotline_key"}
    assert session_authorization(request("GET", cookie)) == "Bearer lotline_key"
    assert session_authorization(request("HEAD", cookie)) == "Bearer lotline_key"
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert session_authorization(request(method, cookie)) is None
    assert session_authorization(request("GET", {**cookie, "authorization": "Bearer other"})) is None
    assert session_authorization(request("GET")) is None
