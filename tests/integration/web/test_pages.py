"""The web pages in a real browser: Debian's Chromium, driven by Playwright, on the demo served by
a real API server on the real broker and ClickHouse.

A brand and a regulator sign in through the form, open the toy car's batch page, click through the
graph to the failed pigment lot, open its recall, sort and filter the shipments, download the CSV
(compared byte for byte with the API's), and open the failing report's QR page. What each page shows
is compared with what the API answers the same reader, so a page can neither show more than the
reader may see nor drop what the answer holds. Screenshots of every page are kept in
``tests/artifacts/web`` (``LOTLINE_TEST_ARTIFACTS``). No page may log a script error, break its
content policy, or fetch anything from another origin.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.web.browsing import PHONE, Reader, new_reader
from tests.integration.web.world import FAILED_REPORT, PIGMENT, TOY, WebWorld
from traceability.testing.probes import DEEP_TOP

pytestmark = [pytest.mark.integration, pytest.mark.web]


@pytest.fixture
def readers(chromium: Any, web_world: WebWorld) -> Iterator[Any]:
    """Make readers, each in a fresh browser context; each must end without a page problem."""
    made: list[tuple[Any, Reader]] = []

    def make(**options: Any) -> Reader:
        made.append(new_reader(chromium, web_world, **options))
        return made[-1][1]

    yield make
    for context, reader in made:
        context.close()
        assert reader.problems == []


def test_a_brand_sees_its_toy_with_what_is_not_its_own_left_out(readers: Any) -> None:
    brand = readers()
    brand.sign_in("brand")
    assert "org ORG-YW-TOYS" in brand.text("header .who")
    brand.open(f"/batches/{TOY}")
    brand.shot("batch-brand-toy")
    answer = brand.api("brand", f"/v1/batches/{TOY}/trace").json()
    assert "at risk" in brand.text("#batch-status")
    assert brand.page.locator(f"#risk-sources a[data-batch='{PIGMENT}']").count() == 1  # the risk source, named
    withheld = brand.text("#withheld")
    assert answer["withheld"]["reports"] > 0 and str(answer["withheld"]["reports"]) in withheld
    assert brand.page.locator("#reports tbody tr").count() == len(answer["reports"]) == 0
    assert sorted(brand.column("#shipments table", 0)) == sorted(s["shipment_id"] for s in answer["shipments"])
    shown = brand.page.locator("#graph a.node").evaluate_all("nodes => nodes.map(n => n.dataset.batch)")
    assert sorted(shown) == sorted([TOY] + [b["batch_id"] for b in answer["upstream"] + answer["downstream"]])
    assert "failed" in (brand.page.locator(f"#graph a.node[data-batch='{PIGMENT}']").get_attribute("aria-label") or "")


def test_a_batch_the_brand_may_not_see_looks_exactly_like_one_nobody_knows(readers: Any) -> None:
    brand = readers()
    brand.sign_in("brand")
    brand.open(f"/batches/{TOY}")
    with brand.page.expect_navigation():
        brand.page.click(f"#graph a.node[data-batch='{PIGMENT}']")
    brand.wait_ready()
    assert brand.page.url.endswith(f"/batches/{PIGMENT}")
    forbidden = brand.text("#app")
    brand.shot("batch-brand-forbidden")
    unknown = "PIG-RED-2610-99"
    brand.open(f"/batches/{unknown}")
    assert forbidden.replace(PIGMENT, unknown) == brand.text("#app")
    assert f"No batch {unknown} is known to you" in brand.text("#app")


def test_a_regulator_clicks_through_to_the_failed_lot_and_scopes_its_recall(readers: Any) -> None:
    regulator = readers()
    regulator.sign_in("regulator")
    regulator.open(f"/batches/{TOY}")
    regulator.shot("batch-regulator-toy")
    with regulator.page.expect_navigation():
        regulator.page.click(f"#graph a.node[data-batch='{PIGMENT}']")
    regulator.wait_ready()
    assert "failed" in regulator.text("#batch-status")
    assert FAILED_REPORT[1] in regulator.column("#reports table", 0)
    regulator.shot("batch-regulator-pigment")
    with regulator.page.expect_navigation():
        regulator.page.click("a#open-recall")
    regulator.wait_ready()
    regulator.shot("recall-regulator-pigment")
    recall = regulator.api("regulator", f"/v1/batches/{PIGMENT}/recall").json()
    assert sorted(regulator.column("#affected table", 0)) == sorted(a["batch_id"] for a in recall["affected"])
    assert sorted(regulator.column("#shipments table", 0)) == sorted(s["shipment_id"] for s in recall["shipments"])
    for total in recall["totals"]["by_country"]:
        title = regulator.page.locator(f"#map path[data-country='{total['country']}'] title").text_content() or ""
        assert f"{total['quantity']:,.0f}" in title


def test_the_recall_shipments_sort_and_filter_and_the_url_keeps_the_choice(readers: Any) -> None:
    regulator = readers()
    regulator.sign_in("regulator")
    regulator.open(f"/batches/{PIGMENT}/recall")
    recall = regulator.api("regulator", f"/v1/batches/{PIGMENT}/recall").json()
    quantity = regulator.page.locator("#shipments th button[data-sort='quantity']")
    quantity.click()
    quantity.click()  # descending
    largest_first = sorted(recall["shipments"], key=lambda s: -s["quantity"])
    assert _numbers(regulator.column("#shipments table", _index(regulator, "quantity"))) == \
        [s["quantity"] for s in largest_first]
    regulator.page.select_option("#country-filter", "US")
    us = sorted(s["shipment_id"] for s in recall["shipments"] if s["to_country"] == "US")
    assert sorted(regulator.column("#shipments table", 0)) == us
    regulator.shot("recall-regulator-sorted-filtered")
    url = regulator.page.url
    again = readers()
    again.sign_in("regulator")
    again.page.goto(url)
    again.wait_ready()
    assert again.column("#shipments table", 0) == regulator.column("#shipments table", 0)
    assert again.page.locator("#country-filter").input_value() == "US"


def test_the_downloaded_csv_is_the_apis_answer(readers: Any) -> None:
    regulator = readers()
    regulator.sign_in("regulator")
    regulator.open(f"/batches/{PIGMENT}/recall")
    with regulator.page.expect_download() as download:
        regulator.page.click("a#download-csv")
    got = open(download.value.path(), "rb").read()
    api = regulator.api("regulator", f"/v1/batches/{PIGMENT}/recall?format=csv")
    assert got == api.content
    rows = list(csv.DictReader(io.StringIO(got.decode())))
    affected = {a["batch_id"] for a in regulator.api("regulator", f"/v1/batches/{PIGMENT}/recall").json()["affected"]}
    assert rows and {r["traceability_lot_code"] for r in rows} <= affected
    with regulator.page.expect_download() as download:
        regulator.page.click("a#download-xlsx")
    assert open(download.value.path(), "rb").read()[:2] == b"PK"  # a workbook (its content: test_query_side)


def test_the_qr_page_shows_anyone_the_verification_and_the_regulator_the_measurements(readers: Any) -> None:
    lab, report = FAILED_REPORT
    shopper = readers(viewport=PHONE)
    shopper.open(f"/r/{lab}/{report}", ready=False)
    assert "Authentic report" in shopper.text("main")
    assert shopper.page.locator("#measurements").count() == 0
    assert shopper.page.locator("#versions").count() == 0
    shopper.shot("report-public-phone")
    regulator = readers()
    regulator.sign_in("regulator")
    regulator.open(f"/r/{lab}/{report}", ready=False)
    assert regulator.page.locator("#measurements tbody tr").count() >= 1
    history = regulator.text("#versions")
    assert "refused" in history  # the impostor's "corrected" pass is shown as changing nothing
    regulator.shot("report-regulator")


def test_a_trace_of_1200_batches_opens_collapsed_and_a_level_expands(readers: Any) -> None:
    admin = readers()
    admin.sign_in("admin")
    admin.open(f"/batches/{DEEP_TOP}")
    answer = admin.api("admin", f"/v1/batches/{DEEP_TOP}/trace").json()
    assert len(answer["upstream"]) > 1000
    nodes = admin.page.locator("#graph a.node").count()
    groups = admin.page.locator("#graph .node-group")
    assert nodes < 200 and groups.count() > 0
    admin.shot("batch-deep-collapsed")
    level = groups.first.get_attribute("data-level")
    groups.first.press("Enter")  # a keyboard user expands it too
    admin.wait_ready()
    assert level in (parse_qs(urlsplit(admin.page.url).query).get("expand", [""])[0]).split(",")
    assert admin.page.locator("#graph a.node").count() > nodes
    assert admin.page.evaluate("1 + 1") == 2  # the page still answers
    admin.shot("batch-deep-expanded")


def test_a_node_is_reached_by_keyboard_and_followed_with_enter(readers: Any) -> None:
    regulator = readers()
    regulator.sign_in("regulator")
    regulator.open(f"/batches/{TOY}")
    for _ in range(200):  # Tab through the page until the pigment lot's node has the focus
        regulator.page.keyboard.press("Tab")
        if regulator.page.evaluate("document.activeElement?.dataset?.batch") == PIGMENT:
            break
    else:
        raise AssertionError(f"Tab never reached the node of {PIGMENT}")
    with regulator.page.expect_navigation():
        regulator.page.keyboard.press("Enter")
    assert regulator.page.url.endswith(f"/batches/{PIGMENT}")


def test_as_of_is_in_the_url_and_answers_as_known_then(readers: Any) -> None:
    regulator = readers()
    regulator.sign_in("regulator")
    moment = regulator.world.before_signed  # the lineage known, the signed lead report not yet
    then = regulator.api("regulator", f"/v1/batches/{PIGMENT}/trace?as_of={moment}").json()
    assert then["status"] != "failed"
    regulator.open(f"/batches/{PIGMENT}")
    regulator.page.fill("#as-of", moment[:19])
    regulator.page.click(".as-of button[type=submit]")
    regulator.page.wait_for_url(lambda url: "as_of=" in url)
    regulator.wait_ready()
    assert then["status"].replace("_", " ") in regulator.text("#batch-status")
    assert parse_qs(urlsplit(regulator.page.url).query)["as_of"] == [moment]
    regulator.shot("batch-regulator-as-of")
    link = regulator.page.locator("a#open-recall").get_attribute("href") or ""
    assert f"as_of={moment.replace(':', '%3A')}" in link or f"as_of={moment}" in link


def test_the_pages_fit_a_phone(readers: Any) -> None:
    regulator = readers(viewport=PHONE)
    regulator.sign_in("regulator")
    for path, name in ((f"/batches/{TOY}", "phone-batch"), (f"/batches/{PIGMENT}/recall", "phone-recall")):
        regulator.open(path)
        assert regulator.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        regulator.shot(name)


def test_a_wrong_key_is_refused_at_sign_in_and_signing_out_ends_the_session(readers: Any) -> None:
    reader = readers()
    reader.page.goto(f"{reader.world.base}/sign-in")
    reader.page.fill("#key", "lotline_not-a-key")
    with reader.page.expect_navigation():
        reader.page.click("main form button[type=submit]")
    assert "not valid" in reader.text("main [role=alert]")
    assert not [c for c in reader.page.context.cookies() if c["name"] == "lotline_session"]
    reader.shot("sign-in-refused")
    reader.sign_in("lab")
    with reader.page.expect_navigation():
        reader.page.click("header form button:has-text('Sign out')")
    assert not [c for c in reader.page.context.cookies() if c["name"] == "lotline_session"]
    reader.page.goto(f"{reader.world.base}/batches/{TOY}")
    assert "/sign-in" in reader.page.url


def test_the_api_docs_load_from_this_server(readers: Any) -> None:
    reader = readers()
    reader.open("/docs", ready=False)
    reader.page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    document = httpx.get(f"{reader.world.base}/openapi.json", timeout=30).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    assert reader.page.locator(".swagger-ui .opblock").count() == operations
    reader.shot("api-docs")


def _index(reader: Reader, field: str) -> int:
    """The column index of the header button sorting by ``field``."""
    headers = reader.page.locator("#shipments thead th")
    for i in range(headers.count()):
        if headers.nth(i).locator(f"button[data-sort='{field}']").count():
            return i
    raise AssertionError(f"no column sorts by {field}")


def _numbers(cells: list[str]) -> list[float]:
    return [float(c.replace(",", "").replace("\u202f", "").split()[0]) for c in cells]
