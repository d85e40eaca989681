"""Sign-in and the session cookie over real HTTP, against the API server of the web tests.

The cookie holds the key, authenticates only safe methods (so no other site can write with a
reader's session), and comes with HttpOnly, Secure and SameSite; the two forms that change a
session are CSRF-checked; signing in never sends the browser to another site; a revoked key ends
its sessions; and a page shell says nothing about whether a batch exists or may be seen.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from query.principals import PrincipalStore
from tests.integration.web.world import PIGMENT, TOY, WebWorld

pytestmark = [pytest.mark.integration, pytest.mark.web]


@pytest.fixture
def browser_like(web_world: WebWorld) -> Iterator[httpx.Client]:
    """An HTTP client that keeps cookies as a browser does on this origin: browsers count loopback as a
    secure context and keep ``Secure`` cookies from it, which httpx's jar would not send back over http."""
    with httpx.Client(base_url=web_world.base, follow_redirects=False, timeout=30) as client:
        client.event_hooks["response"] = [lambda response: _keep_cookies(client, response)]
        yield client


def _keep_cookies(client: httpx.Client, response: httpx.Response) -> None:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        value, *attributes = rest.split(";")
        if any(a.strip().lower() == "max-age=0" for a in attributes):
            client.cookies.delete(name)
        else:
            client.cookies.set(name, value.strip('"'))


def sign_in(client: httpx.Client, key: str, next_path: str = "/", **headers: str) -> httpx.Response:
    form = client.get("/sign-in")
    token = _csrf(form.text)
    return client.post("/sign-in", data={"key": key, "csrf": token, "next": next_path}, headers=headers)


def test_signing_in_sets_a_cookie_scripts_cannot_read_and_goes_where_it_was_asked(
        web_world: WebWorld, browser_like: httpx.Client) -> None:
    done = sign_in(browser_like, web_world.keys["brand"], f"/batches/{TOY}?as_of=2026-11-30T00%3A00%3A00Z")
    assert done.status_code == 303
    assert done.headers["location"] == f"/batches/{TOY}?as_of=2026-11-30T00%3A00%3A00Z"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("lotline_session="))
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= {p.strip().lower() for p in cookie.split(";")}
    assert browser_like.get(f"/v1/batches/{TOY}/trace").status_code == 200  # the cookie authenticates a GET


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\t/evil.example", "\\\\evil",
                                    "javascript:alert(1)", "/%0a/evil"])
def test_signing_in_never_sends_the_browser_to_another_site(web_world: WebWorld, browser_like: httpx.Client,
                                                            target: str) -> None:
    done = sign_in(browser_like, web_world.keys["brand"], target)
    assert done.status_code == 303
    location = done.headers["location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location.split("?")[0][:3]
    assert httpx.URL(web_world.base).join(location).host == "127.0.0.1"


def test_the_cookie_never_authenticates_a_write(web_world: WebWorld, browser_like: httpx.Client) -> None:
    sign_in(browser_like, web_world.keys["brand"])
    event = {"type": "shipment", "event_id": "shp-csrf-1", "shipment_id": "SHP-CSRF", "batch_id": TOY,
             "quantity": 1, "unit": "ea", "from_org": "ORG-YW-TOYS", "to_org": "ORG-X", "to_location": "X",
             "to_country": "DE", "occurred_at": "2026-11-25T10:00:00Z"}
    refused = browser_like.post("/v1/events", json=[event])
    assert refused.status_code == 401  # the public: a write needs an Authorization header
    assert browser_like.get(f"/v1/batches/{TOY}/trace").status_code == 200


def test_a_sign_in_form_from_another_site_or_without_its_token_is_refused(
        web_world: WebWorld, browser_like: httpx.Client) -> None:
    key = web_world.keys["brand"]
    cross_site = sign_in(browser_like, key, origin="https://evil.example")
    assert cross_site.status_code == 403 and "another site" in cross_site.text
    browser_like.get("/sign-in")
    no_token = browser_like.post("/sign-in", data={"key": key, "next": "/"})
    assert no_token.status_code == 403
    wrong_token = browser_like.post("/sign-in", data={"key": key, "csrf": "x" * 43, "next": "/"})
    assert wrong_token.status_code == 403
    assert "lotline_session" not in browser_like.cookies


def test_a_wrong_key_is_a_401_page_and_counts_as_a_failed_authentication(
        web_world: WebWorld, browser_like: httpx.Client) -> None:
    refused = sign_in(browser_like, "lotline_" + "A" * 43)
    assert refused.status_code == 401 and "not valid" in refused.text
    assert "lotline_session" not in refused.headers.get("set-cookie", "")


def test_signing_out_needs_the_token_and_ends_the_session(web_world: WebWorld, browser_like: httpx.Client) -> None:
    sign_in(browser_like, web_world.keys["brand"])
    page = browser_like.get("/")
    assert browser_like.post("/sign-out", data={}).status_code == 403
    done = browser_like.post("/sign-out", data={"csrf": _csrf(page.text)})
    assert done.status_code == 303
    assert browser_like.get(f"/v1/batches/{TOY}/trace").status_code == 401
    assert browser_like.get(f"/batches/{TOY}").headers["location"].startswith("/sign-in")


def test_a_revoked_key_ends_its_sessions(web_world: WebWorld, browser_like: httpx.Client) -> None:
    store = PrincipalStore(web_world.dep.address.client, web_world.dep.settings.database)
    principal, key = store.add("org", now=datetime.now(UTC), org_id="ORG-YW-TOYS")
    _eventually(lambda: sign_in(browser_like, key).status_code == 303)  # known after the principals' refresh
    assert browser_like.get(f"/v1/batches/{TOY}/trace").status_code == 200
    store.revoke(principal.principal_id, now=datetime.now(UTC))
    _eventually(lambda: browser_like.get(f"/v1/batches/{TOY}/trace").status_code == 401)
    page = browser_like.get(f"/batches/{TOY}")
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
    assert any(c.startswith("lotline_session=") and "max-age=0" in c.lower()
               for c in page.headers.get_list("set-cookie"))


def test_a_page_shell_is_the_same_for_a_batch_one_may_see_may_not_see_and_nobody_knows(
        web_world: WebWorld, browser_like: httpx.Client) -> None:
    sign_in(browser_like, web_world.keys["brand"])
    shells = {}
    for batch in (TOY, PIGMENT, "PIG-RED-2610-99"):
        for suffix in ("", "/recall"):
            page = browser_like.get(f"/batches/{batch}{suffix}")
            assert page.status_code == 200
            shells[batch, suffix] = page.text.replace(batch, "<id>")
    assert len({text for (_, suffix), text in shells.items() if suffix == ""}) == 1
    assert len({text for (_, suffix), text in shells.items() if suffix == "/recall"}) == 1


def test_pages_without_a_session_send_the_reader_to_sign_in_and_come_back(browser_like: httpx.Client) -> None:
    page = browser_like.get(f"/batches/{TOY}/recall?as_of=2026-11-30T00:00:00Z")
    assert page.status_code == 303
    assert page.headers["location"] == f"/sign-in?next=%2Fbatches%2F{TOY}%2Frecall%3Fas_of%3D2026-11-30T00%3A00%3A00Z"


def test_search_finds_a_batch_or_the_batch_of_a_pasted_verification_url(
        web_world: WebWorld, browser_like: httpx.Client) -> None:
    public = browser_like.get("/search", params={"q": f"{web_world.base}/r/LAB-CTI-YW/RPT-CTI-0002"})
    assert public.headers["location"] == "/r/LAB-CTI-YW/RPT-CTI-0002"  # the public may see the report's page
    sign_in(browser_like, web_world.keys["regulator"])
    assert browser_like.get("/search", params={"q": TOY}).headers["location"] == f"/batches/{TOY}"
    url = f"{web_world.base}/v1/labs/LAB-CTI-YW/reports/RPT-CTI-0002/verify"
    pasted = browser_like.get("/search", params={"q": url})
    assert pasted.headers["location"] == f"/batches/{PIGMENT}"
    bad = browser_like.get("/search", params={"q": "two words"})
    assert bad.status_code == 422 and "Not a batch id" in bad.text
    unknown = browser_like.get("/search", params={"q": "https://x.example/r/LAB-CTI-YW/RPT-NONE"})
    assert unknown.status_code == 404


def test_every_page_forbids_scripts_and_frames_from_elsewhere(web_world: WebWorld, browser_like: httpx.Client) -> None:
    sign_in(browser_like, web_world.keys["admin"])
    for path in ("/", "/sign-in", f"/batches/{TOY}", f"/batches/{TOY}/recall", "/r/LAB-CTI-YW/RPT-CTI-0002", "/docs"):
        page = browser_like.get(path)
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert page.headers["x-content-type-options"] == "nosniff"
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert all(s.startswith(("/", "#", "data:")) or s.startswith(web_world.base) for s in sources), (path, sources)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


def _eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.2)


@pytest.mark.parametrize("reader, full", [("lab", True), ("regulator", True), ("admin", True), ("brand", False),
                                          (None, False)])
def test_the_report_page_shows_measurements_and_versions_only_to_who_may_read_the_report(
        web_world: WebWorld, browser_like: httpx.Client, reader: str | None, full: bool) -> None:
    if reader:
        sign_in(browser_like, web_world.keys[reader])
    page = browser_like.get("/r/LAB-CTI-YW/RPT-CTI-0002")  # the failing pigment report: the brand had no hand
    assert page.status_code == 200 and "Authentic report" in page.text
    assert ('id="measurements"' in page.text) is full and ('id="versions"' in page.text) is full
    assert ("Pb (soluble)" in page.text) is full


def test_the_qr_page_of_a_report_nobody_published_says_so_as_a_page(browser_like: httpx.Client) -> None:
    page = browser_like.get("/r/LAB-CTI-YW/RPT-CTI-9999")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Lotline knows no such report" in page.text and "do not rely on the report" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
