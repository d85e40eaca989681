"""A Safety Gate notification draft (``traceability.safety_gate``) as JSON, as terminal text, and as a
printable HTML page.

The three forms carry the same sections in the same order: header, product, traceability, risk,
measures, and what the chain does not know. An element that is not known is said to be so ("not
known"), never left blank, so a reader can tell a gap from an empty value. The HTML page stands
alone: no script, no external resource (its Content-Security-Policy forbids both), every value
escaped, because product names, addresses and lot codes come from publishers and are untrusted.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from html import escape
from typing import Any

from query.render.answers import date_text
from query.render.table import table
from traceability.json_form import utc_text
from traceability.notification import (
    ROLES,
    Address,
    FailingReport,
    Missing,
    Notification,
    NotifiedProduct,
    Party,
    Quantity,
)
from traceability.scope import Standing

UNKNOWN = "not known"
_STATUS = {"failed": "FAILED", "at_risk": "AT RISK", "clear": "clear", "untested": "untested"}
_PLURAL = {"manufacturer": "manufacturers", "exporter": "exporters", "importer": "importers",
           "distributor": "distributors"}


# --- JSON -------------------------------------------------------------------------------------------------


def notification_json(n: Notification) -> dict[str, Any]:
    """The draft as a JSON object: ``header``, ``products``, ``traceability``, ``risk``, ``measures``,
    ``missing``; times ISO 8601 in UTC with a trailing ``Z``; unknown values as ``""`` (or ``null``
    for an address or an accreditation)."""
    return {
        "header": {"notification": "EU Safety Gate", "nature": n.nature, "batch_id": n.batch_id,
                   "status": n.status, "as_of": None if n.as_of is None else utc_text(n.as_of),
                   "generated_at": utc_text(n.generated_at)},
        "products": [_product_json(p) for p in n.products],
        "traceability": {
            "destinations": [{"country": t.key, "unit": t.unit, "quantity": t.quantity, "shipments": t.shipments}
                             for t in n.traceability.destinations],
            "parties": [_party_json(p) for p in n.traceability.parties],
        },
        "risk": {
            "risk_sources": list(n.risk.sources), "risk_types": list(n.risk.risk_types),
            "standards_not_met": list(n.risk.standards_not_met), "legal_requirements": n.risk.legal_requirements,
            "reports": [_report_json(r) for r in n.risk.reports],
        },
        "measures": n.measures,
        "missing": [{"section": m.section, "subject": m.subject, "element": m.element} for m in n.missing],
    }


def _product_json(p: NotifiedProduct) -> dict[str, Any]:
    return {
        "product_id": p.product_id, "registered": p.registered, "category": p.category, "name": p.name,
        "brand": p.brand, "model": p.model, "barcode": p.barcode, "description": p.description,
        "packaging_size": p.packaging_size, "packaging_style": p.packaging_style,
        "batch_numbers": list(p.batch_numbers), "countries_of_origin": list(p.countries_of_origin),
        "shipped": [_quantity_json(q) for q in p.shipped],
        "batches": [{"batch_id": b.batch_id, "country_of_origin": b.country_of_origin,
                     "manufacturer": b.manufacturer, "shipped": [_quantity_json(q) for q in b.shipped]}
                    for b in p.batches],
    }


def _quantity_json(q: Quantity) -> dict[str, Any]:
    return {"unit": q.unit, "quantity": q.quantity, "shipments": q.shipments}


def _party_json(p: Party) -> dict[str, Any]:
    a = p.address
    return {
        "org_id": p.org_id, "registered": p.registered, "name": p.name, "roles": list(p.roles), "phone": p.phone,
        "country": p.country,
        "address": None if a is None else {"location_id": a.location_id, "name": a.name, "street": a.street,
                                           "city": a.city, "region": a.region, "postal_code": a.postal_code,
                                           "country": a.country},
    }


def _report_json(r: FailingReport) -> dict[str, Any]:
    a = r.accreditation
    return {
        "batch_id": r.batch_id, "lab_id": r.lab_id, "report_id": r.report_id, "version": r.version,
        "event_id": r.event_id, "lab_name": r.lab_name, "lab_registered": r.lab_registered, "method": r.method,
        "risk_type": r.risk_type, "tested_at": utc_text(r.tested_at), "issued_at": utc_text(r.issued_at),
        "failures": [{"analyte": m.analyte, "value": m.value, "unit": m.unit, "limit": m.limit} for m in r.failures],
        "accredited": r.accredited,
        "accreditation": None if a is None else {
            "body_id": a.body_id, "body_name": a.body_name, "number": a.number, "status_at_issue": a.status_at_issue,
            "active_at_issue": a.active_at_issue, "method_in_scope": a.method_in_scope, "covers": a.covers},
        "outcome": r.standing.outcome, "acceptance": r.standing.acceptance, "counts": r.standing.counts,
    }


# --- the words both readable forms use --------------------------------------------------------------------


def _header_rows(n: Notification) -> list[tuple[str, str]]:
    return [("batch", n.batch_id), ("status", _STATUS.get(n.status, n.status)),
            ("as of", date_text(n.as_of) if n.as_of else "now"), ("generated", date_text(n.generated_at)),
            ("nature", n.nature)]


def _product_rows(p: NotifiedProduct) -> list[tuple[str, str]]:
    packaging = "; ".join(part for part in (p.packaging_size, p.packaging_style) if part)
    return [("product id", p.product_id or UNKNOWN + " (no production record)"),
            ("category", _known(p.category)), ("product name", _known(p.name)), ("brand", _known(p.brand)),
            ("model/type", _known(p.model)), ("batch numbers", ", ".join(p.batch_numbers)),
            ("barcode (GTIN)", _known(p.barcode)),
            ("country of origin", ", ".join(p.countries_of_origin) or UNKNOWN),
            ("description", _known(p.description)), ("packaging", _known(packaging)),
            ("quantity shipped", _quantities(p.shipped))]


def _party_rows(p: Party) -> list[tuple[str, str]]:
    name = p.name if p.registered else f"{UNKNOWN} (not in the registry)"
    return [("organisation", p.org_id), ("name", name), ("roles", ", ".join(p.roles)),
            ("address", _address(p.address)), ("country", _known(p.country)), ("phone", _known(p.phone))]


def _risk_rows(n: Notification) -> list[tuple[str, str]]:
    risk = n.risk
    return [("risk type", ", ".join(risk.risk_types) or UNKNOWN),
            ("failing lots", ", ".join(risk.sources) or "none"),
            ("standards not met", ", ".join(risk.standards_not_met) or UNKNOWN),
            ("legal requirements", risk.legal_requirements)]


def _report_rows(r: FailingReport) -> list[tuple[str, str]]:
    lab = f"{r.lab_name} ({r.lab_id})" if r.lab_registered else f"{r.lab_id} (not in the registry)"
    return [("report", f"{r.lab_id}/{r.report_id} v{r.version} (event {r.event_id})"), ("failing lot", r.batch_id),
            ("method", r.method), ("risk type", _known(r.risk_type)), ("lab", lab),
            ("accreditation", accreditation_text(r)), ("judged", standing_text(r.standing)),
            ("tested", date_text(r.tested_at)), ("issued", date_text(r.issued_at))]


def accreditation_text(r: FailingReport) -> str:
    """The accreditation behind a failing report in words; that none covered it is said outright."""
    a = r.accreditation
    if not r.lab_registered:
        return f"{UNKNOWN} (the lab is not in the registry)"
    if a is None:
        return "NONE: the lab held no accreditation for this method when it issued the report"
    body = f"{a.body_name} ({a.body_id})" if a.body_name else a.body_id
    said = f"{a.number} by {body}, {a.status_at_issue} at issue"
    if a.covers:
        return f"{said}, method in scope"
    why = "method not in scope" if a.active_at_issue else "not active at issue"
    return f"NONE covering the report: {said}, {why}"


def standing_text(standing: Standing) -> str:
    """How the stream judged the report ("signed, accredited"; "not judged yet")."""
    if standing.outcome == "pending":
        return "not judged yet"
    signed = {"authentic": "signed", "unsigned": "unsigned"}.get(standing.outcome, standing.outcome.upper())
    return f"{signed}, {standing.acceptance.replace('_', ' ')}"


def _missing_text(m: Missing) -> str:
    return f"{m.section} — {m.subject}: {m.element}"


def _address(a: Address | None) -> str:
    if a is None:
        return UNKNOWN
    parts = (a.street, a.city, a.region, a.postal_code, a.country)
    where = ", ".join(part for part in parts if part)
    return f"{a.name}: {where}" if a.name and where else (where or a.name or UNKNOWN)


def _quantities(shipped: Sequence[Quantity]) -> str:
    return "; ".join(f"{_number(q.quantity)} {q.unit} in {_shipments(q.shipments)}" for q in shipped) or "none"


def _shipments(count: int) -> str:
    return f"{count} shipment{'' if count == 1 else 's'}"


def _known(value: str) -> str:
    return value or UNKNOWN


def _number(value: float | None) -> str:
    """A quantity or a measured value as written, without a float's noise (``600``, ``0.02``)."""
    if value is None:
        return "-"
    number = float(value)  # a driver may hand back an int
    return str(int(number)) if number.is_integer() else repr(number)


# --- terminal text ----------------------------------------------------------------------------------------


def notification_text(n: Notification) -> str:
    """The draft for a terminal: numbered sections as the form has them, facts as ``label: value`` lines."""
    out: list[str] = [f"EU Safety Gate notification: {n.nature}", *_fields(_header_rows(n), "")]
    out += _heading(f"1. PRODUCT: {len(n.products)} notified")
    for p in n.products:
        out += ["", f"product {p.product_id or UNKNOWN}", *_fields(_product_rows(p)[1:])]
    if not n.products:
        out.append("  (none known to be on the market)")
    out += _heading("2. TRACEABILITY")
    out += ["countries of destination", *_table(("country", "quantity", "shipments"), [
        (t.key or UNKNOWN, f"{_number(t.quantity)} {t.unit}", t.shipments) for t in n.traceability.destinations])]
    for role in ROLES:
        parties = n.traceability.with_role(role)
        out += ["", f"{_PLURAL[role]}: {len(parties)}"]
        for party in parties:
            (_, org_id), (_, name), *rest = _party_rows(party)
            out += [f"  {org_id}: {name}", *_fields(rest, "    ")]
    out += _heading("3. RISK")
    out += _fields(_risk_rows(n))
    for r in n.risk.reports:
        out += ["", f"report {r.lab_id}/{r.report_id}", *_fields(_report_rows(r)[1:])]
        out += _table(("analyte", "value", "unit", "limit"),
                      [(m.analyte, _number(m.value), m.unit, _number(m.limit)) for m in r.failures])
    out += [*_heading("4. MEASURES TAKEN"), f"  {n.measures}"]
    out += _heading(f"NOT KNOWN TO THE CHAIN: {len(n.missing)}")
    out += [f"  - {_missing_text(m)}" for m in n.missing] or ["  (nothing)"]
    return "\n".join(out) + "\n"


def _heading(title: str) -> list[str]:
    return ["", title, "=" * len(title)]


def _fields(rows: Sequence[tuple[str, str]], indent: str = "  ") -> list[str]:
    width = max((len(label) for label, _ in rows), default=0) + 1
    return [f"{indent}{label + ':':<{width}} {value}" for label, value in rows]


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    out = io.StringIO()
    table(headers, rows, out=out)
    return ["  " + line for line in out.getvalue().splitlines()]


# --- HTML -------------------------------------------------------------------------------------------------

_STYLE = """
body{font:11pt/1.4 system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #999;margin-top:1.6em}h3{font-size:1em}
table{border-collapse:collapse;margin:.4em 0 1em;width:100%}
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee;width:14em}thead th{width:auto}
.unknown{font-style:italic;color:#a00}
@media print{body{margin:0}section{break-inside:avoid}}
"""
#: Nothing runs and nothing is fetched, whatever a value smuggles in: only the inline style applies.
#: The page's policy: its own inline style, nothing else (no script, no image, no request, no form).
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_CSP = CONTENT_SECURITY_POLICY


def notification_html(n: Notification) -> str:
    """The draft as a standalone, printable HTML document, one table per section."""
    title = f"Safety Gate notification draft: {n.batch_id}"
    body = "".join([
        f"<h1>{_e(title)}</h1>", _section("Header", _fields_table(_header_rows(n))),
        _section(f"1. Product ({len(n.products)} notified)",
                 "".join(f"<h3>Product {_e(p.product_id or UNKNOWN)}</h3>{_fields_table(_product_rows(p))}"
                         for p in n.products) or "<p>None known to be on the market.</p>"),
        _section("2. Traceability", _traceability_html(n)), _section("3. Risk", _risk_html(n)),
        _section("4. Measures taken", _fields_table([("measures", n.measures)])),
        _section(f"Not known to the chain ({len(n.missing)})", _list_table(
            ("section", "subject", "element"), [(m.section, m.subject, m.element) for m in n.missing])),
    ])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>\n")


def _traceability_html(n: Notification) -> str:
    t = n.traceability
    parts = ["<h3>Countries of destination</h3>", _list_table(
        ("country", "quantity", "unit", "shipments"),
        [(d.key or UNKNOWN, _number(d.quantity), d.unit, str(d.shipments)) for d in t.destinations])]
    for role in ROLES:
        parties = t.with_role(role)
        parts.append(f"<h3>{_e(_PLURAL[role].capitalize())} ({len(parties)})</h3>")
        parts.append(_list_table(("organisation", "name", "roles", "address", "country", "phone"),
                                 [tuple(value for _, value in _party_rows(p)) for p in parties]))
    return "".join(parts)


def _risk_html(n: Notification) -> str:
    parts = [_fields_table(_risk_rows(n))]
    for r in n.risk.reports:
        parts.append(f"<h3>Report {_e(f'{r.lab_id}/{r.report_id}')}</h3>{_fields_table(_report_rows(r))}")
        parts.append(_list_table(("analyte", "value", "unit", "limit"),
                                 [(m.analyte, _number(m.value), m.unit, _number(m.limit)) for m in r.failures]))
    return "".join(parts)


def _section(title: str, content: str) -> str:
    return f"<section><h2>{_e(title)}</h2>{content}</section>"


def _fields_table(rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(f'<tr><th scope="row">{_e(label[:1].upper() + label[1:])}</th>{_td(value)}</tr>'
                    for label, value in rows)
    return f"<table>{cells}</table>"


def _list_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(_td(value) for value in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(value: str) -> str:
    unknown = value.startswith(UNKNOWN) or value.startswith("NONE")
    return f'<td class="unknown">{_e(value)}</td>' if unknown else f"<td>{_e(value)}</td>"


def _e(value: str) -> str:
    return escape(value, quote=True)

