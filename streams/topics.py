"""Topic names and which event kind goes where (no Faust here: publishers import it too)."""

from __future__ import annotations

from dataclasses import dataclass

from traceability.events import Event, EventKind, LabResult, Production, Shipment


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
    def raw(self) -> tuple[str, ...]:
        """Topics publishers write to."""
        return (self.lab_results, self.lineage, self.registry)

    @property
    def consumed(self) -> tuple[str, ...]:
        """Every topic the workers read, in pipeline order (``sync`` checks them in this order)."""
        return (*self.raw, self.closure, self.dead_letter)

    def for_kind(self, kind: EventKind) -> str:
        if kind == "lab_result":
            return self.lab_results
        if kind == "lab":
            return self.registry
        return self.lineage


def partition_key(event: Event) -> bytes:
    """Events about one batch share a key, so they share a partition and stay in order."""
    if isinstance(event, LabResult | Shipment):
        return event.batch_id.encode()
    if isinstance(event, Production):
        return event.outputs[0].batch_id.encode() if event.outputs else event.event_id.encode()
    return event.lab_id.encode()
