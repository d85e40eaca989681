"""An EU Safety Gate notification, as Lotline drafts it: its sections as frozen values.

A market surveillance authority notifies a dangerous product in four sections: the product
(`NotifiedProduct`, with its `Batch` es), its traceability (destinations and the economic operators,
each a `Party`), the risk (`Risk`: the `FailingReport` s, the lab's `ReportAccreditation`) and the
measures taken, which stay with the authority. ``traceability.safety_gate`` fills them from the chain;
``query.render.safety_gate`` writes them as text, JSON and HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

from traceability.events import Measurement
from traceability.scope import Standing, Total

Role: TypeAlias = Literal["manufacturer", "exporter", "importer", "distributor"]
#: The roles of a notification's economic operators, in the order the form lists them.
ROLES: tuple[Role, ...] = ("manufacturer", "exporter", "importer", "distributor")
Section: TypeAlias = Literal["product", "traceability", "risk"]

#: What the draft says of the elements only the notifying authority can fill in.
LEFT_TO_AUTHORITY = "left to the notifying authority"
DRAFT = "draft for the notifying authority"


@dataclass(frozen=True, slots=True)
class Quantity:
    """What was shipped in one unit, and in how many shipments."""

    unit: str
    quantity: float
    shipments: int


@dataclass(frozen=True, slots=True)
class Batch:
    """One notified lot: its number, where it was made, by whom, and what of it reached the market."""

    batch_id: str
    country_of_origin: str  # "" when not known
    manufacturer: str  # org id; "" when the lot has no production record
    shipped: tuple[Quantity, ...]


@dataclass(frozen=True, slots=True)
class NotifiedProduct:
    """A product on the market in the recall scope, with its registered master data ("" when not known).

    ``product_id`` is "" for the lots shipped without a production record (their product is unknown);
    ``registered`` says whether the registry holds the product at all.
    """

    product_id: str
    registered: bool
    category: str
    name: str
    brand: str
    model: str
    barcode: str  # GS1 GTIN
    description: str
    packaging_size: str
    packaging_style: str
    batches: tuple[Batch, ...]
    shipped: tuple[Quantity, ...]  # every batch's, per unit

    @property
    def batch_numbers(self) -> tuple[str, ...]:
        return tuple(batch.batch_id for batch in self.batches)

    @property
    def countries_of_origin(self) -> tuple[str, ...]:
        """The distinct known countries its batches were made in."""
        return tuple(sorted({b.country_of_origin for b in self.batches if b.country_of_origin}))


@dataclass(frozen=True, slots=True)
class Address:
    """A party's registered location: the street (or the coordinates when no street is registered)."""

    location_id: str
    name: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str


@dataclass(frozen=True, slots=True)
class Party:
    """An economic operator of the notified products. ``registered`` false: only its id is known
    (``name`` and ``phone`` are ""; ``country`` is where the events place it, if anywhere)."""

    org_id: str
    registered: bool
    name: str
    roles: tuple[Role, ...]
    phone: str
    country: str
    address: Address | None


@dataclass(frozen=True, slots=True)
class Traceability:
    """Where the notified products went (per country and unit, onward shipments not counted again;
    ``Total.key`` is the country) and who made and handled them."""

    destinations: tuple[Total, ...]
    parties: tuple[Party, ...]

    def with_role(self, role: Role) -> tuple[Party, ...]:
        return tuple(party for party in self.parties if role in party.roles)


@dataclass(frozen=True, slots=True)
class ReportAccreditation:
    """The lab's accreditation that bore on a report, as it stood when the report was issued."""

    body_id: str
    body_name: str  # "" when the body is not in the registry
    number: str
    status_at_issue: str
    active_at_issue: bool  # valid and granted
    method_in_scope: bool

    @property
    def covers(self) -> bool:
        """Whether it accredited the report's method when the report was issued."""
        return self.active_at_issue and self.method_in_scope


@dataclass(frozen=True, slots=True)
class FailingReport:
    """A report whose version that counts is a fail on a risk source: the evidence of the risk.

    ``accreditation`` is None when the lab held none bearing on the report, or when the lab is not in
    the registry (``lab_registered``), in which case it is not known.
    """

    batch_id: str
    report_id: str
    version: int
    event_id: str
    lab_id: str
    lab_name: str
    lab_registered: bool
    method: str
    risk_type: str  # "" when the method is not in `STANDARDS`
    tested_at: datetime
    issued_at: datetime
    failures: tuple[Measurement, ...]
    accreditation: ReportAccreditation | None
    standing: Standing  # how the stream judged this version (``outcome`` "pending" when not judged yet)

    @property
    def accredited(self) -> bool:
        return self.accreditation is not None and self.accreditation.covers


@dataclass(frozen=True, slots=True)
class Risk:
    """The failing lots, the reports that show it, the risk types and the standards not met."""

    sources: tuple[str, ...]
    reports: tuple[FailingReport, ...]
    risk_types: tuple[str, ...]
    standards_not_met: tuple[str, ...]  # the failing reports' methods
    legal_requirements: str = LEFT_TO_AUTHORITY


@dataclass(frozen=True, slots=True)
class Missing:
    """An element of the notification the chain does not know; ``subject`` names the product, lot,
    party or report it belongs to."""

    section: Section
    subject: str
    element: str


@dataclass(frozen=True, slots=True)
class Notification:
    """The draft: the batch asked about and its status as of ``as_of``, drafted at ``generated_at``."""

    batch_id: str
    status: str
    as_of: datetime | None
    generated_at: datetime
    products: tuple[NotifiedProduct, ...]
    traceability: Traceability
    risk: Risk
    missing: tuple[Missing, ...]
    measures: str = LEFT_TO_AUTHORITY
    nature: str = DRAFT
