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
    """Distinct rejects, most recent first: reason, source, kind, event id, original bytes.

    A report refused again for another reason (its lab's record changed: a key it was signed with
    turned out to be revoked, say) is listed once per reason. Each reject is keyed by the names of
    the query's columns, in the query's order.
    """
    rows, types = client.execute(
        "SELECT reject_id, reason, any(source) AS source, any(event_kind) AS event_kind, "
        "any(event_id) AS event_id, any(original) AS original, min(rejected_at) AS rejected_at "
        f"FROM {database}.rejects GROUP BY reject_id, reason ORDER BY rejected_at DESC, reject_id "
        f"LIMIT {int(limit)}",
        settings={"strings_as_bytes": True}, with_column_types=True,
    )
    keys = [name for name, _type in types]
    return [{k: _text(k, v) for k, v in zip(keys, row, strict=True)} for row in rows]


def _text(key: str, value: Any) -> Any:
    """Every column but the original bytes is text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) and key != "original" else value


def recent(client: Client, database: str, table: str, limit: int = 5) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The latest distinct events of one history table (newest ingest first): column names, rows."""
    if table not in HISTORY_TABLES:
        raise ValueError(f"unknown table {table!r}")
    shown = {
        "lab_results": ("batch_id", "report_id", "report_version", "lab_id", "verdict", "issued_at"),
        "production_events": ("org_id", "site", "inputs.batch_id", "outputs.batch_id", "occurred_at"),
        "shipments": ("shipment_id", "batch_id", "quantity", "unit", "to_org", "to_country", "occurred_at"),
        "labs": ("lab_id", "name", "accreditation_body", "accreditation_number", "region"),
        "accreditation_bodies": ("body_id", "name", "economy", "registered_at"),
        "regulators": ("regulator_id", "name", "jurisdiction", "registered_at"),
        "organisations": ("org_id", "name", "country", "subdivision", "registered_at"),
        "receivings": ("receipt_id", "batch_id", "quantity", "unit", "from_org", "to_org", "occurred_at"),
        "products": ("product_id", "org_id", "name", "gtin", "registered_at"),
    }[table]
    picked = "".join(f", any({c}) AS `{c}`" for c in shown)
    rows, types = client.execute(
        f"SELECT event_id{picked} FROM {database}.{table} "
        f"GROUP BY event_id ORDER BY min(ingested_at) DESC, event_id LIMIT {int(limit)}",
        with_column_types=True,
    )
    return [name for name, _type in types], rows


def _scalar(client: Client, sql: str) -> int:
    return int(client.execute(sql)[0][0])
