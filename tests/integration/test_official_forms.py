"""The regulators' forms on the real stack: the demo chain (with its master data) published, stored and
read back as FSMA 204's sortable spreadsheet and an EU Safety Gate notification draft.

The workbook the stack writes is compared with the FDA template's layout (test data, with its source)
and with the same form filled in memory from the events as published (`records_of`, which shares no
code with ``query.tracking``), so storage and reads can neither lose nor invent an element. The three
kinds of request are asked through the CLI and the API, as each role; the Safety Gate draft of the
failing pigment lot is checked field by field; formula payloads in every new kind of field come out
neutralised.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.integration.conftest import Deployment, _deploy, _dismantle
from traceability.events import Organisation, Product, Production, Receiving, Shipment
from traceability.fsma_template import form
from traceability.json_form import parse_event
from traceability.sample_chain import FAILED_LOT
from traceability.tracking import Request, TrackingRecords

pytestmark = pytest.mark.integration

TEMPLATE = json.loads((Path(__file__).parents[1] / "data" / "fda" / "sortable_spreadsheet_template.json").read_text())
SHEETS = ["Shipping", "Receiving", "Transformation", "About", "Data dictionary"]


class Forms:
    def __init__(self, dep: Deployment, events: list[Any]) -> None:
        self.dep, self.events = dep, events
        self.admin = dep.api()
        self.regulator = dep.api(dep.key("regulator", regulator_id="DE-BAuA"))
        self.brand = dep.api(dep.key("org", org_id="ORG-YW-TOYS"))

    def cli(self, *args: str) -> str:
        done = self.dep.lotline(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture(scope="module")
def forms(infra: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("forms")
    dep = _deploy(infra, root)
    try:
        sample = root / "yiwu.jsonl"
        assert dep.lotline("sample", "--out", str(sample)).returncode == 0
        hostile = root / "hostile.jsonl"
        hostile.write_text("".join(json.dumps(e) + "\n" for e in _hostile(datetime.now(UTC) - timedelta(days=2))))
        dep.start_worker()
        for path in (sample, hostile):
            published = dep.lotline("publish", str(path))
            assert published.returncode == 0, published.stderr + published.stdout
        dep.sync()
        yield Forms(dep, [parse_event(line) for line in sample.read_text().splitlines()])
    finally:
        _dismantle(dep)


def records_of(events: list[Any], request: Request) -> TrackingRecords:
    """The tracking records of a recall or a list of lots, straight from the published events."""
    productions = [e for e in events if isinstance(e, Production)]
    lots = set(request.lots)
    if request.kind == "recall":
        lots = {request.batch_id}
        while grown := {o.batch_id for p in productions for o in p.outputs
                        if any(i.batch_id in lots for i in p.inputs)} - lots:
            lots |= grown
    made = {o.batch_id: p for p in productions for o in p.outputs}
    return TrackingRecords(
        request=request, as_of=None, lots=tuple(sorted(lots)),
        productions=tuple(p for p in productions if any(o.batch_id in lots for o in p.outputs)),
        shipments=tuple(e for e in events if isinstance(e, Shipment) and e.batch_id in lots),
        receivings=tuple(e for e in events if isinstance(e, Receiving) and e.batch_id in lots),
        made=made, organisations={e.org_id: e for e in events if isinstance(e, Organisation)},
        products={e.product_id: e for e in events if isinstance(e, Product)},
    )


def read_book(data: bytes | Path) -> dict[str, list[list[Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return {sheet.title: [[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets}


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    return "" if value is None else value


def test_the_recall_workbook_has_the_templates_sheets_and_every_element_the_published_events_hold(forms, tmp_path):
    out = tmp_path / "fsma.xlsx"
    said = forms.cli("export", "fsma", "--recall", FAILED_LOT, "--out", str(out))
    book = read_book(out)
    assert list(book) == SHEETS
    for sheet in TEMPLATE["sheets"]:
        assert book[sheet["name"]][0] == [c["header"] for c in sheet["columns"]], sheet["name"]
    expected = form(records_of(forms.events, Request("recall", batch_id=FAILED_LOT)))
    for name, rows in expected.rows.items():
        assert book[name][1:] == [list(row) for row in rows], name
    missing = [row[1:6] for row in book["About"][1:] if row[0] == "missing"]
    assert missing == [[m.sheet, m.lot, m.element, m.event_id, m.why] for m in expected.missing]
    # The demo's one kind of gap: raw lots, made by suppliers that publish nothing.
    assert {m.lot for m in expected.missing} <= {FAILED_LOT, "BODY-2611-01", "BODY-2611-02"}
    assert {m.why for m in expected.missing} == {f"lot {FAILED_LOT} has no production record"} | {
        f"input lot {lot} has no production record" for lot in (FAILED_LOT, "RESIN-ABS-2610-01", "RESIN-ABS-2610-02")}
    shipped = {row[0]: row for row in book["Shipping"][1:]}
    assert sorted(shipped) == ["TOY-CAR-2611-01", "TOY-CAR-2611-02"]
    assert [len(book[name]) - 1 for name in SHEETS[:3]] == [6, 4, 9]
    assert f"{len(expected.missing)} elements" in said


def test_lots_and_a_product_over_dates_are_asked_from_the_cli_and_the_api(forms, tmp_path):
    lots = tmp_path / "lots.txt"
    lots.write_text("# two lots\nTOY-CAR-2611-01\nBRICK-2611-01\n")
    forms.cli("export", "fsma", "--lots", str(lots), "--out", str(tmp_path / "lots.csv"))
    with (tmp_path / "lots.shipping.csv").open(newline="") as f:
        shipping = list(csv.reader(f))
    assert shipping[0] == [c["header"] for c in TEMPLATE["sheets"][0]["columns"]]
    assert sorted(row[0] for row in shipping[1:]) == ["TOY-CAR-2611-01"] * 3
    assert {p.name for p in tmp_path.glob("lots.*.csv")} == {f"lots.{s}.csv" for s in
                                                            ("shipping", "receiving", "transformation", "about")}
    expected = form(records_of(forms.events, Request("lots", lots=("BRICK-2611-01", "TOY-CAR-2611-01"))))
    answer = forms.admin.post("/v1/fsma?format=csv&sheet=transformation",
                              json={"lots": ["TOY-CAR-2611-01", "BRICK-2611-01"]})
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert len(rows) - 1 == len(expected.rows["Transformation"]) == 4  # a car from 2 inputs, bricks from 2

    # A product over dates: the cars' shipments of the first shipping day only.
    days = sorted({e.occurred_at.date() for e in forms.events if isinstance(e, Shipment)})
    first = [e.shipment_id for e in forms.events if isinstance(e, Shipment) and e.occurred_at.date() == days[0]]
    url = f"/v1/products/SKU-CAR-RED/fsma?from={days[0]}&to={days[0]}"
    book = read_book(forms.admin.get(url).content)
    refs = {row[33] for row in book["Shipping"][1:]}  # AH: the bill of lading of each shipment
    assert refs == {f"BL-YW-{s.removeprefix('SHP-')}" for s in first}
    assert book["Transformation"][1:] == []  # the cars were made the day before
    said = forms.cli("export", "fsma", "--product", "SKU-CAR-RED", "--from", str(days[0]), "--to", str(days[-1]),
                     "--out", str(tmp_path / "cars.xlsx"))
    assert f"product SKU-CAR-RED, events from {days[0]} to {days[-1]}" in said
    assert "Shipping 6, Receiving 0, Transformation 0" in said  # SHP-001 … 006; received later, made earlier

    assert forms.admin.get(f"{url.replace('from=', 'from=x')}").status_code == 422
    assert forms.admin.get("/v1/batches/TOY-CAR-2611-01/fsma?format=csv").text.startswith("Traceability Lot Code,")
    assert forms.admin.get("/v1/batches/TOY-CAR-2611-01/fsma?format=csv&sheet=about").status_code == 422


def test_each_role_gets_the_forms_of_what_it_may_read(forms):
    unknown = forms.regulator.get("/v1/batches/PIG-RED-2610-99/fsma")
    assert unknown.status_code == 404
    regulator = forms.regulator.get(f"/v1/batches/{FAILED_LOT}/fsma")  # its goods reached Germany
    assert regulator.status_code == 200 and read_book(regulator.content)["Shipping"][1:]
    brand = forms.brand.get(f"/v1/batches/{FAILED_LOT}/fsma")
    assert (brand.status_code, brand.json()) == (unknown.status_code,
                                                 {"detail": unknown.json()["detail"].replace("-99", "-07")})
    assert forms.brand.get(f"/v1/batches/{FAILED_LOT}/safety-gate").status_code == 404
    # A regulator's list of lots keeps those it may read: the doll went to Australia and the Netherlands.
    asked = forms.regulator.post("/v1/fsma?format=csv&sheet=shipping",
                                 json={"lots": ["TOY-CAR-2611-01", "TOY-DOLL-2611-01"]})
    assert {row[0] for row in list(csv.reader(io.StringIO(asked.text)))[1:]} == {"TOY-CAR-2611-01"}
    nobody = read_book(forms.admin.post("/v1/fsma", json={"lots": ["LOT-NOBODY-KNOWS"]}).content)
    assert [len(nobody[name]) for name in SHEETS[:3]] == [1, 1, 1]  # the headers only
    public = forms.dep.api()
    del public.headers["Authorization"]
    assert public.get(f"/v1/batches/{FAILED_LOT}/fsma").status_code == 401


def test_the_safety_gate_draft_of_the_failing_pigment_lot_field_by_field(forms, tmp_path):
    draft = json.loads(forms.cli("notify", "safety-gate", FAILED_LOT, "--json"))
    assert draft["header"]["batch_id"] == FAILED_LOT and draft["header"]["status"] == "failed"
    assert draft["header"]["nature"] == "draft for the notifying authority"
    [car] = draft["products"]
    assert {k: car[k] for k in ("product_id", "category", "name", "brand", "model", "barcode", "packaging_size",
                                "packaging_style", "batch_numbers", "countries_of_origin")} == {
        "product_id": "SKU-CAR-RED", "category": "toys", "name": "Red racing car", "brand": "Happy Toys",
        "model": "HT-RC-14", "barcode": "6901234567014", "packaging_size": "1 car, 14 cm",
        "packaging_style": "window box", "batch_numbers": ["TOY-CAR-2611-01", "TOY-CAR-2611-02"],
        "countries_of_origin": ["CN"]}
    assert car["description"].startswith("Red plastic racing car")
    assert car["shipped"] == [{"unit": "ea", "quantity": 17000.0, "shipments": 6}]
    destinations = {d["country"]: (d["quantity"], d["shipments"]) for d in draft["traceability"]["destinations"]}
    assert destinations == {"US": (6800.0, 2), "GB": (3000.0, 1), "JP": (3000.0, 1), "DE": (2400.0, 1),
                            "FR": (1800.0, 1)}
    parties = {p["org_id"]: p for p in draft["traceability"]["parties"]}
    roles = {org: set(p["roles"]) for org, p in parties.items()}
    assert roles == {"ORG-YW-TOYS": {"manufacturer", "exporter"}, **{org: {"importer"} for org in (
        "ORG-DE-SPIELWAREN", "ORG-FR-JOUETS", "ORG-GB-PLAYTIME", "ORG-JP-OMOCHA", "ORG-US-TOYMART")}}
    maker, hamburg = parties["ORG-YW-TOYS"], parties["ORG-DE-SPIELWAREN"]
    assert (maker["name"], maker["phone"], maker["country"]) == ("Yiwu Happy Toys Co., Ltd.", "+86 579 8555 0101", "CN")
    assert maker["address"]["city"] == "Yiwu" and maker["address"]["street"] == "88 Chouzhou North Road"
    assert {k: hamburg["address"][k] for k in ("street", "city", "postal_code", "country")} == {
        "street": "Kornweide 20", "city": "Hamburg", "postal_code": "21107", "country": "DE"}
    risk = draft["risk"]
    assert (risk["risk_sources"], risk["risk_types"], risk["standards_not_met"]) == (
        [FAILED_LOT], ["Chemical"], ["GB 6675.4-2014"])
    [report] = risk["reports"]
    assert (report["lab_id"], report["report_id"], report["method"], report["lab_name"]) == (
        "LAB-CTI-YW", "RPT-CTI-0002", "GB 6675.4-2014", "Yiwu Product Testing Centre")
    assert report["failures"] == [{"analyte": "Pb (soluble)", "value": 135.0, "unit": "mg/kg", "limit": 90.0}]
    accreditation = report["accreditation"]
    assert (accreditation["body_id"], accreditation["number"], accreditation["status_at_issue"],
            accreditation["method_in_scope"]) == ("CNAS", "CNAS L1234", "granted", True)
    assert draft["measures"] == "left to the notifying authority" and draft["missing"] == []

    over_http = forms.regulator.get(f"/v1/batches/{FAILED_LOT}/safety-gate").json()
    for body in (over_http, draft):
        body["header"].pop("generated_at")
    assert over_http == draft
    page = tmp_path / "draft.html"
    forms.cli("notify", "safety-gate", FAILED_LOT, "--html", str(page))
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "Kornweide 20" in html and "<script" not in html
    page = forms.regulator.get(f"/v1/batches/{FAILED_LOT}/safety-gate?format=html")
    assert page.text.startswith("<!DOCTYPE") and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src" not in page.headers["content-security-policy"] and "default-src 'none'" in page.text
    assert "RPT-CTI-0002" in forms.cli("notify", "safety-gate", FAILED_LOT)


def test_formula_payloads_in_every_new_field_come_out_neutralised(forms):
    book = read_book(forms.admin.post("/v1/fsma", json={"lots": ["=LOT-EVIL", "+LOT-EVIL-2"]}).content)
    cells = [c for name in SHEETS[:3] for row in book[name][1:] for c in row if isinstance(c, str) and c]
    assert len(cells) > 60
    risky = [c for c in cells if c[:1] in "=+-@"]
    assert risky == []
    assert {c for c in cells if c.startswith("'")} >= {"'=HYPERLINK(\"http://x\")", "'+1 555", "'@CITY", "'+REGION",
                                                      "'=LOT-EVIL", "'+LOT-EVIL-2", "'=WO", "'-INV", "'+RC", "'@SUM",
                                                      "'-BRAND", "'=BOX"}


def _hostile(at: datetime) -> list[dict[str, Any]]:
    """An org, a product, a production, a shipment and a receiving with formula payloads in their new fields."""
    t = at.isoformat().replace("+00:00", "Z")
    place = {"location_id": "EV-1", "name": "-SUM(1)", "country": "CN", "street": "=HYPERLINK(\"http://x\")",
             "city": "@CITY", "region": "+REGION", "postal_code": "-1"}
    return [
        {"type": "organisation", "event_id": "org-ev-evil", "org_id": "ORG-EVIL", "name": "=HYPERLINK(\"http://x\")",
         "country": "CN", "registered_at": t, "phone": "+1 555", "locations": [place]},
        {"type": "product", "event_id": "prod-ev-evil", "product_id": "=EVIL", "org_id": "ORG-EVIL", "name": "@SUM",
         "brand": "-BRAND", "packaging_size": "+1", "packaging_style": "=BOX", "registered_at": t},
        {"type": "production", "event_id": "prd-ev-evil", "org_id": "ORG-EVIL", "site": "=SITE", "occurred_at": t,
         "inputs": [{"batch_id": "+LOT-EVIL-2", "quantity": 1, "unit": "kg"}],
         "outputs": [{"batch_id": "=LOT-EVIL", "product_id": "=EVIL", "quantity": 5, "unit": "ea"}],
         "location_id": "EV-1", "tlc_source_reference": "https://id.example.com/414/6901234000016",
         "reference_documents": [
             {"type": "work_order", "number": "=WO"}]},
        {"type": "shipment", "event_id": "shp-ev-evil", "shipment_id": "=SHP", "batch_id": "=LOT-EVIL", "quantity": 5,
         "unit": "ea", "from_org": "ORG-EVIL", "to_org": "ORG-EVIL-2", "to_location": "@DC", "to_country": "DE",
         "occurred_at": t, "from_location": "EV-1", "to_location_id": "=DC",
         "reference_documents": [{"type": "invoice", "number": "-INV"}]},
        {"type": "receiving", "event_id": "rcv-ev-evil", "receipt_id": "@RCV", "batch_id": "=LOT-EVIL", "quantity": 5,
         "unit": "ea", "from_org": "ORG-EVIL", "to_org": "ORG-EVIL-2", "location_id": "=DC", "occurred_at": t,
         "from_location": "EV-1", "reference_documents": [{"type": "receipt", "number": "+RC"}]},
    ]
