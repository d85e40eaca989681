"""Trace and recall scope read from ClickHouse, optionally as known at a moment.

Every read is an indexed range read: the closure by descendant (upstream) or by ancestor
(downstream), then the history tables by batch id for exactly the batches in scope, sent to the
server as an external table so a scope of any size is one query. Rows may repeat (delivery is
at-least-once): events are deduplicated by event id, closure pairs keep their minimal depth and
statuses the row with the highest seq. ``as_of`` keeps only rows written by then
(``ingested_at`` in the history, ``known_at`` in the closure and status tables), which is what
Lotline knew at that moment. Assembly and the rules of an answer are in ``traceability.scope``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from clickhouse_driver import Client

from traceability.events import InputLot, LabResult, Measurement, Shipment
from traceability.scope import (
    Affected,
    Link,
    Production,
    Recall,
    Report,
    Trace,
    completeness,
    current_reports,
    related,
    totals,
)


class UnknownBatch(LookupError):
    """No record of the batch (as of the moment asked about)."""


class UnknownReport(LookupError):
    """No record of the report (as of the moment asked about)."""


class ScopeReader:
    """Answers trace, recall and report questions from one ClickHouse database (one client: one thread)."""

    def __init__(self, client: Client, database: str) -> None:
        self._client = client
        self._db = database

    def trace(self, batch_id: str, as_of: datetime | None = None) -> Trace:
        """Status, upstream and downstream batches, the links and reports upstream, shipments.

        Raises:
            UnknownBatch: nothing about the batch is known (as of ``as_of``).
        """
        upstream = self._depths("closure", "descendant", "ancestor", batch_id, as_of)
        downstream = self._depths("closure_by_ancestor", "ancestor", "descendant", batch_id, as_of)
        lineage = {batch_id, *upstream}
        statuses = self._statuses({*lineage, *downstream}, as_of)
        links = [e for e in self._links(lineage, as_of) if e.parent in upstream]
        products = {e.child: e.product_id for e in links} | self._products(downstream, as_of)
        reports = self._reports(lineage, as_of)
        shipments = self._shipments([batch_id], as_of)
        made = _productions(link for link in links if link.child == batch_id)
        if not (upstream or downstream or batch_id in statuses or made or reports or shipments):
            raise UnknownBatch(_unknown("batch", batch_id, as_of))
        status, sources = statuses.get(batch_id, ("untested", ()))
        names = _names(statuses)
        return Trace(
            batch_id=batch_id, as_of=as_of, status=status, risk_sources=sources,
            production=made[0] if made else None,
            upstream=related(upstream, names, products),
            downstream=related(downstream, names, products),
            links=tuple(sorted(links, key=lambda e: (e.child, e.parent, e.event_id))),
            reports=reports, shipments=shipments,
            completeness=completeness(lineage, {e.child for e in links}, [s.batch_id for s in shipments], reports),
        )

    def recall(self, batch_id: str, as_of: datetime | None = None) -> Recall:
        """The batch and every descendant, how each was made, and every shipment of any of them.

        Raises:
            UnknownBatch: nothing about the batch is known (as of ``as_of``).
        """
        depths = {batch_id: 0, **self._depths("closure_by_ancestor", "ancestor", "descendant", batch_id, as_of)}
        statuses = self._statuses(depths, as_of)
        productions = _productions(self._links(depths, as_of))
        shipments = self._shipments(depths, as_of)
        reports = self._reports([batch_id], as_of)
        if len(depths) == 1 and not (statuses or productions or shipments or reports):
            raise UnknownBatch(_unknown("batch", batch_id, as_of))
        made: dict[str, Production] = {}
        for p in productions:
            made.setdefault(p.batch_id, p)
        affected = tuple(
            _affected(b, d, statuses.get(b, ("untested", ()))[0], made.get(b))
            for b, d in sorted(depths.items(), key=lambda item: (item[1], item[0]))
        )
        by_country, by_recipient = totals(shipments)
        status, sources = statuses.get(batch_id, ("untested", ()))
        return Recall(
            batch_id=batch_id, as_of=as_of, status=status, risk_sources=sources, affected=affected,
            productions=productions, shipments=shipments, by_country=by_country, by_recipient=by_recipient,
            reports=reports,
            completeness=completeness(depths, made, [s.batch_id for s in shipments], reports),
        )

    def report(self, report_id: str, as_of: datetime | None = None) -> Report:
        """One report at the version that counts, with the versions it supersedes.

        Raises:
            UnknownReport: no version of the report is known (as of ``as_of``).
        """
        where, params = _known("ingested_at", as_of)
        rows = self._client.execute(
            f"{_REPORT_COLUMNS} FROM {self._db}.lab_results WHERE report_id = %(report)s {where} GROUP BY event_id",
            {**params, "report": report_id},
        )
        versions = [_lab_result(row) for row in rows]
        if not versions:
            raise UnknownReport(_unknown("report", report_id, as_of))
        registered = self._registered({v.lab_id for v in versions}, as_of)
        [report] = current_reports(versions, registered)
        return report

    # -- reads -------------------------------------------------------------------------------

    def _depths(self, table: str, key: str, other: str, batch_id: str, as_of: datetime | None) -> dict[str, int]:
        where, params = _known("known_at", as_of)
        rows = self._client.execute(
            f"SELECT {other}, min(depth) FROM {self._db}.{table} WHERE {key} = %(batch)s {where} GROUP BY {other}",
            {**params, "batch": batch_id},
        )
        return {batch: int(depth) for batch, depth in rows}

    def _statuses(self, batches: Collection[str], as_of: datetime | None) -> dict[str, tuple[str, tuple[str, ...]]]:
        where, params = _known("known_at", as_of)
        rows = self._scoped(
            f"SELECT batch_id, argMax(status, seq), argMax(risk_sources, seq) FROM {self._db}.batch_status "
            f"WHERE batch_id IN (SELECT batch_id FROM scope) {where} GROUP BY batch_id",
            batches, params,
        )
        return {batch: (status, tuple(sources)) for batch, status, sources in rows}

    def _links(self, children: Collection[str], as_of: datetime | None) -> list[Link]:
        """Accepted lineage edges into ``children`` (edges refused as cycles left out)."""
        where, params = _known("ingested_at", as_of)
        rows = self._scoped(
            "SELECT event_id, parent_batch, child_batch, any(parent_quantity), any(parent_unit), any(child_product), "
            "any(child_quantity), any(child_unit), any(org_id), any(site), toTimeZone(any(occurred_at), 'UTC') "
            f"FROM {self._db}.lineage_edges WHERE child_batch IN (SELECT batch_id FROM scope) {where} "
            "AND (event_id, parent_batch, child_batch) NOT IN "
            f"(SELECT event_id, parent_batch, child_batch FROM {self._db}.refused_edges) "
            "GROUP BY event_id, parent_batch, child_batch",
            children, params,
        )
        return [Link(*row) for row in rows]

    def _products(self, batches: Collection[str], as_of: datetime | None) -> dict[str, str]:
        where, params = _known("ingested_at", as_of)
        rows = self._scoped(
            f"SELECT child_batch, any(child_product) FROM {self._db}.lineage_edges "
            f"WHERE child_batch IN (SELECT batch_id FROM scope) {where} GROUP BY child_batch",
            batches, params,
        )
        return dict(rows)

    def _reports(self, batches: Collection[str], as_of: datetime | None) -> tuple[Report, ...]:
        where, params = _known("ingested_at", as_of)
        rows = self._scoped(
            f"{_REPORT_COLUMNS} FROM {self._db}.lab_results "
            f"WHERE batch_id IN (SELECT batch_id FROM scope) {where} GROUP BY event_id",
            batches, params,
        )
        versions = [_lab_result(row) for row in rows]
        return current_reports(versions, self._registered({v.lab_id for v in versions}, as_of))

    def _registered(self, labs: set[str], as_of: datetime | None) -> set[str]:
        if not labs:
            return set()
        where, params = _known("ingested_at", as_of)
        rows = self._client.execute(
            f"SELECT DISTINCT lab_id FROM {self._db}.labs WHERE lab_id IN %(labs)s {where}",
            {**params, "labs": tuple(sorted(labs))},
        )
        return {lab for (lab,) in rows}

    def _shipments(self, batches: Collection[str], as_of: datetime | None) -> tuple[Shipment, ...]:
        where, params = _known("ingested_at", as_of)
        rows = self._scoped(
            "SELECT event_id, any(shipment_id), any(batch_id), any(quantity), any(unit), any(from_org), any(to_org), "
            "any(to_location), any(to_country), toTimeZone(any(occurred_at), 'UTC') "
            f"FROM {self._db}.shipments WHERE batch_id IN (SELECT batch_id FROM scope) {where} GROUP BY event_id",
            batches, params,
        )
        shipments = [Shipment(*row[:8], row[8].rstrip("\0"), row[9]) for row in rows]
        return tuple(sorted(shipments, key=lambda s: (s.occurred_at, s.shipment_id, s.event_id)))

    def _scoped(self, sql: str, batches: Iterable[str], params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run ``sql`` with the batches as the external table ``scope(batch_id)``."""
        scope = [{"batch_id": b} for b in batches]
        if not scope:
            return []
        table = {"name": "scope", "structure": [("batch_id", "String")], "data": scope}
        return list(self._client.execute(sql, params, external_tables=[table]))


_REPORT_COLUMNS = (
    "SELECT event_id, any(report_id), any(report_version), any(lab_id), any(batch_id), any(sample_id), any(method), "
    "any(verdict), toTimeZone(any(tested_at), 'UTC'), toTimeZone(any(issued_at), 'UTC'), "
    "any(measurements.analyte), any(measurements.value), any(measurements.unit), any(measurements.limit_value), "
    "any(measurements.verdict)"
)


def _lab_result(row: tuple[Any, ...]) -> LabResult:
    measurements = tuple(Measurement(*m) for m in zip(*row[10:15], strict=True))
    return LabResult(*row[:10], measurements)


def _productions(links: Iterable[Link]) -> tuple[Production, ...]:
    """Links grouped into production events, one per (event, output lot), oldest first."""
    grouped: dict[tuple[str, str], list[Link]] = defaultdict(list)
    for link in links:
        grouped[(link.event_id, link.child)].append(link)
    made = []
    for (event_id, child), group in grouped.items():
        first = group[0]
        ordered = sorted(group, key=lambda e: e.parent)
        inputs = tuple(InputLot(e.parent, e.input_quantity, e.input_unit) for e in ordered)
        made.append(Production(event_id, child, first.product_id, first.output_quantity, first.output_unit,
                               first.org_id, first.site, first.occurred_at, inputs))
    return tuple(sorted(made, key=lambda p: (p.occurred_at, p.batch_id, p.event_id)))


def _affected(batch: str, depth: int, status: str, made: Production | None) -> Affected:
    if made is None:
        return Affected(batch, depth, status, "", None, "")
    return Affected(batch, depth, status, made.product_id, made.quantity, made.unit)


def _names(statuses: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    return {batch: status for batch, (status, _sources) in statuses.items()}


def _known(column: str, as_of: datetime | None) -> tuple[str, dict[str, Any]]:
    if as_of is None:
        return "", {}
    return f"AND {column} <= %(as_of)s", {"as_of": as_of}


def _unknown(what: str, name: str, as_of: datetime | None) -> str:
    when = f" as of {as_of.isoformat()}" if as_of else ""
    return f"no {what} {name!r} is known{when}"
