"""Access by role on the real stack: every role x every endpoint x (own object, another party's, unknown).

One small world of competitors: a pigment maker and a toy maker in Zhejiang, a German distributor
and a French retailer that both received the toy lot, an unrelated French maker; two labs; the
regulators of Germany, Zhejiang and the US. Each principal asks every endpoint about every object,
and the answer must be exactly what its role allows: a full answer, a share of it (other parties'
batches as id, depth and status, the rest counted), or the unknown's 404, compared byte for byte
with the answer for an id nobody knows (same length, so even Content-Length cannot tell). Writes
as another party are refused and nothing of them is published; revoked keys, expired and wrongly
signed tokens are refused; the audit log holds every request of the run.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.access_world import (
    BATCHES,
    LABS_REPORTS,
    NOBODY_BATCH,
    NOBODY_REPORT,
    World,
)

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Caller:
    name: str
    role: str
    batches: frozenset[str]  # the batches whose trace and recall it may read
    reports: frozenset[str]  # the reports it may read in full


_EVERY = frozenset(BATCHES)
#: Every caller, and what its role lets it read of the world.
CALLERS = [
    Caller("admin", "admin", _EVERY, frozenset(LABS_REPORTS)),
    Caller("toy maker", "org", frozenset({"TOY-1", "BOX-1"}), frozenset({"R-TOY", "R-BOX"})),
    Caller("pigment maker", "org", frozenset({"PIG-1"}), frozenset({"R-PIG"})),
    Caller("distributor", "org", frozenset({"TOY-1"}), frozenset({"R-TOY"})),
    Caller("stranger", "org", frozenset({"OTH-1"}), frozenset({"R-OTH"})),
    # DE: the toy was shipped into Germany, and the pigment went into the toy
    Caller("DE regulator", "regulator", frozenset({"TOY-1", "PIG-1"}), frozenset({"R-TOY", "R-PIG"})),
    Caller("ZJ regulator", "regulator", frozenset({"TOY-1", "PIG-1", "BOX-1"}),
           frozenset({"R-TOY", "R-PIG", "R-BOX"})),
    Caller("US regulator", "regulator", frozenset(), frozenset()),
    Caller("pigment lab", "lab", frozenset(), frozenset({"R-PIG"})),
    Caller("toy lab", "lab", frozenset(), frozenset({"R-TOY", "R-OTH", "R-BOX"})),
    Caller("public", "public", frozenset(), frozenset()),
]


def _same_as_unknown(forbidden: Any, unknown: Any, asked: str, nobody: str) -> None:
    """The forbidden answer is the unknown one, byte for byte once the id asked is swapped in."""
    assert forbidden.status_code == unknown.status_code == 404
    assert forbidden.content == unknown.content.replace(nobody.encode(), asked.encode())
    assert forbidden.headers.items() == unknown.headers.items()


def test_every_role_reads_exactly_its_share_and_forbidden_answers_like_unknown(world: World) -> None:
    for caller in CALLERS:
        api = world.api(caller.name)
        for batch in BATCHES:
            for path in (f"/v1/batches/{batch}/trace", f"/v1/batches/{batch}/recall",
                         f"/v1/batches/{batch}/recall?format=csv"):
                got = api.get(path)
                where = f"{caller.name} {path}"
                if caller.role == "public":
                    assert got.status_code == 401, where
                    assert got.headers["www-authenticate"].startswith("Bearer"), where
                elif batch in caller.batches:
                    assert got.status_code == 200, where
                else:
                    _same_as_unknown(got, api.get(path.replace(batch, NOBODY_BATCH)), batch, NOBODY_BATCH)
        for report, lab in LABS_REPORTS.items():
            for path in (f"/v1/reports/{report}", f"/v1/labs/{lab}/reports/{report}"):
                got = api.get(path)
                where = f"{caller.name} {path}"
                if caller.role == "public":
                    assert got.status_code == 401, where
                elif report in caller.reports:
                    assert got.status_code == 200, where
                    assert got.json()["report_id"] == report and got.json()["measurements"], where
                else:
                    _same_as_unknown(got, api.get(path.replace(report, NOBODY_REPORT)), report, NOBODY_REPORT)
            verified = api.get(f"/v1/labs/{lab}/reports/{report}/verify")
            assert verified.status_code == 200, f"{caller.name} verifies {report}"
            full = report in caller.reports
            assert verified.json()["view"] == ("full" if full else "public"), f"{caller.name} verifies {report}"
            assert ("measurements" in verified.json()) is full, f"{caller.name} verifies {report}"
            page = api.get(f"/r/{lab}/{report}")
            assert page.status_code == 200 and report in page.text
            assert ('id="measurements"' in page.text) is full, f"{caller.name} opens the page of {report}"
        _forms_as(caller, api)
        assert api.get(f"/v1/labs/LAB-PIG/reports/{NOBODY_REPORT}/verify").status_code == 404
        assert api.get("/healthz").status_code == 200
        metrics = api.get("/metrics")
        assert metrics.status_code == {"admin": 200, "public": 401}.get(caller.role, 403), caller.name


def _forms_as(caller: Caller, api: Any) -> None:
    """The regulators' forms: an admin's of every batch, a regulator's of the batches it may read; to
    everybody else every batch is unknown, and a list of lots has no rows."""
    readable = caller.batches if caller.role in ("admin", "regulator") else frozenset()
    for batch in BATCHES:
        for path in (f"/v1/batches/{batch}/fsma", f"/v1/batches/{batch}/fsma?format=csv&sheet=transformation",
                     f"/v1/batches/{batch}/safety-gate"):
            got, where = api.get(path), f"{caller.name} {path}"
            if caller.role == "public":
                assert got.status_code == 401, where
            elif batch in readable:
                assert got.status_code == 200, where
            else:
                _same_as_unknown(got, api.get(path.replace(batch, NOBODY_BATCH)), batch, NOBODY_BATCH)
    listed = api.post("/v1/fsma?format=csv&sheet=transformation", json={"lots": sorted(BATCHES)})
    if caller.role == "public":
        assert listed.status_code == 401
        return
    lots = {row[9] for row in list(csv.reader(io.StringIO(listed.text)))[1:]}  # J: each row's new lot
    assert lots == readable, caller.name  # every batch of the world was made by a production


def test_an_org_sees_other_parties_batches_only_as_id_depth_and_status(world: World) -> None:
    full = world.api("admin").get("/v1/batches/TOY-1/trace").json()
    mine = world.api("distributor").get("/v1/batches/TOY-1/trace").json()
    assert [(b["batch_id"], b["depth"], b["status"]) for b in mine["upstream"]] == [
        (b["batch_id"], b["depth"], b["status"]) for b in full["upstream"]]
    assert {b["product_id"] for b in mine["upstream"]} == {""}
    assert [s["shipment_id"] for s in mine["shipments"]] == ["SHP-DE"]
    assert {s["shipment_id"] for s in full["shipments"]} == {"SHP-DE", "SHP-FR"}
    assert mine["withheld"]["shipments"] == 1 and mine["withheld"]["batches"] == len(full["upstream"]) + len(
        full["downstream"])
    assert [r["report_id"] for r in mine["reports"]] == ["R-TOY"]  # the pigment's report is the pigment maker's
    assert mine["withheld"]["reports"] == 1 and mine["status"] == full["status"]
    assert mine["risk_sources"] == full["risk_sources"] == ["PIG-1"]
    assert full["withheld"] == {"batches": 0, "productions": 0, "shipments": 0, "reports": 0}

    recall = world.api("toy maker").get("/v1/batches/TOY-1/recall").json()
    assert {s["shipment_id"] for s in recall["shipments"]} == {"SHP-DE", "SHP-FR", "SHP-BOX"}
    retailer = world.api("distributor").get("/v1/batches/TOY-1/recall").json()
    assert [s["shipment_id"] for s in retailer["shipments"]] == ["SHP-DE"]
    assert retailer["totals"]["by_country"] == [{"country": "DE", "unit": "ea", "quantity": 100.0, "shipments": 1}]
    box = next(a for a in retailer["affected"] if a["batch_id"] == "BOX-1")
    assert (box["product_id"], box["quantity"], box["unit"]) == ("", None, "")


def test_a_write_as_another_party_is_refused_and_nothing_of_it_is_published(world: World) -> None:
    own = world.shipment("w-own", "ORG-DIST", "ORG-X")
    theirs = world.shipment("w-theirs", "ORG-TOY", "ORG-DIST")
    refused = world.api("distributor").post("/v1/events", json=[world.shipment("w-mixed", "ORG-DIST", "ORG-X"),
                                                                   theirs])
    assert refused.status_code == 403
    assert "ORG-DIST publishes shipments only from itself, not as 'ORG-TOY'" in refused.json()["detail"]
    assert world.api("pigment lab").post("/v1/events", json=[world.result("w-lab", "LAB-TOY")]).status_code == 403
    assert world.api("DE regulator").post("/v1/events", json=[own]).status_code == 403
    assert world.api("public").post("/v1/events", json=[own]).status_code == 401
    accepted = world.api("distributor").post("/v1/events", json=[own])
    assert accepted.status_code == 202 and accepted.json()["published"] == 1
    assert world.api("pigment lab").post("/v1/events", json=[world.result("w-lab-own", "LAB-PIG")]).status_code == 202
    world.sync()
    stored = world.event_ids()
    assert {"w-own", "w-lab-own"} <= stored
    assert not {"w-mixed", "w-theirs", "w-lab"} & stored


def test_the_api_refuses_an_oversized_body_before_parsing_it(world: World) -> None:
    huge = b"[" + b" " * (17 * 1024 * 1024) + b"]"  # over the default 16 MiB
    got = world.api("admin").post("/v1/events", content=huge, headers={"Content-Type": "application/json"})
    assert got.status_code == 413 and "at most 16777216" in got.json()["detail"]
    many = "&".join(f"p{i}=1" for i in range(40))
    assert world.api("admin").get(f"/v1/batches/TOY-1/trace?{many}").status_code == 422


def test_revoked_keys_and_expired_or_wrongly_signed_tokens_are_refused(world: World) -> None:
    key = world.key("org", "ORG-DIST")
    assert world.api_with(key).get("/v1/batches/TOY-1/trace").status_code == 200
    world.revoke(key)
    deadline = time.monotonic() + 30
    while world.api_with(key).get("/v1/batches/TOY-1/trace").status_code != 401:
        assert time.monotonic() < deadline, "a revoked key still works"
        time.sleep(0.2)
    now = datetime.now(UTC)
    good = world.token({"role": "org", "org": "ORG-DIST"}, expires=now + timedelta(minutes=5))
    assert world.api_with(good).get("/v1/batches/TOY-1/trace").status_code == 200
    assert world.api_with(good).get("/v1/batches/OTH-1/trace").status_code == 404
    for bad in (world.token({"role": "org", "org": "ORG-DIST"}, expires=now - timedelta(minutes=5)),
                world.token({"role": "org", "org": "ORG-DIST"}, expires=now + timedelta(minutes=5), forged=True),
                world.token({"role": "org", "org": "ORG-DIST"}, expires=now + timedelta(minutes=5),
                            issuer="https://elsewhere.example"),
                world.token({"role": "admin", "org": "ORG-DIST"}, expires=now + timedelta(minutes=5)),
                "lotline_" + "A" * 43, "not a token at all"):
        got = world.api_with(bad).get("/v1/batches/TOY-1/trace")
        assert got.status_code == 401, bad
        assert got.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    metrics = world.api("admin").get("/metrics").text
    assert _counter(metrics, "lotline_api_auth_failures_total") >= 6


def test_repeated_failed_authentications_are_slowed_and_counted(world: World) -> None:
    api = world.api_with("lotline_" + "B" * 43)
    for _ in range(8):
        assert api.get("/v1/batches/TOY-1/trace").status_code == 401
    assert _counter(world.api("admin").get("/metrics").text, "lotline_api_auth_throttled_total") >= 2


def test_the_audit_log_holds_every_request_of_the_run(world: World) -> None:
    made = world.requests_made()
    world.flush_audit()
    records = world.audit_records()
    assert len(records) == made
    by_role = {r.role for r in records}
    assert {"admin", "org", "regulator", "lab", "public", "unauthenticated"} <= by_role
    refused = [r for r in records if r.status == 403 and r.endpoint == "/v1/events"]
    assert refused and all(r.outcome == "refused" for r in refused)
    traced = [r for r in records if r.endpoint == "/v1/batches/{batch_id}/trace" and r.role == "org"]
    assert traced and all(r.objects and r.principal_id for r in traced)
    listed = world.lotline_audit("--principal", traced[0].principal_id, "--json")
    assert listed and all(json.loads(line)["principal_id"] == traced[0].principal_id for line in listed)


def _counter(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))

