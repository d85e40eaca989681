"""The registry and signed reports end to end: `lotline registry load` and `show`, a v1 lab record
published raw, organisations and their places read back on the 18.16 server, and `lotline publish
--sign-with` stored with a credential that verifies."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta

import fastavro
import pytest

from query import history, registry
from schemas import SCHEMA_DIR, credential
from schemas.codec import MAGIC, single_object_fingerprint
from streams.producer import CheckedProducer
from tests.conftest import jsonl
from tests.registry_samples import BAUA, CNAS, DAKKS, LAB_V1, LAB_V2, RESULT, SAMR_ZJ, SPIELWAREN, YW_TOYS
from traceability.events import LabResult, Measurement, event_to_record
from traceability.json_form import event_to_json

pytestmark = pytest.mark.integration

BAD_JURISDICTION = json.dumps({**event_to_json(SAMR_ZJ), "event_id": "reg-bad", "jurisdiction": ["Zhejiang"]})


def shown(deployment, *args: str) -> dict:
    done = deployment.lotline("registry", "show", "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_registry_load_stores_bodies_labs_and_regulators_and_dead_letters_the_bad_lines(deployment, tmp_file):
    entries = [CNAS, DAKKS, LAB_V2, SAMR_ZJ, BAUA]
    lines = jsonl(entries[:3]) + jsonl([RESULT]) + jsonl(entries[3:]) + BAD_JURISDICTION.encode() + b"\n"
    deployment.start_worker()

    loaded = deployment.lotline("registry", "load", str(tmp_file("registry.jsonl", lines)))
    assert loaded.returncode == 1, loaded.stderr  # some lines rejected
    assert "published 5, rejected 2" in loaded.stdout
    assert "registry.jsonl:4: type: lab_result is not a registry entry" in loaded.stderr
    assert "registry.jsonl:7: jurisdiction[0]: expected an ISO 3166 code" in loaded.stderr
    deployment.sync()

    answer = shown(deployment)
    assert answer["accreditation_bodies"] == [event_to_json(CNAS), event_to_json(DAKKS)]
    assert answer["labs"] == [event_to_json(LAB_V2)]
    assert answer["regulators"] == [event_to_json(BAUA), event_to_json(SAMR_ZJ)]
    reasons = {r["event_id"]: r["reason"] for r in history.rejects(deployment.client(), deployment.settings.database)}
    assert reasons["res-RPT-1"].startswith("type: lab_result is not a registry entry")
    assert reasons["reg-bad"].startswith("jurisdiction[0]: expected an ISO 3166 code")

    text = deployment.lotline("registry", "show")
    assert text.returncode == 0, text.stderr
    assert "accreditation CNAS L1234 by CNAS: ACTIVE" in text.stdout
    assert "key LAB-CTI-YW-0f0f0f0f: REVOKED" in text.stdout and "(laptop stolen)" in text.stdout
    assert "recognises accreditations by: any ILAC MRA signatory for testing" in text.stdout
    one = shown(deployment, "--lab", LAB_V2.lab_id)
    assert one["labs"] == [event_to_json(LAB_V2)] and [s["event_id"] for s in one["history"]] == [LAB_V2.event_id]
    assert deployment.lotline("registry", "show", "--lab", "LAB-NOBODY").returncode == 4


def test_a_v1_lab_record_published_raw_still_reads_with_its_one_accreditation(deployment):
    v1 = fastavro.parse_schema(json.loads((SCHEMA_DIR / "lab" / "v1.avsc").read_text()), named_schemas={})
    buf = io.BytesIO()
    buf.write(MAGIC + single_object_fingerprint(v1))
    fastavro.schemaless_writer(buf, v1, {k: v for k, v in event_to_record(LAB_V1).items()
                                         if k in {f["name"] for f in v1["fields"]}})
    deployment.start_worker()
    with CheckedProducer(deployment.infra.kafka_bootstrap) as producer:
        producer.send(deployment.topics.registry, buf.getvalue(), key=LAB_V1.lab_id.encode())
        producer.flush()
    deployment.sync()

    assert shown(deployment)["labs"] == [event_to_json(LAB_V1)]
    text = deployment.lotline("registry", "show", "--lab", LAB_V1.lab_id)
    assert "accreditation CNAS L5678 by CNAS (from the v1 fields)" in text.stdout, text.stderr
    assert "no signing keys" in text.stdout


def test_organisations_loaded_with_registry_load_are_read_back_with_their_places(deployment, tmp_file):
    moved = dataclasses.replace(SPIELWAREN, event_id="org-ev-de-spielwaren-2", subdivision="DE-HH",
                                registered_at=SPIELWAREN.registered_at + timedelta(days=1))
    astray = json.dumps({**event_to_json(YW_TOYS), "event_id": "org-ev-bad", "subdivision": "DE-HH"})
    lines = jsonl([YW_TOYS, SPIELWAREN, moved]) + astray.encode() + b"\n"
    deployment.start_worker()

    loaded = deployment.lotline("registry", "load", str(tmp_file("orgs.jsonl", lines)))
    assert loaded.returncode == 1, loaded.stderr
    assert "published 3, rejected 1" in loaded.stdout
    assert "orgs.jsonl:4: subdivision: 'DE-HH' is not in the country CN" in loaded.stderr
    deployment.sync()

    client, database = deployment.client(), deployment.settings.database
    assert registry.organisations(client, database) == {"ORG-DE-SPIELWAREN": moved, "ORG-YW-TOYS": YW_TOYS}
    assert registry.organisation_places(client, database, ["ORG-YW-TOYS", "ORG-DE-SPIELWAREN", "ORG-NOBODY"]) == {
        "ORG-DE-SPIELWAREN": frozenset({"DE", "DE-HH"}), "ORG-YW-TOYS": frozenset({"CN", "CN-ZJ"})}
    assert registry.organisation_places(client, database, ["ORG-DE-SPIELWAREN"]) == {
        "ORG-DE-SPIELWAREN": frozenset({"DE", "DE-HH"})}
    assert shown(deployment)["organisations"] == [event_to_json(moved), event_to_json(YW_TOYS)]
    text = deployment.lotline("registry", "show")
    assert "0 regulators, 2 organisations" in text.stdout, text.stderr
    assert "ORG-YW-TOYS" in text.stdout and "manufacturer, brand" in text.stdout
    reasons = {r["event_id"]: r["reason"] for r in history.rejects(client, database)}
    assert reasons["org-ev-bad"] == "subdivision: 'DE-HH' is not in the country CN"


def _stored_results(deployment) -> dict[str, tuple[LabResult, str]]:
    """Every stored lab result (as its event) with its credential, by event id."""
    rows = deployment.client().execute(
        "SELECT event_id, any(report_id), any(report_version), any(lab_id), any(batch_id), any(sample_id), "
        "any(method), any(verdict), toUInt32(any(tested_at)), toUInt32(any(issued_at)), "
        "any(measurements.analyte), any(measurements.value), any(measurements.unit), "
        "any(measurements.limit_value), any(measurements.verdict), any(credential) "
        f"FROM {deployment.settings.database}.lab_results GROUP BY event_id")
    stored = {}
    for (event_id, report, version, lab, batch, sample, method, verdict, tested, issued, *measured, token) in rows:
        measurements = tuple(Measurement(*m) for m in zip(*measured, strict=True))
        result = LabResult(event_id, report, version, lab, batch, sample, method, verdict,
                           datetime.fromtimestamp(tested, UTC), datetime.fromtimestamp(issued, UTC), measurements)
        stored[event_id] = (result, token)
    return stored


def test_published_with_sign_with_lab_results_are_stored_with_credentials_that_verify(deployment, tmp_path, tmp_file):
    key = credential.new_key()
    (tmp_path / "cti.key.pem").write_bytes(credential.private_pem(key))
    jwk = credential.public_jwk(key, credential.default_kid(LAB_V2.lab_id, key))
    lab = dataclasses.replace(LAB_V2, keys=(dataclasses.replace(LAB_V2.keys[0], kid=jwk["kid"],
                                                                jwk=json.dumps(jwk, separators=(",", ":"))),))
    results = [dataclasses.replace(RESULT, event_id=f"res-{i}", report_id=f"RPT-{i}") for i in range(3)]
    deployment.start_worker()
    assert deployment.lotline("registry", "load", str(tmp_file("lab.jsonl", jsonl([lab])))).returncode == 0

    published = deployment.lotline("publish", str(tmp_file("results.jsonl", jsonl([*results, CNAS]))),
                                   "--sign-with", str(tmp_path / "cti.key.pem"), "--accreditation", "CNAS L1234")
    assert published.returncode == 0, published.stderr
    assert "published 4, rejected 0" in published.stdout
    deployment.sync()

    stored = _stored_results(deployment)
    assert sorted(stored) == ["res-0", "res-1", "res-2"]
    [registered] = shown(deployment, "--lab", lab.lab_id)["labs"][0]["keys"]
    for event, token in stored.values():
        read = credential.read(token)
        assert read.kid == jwk["kid"]
        assert credential.signature_holds(read, registered["jwk"])
        assert credential.claims_differ(event, read) == []
        assert credential.claimed_accreditation(read) == credential.ClaimedAccreditation("CNAS", "CNAS L1234")
    assert shown(deployment)["accreditation_bodies"] == [event_to_json(CNAS)]  # passed unsigned, unchanged


def test_publish_refuses_a_key_file_that_is_not_a_pem_key_naming_the_option(deployment, tmp_file):
    done = deployment.lotline("publish", str(tmp_file("r.jsonl", jsonl([RESULT]))),
                              "--sign-with", str(tmp_file("not.pem", b"hello")))
    assert done.returncode == 2
    assert "--sign-with:" in done.stderr
