"""An EU Safety Gate notification drafted for a batch from what the chain knows, and what it does not.

Safety Gate (formerly RAPEX) is the EU rapid alert system for dangerous non-food products. A market
surveillance authority notifies a product in four sections: the product, its traceability (where it
went, who made and handled it), the risk (the failing tests and what they fail) and the measures
taken. `draft` fills the first three from a batch's trace and the tracking records of its recall
scope. The measures and the legal requirement stay with the authority (fields saying so), and
every element the chain does not know is listed in `Notification.missing` rather than guessed.

The rules, in the chain's terms:

* A lot is *on the market* when a shipment takes it to another organisation (a *market shipment*);
  a transfer between one organisation's sites is not. A failing raw-material lot is rarely on the
  market itself: what gets notified is the consumer products made from it.
* A lot's *country of origin* is the country of the registered location its production names, else
  its maker's registered country.
* A market shipment is *onward* when its sender received the lot, by a market shipment, in the
  country it now ships to (an importer supplying a shop at home). Those goods were counted when they
  arrived, so onward shipments add nothing to a destination's or a product's quantity.
* A market shipment is an *export* when it leaves the lot's country of origin for another country
  (when the origin is not known, the maker's own shipments abroad stand in). Its sender is an
  exporter, its recipient an importer. Recipients of the other market shipments, and organisations
  that record a receiving of a notified lot, are distributors, unless they are importers or the
  lot's maker taking its goods back.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from traceability.events import Lab, LabResult, Shipment, lab_accreditations
from traceability.notification import (
    DRAFT,
    LEFT_TO_AUTHORITY,
    ROLES,
    Address,
    Batch,
    FailingReport,
    Missing,
    Notification,
    NotifiedProduct,
    Party,
    Quantity,
    ReportAccreditation,
    Risk,
    Role,
    Section,
    Traceability,
)
from traceability.registry import Accreditation, AccreditationBody, Location
from traceability.scope import Report, Trace, totals
from traceability.tracking import TrackingRecords
from traceability.verification import covering_accreditation

__all__ = [
    "Address", "Batch", "DRAFT", "FailingReport", "LEFT_TO_AUTHORITY", "Missing", "Notification", "NotifiedProduct",
    "Party", "Quantity", "ROLES", "ReportAccreditation", "Risk", "Role", "STANDARDS", "Section", "Standard",
    "Traceability", "draft", "risk_type",
]


@dataclass(frozen=True, slots=True)
class Standard:
    """A test standard whose failure says the Safety Gate risk type. ``section``, when set, must be
    cited as well: ASTM F963 covers every hazard of a toy, only its section 4.3.5 (heavy elements)
    is chemical."""

    number: str
    risk_type: str
    section: str = ""


#: The standards the draft knows the risk type of, matched on the number without its year or
#: amendment (``GB 6675.4-2014``, ``DIN EN 71-3:2019+A1:2021``; spaces collapsed, any case). A
#: method not listed gives no risk type and a missing entry: the authority assesses it.
STANDARDS: tuple[Standard, ...] = (
    Standard("GB 6675.4", "Chemical"),  # toys: migration of certain elements (lead, cadmium, …)
    Standard("GB/T 22048", "Chemical"),  # toys and children's products: phthalate plasticisers
    Standard("EN 71-3", "Chemical"),  # toys: migration of certain elements
    Standard("EN 71-9", "Chemical"),  # toys: organic chemical compounds, requirements
    Standard("EN 71-10", "Chemical"),  # toys: organic chemical compounds, sample preparation and extraction
    Standard("EN 71-11", "Chemical"),  # toys: organic chemical compounds, methods of analysis
    Standard("EN 71-12", "Chemical"),  # toys: N-nitrosamines and N-nitrosatable substances
    Standard("ISO 8124-3", "Chemical"),  # toys: migration of certain elements
    Standard("EN 14372", "Chemical"),  # child care articles, cutlery and feeding utensils: phthalates
    Standard("ASTM F963", "Chemical", section="4.3.5"),  # toys: heavy elements in paint and substrates
    Standard("CPSC-CH-C1001", "Chemical"),  # US CPSC test method: phthalates
    Standard("CPSC-CH-E1001", "Chemical"),  # US CPSC test method: total lead, children's metal products
    Standard("CPSC-CH-E1002", "Chemical"),  # US CPSC test method: total lead, non-metal children's products
    Standard("CPSC-CH-E1003", "Chemical"),  # US CPSC test method: lead in paint and surface coatings
)


def draft(trace: Trace, records: TrackingRecords, labs: Mapping[str, Lab],
          bodies: Mapping[str, AccreditationBody], now: datetime) -> Notification:
    """Draft the Safety Gate notification of a batch (module docstring for the rules).

    Args:
        trace: The batch's trace: its status, risk sources and the reports on it and upstream.
        records: The tracking records of the batch's recall scope (its shipments among them), with the
            registry's organisations and products.
        labs: The registry's labs (current records), by lab id.
        bodies: The registry's accreditation bodies, by body id.
        now: When the draft is made (timezone-aware).
    """
    chain = _Chain(records, tuple(s for s in records.shipments if s.to_org != s.from_org))
    products = _products(chain)
    traceability = Traceability(totals(chain.counted)[0], _parties(chain))
    risk = _risk(trace, labs, bodies)
    missing = (*_missing_products(products), *_missing_parties(traceability.parties), *_missing_risk(risk))
    if not products:
        missing = (Missing("product", trace.batch_id, "no lot of the recall scope was shipped to another "
                           "organisation: no product is known to be on the market"), *missing)
    return Notification(trace.batch_id, trace.status, records.as_of, now, products, traceability, risk, missing)


def risk_type(method: str) -> str:
    """The Safety Gate risk type a failed ``method`` points to (`STANDARDS`), "" when not known."""
    text = " ".join(method.upper().split())
    for standard in STANDARDS:
        cited = re.search(rf"(?<![0-9A-Z.]){re.escape(standard.number)}(?![0-9A-Z]|\.[0-9])", text)
        if cited and (not standard.section
                      or re.search(rf"(?<![0-9.]){re.escape(standard.section)}(?![0-9])", text[cited.end():])):
            return standard.risk_type
    return ""


# --- the chain's facts, worked out once ------------------------------------------------------------------


class _Chain:
    """The market shipments of a recall scope and what the rules ask of them."""

    def __init__(self, records: TrackingRecords, market: tuple[Shipment, ...]) -> None:
        self.records = records
        self.market = market
        self.lots = tuple(sorted({s.batch_id for s in market}))
        self._arrived: dict[tuple[str, str], list[Shipment]] = defaultdict(list)  # by (recipient, lot)
        for shipment in market:
            self._arrived[(shipment.to_org, shipment.batch_id)].append(shipment)
        self.origin = {lot: self._origin(lot) for lot in self.lots}
        self.counted = tuple(s for s in market if not self.onward(s))
        self.exports = tuple(s for s in market if self.export(s))

    def maker(self, lot: str) -> str:
        made = self.records.made.get(lot)
        return made.org_id if made is not None else ""

    def _origin(self, lot: str) -> str:
        made = self.records.made.get(lot)
        if made is None:
            return ""
        place = self.records.location(made.org_id, made.location_id)
        org = self.records.organisations.get(made.org_id)
        return (place.country if place is not None else "") or (org.country if org is not None else "")

    def _arrivals(self, org_id: str, lot: str) -> list[Shipment]:
        return self._arrived.get((org_id, lot), [])

    def onward(self, shipment: Shipment) -> bool:
        return any(s.to_country == shipment.to_country for s in self._arrivals(shipment.from_org, shipment.batch_id))

    def ship_from(self, shipment: Shipment) -> str:
        """The country a shipment left: its ship-from location's, the maker's origin, where the sender
        received the lot, the sender's registered country; "" when none is known."""
        place = self.records.location(shipment.from_org, shipment.from_location)
        if place is not None and place.country:
            return place.country
        if shipment.from_org == self.maker(shipment.batch_id) and self.origin[shipment.batch_id]:
            return self.origin[shipment.batch_id]
        received = self._arrivals(shipment.from_org, shipment.batch_id)
        org = self.records.organisations.get(shipment.from_org)
        return received[0].to_country if received else (org.country if org is not None else "")

    def export(self, shipment: Shipment) -> bool:
        origin, left = self.origin[shipment.batch_id], self.ship_from(shipment)
        if not origin:  # not known (a missing entry says so): the maker's own shipments abroad stand in
            return shipment.from_org == self.maker(shipment.batch_id) and left != shipment.to_country
        return left == origin and shipment.to_country != origin


# --- products ---------------------------------------------------------------------------------------------


def _products(chain: _Chain) -> tuple[NotifiedProduct, ...]:
    by_product: dict[str, list[str]] = defaultdict(list)
    for lot in chain.lots:
        by_product[chain.records.product_of(lot)].append(lot)
    counted: dict[str, list[Shipment]] = defaultdict(list)  # by lot: one pass, not one per lot
    for shipment in chain.counted:
        counted[shipment.batch_id].append(shipment)
    order = sorted(by_product, key=lambda product_id: (not product_id, product_id))  # the unknown product last
    return tuple(_product(product_id, by_product[product_id], counted, chain) for product_id in order)


def _product(product_id: str, lots: list[str], counted: Mapping[str, list[Shipment]], chain: _Chain
             ) -> NotifiedProduct:
    batches = tuple(Batch(lot, chain.origin[lot], chain.maker(lot), _per_unit(counted.get(lot, ()))) for lot in lots)
    shipped = _per_unit(s for lot in lots for s in counted.get(lot, ()))
    p = chain.records.products.get(product_id)
    if p is None:
        return NotifiedProduct(product_id, False, "", "", "", "", "", "", "", "", batches, shipped)
    return NotifiedProduct(product_id, True, p.category, p.name, p.brand, p.model, p.gtin, p.description,
                           p.packaging_size, p.packaging_style, batches, shipped)


def _per_unit(shipments: Iterable[Shipment]) -> tuple[Quantity, ...]:
    quantity: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for shipment in shipments:
        quantity[shipment.unit] += shipment.quantity
        count[shipment.unit] += 1
    return tuple(Quantity(unit, quantity[unit], count[unit]) for unit in sorted(quantity))


# --- traceability -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Seen:
    """One organisation met in one role: where the events place it (a location id, a country)."""

    org_id: str
    role: Role
    location_id: str
    country: str


def _parties(chain: _Chain) -> tuple[Party, ...]:
    seen = _seen(chain)
    by_org: dict[str, list[_Seen]] = defaultdict(list)
    for one in seen:
        by_org[one.org_id].append(one)
    parties = [_party(org_id, sightings, chain.records) for org_id, sightings in by_org.items()]
    return tuple(sorted(parties, key=lambda p: (ROLES.index(p.roles[0]), p.org_id)))


def _seen(chain: _Chain) -> list[_Seen]:
    """Every organisation in its roles, in role order (so the first location seen is the best address)."""
    made = chain.records.made
    seen = [_Seen(made[lot].org_id, "manufacturer", made[lot].location_id, chain.origin[lot])
            for lot in chain.lots if lot in made]
    seen += [_Seen(s.from_org, "exporter", s.from_location, chain.ship_from(s)) for s in chain.exports]
    seen += [_Seen(s.to_org, "importer", s.to_location_id, s.to_country) for s in chain.exports]
    importers, exports = {s.to_org for s in chain.exports}, frozenset(chain.exports)
    seen += [_Seen(s.to_org, "distributor", s.to_location_id, s.to_country)
             for s in chain.market if s not in exports and s.to_org not in importers]
    notified = set(chain.lots)
    seen += [_Seen(r.to_org, "distributor", r.location_id, "") for r in chain.records.receivings
             if r.batch_id in notified and r.to_org not in importers and r.to_org != chain.maker(r.batch_id)]
    return seen


def _party(org_id: str, seen: list[_Seen], records: TrackingRecords) -> Party:
    org = records.organisations.get(org_id)
    roles = tuple(role for role in ROLES if any(one.role == role for one in seen))
    places = (records.location(org_id, one.location_id) for one in seen)
    place = next((p for p in places if p is not None), None)
    address = _address(place) if place is not None else None
    hinted = next((one.country for one in seen if one.country), "")
    country = (address.country if address else "") or (org.country if org else "") or hinted
    if org is None:
        return Party(org_id, False, "", roles, "", country, address)
    return Party(org_id, True, org.name, roles, org.phone, country, address)


def _address(place: Location) -> Address:
    return Address(place.location_id, place.name, place.address_or_coordinates(), place.city, place.region,
                   place.postal_code, place.country)


# --- risk -------------------------------------------------------------------------------------------------


def _risk(trace: Trace, labs: Mapping[str, Lab], bodies: Mapping[str, AccreditationBody]) -> Risk:
    sources = set(trace.risk_sources)
    failing = [r for r in trace.reports if r.current.batch_id in sources and r.current.verdict == "fail" and r.counts]
    reports = tuple(_failing_report(r, labs, bodies) for r in failing)
    return Risk(trace.risk_sources, reports, tuple(sorted({r.risk_type for r in reports if r.risk_type})),
                tuple(sorted({r.method for r in reports})))


def _failing_report(report: Report, labs: Mapping[str, Lab], bodies: Mapping[str, AccreditationBody]
                    ) -> FailingReport:
    """A failing report with its lab and accreditation: a version that does not count (forged) is no evidence."""
    r, lab = report.current, labs.get(report.current.lab_id)
    return FailingReport(
        r.batch_id, r.report_id, r.report_version, r.event_id, r.lab_id, lab.name if lab else "", lab is not None,
        r.method, risk_type(r.method), r.tested_at, r.issued_at,
        tuple(m for m in r.measurements if m.verdict == "fail"), _accreditation(r, lab, bodies),
        report.standing(r),
    )


def _accreditation(r: LabResult, lab: Lab | None, bodies: Mapping[str, AccreditationBody]
                   ) -> ReportAccreditation | None:
    """The one covering the report (``traceability.verification``), else one naming the method (to show
    its status then: suspended, expired)."""
    found: Accreditation | None = covering_accreditation(lab, r.method, r.issued_at)
    if found is None and lab is not None:
        found = next((a for a in lab_accreditations(lab) if r.method in a.methods), None)
    if found is None:
        return None
    body = bodies.get(found.body_id)
    return ReportAccreditation(found.body_id, body.name if body else "", found.number, found.status_at(r.issued_at),
                               found.active_at(r.issued_at), r.method in found.methods)


# --- what is missing --------------------------------------------------------------------------------------

#: The product fields a notification asks for, as the missing list names them.
_PRODUCT_FIELDS = (("category", "category"), ("brand", "brand"), ("model", "model or type"),
                   ("barcode", "barcode (GTIN)"), ("description", "description"))


def _missing_products(products: tuple[NotifiedProduct, ...]) -> list[Missing]:
    missing = []
    for p in products:
        if not p.product_id:
            missing += [Missing("product", b.batch_id, "no production record: its product, manufacturer and "
                                "country of origin are not known") for b in p.batches]
            continue
        if not p.registered:
            missing.append(Missing("product", p.product_id, "not in the registry: its name, category, brand, "
                                   "model, barcode, description and packaging are not known"))
        else:
            missing += [Missing("product", p.product_id, f"no {label}") for name, label in _PRODUCT_FIELDS
                        if not getattr(p, name)]
            if not (p.packaging_size or p.packaging_style):
                missing.append(Missing("product", p.product_id, "no packaging"))
        missing += [Missing("product", b.batch_id, "country of origin not known") for b in p.batches
                    if not b.country_of_origin]
    return missing


def _missing_parties(parties: tuple[Party, ...]) -> list[Missing]:
    missing = []
    for p in parties:
        roles = ", ".join(p.roles)
        if not p.registered:
            missing.append(Missing("traceability", p.org_id, f"{roles} not in the registry: name, address and "
                                   "phone not known"))
            continue
        if p.address is None:
            missing.append(Missing("traceability", p.org_id, f"{roles}: address not known (no registered "
                                   "location of it is named by the events)"))
        if not p.phone:
            missing.append(Missing("traceability", p.org_id, f"{roles}: phone not known"))
    return missing


def _missing_risk(risk: Risk) -> list[Missing]:
    shown = {r.batch_id for r in risk.reports}
    missing = [Missing("risk", source, "no failing report on it that counts") for source in risk.sources
               if source not in shown]
    for r in risk.reports:
        subject = f"{r.lab_id}/{r.report_id}"
        if not r.lab_registered:
            missing.append(Missing("risk", subject, f"lab {r.lab_id} not in the registry: its name and "
                                   "accreditation are not known"))
        if r.accreditation is not None and not r.accreditation.body_name:
            missing.append(Missing("risk", subject, f"accreditation body {r.accreditation.body_id} not in the "
                                   "registry"))
        if not r.risk_type:
            missing.append(Missing("risk", subject, f"risk type not known for method {r.method!r}: for the "
                                   "authority to assess"))
        if not r.failures:
            missing.append(Missing("risk", subject, "no failing measurement recorded"))
    return missing
