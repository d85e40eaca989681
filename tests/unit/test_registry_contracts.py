"""The registry's contracts (DESIGN §5): JSON form, Avro, validation, and what a lab record means."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime

import fastavro
import pytest

from schemas import SCHEMA_DIR
from schemas.codec import MAGIC, AvroCodec, single_object_fingerprint
from tests.conftest import NOW
from tests.registry_samples import (
    ACCREDITATION,
    BAUA,
    CNAS,
    DAY,
    JWK,
    KEY,
    LAB_V1,
    LAB_V2,
    REGISTRY,
    SAMR_ZJ,
    SIGNED,
    SPIELWAREN,
    YW_TOYS,
)
from traceability.errors import InvalidEvent
from traceability.events import (
    Accreditation,
    Organisation,
    Product,
    Production,
    Receiving,
    Shipment,
    StatusChange,
    event_to_record,
    lab_accreditations,
    lab_record,
    record_fields,
)
from traceability.json_form import event_to_json, parse_event
from traceability.registry import Period, Qualification, SigningKey
from traceability.sample_chain import yiwu_toys
from traceability.trust import LabRecord
from traceability.validation import validate

pytestmark = pytest.mark.unit
CODEC = AvroCodec()

BODY_LINE = ('{"type":"accreditation_body","event_id":"ab-cnas","body_id":"CNAS","name":"China National Accreditation '
             'Service for Conformity Assessment","economy":"CN","mra_testing":[{"start":"2001-01-31T00:00:00Z",'
             '"end":null}],"registered_at":"2026-11-01T00:00:00Z"}')
REGULATOR_LINE = ('{"type":"regulator","event_id":"reg-samr-zj","regulator_id":"SAMR-ZJ","name":"Zhejiang '
                  'Administration for Market Regulation","jurisdiction":["CN-ZJ"],"recognises_mra_signatories":false,'
                  '"recognised_bodies":["CNAS"],"required_qualifications":["CMA"],'
                  '"registered_at":"2026-11-01T00:00:00Z"}')
ORGANISATION_LINE = ('{"type":"organisation","event_id":"org-ev-yw-toys","org_id":"ORG-YW-TOYS","name":"Yiwu Happy '
                     'Toys Co., Ltd.","country":"CN","subdivision":"CN-ZJ","roles":["manufacturer","brand"],'
                     '"registered_at":"2026-11-01T00:00:00Z"}')
X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
LAB_OBJECT = {
    "type": "lab", "event_id": "lab-ev-cti-2", "lab_id": "LAB-CTI-YW", "name": "Yiwu Product Testing Centre",
    "registered_at": "2026-11-01T00:00:00Z", "legal_id": "91330782MA28C0XX1A", "names": ["义乌市产品质量检验所"],
    "accreditations": [{
        "body_id": "CNAS", "number": "CNAS L1234", "valid_from": "2025-01-01T00:00:00Z",
        "valid_until": "2028-01-01T00:00:00Z",
        "statuses": [{"status": "granted", "at": "2025-01-01T00:00:00Z"},
                     {"status": "suspended", "at": "2026-06-01T00:00:00Z"}],
        "methods": ["GB 6675.4-2014"], "analytes": ["Pb"], "product_categories": ["toys"],
    }],
    "qualifications": [{"kind": "CMA", "number": "2021110234U", "valid_from": "2025-01-01T00:00:00Z",
                        "valid_until": "2027-01-01T00:00:00Z"}],
    "keys": [{"kid": "LAB-CTI-YW-1a2b3c4d", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": X},
              "not_before": "2026-10-01T00:00:00Z", "not_after": None, "revoked_at": None, "revocation_reason": ""}],
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def refused(event, match):
    with pytest.raises(InvalidEvent, match=match):
        validate(event, NOW)


# --- JSON form -----------------------------------------------------------------------------------


@pytest.mark.parametrize("event", [*REGISTRY, SIGNED], ids=lambda e: e.event_id)
def test_every_registry_kind_and_new_field_round_trips_through_its_json_form(event):
    assert parse_event(json.dumps(event_to_json(event), ensure_ascii=False)) == event
    assert validate(event, NOW) is event


def test_the_documented_json_lines_parse_as_written():
    body = parse_event(BODY_LINE)
    assert body == dataclasses.replace(CNAS, registered_at=at("2026-11-01T00:00:00Z"))
    regulator = parse_event(REGULATOR_LINE)
    assert (regulator.regulator_id, regulator.jurisdiction, regulator.recognises_mra_signatories) == (
        "SAMR-ZJ", ("CN-ZJ",), False)
    lab = parse_event(json.dumps(LAB_OBJECT))
    [accreditation] = lab.accreditations
    assert accreditation.statuses[1] == StatusChange("suspended", at("2026-06-01T00:00:00Z"))
    assert lab.qualifications == (Qualification("CMA", "2021110234U", at("2025-01-01T00:00:00Z"),
                                                at("2027-01-01T00:00:00Z")),)
    assert lab.names == ("义乌市产品质量检验所",) and lab.legal_id == "91330782MA28C0XX1A"
    organisation = parse_event(ORGANISATION_LINE)
    assert organisation == dataclasses.replace(YW_TOYS, registered_at=at("2026-11-01T00:00:00Z"), phone="",
                                               locations=())  # a v1 line: no phone, no locations
    for event in (body, regulator, lab, organisation):
        assert validate(event, NOW) is event


def test_an_organisation_may_leave_out_its_subdivision_and_roles_and_its_places_have_no_blanks():
    bare = parse_event(json.dumps({k: v for k, v in json.loads(ORGANISATION_LINE).items()
                                   if k not in ("subdivision", "roles")}))
    assert (bare.subdivision, bare.roles) == ("", ())
    assert validate(bare, NOW) is bare
    assert bare.places == frozenset({"CN"})
    assert YW_TOYS.places == frozenset({"CN", "CN-ZJ"}) and SPIELWAREN.places == frozenset({"DE"})


def test_a_keys_jwk_is_an_object_in_json_and_compact_text_in_the_record():
    lab = parse_event(json.dumps(LAB_OBJECT))
    assert lab.keys == (SigningKey("LAB-CTI-YW-1a2b3c4d", f'{{"kty":"OKP","crv":"Ed25519","x":"{X}"}}',
                                   at("2026-10-01T00:00:00Z"), None, None, ""),)
    assert event_to_json(lab)["keys"][0]["jwk"] == {"kty": "OKP", "crv": "Ed25519", "x": X}
    with pytest.raises(InvalidEvent, match=r"keys\[0\].jwk: expected a JSON object"):
        parse_event(json.dumps({**LAB_OBJECT, "keys": [{**LAB_OBJECT["keys"][0], "jwk": JWK}]}))


def test_a_v2_lab_may_leave_out_the_v1_fields_which_then_describe_its_first_accreditation():
    lab = parse_event(json.dumps(LAB_OBJECT))
    assert (lab.accreditation_body, lab.accreditation_number, lab.accredited_methods) == (
        "CNAS", "CNAS L1234", ("GB 6675.4-2014",))
    assert (lab.valid_from, lab.valid_until, lab.region, lab.public_keys) == (
        at("2025-01-01T00:00:00Z"), at("2028-01-01T00:00:00Z"), "", ())
    bare = parse_event(json.dumps({k: v for k, v in LAB_OBJECT.items() if k not in ("accreditations", "keys")}))
    assert (bare.accreditation_body, bare.accreditation_number, bare.valid_from, bare.valid_until) == (
        "", "", bare.registered_at, bare.registered_at)
    assert lab_accreditations(bare) == ()
    assert validate(bare, NOW) is bare
    with pytest.raises(InvalidEvent, match="lab: missing field 'registered_at'"):
        parse_event(json.dumps({k: v for k, v in LAB_OBJECT.items() if k != "registered_at"}))


def test_a_signed_result_carries_its_credential_and_an_unsigned_one_none():
    line = event_to_json(SIGNED)
    assert line["credential"] == SIGNED.credential
    unsigned = parse_event(json.dumps({k: v for k, v in line.items() if k != "credential"}))
    assert unsigned.credential == ""


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"recognises_mra_signatories": "no"}, "recognises_mra_signatories: expected true or false, got str"),
        ({"jurisdiction": "CN-ZJ"}, "regulator: malformed record"),
        ({"jurisdiction": [7]}, r"jurisdiction\[0\]: expected a string, got int"),
        ({"registered_at": "2026-11-01"}, "registered_at: timestamp needs a time zone"),
    ],
)
def test_a_wrong_regulator_field_is_named(patch, reason):
    with pytest.raises(InvalidEvent, match=reason):
        parse_event(json.dumps({**json.loads(REGULATOR_LINE), **patch}))


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"roles": "brand"}, "organisation: malformed record"),
        ({"roles": ["brand", 7]}, r"roles\[1\]: expected a string, got int"),
        ({"country": None}, "country: expected a string, got NoneType"),
        ({"org_id": None}, "org_id: expected a string, got NoneType"),
    ],
)
def test_a_wrong_organisation_field_is_named(patch, reason):
    with pytest.raises(InvalidEvent, match=reason):
        parse_event(json.dumps({**json.loads(ORGANISATION_LINE), **patch}))


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"status": "revoked"}, r"accreditations\[0\].statuses\[0\].status: expected granted, suspended, withdrawn"),
        ({"at": "soon"}, r"accreditations\[0\].statuses\[0\].at: not an ISO 8601 timestamp"),
        ({"at": None}, r"accreditations\[0\].statuses\[0\].at: expected an ISO 8601 string, got NoneType"),
    ],
)
def test_a_wrong_nested_field_is_named_with_its_path(patch, reason):
    [accreditation] = LAB_OBJECT["accreditations"]
    statuses = [{**accreditation["statuses"][0], **patch}]
    with pytest.raises(InvalidEvent, match=reason):
        parse_event(json.dumps({**LAB_OBJECT, "accreditations": [{**accreditation, "statuses": statuses}]}))


def test_missing_nested_fields_are_named_and_optional_times_may_be_left_out():
    [key] = LAB_OBJECT["keys"]
    with pytest.raises(InvalidEvent, match="lab: missing field 'keys\\[0\\].kid'"):
        parse_event(json.dumps({**LAB_OBJECT, "keys": [{k: v for k, v in key.items() if k != "kid"}]}))
    with pytest.raises(InvalidEvent, match=r"mra_testing\[0\].end: not an ISO 8601"):
        parse_event(BODY_LINE.replace('"end":null', '"end":"never"'))


def test_the_demo_chain_registers_every_org_its_productions_and_shipments_name_with_its_place():
    events = yiwu_toys(NOW - 10 * DAY)
    orgs = {e.org_id: e for e in events if isinstance(e, Organisation)}
    named = {e.org_id for e in events if isinstance(e, Production)} | {
        org for e in events if isinstance(e, Shipment | Receiving) for org in (e.from_org, e.to_org)}
    assert set(orgs) == named
    assert all(validate(org, NOW) is org for org in orgs.values())
    assert {orgs[e.org_id].places for e in events if isinstance(e, Production)} == {frozenset({"CN", "CN-ZJ"})}
    assert all(orgs[e.to_org].country == e.to_country for e in events if isinstance(e, Shipment))


def test_the_demo_chain_names_only_registered_locations_and_products():
    events = yiwu_toys(NOW - 10 * DAY)
    orgs = {e.org_id: e for e in events if isinstance(e, Organisation)}
    products = {e.product_id for e in events if isinstance(e, Product)}
    places = [(e.org_id, e.location_id) for e in events if isinstance(e, Production)]
    places += [(e.from_org, e.from_location) for e in events if isinstance(e, Shipment | Receiving)]
    places += [(e.to_org, e.to_location_id) for e in events if isinstance(e, Shipment)]
    places += [(e.to_org, e.location_id) for e in events if isinstance(e, Receiving)]
    assert all(orgs[org].location(location) is not None for org, location in places)
    assert {o.product_id for e in events if isinstance(e, Production) for o in e.outputs} == products
    assert all(validate(e, NOW) is e for e in events if isinstance(e, Product))


# --- validation ----------------------------------------------------------------------------------


def _with_accreditation(**changes):
    return dataclasses.replace(LAB_V2, accreditations=(dataclasses.replace(ACCREDITATION, **changes),))


def _with_key(**changes):
    return dataclasses.replace(LAB_V2, keys=(dataclasses.replace(KEY, **changes),))


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (dataclasses.replace(CNAS, body_id="C N"), "body_id: only printable ASCII"),
        (dataclasses.replace(CNAS, name=" "), "name: must not be empty"),
        (dataclasses.replace(CNAS, economy="CHN"), "economy: expected an ISO 3166 alpha-2 code"),
        (dataclasses.replace(CNAS, mra_testing=(Period(NOW, NOW - DAY),)),
         r"mra_testing\[0\].end: must be after start"),
        (dataclasses.replace(CNAS, mra_testing=(Period(NOW.replace(tzinfo=None), None),)),
         r"mra_testing\[0\].start: timestamp needs a time zone"),
        (dataclasses.replace(CNAS, registered_at=NOW + 3 * DAY), "registered_at: .* is in the future"),
        (dataclasses.replace(SAMR_ZJ, jurisdiction=()), "jurisdiction: a regulator needs at least one"),
        (dataclasses.replace(SAMR_ZJ, jurisdiction=("CN-ZJ", "zj")), r"jurisdiction\[1\]: expected an ISO 3166 code"),
        (dataclasses.replace(SAMR_ZJ, jurisdiction=("CN-ZJXX",)), r"jurisdiction\[0\]: expected an ISO 3166 code"),
        (dataclasses.replace(SAMR_ZJ, recognised_bodies=("",)), r"recognised_bodies\[0\]: must not be empty"),
        (dataclasses.replace(SAMR_ZJ, required_qualifications=("C M A",)), r"required_qualifications\[0\]: only"),
        (dataclasses.replace(BAUA, regulator_id="x" * 129), "regulator_id: longer than 128"),
        (dataclasses.replace(YW_TOYS, org_id=""), "org_id: must not be empty"),
        (dataclasses.replace(YW_TOYS, org_id="ORG YW"), "org_id: only printable ASCII"),
        (dataclasses.replace(YW_TOYS, name=" "), "name: must not be empty"),
        (dataclasses.replace(YW_TOYS, country="cn"), "country: expected an ISO 3166-1 alpha-2 code in upper case"),
        (dataclasses.replace(YW_TOYS, country="CHN"), "country: expected an ISO 3166-1 alpha-2 code"),
        (dataclasses.replace(YW_TOYS, country="", subdivision=""), "country: expected an ISO 3166-1 alpha-2 code"),
        (dataclasses.replace(YW_TOYS, subdivision="ZJ"), "subdivision: expected an ISO 3166-2 code such as CN-ZJ"),
        (dataclasses.replace(YW_TOYS, subdivision="cn-zj"), "subdivision: expected an ISO 3166-2 code"),
        (dataclasses.replace(YW_TOYS, subdivision="CN-ZJXX"), "subdivision: expected an ISO 3166-2 code"),
        (dataclasses.replace(YW_TOYS, subdivision="DE-HH"), "subdivision: 'DE-HH' is not in the country CN"),
        (dataclasses.replace(YW_TOYS, roles=("brand", "")), r"roles\[1\]: must not be empty"),
        (dataclasses.replace(YW_TOYS, roles=("own brand",)), r"roles\[0\]: only printable ASCII"),
        (dataclasses.replace(YW_TOYS, registered_at=NOW + 3 * DAY), "registered_at: .* is in the future"),
        (dataclasses.replace(LAB_V2, legal_id="91 33"), "legal_id: only printable ASCII"),
        (dataclasses.replace(LAB_V2, names=("ok", "bad\n")), r"names\[1\]: contains control characters"),
        (dataclasses.replace(LAB_V2, names=("x" * 1001,)), r"names\[0\]: longer than 1000"),
        (dataclasses.replace(LAB_V2, accreditation_number=""), "accreditation_number: must be given with"),
        (_with_accreditation(body_id=""), r"accreditations\[0\].body_id: must not be empty"),
        (_with_accreditation(valid_until=ACCREDITATION.valid_from), r"accreditations\[0\].valid_until: must be after"),
        (_with_accreditation(valid_until=datetime(9999, 12, 31, tzinfo=UTC)), r"accreditations\[0\].valid_until: .*"
                                                                                r"outside 1990-2099"),
        (_with_accreditation(statuses=(StatusChange("revoked", NOW),)),  # type: ignore[arg-type]
         r"accreditations\[0\].statuses\[0\].status: expected granted, suspended, withdrawn"),
        (_with_accreditation(methods=("",)), r"accreditations\[0\].methods\[0\]: must not be empty"),
        (_with_accreditation(analytes=("Pb\x00",)), r"accreditations\[0\].analytes\[0\]: contains control"),
        (dataclasses.replace(LAB_V2, accreditations=(ACCREDITATION, ACCREDITATION)),
         r"accreditations\[1\].number: 'CNAS L1234' listed twice"),
        (dataclasses.replace(LAB_V2, qualifications=(Qualification("CMA", "1", NOW, NOW - DAY),)),
         r"qualifications\[0\].valid_until: must be after valid_from"),
        (_with_key(kid="LAB CTI"), r"keys\[0\].kid: only printable ASCII"),
        (_with_key(kid="k" * 129), r"keys\[0\].kid: longer than 128"),
        (_with_key(jwk="not json"), r"keys\[0\].jwk: not JSON"),
        (_with_key(jwk="[1]"), r"keys\[0\].jwk: expected a JSON object"),
        (_with_key(jwk=JWK.replace("Ed25519", "X25519")), r"keys\[0\].jwk: expected an Ed25519 key"),
        (_with_key(jwk=JWK.replace('"OKP"', '"EC"')), r"keys\[0\].jwk: expected an Ed25519 key"),
        (_with_key(jwk=JWK.replace(X, X[:-1])), r"keys\[0\].jwk.x: expected the 32-byte public key"),
        (_with_key(jwk=JWK.replace(X, X[:-1] + "+")), r"keys\[0\].jwk.x: expected the 32-byte public key"),
        (_with_key(jwk=JWK[:-1] + f',"d":"{X}"}}'), r"keys\[0\].jwk: holds a private key \(d\)"),
        (_with_key(jwk=JWK[:-1] + ',"kid":"other"}'), r"keys\[0\].jwk.kid: 'other' differs from the key's kid"),
        (_with_key(not_after=KEY.not_before), r"keys\[0\].not_after: must be after not_before"),
        (_with_key(revoked_at=NOW.replace(tzinfo=None)), r"keys\[0\].revoked_at: timestamp needs a time zone"),
        (_with_key(revocation_reason="a\tb"), r"keys\[0\].revocation_reason: contains control characters"),
        (dataclasses.replace(LAB_V2, keys=(KEY, KEY)), r"keys\[1\].kid: 'LAB-CTI-YW-1a2b3c4d' listed twice"),
        (dataclasses.replace(SIGNED, credential="a.b"), "credential: not a compact JWS"),
        (dataclasses.replace(SIGNED, credential="a.b.c d"), "credential: not a compact JWS"),
        (dataclasses.replace(SIGNED, credential="a." * 40_000 + "b"), "credential: .* over the 65,536-byte limit"),
    ],
)
def test_each_registry_rule_refuses_with_the_field_named(event, reason):
    refused(event, reason)


def test_a_v1_lab_still_needs_a_validity_after_its_start_and_a_v2_lab_without_one_may_be_empty():
    refused(dataclasses.replace(LAB_V1, valid_until=LAB_V1.valid_from), "valid_until: must be after valid_from")
    blank = dataclasses.replace(LAB_V2, accreditation_body="", accreditation_number="", valid_from=LAB_V2.registered_at,
                                valid_until=LAB_V2.registered_at)
    assert validate(blank, NOW) is blank
    refused(dataclasses.replace(blank, valid_from=blank.valid_until + DAY), "valid_until: must not be before")


# --- what a lab record means -----------------------------------------------------------------------


def test_a_v1_lab_has_the_one_accreditation_its_v1_fields_describe():
    assert lab_accreditations(LAB_V1) == (Accreditation(
        "CNAS", "CNAS L5678", LAB_V1.valid_from, LAB_V1.valid_until, (StatusChange("granted", LAB_V1.valid_from),),
        ("GB 6675.4-2014",), (), ()),)
    already = dataclasses.replace(LAB_V1, accreditation_number="CNAS L5678")
    assert lab_accreditations(already)[0].number == "CNAS L5678"
    assert lab_accreditations(dataclasses.replace(LAB_V1, accreditation_body="", accreditation_number="")) == ()


def test_a_v2_lab_has_its_explicit_accreditations_and_its_record_holds_its_keys():
    assert lab_accreditations(LAB_V2) == (ACCREDITATION,)
    assert lab_record(LAB_V2) == LabRecord("LAB-CTI-YW", (ACCREDITATION,), LAB_V2.keys)
    assert lab_record(LAB_V1) == LabRecord("LAB-NBT-NB", lab_accreditations(LAB_V1), ())  # public_keys are not keys
    assert not ACCREDITATION.active_at(NOW - 38 * DAY) and ACCREDITATION.active_at(NOW)


# --- Avro ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", [*REGISTRY, SIGNED], ids=lambda e: e.event_id)
def test_every_registry_kind_and_new_field_round_trips_through_avro(event):
    assert CODEC.decode(CODEC.encode(event)) == event


def _encoded_with(kind: str, version: int, record: dict) -> bytes:
    schema = fastavro.parse_schema(json.loads((SCHEMA_DIR / kind / f"v{version}.avsc").read_text()), named_schemas={})
    buf = io.BytesIO()
    buf.write(MAGIC + single_object_fingerprint(schema))
    fastavro.schemaless_writer(buf, schema, record)
    return buf.getvalue()


def test_a_v1_lab_read_with_the_v2_reader_means_the_same_lab():
    v1_fields = [f["name"] for f in json.loads((SCHEMA_DIR / "lab" / "v1.avsc").read_text())["fields"]]
    record = {name: value for name, value in event_to_record(LAB_V1).items() if name in v1_fields}
    assert len(v1_fields) < len(record_fields("lab"))
    read = CODEC.decode(_encoded_with("lab", 1, record))
    assert read == LAB_V1
    assert (read.legal_id, read.names, read.accreditations, read.qualifications, read.keys) == ("", (), (), (), ())
    assert lab_accreditations(read)[0].number == "CNAS L5678"


def test_a_v1_lab_result_read_with_the_v2_reader_is_unsigned():
    record = {k: v for k, v in event_to_record(SIGNED).items() if k != "credential"}
    assert CODEC.decode(_encoded_with("lab_result", 1, record)) == dataclasses.replace(SIGNED, credential="")
