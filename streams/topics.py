"""Topic names and which event kind goes where (no Faust here: publishers import it too)."""

from __future__ import annotations

from dataclasses import dataclass

from traceability.events import (
    REGISTRY_KINDS,
    AccreditationBody,
    Event,
    EventKind,
    Lab,
    LabResult,
    Organisation,
    Product,
    Production,
    Receiving,
    Shipment,
)


@dataclass(frozen=True)
class TopicNames:
    """The topics of one Lotline deployment, all under one prefix."""

    prefix: str

    @property
    def lab_results(self) -> str:
        return f"{self.prefix}.lab-results"

    @property
    def lineage(self) -> str:
        return f"{self.prefix}.lineage"

    @property
    def registry(self) -> str:
        return f"{self.prefix}.registry"

    @property
    def closure(self) -> str:
        """Internal: lineage messages between workers, keyed by the batch that handles them."""
        return f"{self.prefix}.closure"

    @property
    def dead_letter(self) -> str:
        return f"{self.prefix}.dead-letter"

    @property
    def log(self) -> str:
        """The transparency log's entries, in order: only its partition 0 is ever written."""
        return f"{self.prefix}.log"

    @property
    def raw(self) -> tuple[str, ...]:
        """Topics publishers write to."""
        return (self.lab_results, self.lineage, self.registry)

    @property
    def consumed(self) -> tuple[str, ...]:
        """Every topic the workers read, in pipeline order (``sync`` checks them in this order)."""
        return (*self.raw, self.closure, self.dead_letter, self.log)

    def for_kind(self, kind: EventKind) -> str:
        if kind == "lab_result":
            return self.lab_results
        if kind in REGISTRY_KINDS:
            return self.registry
        return self.lineage


def partition_key(event: Event) -> bytes:
    """Events about one batch share a key, so they share a partition and stay in order; so do the
    snapshots of one registry entry (a lab, a body, a regulator, an organisation, a product: keyed by its id)."""
    if isinstance(event, LabResult | Shipment | Receiving):
        return event.batch_id.encode()
    if isinstance(event, Production):
        return event.outputs[0].batch_id.encode() if event.outputs else event.event_id.encode()
    if isinstance(event, Lab):
        return event.lab_id.encode()
    if isinstance(event, AccreditationBody):
        return event.body_id.encode()
    if isinstance(event, Organisation):
        return event.org_id.encode()
    if isinstance(event, Product):
        return event.product_id.encode()
    return event.regulator_id.encode()
