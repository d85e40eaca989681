"""Semantic checks of registry entries (DESIGN §5): labs, accreditation bodies, regulators, organisations
(with their locations), products.

As in ``validation``, each check names the field it refuses. A signing key's JWK is checked for
its shape only (an OKP Ed25519 public key: ``kty``, ``crv``, a 43-character base64url ``x``, no
private ``d``); whether a signature holds is the stream's business, not the core's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime

from traceability.errors import InvalidEvent
from traceability.events import Lab
from traceability.field_rules import (
    MAX_TEXT_LENGTH,
    check_count,
    check_id,
    check_text,
    check_time,
    check_validity,
    check_window,
)
from traceability.registry import (
    ACCREDITATION_STATUSES,
    Accreditation,
    AccreditationBody,
    Location,
    Organisation,
    Period,
    Product,
    Qualification,
    Regulator,
    SigningKey,
)

#: ISO 3166-1 alpha-2 (``DE``), optionally with a subdivision (ISO 3166-2 style: ``CN-ZJ``).
_JURISDICTION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
#: ISO 3166-1 alpha-2, upper case: an accreditation body's economy, an organisation's country.
_ALPHA_2 = re.compile(r"[A-Z]{2}")
#: ISO 3166-2: the country's alpha-2 code, a hyphen, up to three letters or digits (``CN-ZJ``, ``JP-27``).
_SUBDIVISION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
#: An Ed25519 public key is 32 bytes: 43 base64url characters without padding (RFC 8037).
_ED25519_X = re.compile(r"[A-Za-z0-9_-]{43}")


def validate_entry(entry: Lab | AccreditationBody | Regulator | Organisation | Product, now: datetime) -> None:
    """Check a registry entry (its ``event_id`` is checked by the caller).

    Raises:
        InvalidEvent: the first rule the entry breaks, with the field named.
    """
    if isinstance(entry, Lab):
        _lab(entry, now)
    elif isinstance(entry, AccreditationBody):
        _body(entry, now)
    elif isinstance(entry, Regulator):
        _regulator(entry, now)
    elif isinstance(entry, Product):
        _product(entry, now)
    else:
        _organisation(entry, now)


def _lab(lab: Lab, now: datetime) -> None:
    check_id("lab_id", lab.lab_id)
    check_text("name", lab.name)
    if lab.legal_id:
        check_id("legal_id", lab.legal_id)
    _texts("names", lab.names)
    _v1_accreditation(lab)
    check_time("registered_at", lab.registered_at, now)
    check_count("accreditations", lab.accreditations)
    for i, accreditation in enumerate(lab.accreditations):
        _accreditation(f"accreditations[{i}]", accreditation)
    _unique("accreditations", "number", [a.number for a in lab.accreditations])
    check_count("qualifications", lab.qualifications)
    for i, qualification in enumerate(lab.qualifications):
        _qualification(f"qualifications[{i}]", qualification)
    check_count("keys", lab.keys)
    for i, key in enumerate(lab.keys):
        _key(f"keys[{i}]", key)
    _unique("keys", "kid", [k.kid for k in lab.keys])


def _v1_accreditation(lab: Lab) -> None:
    """The v1 fields: one accreditation when they name a body and a number, none when both are blank."""
    for name in ("accreditation_body", "accreditation_number", "region"):
        check_text(name, getattr(lab, name), optional=True)
    if bool(lab.accreditation_body) != bool(lab.accreditation_number):
        missing = "accreditation_number" if lab.accreditation_body else "accreditation_body"
        raise InvalidEvent(f"{missing}: must be given with {_other(missing)} (or both left out)")
    _texts("accredited_methods", lab.accredited_methods)
    check_count("public_keys", lab.public_keys)
    check_validity("valid_from", lab.valid_from)
    check_validity("valid_until", lab.valid_until)
    if lab.accreditation_body and lab.valid_until <= lab.valid_from:
        raise InvalidEvent("valid_until: must be after valid_from")
    if lab.valid_until < lab.valid_from:
        raise InvalidEvent("valid_until: must not be before valid_from")


def _other(name: str) -> str:
    return "accreditation_body" if name == "accreditation_number" else "accreditation_number"


def _accreditation(where: str, a: Accreditation) -> None:
    check_id(f"{where}.body_id", a.body_id)
    check_text(f"{where}.number", a.number)
    check_validity(f"{where}.valid_from", a.valid_from)
    check_validity(f"{where}.valid_until", a.valid_until)
    check_window(f"{where}.valid_until", a.valid_from, a.valid_until, "valid_from")
    check_count(f"{where}.statuses", a.statuses)
    for i, change in enumerate(a.statuses):
        if change.status not in ACCREDITATION_STATUSES:
            raise InvalidEvent(f"{where}.statuses[{i}].status: expected {', '.join(ACCREDITATION_STATUSES)}, "
                               f"got {change.status!r:.40}")
        check_validity(f"{where}.statuses[{i}].at", change.at)
    for name in ("methods", "analytes", "product_categories"):
        _texts(f"{where}.{name}", getattr(a, name))


def _qualification(where: str, q: Qualification) -> None:
    check_id(f"{where}.kind", q.kind)
    check_text(f"{where}.number", q.number)
    check_validity(f"{where}.valid_from", q.valid_from)
    check_validity(f"{where}.valid_until", q.valid_until)
    check_window(f"{where}.valid_until", q.valid_from, q.valid_until, "valid_from")


def _key(where: str, key: SigningKey) -> None:
    check_id(f"{where}.kid", key.kid)
    _jwk(f"{where}.jwk", key.jwk, key.kid)
    check_validity(f"{where}.not_before", key.not_before)
    check_window(f"{where}.not_after", key.not_before, key.not_after, "not_before")
    if key.revoked_at is not None:
        check_validity(f"{where}.revoked_at", key.revoked_at)
    check_text(f"{where}.revocation_reason", key.revocation_reason, optional=True)


def _jwk(where: str, text: str, kid: str) -> None:
    """An OKP Ed25519 public JWK (RFC 8037), as JSON text; its shape only."""
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidEvent(f"{where}: longer than {MAX_TEXT_LENGTH} characters")
    try:
        jwk = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidEvent(f"{where}: not JSON") from None
    if not isinstance(jwk, dict):
        raise InvalidEvent(f"{where}: expected a JSON object (a public JWK)")
    if "d" in jwk:
        raise InvalidEvent(f"{where}: holds a private key (d); register the public JWK only")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise InvalidEvent(f"{where}: expected an Ed25519 key (kty OKP, crv Ed25519), "
                           f"got kty {jwk.get('kty')!r:.20}, crv {jwk.get('crv')!r:.20}")
    x = jwk.get("x")
    if not isinstance(x, str) or not _ED25519_X.fullmatch(x):
        raise InvalidEvent(f"{where}.x: expected the 32-byte public key as 43 base64url characters")
    if "kid" in jwk and jwk["kid"] != kid:
        raise InvalidEvent(f"{where}.kid: {jwk['kid']!r:.40} differs from the key's kid {kid!r:.40}")


def _body(body: AccreditationBody, now: datetime) -> None:
    check_id("body_id", body.body_id)
    check_text("name", body.name)
    if not _ALPHA_2.fullmatch(body.economy):
        raise InvalidEvent(f"economy: expected an ISO 3166 alpha-2 code, got {body.economy!r:.40}")
    check_count("mra_testing", body.mra_testing)
    for i, period in enumerate(body.mra_testing):
        _period(f"mra_testing[{i}]", period)
    check_time("registered_at", body.registered_at, now)


def _period(where: str, period: Period) -> None:
    check_validity(f"{where}.start", period.start)
    check_window(f"{where}.end", period.start, period.end, "start")


def _regulator(regulator: Regulator, now: datetime) -> None:
    check_id("regulator_id", regulator.regulator_id)
    check_text("name", regulator.name)
    if not regulator.jurisdiction:
        raise InvalidEvent("jurisdiction: a regulator needs at least one (e.g. DE or CN-ZJ)")
    check_count("jurisdiction", regulator.jurisdiction)
    for i, code in enumerate(regulator.jurisdiction):
        if not _JURISDICTION.fullmatch(code):
            raise InvalidEvent(f"jurisdiction[{i}]: expected an ISO 3166 code such as DE or CN-ZJ, got {code!r:.40}")
    if not isinstance(regulator.recognises_mra_signatories, bool):
        raise InvalidEvent("recognises_mra_signatories: expected true or false")
    for name in ("recognised_bodies", "required_qualifications"):
        values = getattr(regulator, name)
        check_count(name, values)
        for i, value in enumerate(values):
            check_id(f"{name}[{i}]", value)
    check_time("registered_at", regulator.registered_at, now)


def _organisation(org: Organisation, now: datetime) -> None:
    check_id("org_id", org.org_id)
    check_text("name", org.name)
    _place(org.country, org.subdivision)
    check_count("roles", org.roles)
    for i, role in enumerate(org.roles):
        check_id(f"roles[{i}]", role)
    check_time("registered_at", org.registered_at, now)
    check_text("phone", org.phone, optional=True)
    check_count("locations", org.locations)
    _unique("locations", "location_id", [place.location_id for place in org.locations])
    for i, place in enumerate(org.locations):
        _location(f"locations[{i}]", place)


def _location(where: str, place: Location) -> None:
    check_id(f"{where}.location_id", place.location_id)
    check_text(f"{where}.name", place.name)
    if not _ALPHA_2.fullmatch(place.country):
        raise InvalidEvent(f"{where}.country: expected an ISO 3166-1 alpha-2 code in upper case, "
                           f"got {place.country!r:.40}")
    if place.gln and not gs1_check_digit_holds(place.gln, (13,)):
        raise InvalidEvent(f"{where}.gln: a GLN is 13 digits with a valid GS1 check digit, got {place.gln!r:.40}")
    for name in ("street", "city", "region", "postal_code"):
        check_text(f"{where}.{name}", getattr(place, name), optional=True)
    if (place.latitude is None) != (place.longitude is None):
        raise InvalidEvent(f"{where}: coordinates need both latitude and longitude")
    if place.latitude is not None and place.longitude is not None:
        if not (-90 <= place.latitude <= 90 and -180 <= place.longitude <= 180):
            raise InvalidEvent(f"{where}: coordinates out of range ({place.latitude}, {place.longitude})")


def _product(product: Product, now: datetime) -> None:
    check_id("product_id", product.product_id)
    check_id("org_id", product.org_id)
    check_text("name", product.name)
    check_time("registered_at", product.registered_at, now)
    for name in ("brand", "commodity", "variety", "packaging_size", "packaging_style", "category", "model",
                 "description"):
        check_text(name, getattr(product, name), optional=True)
    if product.gtin and not gs1_check_digit_holds(product.gtin, (8, 12, 13, 14)):
        raise InvalidEvent(f"gtin: a GTIN is 8, 12, 13 or 14 digits with a valid GS1 check digit, "
                           f"got {product.gtin!r:.40}")


def gs1_check_digit_holds(code: str, lengths: tuple[int, ...]) -> bool:
    """Whether ``code`` is all digits, of one of ``lengths``, and ends in its GS1 mod-10 check digit."""
    if not (code.isascii() and code.isdigit() and len(code) in lengths):
        return False
    body = [int(digit) for digit in reversed(code[:-1])]
    total = sum(digit * (3 if i % 2 == 0 else 1) for i, digit in enumerate(body))
    return (10 - total % 10) % 10 == int(code[-1])


def _place(country: str, subdivision: str) -> None:
    """A country (ISO 3166-1 alpha-2) and, if given, a subdivision of that country (ISO 3166-2)."""
    if not _ALPHA_2.fullmatch(country):
        raise InvalidEvent(f"country: expected an ISO 3166-1 alpha-2 code in upper case (e.g. CN, DE), "
                           f"got {country!r:.40}")
    if not subdivision:
        return
    if not _SUBDIVISION.fullmatch(subdivision):
        raise InvalidEvent(f"subdivision: expected an ISO 3166-2 code such as CN-ZJ (or none), got {subdivision!r:.40}")
    if not subdivision.startswith(f"{country}-"):
        raise InvalidEvent(f"subdivision: {subdivision!r:.40} is not in the country {country}")


def _texts(name: str, values: Sequence[str]) -> None:
    check_count(name, values)
    for i, value in enumerate(values):
        check_text(f"{name}[{i}]", value)


def _unique(name: str, member: str, values: Sequence[str]) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise InvalidEvent(f"{name}[{i}].{member}: {value!r:.40} listed twice")
        seen.add(value)
