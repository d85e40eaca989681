"""Pure mapping from accepted events and dead letters to ClickHouse rows.

``COLUMNS`` lists, per table, the columns in insert order; a contract test holds it equal to
the DDL. Rows are tuples in that order, so the writer never guesses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from traceability.dead_letter import DeadLetter
from traceability.events import Event, Lab, LabResult, Production, Shipment

Row: TypeAlias = tuple[Any, ...]
RowBatch: TypeAlias = dict[str, list[Row]]

_PROVENANCE = ("kafka_partition", "kafka_offset", "ingested_at")

COLUMNS: dict[str, tuple[str, ...]] = {
    "lab_results": (
        "event_id", "report_id", "report_version", "lab_id", "batch_id", "sample_id", "method",
        "verdict", "tested_at", "issued_at", "measurements.analyte", "measurements.value",
        "measurements.unit", "measurements.limit_value", "measurements.verdict", "signature",
        *_PROVENANCE,
    ),
    "production_events": (
        "event_id", "org_id", "site", "occurred_at", "inputs.batch_id", "inputs.quantity",
        "inputs.unit", "outputs.batch_id", "outputs.product_id", "outputs.quantity",
        "outputs.unit", *_PROVENANCE,
    ),
    "lineage_edges": (
        "event_id", "parent_batch", "child_batch", "parent_quantity", "parent_unit",
        "child_product", "child_quantity", "child_unit", "org_id", "site", "occurred_at",
        "ingested_at",
    ),
    "shipments": (
        "event_id", "shipment_id", "batch_id", "quantity", "unit", "from_org", "to_org",
        "to_location", "to_country", "occurred_at", *_PROVENANCE,
    ),
    "labs": (
        "event_id", "lab_id", "name", "accreditation_body", "accreditation_number",
        "accredited_methods", "region", "valid_from", "valid_until", "public_keys",
        "registered_at", *_PROVENANCE,
    ),
    "closure": ("descendant", "ancestor", "depth", "known_at"),
    "batch_status": ("batch_id", "status", "risk_sources", "seq", "closure_partition", "known_at"),
    "refused_edges": ("event_id", "parent_batch", "child_batch", "reason", "known_at"),
    "rejects": (
        "reject_id", "reason", "source", "event_kind", "event_id", "original", "original_topic",
        "original_partition", "original_offset", "rejected_at", "dead_letter_partition",
        "dead_letter_offset", "ingested_at",
    ),
}
#: Tables that hold accepted events, keyed by event_id.
HISTORY_TABLES = ("lab_results", "production_events", "shipments", "labs")


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a row came from and when it was written."""

    partition: int
    offset: int
    ingested_at: datetime
    signature: str = ""


def new_batch() -> RowBatch:
    return defaultdict(list)


def add_event(batch: RowBatch, event: Event, src: Provenance) -> None:
    """Append the rows of one accepted event to ``batch``."""
    prov = (src.partition, src.offset, src.ingested_at)
    if isinstance(event, LabResult):
        batch["lab_results"].append(_lab_result(event, src.signature) + prov)
    elif isinstance(event, Production):
        batch["production_events"].append(_production(event) + prov)
        batch["lineage_edges"].extend(_edges(event, src.ingested_at))
    elif isinstance(event, Shipment):
        batch["shipments"].append(_shipment(event) + prov)
    else:
        batch["labs"].append(_lab(event) + prov)


def _lab_result(e: LabResult, signature: str) -> Row:
    ms = e.measurements
    return (
        e.event_id, e.report_id, e.report_version, e.lab_id, e.batch_id, e.sample_id, e.method,
        e.verdict, e.tested_at, e.issued_at, [m.analyte for m in ms], [m.value for m in ms],
        [m.unit for m in ms], [m.limit for m in ms], [m.verdict for m in ms], signature,
    )


def _production(e: Production) -> Row:
    ins, outs = e.inputs, e.outputs
    return (
        e.event_id, e.org_id, e.site, e.occurred_at,
        [i.batch_id for i in ins], [i.quantity for i in ins], [i.unit for i in ins],
        [o.batch_id for o in outs], [o.product_id for o in outs], [o.quantity for o in outs],
        [o.unit for o in outs],
    )


def _edges(e: Production, ingested_at: datetime) -> list[Row]:
    return [
        (
            e.event_id, i.batch_id, o.batch_id, i.quantity, i.unit, o.product_id, o.quantity,
            o.unit, e.org_id, e.site, e.occurred_at, ingested_at,
        )
        for i in e.inputs
        for o in e.outputs
    ]


def _shipment(e: Shipment) -> Row:
    return (
        e.event_id, e.shipment_id, e.batch_id, e.quantity, e.unit, e.from_org, e.to_org,
        e.to_location, e.to_country, e.occurred_at,
    )


def _lab(e: Lab) -> Row:
    return (
        e.event_id, e.lab_id, e.name, e.accreditation_body, e.accreditation_number,
        list(e.accredited_methods), e.region, e.valid_from, e.valid_until, list(e.public_keys),
        e.registered_at,
    )


def add_reject(batch: RowBatch, letter: DeadLetter, src: Provenance) -> None:
    """Append the rejects row of one dead letter (``src`` is its place in the dead-letter topic)."""
    batch["rejects"].append(
        (
            letter.reject_id, letter.reason, letter.source, letter.event_kind, letter.event_id,
            letter.original, letter.topic, letter.partition, letter.offset, letter.rejected_at,
            src.partition, src.offset, src.ingested_at,
        )
    )
