"""What ``lotline registry show`` prints: bodies, labs with their accreditations, qualifications and
keys, regulators with their policies, organisations with their places; statuses and validity judged
at one moment (now, or as of)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TextIO

from query.render.table import table
from traceability.events import Lab, lab_accreditations
from traceability.registry import (
    Accreditation,
    AccreditationBody,
    Organisation,
    Period,
    Product,
    Qualification,
    Regulator,
    SigningKey,
)


def registry_text(bodies: Mapping[str, AccreditationBody], labs: Mapping[str, Lab],
                  regulators: Mapping[str, Regulator], organisations: Mapping[str, Organisation], at: datetime,
                  as_of: datetime | None, out: TextIO, products: Mapping[str, Product] | None = None) -> None:
    """The whole registry as known at ``as_of`` (statuses and validity at ``at``)."""
    known = f" as of {_time(as_of)}" if as_of else ""
    products = products or {}
    print(f"registry{known}: {len(bodies)} accreditation bodies, {len(labs)} labs, {len(regulators)} regulators, "
          f"{len(organisations)} organisations, {len(products)} products (status at {_time(at)})", file=out)
    _section("accreditation bodies", out)
    if bodies:
        table(("body", "name", "economy", "ILAC MRA (testing)", "registered"),
              [(b.body_id, b.name, b.economy, _mra(b.mra_testing, b.mra_signatory_at(at)), _date(b.registered_at))
               for b in bodies.values()], out=out)
    else:
        print("  (none)", file=out)
    _section("labs", out)
    for lab in labs.values():
        lab_text(lab, at, out)
    if not labs:
        print("  (none)", file=out)
    _section("regulators", out)
    for regulator in regulators.values():
        regulator_text(regulator, out)
    if not regulators:
        print("  (none)", file=out)
    _section("organisations", out)
    organisations_text(organisations, out)
    locations_text(organisations, out)
    _section("products", out)
    products_text(products, out)


def lab_text(lab: Lab, at: datetime, out: TextIO) -> None:
    """One lab's current record: names, accreditations (status, scope), qualifications, keys."""
    others = f" ({', '.join(lab.names)})" if lab.names else ""
    legal = f", legal id {lab.legal_id}" if lab.legal_id else ""
    print(f"{lab.lab_id}  {lab.name}{others}{legal}; registered {_time(lab.registered_at)} "
          f"(event {lab.event_id})", file=out)
    accreditations = lab_accreditations(lab)
    v1 = " (from the v1 fields)" if accreditations and not lab.accreditations else ""
    for accreditation in accreditations:
        _accreditation(accreditation, at, v1, out)
    if not accreditations:
        print("  no accreditation", file=out)
    for qualification in lab.qualifications:
        _qualification(qualification, at, out)
    for key in lab.keys:
        _key(key, at, out)
    if not lab.keys:
        print("  no signing keys (reports from this lab cannot be verified)", file=out)


def lab_history_text(history: Sequence[Lab], out: TextIO) -> None:
    """Every snapshot of one lab, oldest first."""
    _section(f"history: {len(history)} snapshots", out)
    table(("registered", "event", "accreditations", "qualifications", "keys"),
          [(_time(s.registered_at), s.event_id, ", ".join(a.number for a in lab_accreditations(s)) or "-",
            ", ".join(q.kind for q in s.qualifications) or "-", ", ".join(k.kid for k in s.keys) or "-")
           for s in history], out=out)


def regulator_text(regulator: Regulator, out: TextIO) -> None:
    """A regulator, its jurisdiction and its recognition policy."""
    recognises = [*(["any ILAC MRA signatory for testing"] if regulator.recognises_mra_signatories else []),
                  *regulator.recognised_bodies]
    print(f"{regulator.regulator_id}  {regulator.name}; jurisdiction {', '.join(regulator.jurisdiction)}", file=out)
    print(f"  recognises accreditations by: {', '.join(recognises) or 'nobody'}", file=out)
    print(f"  requires qualifications: {', '.join(regulator.required_qualifications) or 'none'}", file=out)


def organisations_text(organisations: Mapping[str, Organisation], out: TextIO) -> None:
    """Each organisation, where it is and its roles."""
    if not organisations:
        print("  (none)", file=out)
        return
    table(("organisation", "name", "country", "subdivision", "roles", "phone", "registered"),
          [(o.org_id, o.name, o.country, o.subdivision or "-", _list(o.roles), o.phone or "-", _date(o.registered_at))
           for o in organisations.values()], out=out)


def locations_text(organisations: Mapping[str, Organisation], out: TextIO) -> None:
    """Every registered location: whose, where (street or coordinates, city, region, postal code, country), GLN."""
    rows = [(o.org_id, place.location_id, place.name, place.address_or_coordinates() or "-", place.city or "-",
             place.region or "-", place.postal_code or "-", place.country, place.gln or "-")
            for o in organisations.values() for place in o.locations]
    if rows:
        print(file=out)
        table(("organisation", "location", "name", "address", "city", "region", "postal code", "country", "GLN"),
              rows, out=out)


def products_text(products: Mapping[str, Product], out: TextIO) -> None:
    """Each product's description: name, brand, packaging, GTIN, category and model."""
    if not products:
        print("  (none)", file=out)
        return
    table(("product", "owner", "name", "brand", "packaging", "GTIN", "category", "model"),
          [(p.product_id, p.org_id, p.name, p.brand or "-",
            "; ".join(part for part in (p.packaging_size, p.packaging_style) if part) or "-", p.gtin or "-",
            p.category or "-", p.model or "-") for p in products.values()], out=out)


def _accreditation(a: Accreditation, at: datetime, note: str, out: TextIO) -> None:
    state = "ACTIVE" if a.active_at(at) else f"inactive ({_inactive(a, at)})"
    print(f"  accreditation {a.number} by {a.body_id}{note}: {state}; valid {_date(a.valid_from)} to "
          f"{_date(a.valid_until)}", file=out)
    if a.statuses:
        print("    status history: " + ", ".join(f"{c.status} {_date(c.at)}" for c in a.statuses), file=out)
    print(f"    scope: methods {_list(a.methods)}; analytes {_list(a.analytes)}; "
          f"products {_list(a.product_categories)}", file=out)


def _inactive(a: Accreditation, at: datetime) -> str:
    if at < a.valid_from:
        return "not yet valid"
    if at >= a.valid_until:
        return "expired"
    return a.status_at(at)


def _qualification(q: Qualification, at: datetime, out: TextIO) -> None:
    state = "valid" if q.holds_at(at) else "NOT VALID"
    print(f"  qualification {q.kind} {q.number}: {state}; {_date(q.valid_from)} to {_date(q.valid_until)}", file=out)


def _key(key: SigningKey, at: datetime, out: TextIO) -> None:
    if key.revoked_by(at):
        state = f"REVOKED {_time(key.revoked_at)}" + (f" ({key.revocation_reason})" if key.revocation_reason else "")
    else:
        state = "valid" if key.valid_at(at) else "not valid now"
        if key.revoked_at is not None:
            state += f", to be revoked {_time(key.revoked_at)}"
    until = _time(key.not_after) if key.not_after else "no end"
    print(f"  key {key.kid}: {state}; from {_time(key.not_before)}, until {until}", file=out)


def _mra(periods: Sequence[Period], now: bool) -> str:
    if not periods:
        return "not a signatory"
    spans = ", ".join(f"{_date(p.start)} to {_date(p.end) if p.end else 'now'}" for p in periods)
    return f"{'signatory' if now else 'NOT a signatory now'} ({spans})"


def _list(values: Sequence[str]) -> str:
    return ", ".join(values) or "-"


def _section(title: str, out: TextIO) -> None:
    print(f"\n{title}", file=out)


def _date(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d") if moment else "-"


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"
