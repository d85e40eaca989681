"""Trusted reports on the real stack: signed credentials checked in the stream against the registry.

A lab is registered with an accreditation and a key; reports signed with it count, forged ones
(another key), altered ones (a field changed after signing), ones signed with a revoked key after
the revocation, and unsigned ones where signatures are required change nothing and are
dead-lettered with their outcome; reports outside the accreditation's scope or validity are
flagged and their passes do not count; a rotated key keeps old reports authentic; a registry that
arrives late ends as if it had come first. The answers, the verification (CLI, API, held
credential), the QR page (decoded from the written image) and the log's proofs are checked.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from query import history, lineage
from schemas import credential
from tests.integration.chains import RECENT, production
from traceability.events import LabResult, Measurement
from traceability.json_form import event_to_json

pytestmark = pytest.mark.integration

LAB = "LAB-TRUST-1"
ISSUED = RECENT + timedelta(hours=1)
CNAS = {"type": "accreditation_body", "event_id": "ab-cnas", "body_id": "CNAS", "name": "CNAS", "economy": "CN",
        "mra_testing": [{"start": "2001-01-31T00:00:00Z", "end": None}], "registered_at": "2026-01-01T00:00:00Z"}
ZJ = {"type": "regulator", "event_id": "reg-zj", "regulator_id": "SAMR-ZJ", "name": "Zhejiang AMR",
      "jurisdiction": ["CN-ZJ"], "recognises_mra_signatories": False, "recognised_bodies": ["CNAS"],
      "required_qualifications": ["CMA"], "registered_at": "2026-01-01T00:00:00Z"}
DE = {"type": "regulator", "event_id": "reg-de", "regulator_id": "DE-MSA", "name": "German market surveillance",
      "jurisdiction": ["DE"], "recognises_mra_signatories": True, "recognised_bodies": [],
      "required_qualifications": [], "registered_at": "2026-01-01T00:00:00Z"}


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def lab_entry(event_id: str, registered, keys: list[dict], *, valid_until=None, cma: bool = False) -> dict:
    """A v2 lab record: one CNAS accreditation for GB 6675.4-2014 (lead), valid a year from 30 days ago."""
    return {
        "type": "lab", "event_id": event_id, "lab_id": LAB, "name": "Trust Test Lab", "legal_id": "91330782TEST",
        "region": "CN-ZJ", "registered_at": iso(registered),
        "accreditations": [{"body_id": "CNAS", "number": "CNAS L4242", "valid_from": iso(RECENT - timedelta(days=30)),
                            "valid_until": iso(valid_until or RECENT + timedelta(days=335)), "statuses": [],
                            "methods": ["GB 6675.4-2014"], "analytes": ["Pb"], "product_categories": ["toys"]}],
        "qualifications": [{"kind": "CMA", "number": "CMA-1", "valid_from": iso(RECENT - timedelta(days=30)),
                            "valid_until": iso(RECENT + timedelta(days=300))}] if cma else [],
        "keys": keys,
    }


def key_entry(key, kid: str, *, not_before=None, revoked_at=None) -> dict:
    return {
        "kid": kid, "jwk": credential.public_jwk(key, kid), "not_after": None,
        "not_before": iso(not_before or RECENT - timedelta(days=60)),
        "revoked_at": iso(revoked_at) if revoked_at else None,
        "revocation_reason": "key compromised" if revoked_at else "",
    }


def result(batch: str, report_id: str, verdict: str = "pass", *, version: int = 1, method: str = "GB 6675.4-2014",
           issued=ISSUED) -> LabResult:
    limit_verdict = "fail" if verdict == "fail" else "pass"
    return LabResult(f"res-{report_id}-v{version}", report_id, version, LAB, batch, f"S-{batch}", method, verdict,
                     issued - timedelta(minutes=30), issued,
                     (Measurement("Pb (soluble)", 120.0 if verdict == "fail" else 12.5, "mg/kg", 90.0, limit_verdict),))


def signed(r: LabResult, key, kid: str) -> LabResult:
    token = credential.sign(r, key, kid=kid, accreditation=credential.ClaimedAccreditation("CNAS", "CNAS L4242"))
    return dataclasses.replace(r, credential=token)


def publish(dep, tmp_path: Path, name: str, items: list) -> None:
    lines = [json.dumps(i if isinstance(i, dict) else event_to_json(i)) for i in items]
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    done = dep.lotline("publish", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def statuses(dep) -> dict[str, str]:
    return {b: s for b, (s, _) in lineage.statuses(dep.client(), dep.settings.database).items()}


def rejects_by_event(dep) -> dict[str, str]:
    """Every refusal reason of each event, one per line (a report judged again may be refused again)."""
    reasons: dict[str, str] = {}
    for r in history.rejects(dep.client(), dep.settings.database, limit=100):
        reasons[r["event_id"]] = "\n".join(filter(None, [reasons.get(r["event_id"]), r["reason"]]))
    return reasons


def test_signed_reports_are_judged_in_the_stream_and_only_what_is_trusted_counts(deployment, tmp_path):
    dep = deployment
    dep.start_worker()
    key, other, rotated = credential.new_key(), credential.new_key(), credential.new_key()
    old_kid, new_kid = credential.default_kid(LAB, key), credential.default_kid(LAB, rotated)
    chain = [production(f"p-{b}", [f"RAW-{b}"], b) for b in
             ("GOOD", "FORGED", "ALTERED", "REVOKED", "SCOPE", "EXPIRED", "ROTATED", "FAILS")]
    publish(dep, tmp_path, "registry", [CNAS, ZJ, DE, lab_entry("lab-1", RECENT, [key_entry(key, old_kid)], cma=True)])
    good = signed(result("GOOD", "R-GOOD"), key, old_kid)
    forged = signed(result("FORGED", "R-FORGED"), other, old_kid)  # another key under the lab's kid
    tampered = dataclasses.replace(signed(result("ALTERED", "R-ALTERED", "fail"), key, old_kid), verdict="pass",
                                   measurements=(Measurement("Pb (soluble)", 12.5, "mg/kg", 90.0, "pass"),))
    out_of_scope = signed(result("SCOPE", "R-SCOPE", method="GB/T 22048-2015"), key, old_kid)
    expired = signed(result("EXPIRED", "R-EXPIRED", issued=RECENT - timedelta(days=40)), key, old_kid)
    unaccredited_fail = signed(result("FAILS", "R-FAILS", "fail", method="EN 71-3:2019"), key, old_kid)
    publish(dep, tmp_path, "reports", [*chain, good, forged, tampered, out_of_scope, expired, unaccredited_fail])
    dep.sync()

    got = statuses(dep)
    assert got.get("GOOD") == "clear"
    for batch in ("FORGED", "ALTERED", "SCOPE", "EXPIRED"):
        assert got.get(batch, "untested") == "untested", batch
    assert got.get("FAILS") == "failed"  # an unaccredited fail counts: the safe reading
    refused = rejects_by_event(dep)
    assert "signature_invalid" in refused[forged.event_id]
    assert "altered" in refused[tampered.event_id] and "verdict" in refused[tampered.event_id]
    assert good.event_id not in refused and out_of_scope.event_id not in refused

    api = dep.api()
    verdicts = {r: api.get(f"/v1/labs/{LAB}/reports/{r}/verify").json() for r in
                ("R-GOOD", "R-FORGED", "R-ALTERED", "R-SCOPE", "R-EXPIRED")}
    assert {r: (v["outcome"], v["acceptance"], v["counts"]) for r, v in verdicts.items()} == {
        "R-GOOD": ("authentic", "accredited", True), "R-FORGED": ("signature_invalid", "accredited", False),
        "R-ALTERED": ("altered", "accredited", False), "R-SCOPE": ("authentic", "method_out_of_scope", False),
        "R-EXPIRED": ("authentic", "accreditation_inactive", False),
    }
    assert verdicts["R-GOOD"]["accreditation"]["number"] == "CNAS L4242" and verdicts["R-GOOD"]["method_in_scope"]
    zj = api.get(f"/v1/labs/{LAB}/reports/R-GOOD/verify", params={"jurisdiction": "CN-ZJ"}).json()["recognition"]
    assert zj["regulator_id"] == "SAMR-ZJ" and zj["recognised"], zj
    scope_de = api.get(f"/v1/labs/{LAB}/reports/R-SCOPE/verify", params={"jurisdiction": "DE"}).json()["recognition"]
    assert not scope_de["recognised"] and scope_de["reasons"]
    trace = api.get("/v1/batches/SCOPE/trace").json()
    [flagged] = trace["reports"]
    assert (flagged["outcome"], flagged["acceptance"], flagged["counts"]) == ("authentic", "method_out_of_scope", False)

    cli = dep.lotline("verify", LAB, "R-GOOD", "--json")
    assert cli.returncode == 0 and json.loads(cli.stdout) == api.get(f"/v1/labs/{LAB}/reports/R-GOOD/verify").json()
    assert dep.lotline("verify", LAB, "R-FORGED").returncode == 1
    held = tmp_path / "held.jws"
    held.write_text(good.credential)
    offline = dep.lotline("verify", "--credential", str(held), "--json")
    assert offline.returncode == 0 and json.loads(offline.stdout)["published"], offline.stderr
    unpublished = signed(result("GOOD", "R-NEVER-SENT"), key, old_kid)
    posted = api.post("/v1/verify", json={"credential": unpublished.credential}).json()
    assert (posted["outcome"], posted["published"]) == ("authentic", False)
    assert api.post("/v1/verify", json={"credential": forged.credential}).json()["outcome"] == "signature_invalid"
    assert api.post("/v1/verify", json={"credential": "not.a.jws"}).status_code == 422

    # Key rotation: the old key stays valid for what it signed before; new reports use the new key.
    publish(dep, tmp_path, "rotation", [lab_entry("lab-2", RECENT + timedelta(minutes=1), [
        key_entry(key, old_kid, revoked_at=RECENT + timedelta(hours=2)), key_entry(rotated, new_kid)])])
    late_with_old = signed(result("REVOKED", "R-REVOKED", issued=RECENT + timedelta(hours=3)), key, old_kid)
    with_new = signed(result("ROTATED", "R-ROTATED", issued=RECENT + timedelta(hours=3)), rotated, new_kid)
    publish(dep, tmp_path, "after-rotation", [late_with_old, with_new])
    dep.sync()
    got = statuses(dep)
    assert got.get("GOOD") == "clear" and got.get("ROTATED") == "clear"
    assert got.get("REVOKED", "untested") == "untested"
    assert "key_revoked" in rejects_by_event(dep)[late_with_old.event_id]
    assert api.get(f"/v1/labs/{LAB}/reports/R-GOOD/verify").json()["outcome"] == "authentic"

    # The QR code leads to the report's page.
    png = tmp_path / "good.png"
    qr = dep.lotline("qr", LAB, "R-GOOD", "--out", str(png), LOTLINE_PUBLIC_URL="https://verify.example")
    assert qr.returncode == 0, qr.stderr
    [code] = zxingcpp.read_barcodes(Image.open(png))
    assert code.text == f"https://verify.example/r/{LAB}/R-GOOD"
    path = code.text.removeprefix("https://verify.example")
    page = TestClient(api.app).get(path)  # a phone's camera: no credential
    assert page.status_code == 200 and "Authentic report" in page.text and "CNAS L4242" in page.text
    assert "12.5" not in page.text and 'id="measurements"' not in page.text  # no measurements on the public page
    assert 'id="measurements"' in api.get(path).text  # the operator's admin sees them


def test_a_registry_that_arrives_late_ends_as_if_it_had_come_first(deployment, tmp_path):
    dep = deployment
    dep.start_worker()
    key = credential.new_key()
    kid = credential.default_kid(LAB, key)
    reports = [signed(result(f"LATE-{i}", f"R-LATE-{i}"), key, kid) for i in range(4)]
    publish(dep, tmp_path, "reports-first", [*(production(f"pl-{i}", [f"RAW-L{i}"], f"LATE-{i}") for i in range(4)),
                                             *reports[:3]])
    api = dep.api()
    posted = api.post("/v1/events", json=[event_to_json(reports[3])])  # a result carrying its credential
    assert posted.status_code == 202 and posted.json()["published"] == 1, posted.text
    dep.sync()
    assert all(statuses(dep).get(f"LATE-{i}", "untested") == "untested" for i in range(4))
    publish(dep, tmp_path, "registry-late", [CNAS, lab_entry("lab-late", RECENT, [key_entry(key, kid)])])
    dep.sync()
    assert all(statuses(dep).get(f"LATE-{i}") == "clear" for i in range(4))
    assert {api.get(f"/v1/labs/{LAB}/reports/R-LATE-{i}/verify").json()["outcome"] for i in range(4)} == {"authentic"}


def test_unsigned_reports_are_refused_when_signatures_are_required(deployment, tmp_path):
    dep = deployment
    dep.start_worker(LOTLINE_REQUIRE_SIGNATURES="true")
    publish(dep, tmp_path, "unsigned", [lab_entry("lab-u", RECENT, []), production("p-u", ["RAW-U"], "UNSIGNED"),
                                        result("UNSIGNED", "R-UNSIGNED")])
    dep.sync()
    assert statuses(dep).get("UNSIGNED", "untested") == "untested"
    assert "signatures are required" in rejects_by_event(dep)["res-R-UNSIGNED-v1"]
