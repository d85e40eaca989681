"""The Safety Gate draft as JSON, terminal text and a standalone HTML page; hostile text stays text."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser

import pytest

from query.render.safety_gate import notification_html, notification_json, notification_text
from tests.unit.test_safety_gate import CAR, DE_IMP, HAMBURG, LEAD_FAIL, ORGS, RPT_U, U_JUDGED, drafted, result
from traceability.events import Measurement
from traceability.safety_gate import Notification

pytestmark = pytest.mark.unit

HOSTILE = '<script>alert("car")</script>'


def hostile() -> Notification:
    """The chain with markup where publishers write text: a product name, an org name, a street, an analyte."""
    evil = dataclasses.replace(DE_IMP, name='Evil & "Sons" <b>GmbH</b>',
                               locations=(dataclasses.replace(HAMBURG, street="<img src=x onerror=alert(1)>"),))
    analyte = result("RPT-A", "LAB-A", "PIG-1", "GB 6675.4-2014", "fail",
                     Measurement("<svg onload=alert(2)>", 135.0, "mg/kg", 90.0, "fail"))
    return drafted(products={"SKU-CAR": dataclasses.replace(CAR, name=HOSTILE)},
                   organisations={**ORGS, "ORG-DE-IMP": evil}, results=(analyte, RPT_U),
                   standings={RPT_U.event_id: U_JUDGED})


# --- JSON ---------------------------------------------------------------------------------------------------


def test_the_json_form_has_every_section_with_stable_keys():
    found = notification_json(drafted())
    assert list(found) == ["header", "products", "traceability", "risk", "measures", "missing"]
    assert list(found["header"]) == ["notification", "nature", "batch_id", "status", "as_of", "generated_at"]
    assert list(found["products"][0]) == [
        "product_id", "registered", "category", "name", "brand", "model", "barcode", "description", "packaging_size",
        "packaging_style", "batch_numbers", "countries_of_origin", "shipped", "batches"]
    assert list(found["products"][0]["batches"][0]) == ["batch_id", "country_of_origin", "manufacturer", "shipped"]
    assert list(found["traceability"]) == ["destinations", "parties"]
    assert list(found["traceability"]["parties"][0]) == [
        "org_id", "registered", "name", "roles", "phone", "country", "address"]
    assert list(found["traceability"]["parties"][0]["address"]) == [
        "location_id", "name", "street", "city", "region", "postal_code", "country"]
    assert list(found["risk"]) == ["risk_sources", "risk_types", "standards_not_met", "legal_requirements", "reports"]
    report = found["risk"]["reports"][0]
    assert list(report) == [
        "batch_id", "lab_id", "report_id", "version", "event_id", "lab_name", "lab_registered", "method", "risk_type",
        "tested_at", "issued_at", "failures", "accredited", "accreditation", "outcome", "acceptance", "counts"]
    assert list(report["accreditation"]) == [
        "body_id", "body_name", "number", "status_at_issue", "active_at_issue", "method_in_scope", "covers"]
    assert list(found["missing"][0]) == ["section", "subject", "element"]


def test_the_json_form_carries_the_values_with_times_in_utc_and_unknowns_as_blanks_or_nulls():
    found = notification_json(drafted())
    assert found["header"] == {"notification": "EU Safety Gate", "nature": "draft for the notifying authority",
                               "batch_id": "PIG-1", "status": "failed", "as_of": "2026-11-11T00:00:00Z",
                               "generated_at": "2026-11-21T00:00:00Z"}
    assert found["traceability"]["destinations"] == [
        {"country": "DE", "unit": "ea", "quantity": 700.0, "shipments": 2},
        {"country": "FR", "unit": "ea", "quantity": 300.0, "shipments": 1}]
    unregistered = found["traceability"]["parties"][2]
    assert unregistered == {"org_id": "ORG-FR-IMP", "registered": False, "name": "", "roles": ["importer"],
                            "phone": "", "country": "FR", "address": None}
    accredited, unaccredited = found["risk"]["reports"]
    assert accredited["failures"] == [{"analyte": "Pb (soluble)", "value": 135.0, "unit": "mg/kg", "limit": 90.0}]
    assert (accredited["issued_at"], accredited["accredited"], accredited["outcome"]) == (
        "2026-11-04T00:00:00Z", True, "authentic")
    assert (unaccredited["accredited"], unaccredited["accreditation"]) == (False, None)
    assert found["measures"] == found["risk"]["legal_requirements"] == "left to the notifying authority"
    assert found["missing"][0] == {"section": "product", "subject": "SKU-TRUCK", "element": "no barcode (GTIN)"}
    assert json.loads(json.dumps(found)) == found  # plain JSON values only


def test_a_draft_of_no_known_moment_says_as_of_null():
    n = dataclasses.replace(drafted(), as_of=None)
    assert notification_json(n)["header"]["as_of"] is None
    assert "as of:     now" in notification_text(n)


# --- terminal text ------------------------------------------------------------------------------------------


def test_the_text_has_the_forms_sections_in_order():
    text = notification_text(drafted())
    headings = ["EU Safety Gate notification: draft for the notifying authority", "1. PRODUCT: 2 notified",
                "2. TRACEABILITY", "3. RISK", "4. MEASURES TAKEN", "NOT KNOWN TO THE CHAIN: 3"]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)


def test_the_text_says_what_is_not_known_and_that_a_lab_was_not_accredited():
    text = notification_text(drafted())
    assert "  barcode (GTIN):    not known\n" in text
    assert "  quantity shipped:  400 ea in 2 shipments\n" in text
    assert "  ORG-FR-IMP: not known (not in the registry)\n" in text
    assert "    address: Munich store: 48.1374, 11.5755, München, Bayern, DE\n" in text
    assert ("  accreditation: CNAS L1234 by China National Accreditation Service for Conformity Assessment (CNAS), "
            "granted at issue, method in scope\n") in text
    assert "  accreditation: NONE: the lab held no accreditation for this method when it issued the report\n" in text
    assert "  - traceability — ORG-DE-SHOP: distributor: phone not known\n" in text


def test_the_text_names_an_accreditation_that_did_not_cover_the_report():
    lapsed = result("RPT-A", "LAB-A", "PIG-1", "EN 71-3:2019", "fail", LEAD_FAIL)  # not in CNAS L1234's scope
    text = notification_text(drafted(results=(lapsed,), standings={}))
    assert ("accreditation: NONE covering the report: CNAS L1234 by China National Accreditation Service for "
            "Conformity Assessment (CNAS), granted at issue, method not in scope") in text
    assert "  judged:        not judged yet\n" in text


def test_the_text_of_a_draft_with_nothing_on_the_market_says_so():
    text = notification_text(drafted(shipments=()))
    assert "1. PRODUCT: 0 notified" in text and "(none known to be on the market)" in text


def test_the_text_is_the_values_as_written_not_as_markup():
    assert f"product name:      {HOSTILE}\n" in notification_text(hostile())  # a terminal shows text as text


# --- HTML ---------------------------------------------------------------------------------------------------


class Parsed(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: set[str] = set()
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_data(self, data):
        self.text.append(data)


def test_the_page_is_a_standalone_english_document_with_a_table_per_section():
    page = notification_html(drafted())
    assert page.startswith('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">')
    parsed = Parsed(page)
    assert parsed.tags.count("section") == 6 and parsed.tags.count("section") <= parsed.tags.count("table")
    assert ("Header" in parsed.text and "1. Product (2 notified)" in parsed.text and "2. Traceability" in parsed.text
            and "3. Risk" in parsed.text and "4. Measures taken" in parsed.text
            and "Not known to the chain (3)" in parsed.text)
    assert "NONE: the lab held no accreditation for this method when it issued the report" in parsed.text
    assert "Munich store: 48.1374, 11.5755, München, Bayern, DE" in parsed.text


def test_the_page_runs_nothing_and_fetches_nothing():
    page = notification_html(hostile())
    parsed = Parsed(page)
    assert set(parsed.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "section",
                                "table", "thead", "tbody", "tr", "th", "td", "p"}
    assert parsed.attributes <= {"lang", "charset", "http-equiv", "content", "name", "scope", "class"}
    assert "://" not in page and "<script" not in page.lower()
    assert "default-src 'none'" in page  # the page's CSP: even a value that slipped through would not run


def test_every_value_on_the_page_is_escaped():
    page = notification_html(hostile())
    assert "&lt;script&gt;alert(&quot;car&quot;)&lt;/script&gt;" in page
    assert "Evil &amp; &quot;Sons&quot; &lt;b&gt;GmbH&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;svg onload=alert(2)&gt;" in page
    parsed = Parsed(page)
    assert HOSTILE in parsed.text  # shown as the text it is
    assert "b" not in parsed.tags and "img" not in parsed.tags and "svg" not in parsed.tags


def test_unknown_values_are_marked_on_the_page():
    page = notification_html(drafted())
    assert '<th scope="row">Barcode (GTIN)</th><td class="unknown">not known</td>' in page

