"""The tracking records of a set of lots, with their master data: what the official forms are filled from.

A regulator asks for records in one of three ways (FSMA 204, 21 CFR 1.1455(c)(3)): the recall scope of
a lot, a set of traceability lot codes, or a product over a date range. Each becomes one
`TrackingRecords`: the lots asked about, every critical tracking event of them (transformations,
shipments, receivings), how each lot involved was made (its product and its traceability lot code
source), and the registry's organisations (with their locations) and products, all as known at one
moment. The forms (``traceability.fsma_template``, ``traceability.safety_gate``) are pure functions
of it; ``query.tracking`` reads it from ClickHouse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeAlias

from traceability.events import Production, Receiving, Shipment
from traceability.registry import Location, Organisation, Product

RequestKind: TypeAlias = Literal["recall", "lots", "product"]


@dataclass(frozen=True, slots=True)
class Request:
    """What was asked: ``recall`` of ``batch_id``; ``lots`` (the codes listed); ``product`` made or moved
    from ``start`` (inclusive) until ``end`` (exclusive)."""

    kind: RequestKind
    batch_id: str = ""
    lots: tuple[str, ...] = ()
    product_id: str = ""
    start: datetime | None = None
    end: datetime | None = None

    def describe(self) -> str:
        """One line for a form's About sheet (``recall scope of PIG-RED-2610-07``)."""
        if self.kind == "recall":
            return f"recall scope of {self.batch_id}"
        if self.kind == "lots":
            return f"{len(self.lots)} traceability lot code{'' if len(self.lots) == 1 else 's'}"
        last = self.end - timedelta(microseconds=1) if self.end is not None else None  # the end is exclusive
        return f"product {self.product_id}, events from {_day(self.start)} to {_day(last)}"


@dataclass(frozen=True, slots=True)
class TrackingRecords:
    """The lots in scope and everything recorded about them, as known at ``as_of`` (``None``: now).

    Attributes:
        lots: The lots in scope, sorted.
        productions: Every transformation with an output among ``lots`` (whole events), by time.
        shipments: Every shipment of a lot in scope, by time.
        receivings: Every receiving of a lot in scope, by time.
        made: For each lot involved (those in scope and the inputs of ``productions``) that has a
            production record, the production that made it (the earliest, if several name it).
        organisations: Every organisation the events name that is in the registry (current record).
        products: Every product the productions name that is in the registry (current record).
    """

    request: Request
    as_of: datetime | None
    lots: tuple[str, ...]
    productions: tuple[Production, ...]
    shipments: tuple[Shipment, ...]
    receivings: tuple[Receiving, ...]
    made: Mapping[str, Production] = field(default_factory=dict)
    organisations: Mapping[str, Organisation] = field(default_factory=dict)
    products: Mapping[str, Product] = field(default_factory=dict)

    def product_of(self, batch_id: str) -> str:
        """The product id of a lot, from the production that made it (``""`` when none is known)."""
        made = self.made.get(batch_id)
        if made is None:
            return ""
        return next((out.product_id for out in made.outputs if out.batch_id == batch_id), "")

    def location(self, org_id: str, location_id: str) -> Location | None:
        """An organisation's registered location, if both are known."""
        org = self.organisations.get(org_id)
        return org.location(location_id) if org is not None and location_id else None


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment is not None else "…"
