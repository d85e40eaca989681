"""Signed report credentials: RFC 8037's vector holds, signed reports read back as signed, and
hostile tokens are refused with ``InvalidEvent`` (by ``read``) or ``False`` (by ``signature_holds``)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from schemas import credential
from schemas.credential import ClaimedAccreditation, Credential
from traceability.errors import InvalidEvent, SetupError
from traceability.events import LabResult, Measurement

pytestmark = pytest.mark.unit
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# RFC 8037 Appendix A.1 (private key), A.2 (public key) and A.4 (the JWS of "Example of Ed25519 signing"
# under {"alg":"EdDSA"}). The seed is RFC 8032 §7.1 TEST 1's.
RFC_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC_SEED_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC_JWS = ("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
           "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
RFC_JWK = {"kty": "OKP", "crv": "Ed25519", "x": RFC_X}

T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CNAS = ClaimedAccreditation("CNAS", "CNAS L0867")
LAB = "LAB-CTI-YW"
REPORT = LabResult(
    "res-R-2611-001", "R-2611-001", 1, LAB, "PIG-RED-2610-07", "S-PIG-RED-2610-07", "GB 6675.4-2014", "fail",
    T - timedelta(hours=4), T,
    (Measurement("Pb (soluble)", 112.5, "mg/kg", 90.0, "fail"),
     Measurement("Cd (soluble)", 0.1 + 0.2, "mg/kg", 75.0, "pass"),
     Measurement("Cr (soluble)", 1e-300, "mg/kg", None, "pass")),
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: object) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def rfc_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(RFC_D + "="))


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return credential.new_key()


@pytest.fixture(scope="module")
def kid(key) -> str:
    return credential.default_kid(LAB, key)


@pytest.fixture(scope="module")
def token(key, kid) -> str:
    return credential.sign(REPORT, key, kid=kid, accreditation=CNAS)


def refused(token: str | bytes) -> str:
    with pytest.raises(InvalidEvent) as refusal:
        credential.read(token)
    return refusal.value.reason


# --- RFC 8037 Appendix A -------------------------------------------------------------------------

def test_the_rfc_private_key_is_the_rfc_8032_seed_and_has_the_rfc_public_key():
    key = rfc_key()
    assert key.private_bytes_raw().hex() == RFC_SEED_HEX
    assert credential.public_jwk(key, "k") == {**RFC_JWK, "kid": "k"}


def test_the_rfc_signature_verifies_with_the_rfc_public_jwk():
    assert credential.compact_signature_holds(RFC_JWS, RFC_JWK)


def test_signing_the_rfc_example_reproduces_the_rfc_signature_bytes():
    assert credential.compact_jws({"alg": "EdDSA"}, b"Example of Ed25519 signing", rfc_key()) == RFC_JWS


def test_the_rfc_signature_fails_once_one_payload_byte_changes():
    header, _, signature = RFC_JWS.split(".")
    assert not credential.compact_signature_holds(f"{header}.{b64(b'Example of Ed25519 signinG')}.{signature}",
                                                  RFC_JWK)


# --- a signed report -----------------------------------------------------------------------------

def test_a_signed_report_reads_back_with_the_same_claims(token, key, kid):
    read = credential.read(token)
    assert dict(read.header) == {"alg": "EdDSA", "typ": "vc+jwt", "kid": kid}
    assert credential.signature_holds(read, credential.public_jwk(key, kid))
    assert credential.claims_differ(REPORT, read) == []
    assert credential.claimed_accreditation(read) == CNAS


def test_the_payload_is_a_dcc_shaped_vc_with_exact_values(token):
    vc = credential.read(token).payload
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2",
                              "https://test.uncefact.org/vocabulary/untp/dcc/0.6.0/"]
    assert vc["type"] == ["VerifiableCredential", "DigitalConformityCredential"]
    assert vc["id"] == "urn:lotline:report:LAB-CTI-YW:R-2611-001:v1"
    assert vc["issuer"]["id"] == "urn:lotline:lab:LAB-CTI-YW" and vc["validFrom"] == "2026-11-20T12:00:00Z"
    assessment = vc["credentialSubject"]["assessment"][0]
    assert assessment["referenceStandard"]["name"] == "GB 6675.4-2014"
    assert assessment["declaredValue"][1]["metricValue"]["value"] == 0.30000000000000004
    assert "thresholdValue" not in assessment["declaredValue"][2]
    assert (assessment["verdict"], assessment["conformance"]) == ("fail", False)


def test_the_payload_bytes_are_sorted_compact_json(token):
    payload = base64.urlsafe_b64decode(token.split(".")[1] + "==")
    assert payload == json.dumps(json.loads(payload), sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False).encode()


def test_signing_the_same_report_twice_gives_the_same_token(key, kid, token):
    assert credential.sign(REPORT, key, kid=kid, accreditation=CNAS) == token


@pytest.mark.parametrize(("change", "named"), [
    ({"measurements": (dataclasses.replace(REPORT.measurements[0], value=89.9), *REPORT.measurements[1:])},
     ["measurements[0].value"]),
    ({"batch_id": "PIG-RED-2610-08"}, ["batch_id"]),
    ({"verdict": "pass"}, ["verdict"]),
    ({"report_version": 2}, ["report_version"]),
    ({"lab_id": "LAB-NBT-NB"}, ["lab_id"]),
    ({"tested_at": T}, ["tested_at"]),
    ({"issued_at": T + timedelta(microseconds=1)}, ["issued_at"]),
    ({"sample_id": "S-2"}, ["sample_id"]), ({"method": "GB 6675.4-2022"}, ["method"]),
    ({"event_id": "res-other"}, ["event_id"]), ({"report_id": "R-2611-002"}, ["report_id"]),
    ({"measurements": (dataclasses.replace(REPORT.measurements[0], analyte="Pb (total)", unit="%"),
                       *REPORT.measurements[1:])}, ["measurements[0].analyte", "measurements[0].unit"]),
    ({"measurements": (REPORT.measurements[0], dataclasses.replace(REPORT.measurements[1], verdict="withdrawn"),
                       REPORT.measurements[2])}, ["measurements[1].verdict"]),
    ({"measurements": REPORT.measurements[:2]}, ["measurements"]),
    ({"measurements": (*REPORT.measurements[:2], dataclasses.replace(REPORT.measurements[2], limit=1.0))},
     ["measurements[2].limit"]),
])
def test_a_changed_field_is_named_by_claims_differ(token, change, named):
    assert credential.claims_differ(dataclasses.replace(REPORT, **change), credential.read(token)) == named


def test_the_same_instant_in_another_zone_is_the_same_claim(token):
    shifted = dataclasses.replace(REPORT, issued_at=T.astimezone(timezone(timedelta(hours=8))))
    assert credential.claims_differ(shifted, credential.read(token)) == []


def test_an_altered_payload_reads_but_its_signature_fails(token, key, kid):
    header, payload, signature = token.split(".")
    vc = json.loads(base64.urlsafe_b64decode(payload + "=="))
    vc["credentialSubject"]["assessment"][0]["verdict"] = "pass"
    vc["credentialSubject"]["assessment"][0]["conformance"] = True
    altered = credential.read(f"{header}.{segment(vc)}.{signature}")
    assert not credential.signature_holds(altered, credential.public_jwk(key, kid))
    assert credential.claims_differ(dataclasses.replace(REPORT, verdict="pass"), altered) == []


def test_a_verdict_that_contradicts_its_conformance_is_not_a_claim(key, kid):
    vc = credential.credential_payload(REPORT, accreditation=CNAS)
    vc["credentialSubject"]["assessment"][0]["conformance"] = True  # says "fail" and "conforms"
    forged = credential.compact_jws({"alg": "EdDSA", "typ": "vc+jwt", "kid": kid}, json.dumps(vc).encode(), key)
    assert credential.claims_differ(REPORT, credential.read(forged)) == ["verdict"]


def test_a_token_signed_by_another_key_fails_signature_holds(token, kid):
    assert not credential.signature_holds(credential.read(token), credential.public_jwk(credential.new_key(), kid))


def test_a_naive_time_is_refused_when_signing(key, kid):
    with pytest.raises(InvalidEvent, match="issued_at"):
        credential.sign(dataclasses.replace(REPORT, issued_at=T.replace(tzinfo=None)), key, kid=kid,
                        accreditation=CNAS)


@pytest.mark.parametrize("jwk", [
    {}, {"kty": "OKP", "crv": "Ed448", "x": RFC_X}, {"kty": "oct", "k": RFC_X}, {"kty": "OKP", "crv": "Ed25519"},
    {"kty": "OKP", "crv": "Ed25519", "x": RFC_X[:-1]}, {"kty": "OKP", "crv": "Ed25519", "x": 7}, [], "jwk", None,
])
def test_a_key_that_is_not_an_ed25519_public_jwk_verifies_nothing(jwk):
    assert not credential.compact_signature_holds(RFC_JWS, jwk)


# --- hostile tokens ------------------------------------------------------------------------------

def test_alg_none_is_refused(token):
    header = {"alg": "none", "typ": "vc+jwt", "kid": "k"}
    assert "alg 'none' is not accepted" in refused(f"{segment(header)}.{token.split('.')[1]}.")


def test_hs256_with_the_public_key_as_secret_is_refused(token, key, kid):
    jwk = credential.public_jwk(key, kid)
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'vc+jwt', 'kid': kid})}.{token.split('.')[1]}"
    for secret in (base64.urlsafe_b64decode(jwk["x"] + "="), json.dumps(jwk).encode(), jwk["x"].encode()):
        forged = f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"
        assert "alg 'HS256' is not accepted" in refused(forged)
        assert not credential.compact_signature_holds(forged, jwk)


@pytest.mark.parametrize("typ", ["JWT", "vc+ld+jwt", "VC+JWT", None])
def test_a_typ_other_than_vc_jwt_is_refused(token, typ):
    header = {"alg": "EdDSA", "kid": "k", **({"typ": typ} if typ else {})}
    assert "is not vc+jwt" in refused(f"{segment(header)}.{token.split('.', 1)[1]}")


def test_a_header_member_beyond_alg_typ_and_kid_is_refused(token):
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": "k", "jwk": RFC_JWK}
    assert "unexpected header member" in refused(f"{segment(header)}.{token.split('.', 1)[1]}")


@pytest.mark.parametrize("cut", [-1, -10, -87, 30, 1])
def test_a_truncated_token_is_refused(token, cut):
    refused(token[:cut])


@pytest.mark.parametrize("garbage", ["!!!.@@@.###", "a.b.c", "eyJ.eyJ.eyJ", "....", "", "e30=.e30.AAAA",
                                     "e30.e30.A", b"\xff\xfe.\x00.\x80"])
def test_garbage_base64_is_refused(garbage):
    refused(garbage)


def test_a_1_mb_token_is_refused_before_it_is_decoded(token):
    header, payload, signature = token.split(".")
    assert "over the 65,536-byte limit" in refused(f"{header}.{payload + 'A' * 1_000_000}.{signature}")
    assert "over the 65,536-byte limit" in refused(b"." * 1_000_000)


@pytest.mark.parametrize(("payload", "reason"), [
    (b"[1,2]", "a JSON array, not an object"), (b'"vc"', "a JSON string"), (b"null", "a JSON null"),
    (b'{"a":NaN}', "NaN is not a JSON number"), (b'{"a":1,"a":2}', "a key appears twice"),
    (b"[" * 40_000, "nested too deeply"), (b"\xff{}", "payload is not JSON"),
])
def test_a_payload_that_is_not_one_json_object_is_refused(payload, reason):
    header = segment({"alg": "EdDSA", "typ": "vc+jwt", "kid": "k"})
    assert reason in refused(f"{header}.{b64(payload)}.{b64(bytes(64))}")


SCALARS = st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.integers() | st.text()
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=4), max_leaves=20)


@FAST
@given(st.binary(max_size=300) | st.text(max_size=300))
@example(b"e30.e30." + b"A" * 86)
@example("eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCIsImtpZCI6ImsifQ.W10." + "A" * 86)
def test_random_input_never_raises_anything_but_invalid_event(data):
    try:
        credential.read(data)
    except InvalidEvent:
        pass


@FAST
@given(st.text(max_size=300), st.dictionaries(st.sampled_from(["kty", "crv", "x", "d"]), JSON | st.just(RFC_X)))
def test_signature_holds_never_raises(token, jwk):
    hostile = Credential({}, {}, token)
    assert credential.signature_holds(hostile, jwk) in (True, False)
    assert credential.signature_holds(hostile, RFC_JWK) is False


@FAST
@given(st.dictionaries(st.text(max_size=20), JSON, max_size=6), JSON)
def test_any_well_formed_payload_is_compared_without_raising(payload, subject):
    header = segment({"alg": "EdDSA", "typ": "vc+jwt", "kid": "k"})
    read = credential.read(f"{header}.{segment({**payload, 'credentialSubject': subject})}.{b64(bytes(64))}")
    assert "report_id" in credential.claims_differ(REPORT, read)
    credential.claimed_accreditation(read)
    assert not credential.signature_holds(read, RFC_JWK)


# --- key material --------------------------------------------------------------------------------

def test_a_private_pem_loads_back_as_the_same_key(key):
    pem = credential.private_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert credential.load_private_pem(pem).private_bytes_raw() == key.private_bytes_raw()


@pytest.mark.parametrize("data", [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_a_file_that_is_not_a_pkcs8_pem_key_is_a_setup_error(data):
    with pytest.raises(SetupError, match="not an unencrypted PKCS#8 PEM"):
        credential.load_private_pem(data)


def test_an_rsa_or_encrypted_key_is_a_setup_error(key):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(SetupError, match="not an Ed25519 key"):
        credential.load_private_pem(other)
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"secret"))
    with pytest.raises(SetupError, match="not an unencrypted"):
        credential.load_private_pem(encrypted)


def test_the_default_kid_is_the_lab_and_8_hex_digits_of_the_raw_public_key_hash():
    key = rfc_key()
    raw = base64.urlsafe_b64decode(RFC_X + "=")
    assert credential.key_fingerprint(key) == hashlib.sha256(raw).hexdigest()
    assert credential.default_kid(LAB, key) == f"{LAB}-{hashlib.sha256(raw).hexdigest()[:8]}"
