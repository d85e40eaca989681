"""The registry's contracts (DESIGN §5): accreditation bodies, regulators, organisations with their
locations, products, and what a lab record holds.

Every registry event is a full snapshot of one entry as its publisher knows it at
``registered_at``; history is kept (nothing is overwritten), and the entry's current record is the
snapshot with the latest ``registered_at`` (ties: the greatest ``event_id``), whatever order the
snapshots arrived in. Histories that matter for judging a report *at its issue time* live inside
the snapshot: an accreditation's status changes, a key's validity window and revocation time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, TypeAlias, TypeVar

AccreditationStatus: TypeAlias = Literal["granted", "suspended", "withdrawn"]
ACCREDITATION_STATUSES: tuple[AccreditationStatus, ...] = ("granted", "suspended", "withdrawn")


@dataclass(frozen=True, slots=True)
class Period:
    """From ``start`` until ``end`` (open when ``None``), half-open: ``start <= t < end``."""

    start: datetime
    end: datetime | None

    def holds_at(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass(frozen=True, slots=True)
class AccreditationBody:
    """An accreditation body, e.g. ``CNAS``; ``mra_testing``: when it signed the ILAC MRA for
    testing (ISO/IEC 17025)."""

    event_id: str
    body_id: str
    name: str
    economy: str
    mra_testing: tuple[Period, ...]
    registered_at: datetime

    kind: Literal["accreditation_body"] = "accreditation_body"

    def mra_signatory_at(self, moment: datetime) -> bool:
        return any(period.holds_at(moment) for period in self.mra_testing)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """An accreditation's status from ``at`` on (until the next change)."""

    status: AccreditationStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class Accreditation:
    """One accreditation of a lab: body, number (``CNAS L0867``), validity, status history, scope.

    ``methods`` carry their year (``GB 6675.4-2014``): a report's method is in scope only if it is
    named exactly so. No status change means granted for the whole validity.
    """

    body_id: str
    number: str
    valid_from: datetime
    valid_until: datetime
    statuses: tuple[StatusChange, ...]
    methods: tuple[str, ...]
    analytes: tuple[str, ...]
    product_categories: tuple[str, ...]

    def status_at(self, moment: datetime) -> AccreditationStatus:
        changes = [change for change in self.statuses if change.at <= moment]
        return max(changes, key=lambda change: change.at).status if changes else "granted"

    def active_at(self, moment: datetime) -> bool:
        """Valid and granted at ``moment``."""
        return self.valid_from <= moment < self.valid_until and self.status_at(moment) == "granted"


@dataclass(frozen=True, slots=True)
class Qualification:
    """Another qualification of a lab, e.g. ``CMA`` with its number."""

    kind: str
    number: str
    valid_from: datetime
    valid_until: datetime

    def holds_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment < self.valid_until


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A lab's Ed25519 signing key: ``jwk`` is the public JWK as JSON text (RFC 8037 OKP)."""

    kid: str
    jwk: str
    not_before: datetime
    not_after: datetime | None
    revoked_at: datetime | None
    revocation_reason: str

    def revoked_by(self, moment: datetime) -> bool:
        return self.revoked_at is not None and self.revoked_at <= moment

    def valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment and (self.not_after is None or moment < self.not_after)


@dataclass(frozen=True, slots=True)
class Regulator:
    """A regulator, its jurisdiction (``DE``, ``CN-ZJ``) and the reports its policy recognises.

    A report is recognised when its lab's accreditation was active at the issue time and granted
    by a body the regulator recognises (any ILAC MRA signatory for testing at that time, when
    ``recognises_mra_signatories``; or one of ``recognised_bodies``), and the lab held a valid
    qualification of every kind in ``required_qualifications`` (e.g. ``CMA`` for ``CN``).
    """

    event_id: str
    regulator_id: str
    name: str
    jurisdiction: tuple[str, ...]
    recognises_mra_signatories: bool
    recognised_bodies: tuple[str, ...]
    required_qualifications: tuple[str, ...]
    registered_at: datetime

    kind: Literal["regulator"] = "regulator"


@dataclass(frozen=True, slots=True)
class Location:
    """One of an organisation's physical locations (a plant, a warehouse, a DC): FSMA 204's
    "location description" less the business name and phone, which are the organisation's.

    ``location_id`` is what production events (``location_id``), shipments (``from_location``,
    ``to_location_id``) and receivings (``location_id``, ``from_location``) name it by, unique
    within its organisation. The place is a street address or geographic coordinates (or both);
    ``gln`` (GS1 Global Location Number, 13 digits) is optional. ``country`` is ISO 3166-1 alpha-2;
    ``region`` the state, province or region as written locally; ``""`` is "not known".
    """

    location_id: str
    name: str
    country: str
    gln: str = ""
    street: str = ""
    latitude: float | None = None
    longitude: float | None = None
    city: str = ""
    region: str = ""
    postal_code: str = ""

    def address_or_coordinates(self) -> str:
        """The street address, else the coordinates (``29.306, 120.075``), else ``""``."""
        if self.street:
            return self.street
        if self.latitude is not None and self.longitude is not None:
            return f"{self.latitude:.6g}, {self.longitude:.6g}"
        return ""


@dataclass(frozen=True, slots=True)
class Organisation:
    """An organisation (a manufacturer, distributor, brand, importer, retailer) and where it is.

    ``country`` is ISO 3166-1 alpha-2 (``CN``), ``subdivision`` an ISO 3166-2 code within it
    (``CN-ZJ``) or ``""``: where a batch it made was made (what a regulator's jurisdiction is
    matched against). v2 adds its ``phone`` (with the country code, ``+86 579 8555 0101``) and its
    ``locations``, the master data of the official forms (FSMA 204 location descriptions, the
    contacts of an EU Safety Gate notification).
    """

    event_id: str
    org_id: str
    name: str
    country: str
    subdivision: str
    roles: tuple[str, ...]
    registered_at: datetime
    phone: str = ""
    locations: tuple[Location, ...] = ()

    kind: Literal["organisation"] = "organisation"

    def location(self, location_id: str) -> Location | None:
        """Its location of that id, if it registered one."""
        return next((place for place in self.locations if place.location_id == location_id), None)

    @property
    def places(self) -> frozenset[str]:
        """Its country and subdivision (``{"CN", "CN-ZJ"}``), without blanks: what a jurisdiction
        (``traceability.access.within``) is matched against."""
        return frozenset(place for place in (self.country, self.subdivision) if place)


@dataclass(frozen=True, slots=True)
class Product:
    """A product's master data (FSMA 204 "product description", an EU Safety Gate product
    section), registered by its brand owner ``org_id``; production outputs name it by ``product_id``.

    ``name`` is the product name; ``brand``, ``commodity`` and ``variety`` apply where they do
    (``""`` otherwise); ``packaging_size`` (``"1 car, 14 cm"``) and ``packaging_style`` (``"window
    box"``) describe how it is packed. ``gtin`` is its GS1 GTIN (8, 12, 13 or 14 digits, optional,
    the barcode); ``category`` its product category (``toys``), ``model`` its model or type
    reference, ``description`` what it looks like, for a notification.
    """

    event_id: str
    product_id: str
    org_id: str
    name: str
    registered_at: datetime
    brand: str = ""
    commodity: str = ""
    variety: str = ""
    packaging_size: str = ""
    packaging_style: str = ""
    gtin: str = ""
    category: str = ""
    model: str = ""
    description: str = ""

    kind: Literal["product"] = "product"


class _Snapshot(Protocol):
    @property
    def event_id(self) -> str: ...

    @property
    def registered_at(self) -> datetime: ...


_S = TypeVar("_S", bound=_Snapshot)


def latest(snapshots: Iterable[_S]) -> _S | None:
    """The current record among an entry's snapshots: latest ``registered_at``, then greatest id."""
    return max(snapshots, key=lambda s: (s.registered_at, s.event_id), default=None)
