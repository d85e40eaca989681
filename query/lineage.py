"""Closure and batch status as ClickHouse holds them, deduplicated, optionally as of a moment.

Rows are append-only and may repeat (at-least-once delivery): a pair's depth is the minimum
written, and a batch's status is the row with the highest seq. ``as_of`` keeps only rows the
stream had written by then, which is what Lotline knew at that moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clickhouse_driver import Client

StatusTuple = tuple[str, tuple[str, ...]]


def ancestry(client: Client, database: str, as_of: datetime | None = None) -> dict[str, dict[str, int]]:
    """Every batch with ancestors, mapped to {ancestor: minimal depth}."""
    where, params = _known_by(as_of)
    rows = client.execute(
        f"SELECT descendant, ancestor, min(depth) FROM {database}.closure {where} "
        "GROUP BY descendant, ancestor",
        params,
    )
    found: dict[str, dict[str, int]] = {}
    for descendant, ancestor, depth in rows:
        found.setdefault(descendant, {})[ancestor] = depth
    return found


def descent(client: Client, database: str, batch_id: str, as_of: datetime | None = None) -> dict[str, int]:
    """Every descendant of one batch with its minimal depth (the downstream index)."""
    where, params = _known_by(as_of, "ancestor = %(batch)s")
    rows = client.execute(
        f"SELECT descendant, min(depth) FROM {database}.closure_by_ancestor {where} GROUP BY descendant",
        {**params, "batch": batch_id},
    )
    return dict(rows)


def statuses(client: Client, database: str, as_of: datetime | None = None) -> dict[str, StatusTuple]:
    """The latest status and risk sources of every batch whose status ever changed.

    A batch without a row here has never left ``untested``.
    """
    where, params = _known_by(as_of)
    rows = client.execute(
        f"SELECT batch_id, argMax(status, seq), argMax(risk_sources, seq) FROM {database}.batch_status "
        f"{where} GROUP BY batch_id",
        params,
    )
    return {batch: (status, tuple(sources)) for batch, status, sources in rows}


def _known_by(as_of: datetime | None, *conditions: str) -> tuple[str, dict[str, Any]]:
    clauses = list(conditions)
    params: dict[str, Any] = {}
    if as_of is not None:
        clauses.append("known_at <= %(as_of)s")
        params["as_of"] = as_of
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def summary(client: Client, database: str) -> dict[str, int]:
    """Closure pairs, the deepest chain, and how many batches have each latest status."""
    pairs, deepest = client.execute(
        f"SELECT count(), max(d) FROM (SELECT min(depth) AS d FROM {database}.closure GROUP BY descendant, ancestor)"
    )[0]
    found = {"closure pairs": int(pairs), "deepest chain": int(deepest or 0)}
    rows = client.execute(
        f"SELECT s, count() FROM (SELECT argMax(status, seq) AS s FROM {database}.batch_status GROUP BY batch_id) "
        "GROUP BY s"
    )
    for status in ("failed", "at_risk", "clear"):
        found[f"batches {status}"] = int(dict(rows).get(status, 0))
    return found
