"""Signed report credentials: a compact JWS (RFC 7515, EdDSA/Ed25519 per RFC 8037, ``typ``
``vc+jwt``) over a W3C VC 2.0 shaped like a UN/CEFACT UNTP Digital Conformity Credential (DCC 0.6.0).

The payload's properties are UNTP's where UNTP has a name for them (``authorisation``,
``assessment``, ``referenceStandard``, ``assessedProduct``/``batchNumber``, ``declaredValue``/
``metricName``/``metricValue``, ``thresholdValue``, ``conformance``, ``assessmentDate``).
Lotline's own terms (``reportId``, ``reportVersion``, ``eventId``, ``sampleId``, ``verdict``) are
legal as they are: the VC 2.0 context maps undefined terms to its issuer-dependent ``@vocab``.
UNTP's ``conformance`` is a boolean (true only for ``pass``), so ``verdict`` keeps Lotline's exact
value (``withdrawn`` included). Times stay full RFC 3339 instants, even in ``assessmentDate``
(UNTP asks for a date there), and numbers stay JSON numbers, exactly what the event says.

VC-JOSE-COSE signs the exact payload bytes: there is no JSON-LD canonicalisation. Lotline writes
them deterministically (sorted keys, no spaces), so one event gives one token per key.

Verifiers never take ``alg`` from the token: ``read`` refuses anything but EdDSA, and the JOSE
registry used to verify knows no other algorithm (no ``none``, no HMAC with a public key as its
secret). Keys come from the registry (DESIGN §5), never from the token's header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jwk import OKPKey

from traceability.errors import InvalidEvent, SetupError
from traceability.events import LabResult, Measurement

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
#: The DCC release UNTP publishes for pilots (uncefact/spec-untp, ConformityCredential.md).
UNTP_DCC_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dcc/0.6.0/"
ALG, TYP = "EdDSA", "vc+jwt"
#: A report with three measurements signs to about 2 KB; 64 KiB bounds what a reader decodes.
MAX_TOKEN_BYTES = 64 * 1024
_HEADER_MEMBERS = frozenset({"alg", "typ", "kid"})
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_ED25519_SIGNATURE_BYTES = 64


@dataclass(frozen=True, slots=True)
class ClaimedAccreditation:
    """The accreditation a lab claims in a credential; the registry decides whether it holds.

    Attributes:
        body_id: The accreditation body, e.g. ``CNAS``.
        number: The lab's accreditation number with that body, e.g. ``CNAS L0867``.
    """

    body_id: str
    number: str


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential as ``read`` parsed it: well formed, signature not yet checked.

    Attributes:
        header: The JWS protected header (``alg`` EdDSA, ``typ`` vc+jwt, ``kid``).
        payload: The verifiable credential, as decoded JSON.
        token: The compact JWS, exactly as received: what the signature covers.
    """

    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    token: str

    @property
    def kid(self) -> str:
        """The signing key's id, to look up in the lab's registry entry."""
        return str(self.header.get("kid", ""))


class _EdDSA(EdDSAAlgorithm):
    # RFC 9864 deprecates "EdDSA" because it names both Ed25519 and Ed448. Lotline verifies with
    # Ed25519 JWKs only (``_verification_key``), so the name is not ambiguous here; DESIGN §5 fixes it.
    security_warning = None  # type: ignore[assignment]  # the base infers str from its message


class _EdDSAOnly(jws.JWSRegistry):
    """A JOSE registry that knows EdDSA and nothing else: no token can pick another algorithm."""

    # joserfc configures a registry by class attributes; these shadow the shared ones of the base.
    algorithms = {ALG: _EdDSA()}
    recommended = [ALG]


_REGISTRY = _EdDSAOnly(algorithms=[ALG])
_MISSING = object()


# --- the payload ---------------------------------------------------------------------------------


def credential_payload(result: LabResult, *, accreditation: ClaimedAccreditation) -> dict[str, Any]:
    """The W3C VC 2.0 (a UNTP Digital Conformity Credential) that states ``result``.

    Raises:
        InvalidEvent: a time of ``result`` has no time zone.
    """
    return {
        "@context": [VC_CONTEXT, UNTP_DCC_CONTEXT],
        "type": ["VerifiableCredential", "DigitalConformityCredential"],
        "id": _urn("report", result.lab_id, result.report_id, f"v{result.report_version}"),
        "issuer": {"type": ["CredentialIssuer"], "id": _urn("lab", result.lab_id), "name": result.lab_id},
        "validFrom": _rfc3339(result.issued_at, "issued_at"),
        "credentialSubject": _attestation(result, accreditation),
    }


def _attestation(result: LabResult, accreditation: ClaimedAccreditation) -> dict[str, Any]:
    return {
        "type": ["ConformityAttestation", "Attestation"],
        "id": _urn("report", result.lab_id, result.report_id),
        "attestationType": "testing",
        "assessorLevel": "3rdParty",
        "assessmentLevel": "Accredited",
        "reportId": result.report_id,
        "reportVersion": result.report_version,
        "eventId": result.event_id,
        "authorisation": [_endorsement(accreditation)],
        "assessment": [_assessment(result)],
    }


def _endorsement(accreditation: ClaimedAccreditation) -> dict[str, Any]:
    return {
        "type": ["Endorsement"],
        "id": _urn("accreditation", accreditation.body_id, accreditation.number),
        "name": accreditation.number,
        "issuingAuthority": {"id": _urn("body", accreditation.body_id), "name": accreditation.body_id},
    }


def _assessment(result: LabResult) -> dict[str, Any]:
    return {
        "type": ["ConformityAssessment", "Declaration"],
        "assessmentDate": _rfc3339(result.tested_at, "tested_at"),
        "referenceStandard": {"type": ["Standard"], "name": result.method},
        "assessedProduct": [{
            "product": {"id": _urn("batch", result.batch_id), "batchNumber": result.batch_id},
            "sampleId": result.sample_id,
        }],
        "declaredValue": [_declared_value(m) for m in result.measurements],
        "conformance": result.verdict == "pass",
        "verdict": result.verdict,
    }


def _declared_value(measurement: Measurement) -> dict[str, Any]:
    value: dict[str, Any] = {
        "metricName": measurement.analyte,
        "metricValue": {"value": measurement.value, "unit": measurement.unit},
        "conformance": measurement.verdict == "pass",
        "verdict": measurement.verdict,
    }
    if measurement.limit is not None:
        value["thresholdValue"] = {"value": measurement.limit, "unit": measurement.unit}
    return value


def _urn(kind: str, *parts: str) -> str:
    """``urn:lotline:<kind>:<part>:…`` with each part percent-encoded, so ``:`` in an id stays unambiguous."""
    return ":".join(["urn:lotline", kind, *(quote(part, safe="") for part in parts)])


def _rfc3339(moment: datetime, name: str) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidEvent(f"{name}: a naive datetime cannot be signed (no time zone)")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- signing and reading -------------------------------------------------------------------------


def sign(result: LabResult, private_key: Ed25519PrivateKey, *, kid: str,
         accreditation: ClaimedAccreditation) -> str:
    """The compact JWS of ``result``'s credential, signed by the lab's key.

    Raises:
        InvalidEvent: ``result`` cannot be stated exactly (a naive time, a NaN) or its credential
            would exceed ``MAX_TOKEN_BYTES``.
    """
    try:
        payload = json.dumps(credential_payload(result, accreditation=accreditation), sort_keys=True,
                             separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except ValueError as exc:  # NaN or infinity: JSON has no such number
        raise InvalidEvent(f"lab_result: cannot be stated in JSON ({exc})") from None
    token = compact_jws({"alg": ALG, "typ": TYP, "kid": kid}, payload, private_key)
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidEvent(f"lab_result: its credential is {len(token):,} bytes, over {MAX_TOKEN_BYTES:,}")
    return token


def compact_jws(protected: Mapping[str, Any], payload: bytes, private_key: Ed25519PrivateKey) -> str:
    """Any compact JWS signed with EdDSA: ``sign``'s path, open to known-answer tests (RFC 8037 A.4)."""
    return jws.serialize_compact(dict(protected), payload, OKPKey.import_key(private_key), registry=_REGISTRY)


def read(token: str | bytes) -> Credential:
    """Parse a credential without verifying it: the checks that need no key.

    Raises:
        InvalidEvent: the token is over ``MAX_TOKEN_BYTES``, not three base64url parts, its header
            is not a JSON object of exactly ``alg`` EdDSA, ``typ`` vc+jwt and a ``kid``, its
            signature is not 64 bytes, or its payload is not a JSON object.
    """
    _check_size(token)
    text = _ascii(token)
    header, payload, signature = _parts(text)
    _check_header(header)
    if len(signature) != _ED25519_SIGNATURE_BYTES:
        raise InvalidEvent(f"credential: the signature is {len(signature)} bytes, an Ed25519 one is 64")
    return Credential(header, _json_object(payload, "payload"), text)


def _check_size(token: str | bytes) -> None:
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidEvent(f"credential: {len(token):,} bytes, over the {MAX_TOKEN_BYTES:,}-byte limit")


def _ascii(token: str | bytes) -> str:
    if isinstance(token, bytes):
        try:
            return token.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidEvent("credential: not a compact JWS (non-ASCII bytes)") from None
    return token


def _parts(token: str) -> tuple[dict[str, Any], bytes, bytes]:
    """The decoded header, payload bytes and signature bytes of a compact JWS."""
    _check_size(token)
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidEvent(f"credential: not a compact JWS ({len(parts)} dot-separated parts, not 3)")
    header, payload, signature = (_base64url(part, name) for part, name in zip(parts, _PART_NAMES, strict=True))
    return _json_object(header, "header"), payload, signature


_PART_NAMES = ("header", "payload", "signature")


def _base64url(part: str, name: str) -> bytes:
    if not _BASE64URL.fullmatch(part) or len(part) % 4 == 1:
        raise InvalidEvent(f"credential: the {name} is not base64url")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise InvalidEvent(f"credential: the {name} is not base64url") from None


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidEvent(f"credential: the {name} is not JSON ({_short(exc)})") from None
    if not isinstance(value, dict):
        raise InvalidEvent(f"credential: the {name} is a JSON {_JSON_TYPES.get(type(value), 'value')}, not an object")
    return value


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which of two equal keys wins; a signed claim must mean one thing.
    value = dict(pairs)
    if len(value) != len(pairs):
        raise ValueError("a key appears twice in one object")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _short(exc: BaseException) -> str:
    return str(exc)[:80] if not isinstance(exc, RecursionError) else "nested too deeply"


def _check_header(header: Mapping[str, Any]) -> None:
    if header.get("alg") != ALG:
        raise InvalidEvent(f"credential: alg {_shown(header.get('alg'))} is not accepted (only {ALG})")
    if header.get("typ") != TYP:
        raise InvalidEvent(f"credential: typ {_shown(header.get('typ'))} is not {TYP}")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise InvalidEvent("credential: the header names no kid")
    if extra := sorted(set(header) - _HEADER_MEMBERS):
        raise InvalidEvent(f"credential: unexpected header member(s) {', '.join(map(repr, extra))[:80]}")


def _shown(value: Any) -> str:
    return repr(value)[:40] if value is not None else "(missing)"


# --- verifying -----------------------------------------------------------------------------------


def signature_holds(credential: Credential, jwk: Mapping[str, Any]) -> bool:
    """Whether ``credential``'s token carries a valid EdDSA signature by the Ed25519 key ``jwk``.

    False on any failure, hostile input included: a malformed token, a key that is not an OKP/
    Ed25519 public JWK, another key's signature, altered bytes.
    """
    return compact_signature_holds(credential.token, jwk)


def compact_signature_holds(token: str, jwk: Mapping[str, Any]) -> bool:
    """Whether any compact JWS (no ``typ`` check: that is ``read``'s) verifies with EdDSA under ``jwk``."""
    key = _verification_key(jwk)
    if key is None or not _signed_with_eddsa(token):
        return False
    try:
        jws.deserialize_compact(token, key, registry=_REGISTRY)
    except (JoseError, ValueError):
        return False
    return True


def _signed_with_eddsa(token: str) -> bool:
    if not isinstance(token, str):
        return False
    try:
        header, _, _ = _parts(token)
    except InvalidEvent:
        return False
    return header.get("alg") == ALG and set(header) <= _HEADER_MEMBERS


def _verification_key(jwk: Mapping[str, Any]) -> OKPKey | None:
    """The public key of an OKP/Ed25519 JWK; only ``kty``, ``crv`` and ``x`` are read (never ``d``)."""
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    x = jwk.get("x")
    if not isinstance(x, str) or len(x) != 43 or not _BASE64URL.fullmatch(x):
        return None
    return _okp_key(x)


@lru_cache(maxsize=4096)
def _okp_key(x: str) -> OKPKey | None:
    # Cached: a stream checks thousands of reports against a lab's few keys (the import cost about
    # a third of a check, measured).
    try:
        return OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": x})
    except (JoseError, ValueError):
        return None


# --- comparing claims with the event -------------------------------------------------------------


def claims_differ(result: LabResult, credential: Credential) -> list[str]:
    """The event fields whose value the credential states otherwise (or does not state).

    A field the credential states in several places (the lab in ``issuer`` and in both ids, the
    batch in its id and ``batchNumber``) differs if any of them does. Measurements are named
    ``measurements[i].value`` and so on; ``measurements`` names a different count.

    Returns:
        The differing field names in event order; empty when the credential states the event.
    """
    claimed = _claims(credential.payload)
    return [name for name, value in _fields(result).items()
            if not claimed.get(name) or not all(_same(claim, value) for claim in claimed[name])]


def _fields(result: LabResult) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "report_id": result.report_id, "report_version": result.report_version, "lab_id": result.lab_id,
        "batch_id": result.batch_id, "sample_id": result.sample_id, "method": result.method,
        "verdict": result.verdict, "tested_at": result.tested_at, "issued_at": result.issued_at,
        "event_id": result.event_id, "measurements": len(result.measurements),
    }
    for i, m in enumerate(result.measurements):
        for name in _MEASUREMENT_FIELDS:
            fields[f"measurements[{i}].{name}"] = getattr(m, name)
    return fields


_MEASUREMENT_FIELDS = ("analyte", "value", "unit", "limit", "verdict")


def _claims(vc: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Every statement of each event field in ``vc``; a hostile shape reads as ``_MISSING``."""
    subject = _at(vc, "credentialSubject")
    credential_id = _urn_parts(_at(vc, "id"), "report", 3)  # lab, report, v<version>
    attestation_id = _urn_parts(_at(subject, "id"), "report", 2)  # lab, report
    assessment = _only(_at(subject, "assessment"))
    product = _at(_only(_at(assessment, "assessedProduct")), "product")
    claims = {
        "report_id": [_at(subject, "reportId"), _at(credential_id, 1), _at(attestation_id, 1)],
        "report_version": [_at(subject, "reportVersion"), _version(_at(credential_id, 2))],
        "lab_id": [_at(_urn_parts(_at(vc, "issuer", "id"), "lab", 1), 0), _at(vc, "issuer", "name"),
                   _at(credential_id, 0), _at(attestation_id, 0)],
        "batch_id": [_at(product, "batchNumber"), _at(_urn_parts(_at(product, "id"), "batch", 1), 0)],
        "sample_id": [_at(_only(_at(assessment, "assessedProduct")), "sampleId")],
        "method": [_at(assessment, "referenceStandard", "name")],
        "verdict": [_verdict(assessment)],
        "tested_at": [_instant(_at(assessment, "assessmentDate"))],
        "issued_at": [_instant(_at(vc, "validFrom"))],
        "event_id": [_at(subject, "eventId")],
    }
    values = _at(assessment, "declaredValue")
    if isinstance(values, list):
        claims["measurements"] = [len(values)]
        for i, value in enumerate(values):
            for name, statements in _measurement_claims(value).items():
                claims[f"measurements[{i}].{name}"] = statements
    return claims


def _measurement_claims(value: Any) -> dict[str, list[Any]]:
    threshold = _at(value, "thresholdValue")
    limited = threshold is not _MISSING and threshold is not None
    return {
        "analyte": [_at(value, "metricName")], "value": [_at(value, "metricValue", "value")],
        "unit": [_at(value, "metricValue", "unit"), *([_at(threshold, "unit")] if limited else [])],
        "limit": [_at(threshold, "value") if limited else None], "verdict": [_verdict(value)],
    }


def _verdict(node: Any) -> Any:
    """The stated verdict, only when UNTP's boolean ``conformance`` says the same (true for pass only)."""
    verdict, conformance = _at(node, "verdict"), _at(node, "conformance")
    if not isinstance(conformance, bool) or conformance != (verdict == "pass"):
        return _MISSING
    return verdict


def _same(claim: Any, value: Any) -> bool:
    if isinstance(value, datetime):
        return isinstance(claim, datetime) and claim == value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return isinstance(claim, int | float) and not isinstance(claim, bool) and claim == value
    return type(claim) is type(value) and claim == value


def _at(node: Any, *path: str | int) -> Any:
    for step in path:
        if isinstance(step, str) and isinstance(node, Mapping) and step in node:
            node = node[step]
        elif isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            node = node[step]
        else:
            return _MISSING
    return node


def _only(node: Any) -> Any:
    return node[0] if isinstance(node, list) and len(node) == 1 else _MISSING


def _urn_parts(value: Any, kind: str, count: int) -> list[str] | Any:
    prefix = f"urn:lotline:{kind}:"
    if not isinstance(value, str) or not value.startswith(prefix):
        return _MISSING
    parts = value[len(prefix):].split(":")
    return [unquote(part) for part in parts] if len(parts) == count else _MISSING


def _version(part: Any) -> Any:
    if isinstance(part, str) and re.fullmatch(r"v[0-9]{1,18}", part):
        return int(part[1:])
    return _MISSING


def _instant(value: Any) -> Any:
    if not isinstance(value, str):
        return _MISSING
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _MISSING
    return moment if moment.tzinfo is not None else _MISSING


def claimed_result(credential: Credential) -> LabResult | None:
    """The lab result a credential states (for a credential held by a reader, with no stored event),
    or ``None`` when it does not state one whole and consistently (every statement of a field alike)."""
    claimed = _claims(credential.payload)
    first = {name: statements[0] for name, statements in claimed.items() if statements}
    if any(value is _MISSING for value in first.values()) or not isinstance(first.get("measurements"), int):
        return None
    try:
        measurements = tuple(
            Measurement(*(first[f"measurements[{i}].{name}"] for name in _MEASUREMENT_FIELDS))
            for i in range(first["measurements"])
        )
        result = LabResult(
            first["event_id"], first["report_id"], first["report_version"], first["lab_id"], first["batch_id"],
            first["sample_id"], first["method"], first["verdict"], first["tested_at"], first["issued_at"],
            measurements, credential=credential.token,
        )
    except (KeyError, TypeError):
        return None
    return result if not claims_differ(result, credential) else None


def claimed_accreditation(credential: Credential) -> ClaimedAccreditation | None:
    """The accreditation the credential claims, or ``None`` unless it claims exactly one, well formed."""
    endorsement = _only(_at(credential.payload, "credentialSubject", "authorisation"))
    body, number = _at(endorsement, "issuingAuthority", "name"), _at(endorsement, "name")
    if isinstance(body, str) and isinstance(number, str) and body and number:
        return ClaimedAccreditation(body, number)
    return None


# --- key material --------------------------------------------------------------------------------


def new_key() -> Ed25519PrivateKey:
    """A new Ed25519 signing key for a lab."""
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    """``key`` as an unencrypted PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_pem(data: bytes) -> Ed25519PrivateKey:
    """The Ed25519 key in an unencrypted PKCS#8 PEM.

    Raises:
        SetupError: ``data`` is not a PEM private key, is encrypted, or holds another kind of key.
    """
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SetupError(f"not an unencrypted PKCS#8 PEM private key ({_short(exc)})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SetupError(f"the PEM holds a {type(key).__name__.removeprefix('_')}, not an Ed25519 key")
    return key


def public_jwk(key: Ed25519PrivateKey | Ed25519PublicKey, kid: str) -> dict[str, str]:
    """The public half of ``key`` as an OKP JWK (RFC 8037), as the lab registry holds it."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    exported = OKPKey.import_key(public).as_dict(private=False)
    return {"kty": "OKP", "crv": "Ed25519", "x": str(exported["x"]), "kid": kid}


def key_fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in hex."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return hashlib.sha256(public.public_bytes_raw()).hexdigest()


def default_kid(lab_id: str, key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """``<lab_id>-<first 8 hex digits of the key's fingerprint>``: unique per lab, readable in logs."""
    return f"{lab_id}-{key_fingerprint(key)[:8]}"
