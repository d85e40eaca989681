"""What the history tables hold, deduplicated at query time (delivery is at-least-once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clickhouse_driver import Client

from sinks.rows import HISTORY_TABLES


@dataclass(frozen=True)
class Counts:
    events: dict[str, int]  # distinct event_id per history table
    lineage_edges: int  # distinct (event, parent, child)
    rejects: int  # distinct rejected payloads
    rows: dict[str, int]  # physical rows, duplicates included

    @property
    def accepted(self) -> int:
        return sum(self.events.values())


def counts(client: Client, database: str) -> Counts:
    events = {t: _scalar(client, f"SELECT uniqExact(event_id) FROM {database}.{t}") for t in HISTORY_TABLES}
    rows = {t: _scalar(client, f"SELECT count() FROM {database}.{t}") for t in (*HISTORY_TABLES, "rejects")}
    edges = _scalar(
        client,
        f"SELECT count() FROM (SELECT 1 FROM {database}.lineage_edges "
        "GROUP BY event_id, parent_batch, child_batch)",
    )
    rejects = _scalar(client, f"SELECT uniqExact(reject_id) FROM {database}.rejects")
    return Counts(events, edges, rejects, rows)


def rejects(client: Client, database: str, limit: int = 20) -> list[dict[str, Any]]:
    """Distinct rejects, most recent first: reason, source, kind, event id, original bytes."""
    rows = client.execute(
        f"SELECT reject_id, any(reason), any(source), any(event_kind), any(event_id), "
        f"any(original), min(rejected_at) AS first FROM {database}.rejects "
        f"GROUP BY reject_id ORDER BY first DESC, reject_id LIMIT {int(limit)}",
        settings={"strings_as_bytes": True},
    )
    keys = ("reject_id", "reason", "source", "event_kind", "event_id", "original", "rejected_at")
    return [{k: _text(k, v) for k, v in zip(keys, row, strict=True)} for row in rows]


def _text(key: str, value: Any) -> Any:
    """Every column but the original bytes is text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) and key != "original" else value


def recent(client: Client, database: str, table: str, limit: int = 5) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The latest distinct events of one history table (newest ingest first)."""
    if table not in HISTORY_TABLES:
        raise ValueError(f"unknown table {table!r}")
    columns = {
        "lab_results": "event_id, batch_id, report_id, report_version, lab_id, verdict, issued_at",
        "production_events": "event_id, org_id, site, inputs.batch_id, outputs.batch_id, occurred_at",
        "shipments": "event_id, shipment_id, batch_id, quantity, unit, to_org, to_country, occurred_at",
        "labs": "event_id, lab_id, name, accreditation_body, accreditation_number, region",
    }[table]
    names = [c.strip() for c in columns.split(",")]
    picked = ", ".join(f"any({c})" for c in names[1:])
    rows = client.execute(
        f"SELECT event_id, {picked}, min(ingested_at) AS first FROM {database}.{table} "
        f"GROUP BY event_id ORDER BY first DESC, event_id LIMIT {int(limit)}"
    )
    return names, [row[:-1] for row in rows]


def _scalar(client: Client, sql: str) -> int:
    return int(client.execute(sql)[0][0])
