"""Trace and recall scope read from ClickHouse, optionally as known at a moment.

Every read is an indexed range read: the closure by descendant (upstream) or by ancestor
(downstream), and the history tables by batch id for exactly the batches in scope. The scope is a
subquery on the closure inside each read, so no read waits for another: the reads of one answer
run concurrently, each on its own connection, and an answer costs about its slowest read.
Results come back by column and become answer values without intermediate rows, each value
built from the columns named after its fields (`query.columns`): every column of a read has an
alias equal to the field it fills, so reordering a SELECT or a dataclass cannot mis-map a value.
ClickHouse 18.16 substitutes an alias wherever its name appears in the query, so an aggregate
named like a column the WHERE filters on (``any(batch_id) AS batch_id``) would land in the WHERE:
those few columns take another alias, renamed to their field by a table next to the query
(filtering in a subquery instead works too, but costs 18.16 2 ms more per 20k shipments and
doubles the time of a 2k-report read, measured).

Rows may repeat (delivery is at-least-once): events are deduplicated by event id, closure pairs
keep their minimal depth and statuses the row with the highest seq. ``as_of`` keeps only rows
written by then (``ingested_at`` in the history, ``known_at`` in the closure and status tables),
which is what Lotline knew at that moment. Assembly and the rules of an answer are in
``traceability.scope``.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from clickhouse_driver import Client

from query.columns import Columns, converted, decode, decode_nested, decode_tuples, named, nested, pick, renamed
from traceability.errors import BadParameter, UnknownBatch, UnknownReport
from traceability.events import InputLot, LabResult, Measurement, Shipment
from traceability.scope import (
    Affected,
    Link,
    Production,
    Recall,
    Report,
    Standing,
    Trace,
    completeness,
    current_reports,
    related,
    totals,
)


class _CollectorPause:
    """Python's cyclic garbage collector off while any answer is being built (any thread).

    An answer is a large tree of new objects that all live on: the collector would scan it again
    and again as it grows (a quarter of the time of a 10k-batch recall, measured) and free
    nothing. Cycles made meanwhile are collected once no answer is being built.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._building = 0
        self._was_enabled = True

    def __enter__(self) -> None:
        with self._lock:
            if not self._building:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._building += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._building -= 1
            if not self._building and self._was_enabled:
                gc.enable()


_PAUSE = _CollectorPause()
_Answer = TypeVar("_Answer")


def answer_building() -> _CollectorPause:
    """The collector's pause, for building any large answer (``with answer_building(): …``)."""
    return _PAUSE


def collector_paused(method: Callable[..., _Answer]) -> Callable[..., _Answer]:
    @functools.wraps(method)
    def paused(*args: Any, **kwargs: Any) -> _Answer:
        with _PAUSE:
            return method(*args, **kwargs)

    return paused


class ScopeReader:
    """Answers trace, recall and report questions from one ClickHouse database.

    One reader serves one calling thread; it opens up to ``connections`` connections (with
    ``connect``) to run the reads of an answer side by side.
    """

    def __init__(self, connect: Callable[[], Client], database: str, *, connections: int = 4) -> None:
        self._connect = connect
        self._db = database
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(connections, thread_name_prefix="scope-read")

    def close(self) -> None:
        self._pool.shutdown()

    @collector_paused
    def trace(self, batch_id: str, as_of: datetime | None = None) -> Trace:
        """Status, upstream and downstream batches, the links and reports upstream, shipments.

        Raises:
            UnknownBatch: nothing about the batch is known (as of ``as_of``).
        """
        q = _Scopes(self._db, batch_id, as_of)
        read = self._read({
            "upstream": q.depths("closure", "descendant", "ancestor"),
            "downstream": q.depths("closure_by_ancestor", "ancestor", "descendant"),
            "statuses": q.statuses(f"{q.upstream} UNION ALL {q.downstream} UNION ALL {q.itself}"),
            "links": q.links(f"{q.upstream} UNION ALL {q.itself}"),
            "products": q.products(q.downstream),
            "reports": q.reports(f"batch_id IN ({q.upstream} UNION ALL {q.itself})"),
            "judgements": q.judgements(f"batch_id IN ({q.upstream} UNION ALL {q.itself})"),
            "shipments": q.shipments(q.itself),
            "made": q.productions(q.itself),
        })
        upstream, downstream, statuses = _depths(read["upstream"]), _depths(read["downstream"]), _statuses(read)
        links = [e for e in decode(Link, converted(read["links"], occurred_at=utc_moment)) if e.parent in upstream]
        products = {e.child: e.product_id for e in links} | dict(zip(*pick(read["products"], "batch_id", "product_id"),
                                                                     strict=True))
        reports, shipments, made = _reports(read), _shipments(read["shipments"]), _productions(read["made"])
        if not (upstream or downstream or batch_id in statuses or made or reports or shipments):
            raise unknown_batch(batch_id, as_of)
        status, sources = statuses.get(batch_id, ("untested", ()))
        names = _names(statuses)
        return Trace(
            batch_id=batch_id, as_of=as_of, status=status, risk_sources=sources,
            production=made[0] if made else None,
            upstream=related(upstream, names, products),
            downstream=related(downstream, names, products),
            links=tuple(links),  # ordered by child, parent, event (the query)
            reports=reports, shipments=shipments,
            completeness=completeness({batch_id, *upstream}, {e.child for e in links} | {p.batch_id for p in made},
                                      [s.batch_id for s in shipments], reports),
        )

    @collector_paused
    def recall(self, batch_id: str, as_of: datetime | None = None) -> Recall:
        """The batch and every descendant, how each was made, and every shipment of any of them.

        Raises:
            UnknownBatch: nothing about the batch is known (as of ``as_of``).
        """
        q = _Scopes(self._db, batch_id, as_of)
        affected_batches = f"{q.downstream} UNION ALL {q.itself}"
        read = self._read({
            "downstream": q.depths("closure_by_ancestor", "ancestor", "descendant"),
            "statuses": q.statuses(affected_batches),
            "productions": q.productions(affected_batches),
            "shipments": q.shipments(affected_batches),
            "reports": q.reports(f"batch_id IN ({q.itself})"),
            "judgements": q.judgements(f"batch_id IN ({q.itself})"),
        })
        depths = {batch_id: 0, **_depths(read["downstream"])}
        statuses, productions = _statuses(read), _productions(read["productions"])
        shipments, reports = _shipments(read["shipments"]), _reports(read)
        if len(depths) == 1 and not (statuses or productions or shipments or reports):
            raise unknown_batch(batch_id, as_of)
        made: dict[str, Production] = {}
        for p in productions:
            made.setdefault(p.batch_id, p)
        untested = ("untested", ())
        affected = tuple(
            _affected(b, d, statuses.get(b, untested)[0], made.get(b))
            for b, d in sorted(depths.items(), key=lambda item: (item[1], item[0]))
        )
        by_country, by_recipient = totals(shipments)
        status, sources = statuses.get(batch_id, untested)
        return Recall(
            batch_id=batch_id, as_of=as_of, status=status, risk_sources=sources, affected=affected,
            productions=productions, shipments=shipments, by_country=by_country, by_recipient=by_recipient,
            reports=reports,
            completeness=completeness(depths, made, [s.batch_id for s in shipments], reports),
        )

    def report(self, report_id: str, as_of: datetime | None = None, lab_id: str | None = None) -> Report:
        """One report at the version that counts, with the versions it supersedes.

        Report ids are unique only within a lab: without ``lab_id``, an id that two labs (or one
        lab, for two batches) used is a bad parameter naming them.

        Raises:
            UnknownReport: no version of the report is known (as of ``as_of``).
            BadParameter: ``lab_id`` is needed to tell the reports apart.
        """
        return the_report(self.reports(report_id, as_of, lab_id), report_id, lab_id, as_of)

    def reports(self, report_id: str, as_of: datetime | None = None, lab_id: str | None = None
                ) -> tuple[Report, ...]:
        """Every report of that id (of ``lab_id`` only, if given): one per lab and batch."""
        q = _Scopes(self._db, report_id, as_of)
        which = "report_id = %(batch)s" + (" AND lab_id = %(lab)s" if lab_id else "")
        q.params["lab"] = lab_id
        return _reports(self._read({"reports": q.reports(which), "judgements": q.judgements(which)}))

    def _read(self, queries: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, Columns]:
        """Run the queries side by side; each result is its columns by name (empty for no rows)."""
        futures = {name: self._pool.submit(self._columns, sql, params) for name, (sql, params) in queries.items()}
        return {name: future.result() for name, future in futures.items()}

    def _columns(self, sql: str, params: dict[str, Any]) -> Columns:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._connect()
        data, types = client.execute(sql, params, columnar=True, with_column_types=True)
        return named(data, types)


class _Scopes:
    """The SQL of the reads about one batch, its scopes written as subqueries on the closure."""

    def __init__(self, database: str, batch_id: str, as_of: datetime | None) -> None:
        self.db = database
        self.params: dict[str, Any] = {"batch": batch_id}
        if as_of is not None:
            self.params["as_of"] = as_of
        self.known = "AND known_at <= %(as_of)s" if as_of else ""
        self.ingested = "AND ingested_at <= %(as_of)s" if as_of else ""
        self.upstream = f"SELECT ancestor FROM {database}.closure WHERE descendant = %(batch)s {self.known}"
        self.downstream = (f"SELECT descendant FROM {database}.closure_by_ancestor "
                           f"WHERE ancestor = %(batch)s {self.known}")
        self.itself = "SELECT %(batch)s"

    def depths(self, table: str, key: str, other: str) -> tuple[str, dict[str, Any]]:
        return (f"SELECT {other} AS batch_id, min(depth) AS depth FROM {self.db}.{table} "
                f"WHERE {key} = %(batch)s {self.known} GROUP BY {other}", self.params)

    def statuses(self, scope: str) -> tuple[str, dict[str, Any]]:
        return ("SELECT batch_id, argMax(status, seq) AS status, argMax(risk_sources, seq) AS risk_sources "
                f"FROM {self.db}.batch_status WHERE batch_id IN ({scope}) {self.known} GROUP BY batch_id", self.params)

    def links(self, children: str) -> tuple[str, dict[str, Any]]:
        """Accepted lineage edges into ``children`` (edges refused as cycles left out)."""
        return ("SELECT event_id, parent_batch AS parent, child_batch AS child, "
                "any(parent_quantity) AS input_quantity, any(parent_unit) AS input_unit, "
                "any(child_product) AS product_id, any(child_quantity) AS output_quantity, "
                "any(child_unit) AS output_unit, any(org_id) AS org_id, any(site) AS site, "
                "toUInt32(any(occurred_at)) AS occurred_at "
                f"FROM {self.db}.lineage_edges WHERE child_batch IN ({children}) {self.ingested} "
                f"AND {self._accepted} GROUP BY event_id, parent_batch, child_batch "
                "ORDER BY child_batch, parent_batch, event_id", self.params)

    #: The elements of the tuples in a production's ``inputs``: field filled -> column. The first
    #: (the input batch, unique in a group) orders them. One array of tuples costs 18.16 2 ms less
    #: on a 10k-production read than an array per field, each sorted by the batch (measured).
    INPUT_LOT = {"batch_id": "parent_batch", "quantity": "parent_quantity", "unit": "parent_unit"}

    def productions(self, children: str) -> tuple[str, dict[str, Any]]:
        """The accepted links into ``children`` grouped by (event, output lot), inputs sorted."""
        lot = ", ".join(self.INPUT_LOT.values())
        return ("SELECT event_id, child_batch AS batch_id, any(child_product) AS product_id, "
                "any(child_quantity) AS quantity, any(child_unit) AS unit, any(org_id) AS org_id, any(site) AS site, "
                f"toUInt32(any(occurred_at)) AS occurred_at, arraySort(groupArray(({lot}))) AS inputs FROM ("
                f"SELECT event_id, parent_batch, child_batch, any(parent_quantity) AS parent_quantity, "
                "any(parent_unit) AS parent_unit, any(child_product) AS child_product, "
                "any(child_quantity) AS child_quantity, any(child_unit) AS child_unit, any(org_id) AS org_id, "
                f"any(site) AS site, any(occurred_at) AS occurred_at FROM {self.db}.lineage_edges "
                f"WHERE child_batch IN ({children}) {self.ingested} AND {self._accepted} "
                "GROUP BY event_id, parent_batch, child_batch) GROUP BY event_id, child_batch "
                "ORDER BY occurred_at, child_batch, event_id", self.params)

    def products(self, batches: str) -> tuple[str, dict[str, Any]]:
        return (f"SELECT child_batch AS batch_id, any(child_product) AS product_id FROM {self.db}.lineage_edges "
                f"WHERE child_batch IN ({batches}) {self.ingested} GROUP BY child_batch", self.params)

    #: `reports` aliases -> the fields they fill: ``which`` filters on batch or report id, and
    #: the lab id is looked up in the registry (aliased alike, each would be the aggregate there).
    REPORT_ALIASES = {"report": "report_id", "lab": "lab_id", "tested_batch": "batch_id"}

    def reports(self, which: str) -> tuple[str, dict[str, Any]]:
        """Every version of the reports ``which`` picks, and whether the lab is registered."""
        return ("SELECT event_id, any(report_id) AS report, any(report_version) AS report_version, "
                "any(lab_id) AS lab, any(batch_id) AS tested_batch, any(sample_id) AS sample_id, "
                "any(method) AS method, any(verdict) AS verdict, toUInt32(any(tested_at)) AS tested_at, "
                "toUInt32(any(issued_at)) AS issued_at, any(measurements.analyte) AS `measurements.analyte`, "
                "any(measurements.value) AS `measurements.value`, any(measurements.unit) AS `measurements.unit`, "
                "any(measurements.limit_value) AS `measurements.limit`, "
                "any(measurements.verdict) AS `measurements.verdict`, "
                f"any(lab_id) IN (SELECT lab_id FROM {self.db}.labs WHERE 1 {self.ingested}) AS lab_registered "
                f"FROM {self.db}.lab_results WHERE {which} {self.ingested} GROUP BY event_id", self.params)

    def judgements(self, which: str) -> tuple[str, dict[str, Any]]:
        """The current judgement of every version of the reports ``which`` picks (highest seq)."""
        return ("SELECT event_id, argMax(outcome, seq) AS judged_outcome, "
                "argMax(acceptance, seq) AS judged_acceptance, argMax(counts_as, seq) AS judged_counts_as "
                f"FROM {self.db}.report_judgements WHERE event_id IN "
                f"(SELECT event_id FROM {self.db}.lab_results WHERE {which} {self.ingested}) {self.known} "
                "GROUP BY event_id", self.params)

    #: `shipments` aliases -> the fields they fill (the WHERE filters on the batch id).
    SHIPMENT_ALIASES = {"shipped_batch": "batch_id"}

    def shipments(self, batches: str) -> tuple[str, dict[str, Any]]:
        """The shipments of ``batches``, oldest first."""
        return ("SELECT event_id, any(shipment_id) AS shipment_id, any(batch_id) AS shipped_batch, "
                "any(quantity) AS quantity, any(unit) AS unit, any(from_org) AS from_org, any(to_org) AS to_org, "
                "any(to_location) AS to_location, any(to_country) AS to_country, "
                f"toUInt32(any(occurred_at)) AS occurred_at FROM {self.db}.shipments "
                f"WHERE batch_id IN ({batches}) {self.ingested} GROUP BY event_id "
                "ORDER BY occurred_at, shipment_id, event_id", self.params)

    @property
    def _accepted(self) -> str:
        return (f"(event_id, parent_batch, child_batch) NOT IN "
                f"(SELECT event_id, parent_batch, child_batch FROM {self.db}.refused_edges)")


def utc_moment(seconds: int) -> datetime:
    """A ``DateTime`` read as seconds (no time zone to guess), as an aware UTC moment."""
    return datetime.fromtimestamp(seconds, UTC)


def _depths(columns: Columns) -> dict[str, int]:
    return dict(zip(*pick(columns, "batch_id", "depth"), strict=True))


def _statuses(read: dict[str, Columns]) -> dict[str, tuple[str, tuple[str, ...]]]:
    batches, names, sources = pick(read["statuses"], "batch_id", "status", "risk_sources")
    return {b: (status, tuple(s)) for b, status, s in zip(batches, names, sources, strict=True)}


def _reports(read: dict[str, Columns]) -> tuple[Report, ...]:
    columns = renamed(converted(read["reports"], tested_at=utc_moment, issued_at=utc_moment), _Scopes.REPORT_ALIASES)
    measured, fields = nested(columns, "measurements.")
    registered = fields.pop("lab_registered")
    versions = list(decode(LabResult, fields, measurements=decode_nested(Measurement, measured)))
    judged = pick(read["judgements"], "event_id", "judged_outcome", "judged_acceptance", "judged_counts_as")
    standings = {event: Standing(outcome, accepted, counts_as)
                 for event, outcome, accepted, counts_as in zip(*judged, strict=True)}
    return current_reports(versions, {v.lab_id for v, known in zip(versions, registered, strict=True) if known},
                           standings)


def _shipments(columns: Columns) -> tuple[Shipment, ...]:
    """Shipments, oldest first (ordered by the query)."""
    columns = renamed(converted(columns, to_country=unpadded, occurred_at=utc_moment), _Scopes.SHIPMENT_ALIASES)
    return tuple(decode(Shipment, columns))


def _productions(columns: Columns) -> tuple[Production, ...]:
    """Production events, one per (event, output lot), oldest first (ordered by the query)."""
    fields = converted(columns, occurred_at=utc_moment)
    inputs = decode_tuples(InputLot, tuple(_Scopes.INPUT_LOT), fields.pop("inputs"))
    return tuple(decode(Production, fields, inputs=inputs))


def unpadded(country: str) -> str:
    """A ``FixedString(2)`` value without its padding."""
    return country.rstrip("\0")


def _affected(batch: str, depth: int, status: str, made: Production | None) -> Affected:
    if made is None:
        return Affected(batch, depth, status, "", None, "")
    return Affected(batch, depth, status, made.product_id, made.quantity, made.unit)


def _names(statuses: dict[str, tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    return {batch: status for batch, (status, _sources) in statuses.items()}


def the_report(found: Sequence[Report], report_id: str, lab_id: str | None, as_of: datetime | None) -> Report:
    """The one report of ``found`` (every report of that id one may see).

    Raises:
        UnknownReport: none.
        BadParameter: more than one (two labs, or one lab for two batches): ``lab`` must tell them apart.
    """
    if not found:
        raise unknown_report(report_id, lab_id, as_of)
    if len(found) > 1:
        issued = ", ".join(sorted({f"{r.current.lab_id} (batch {r.current.batch_id})" for r in found}))
        raise BadParameter("lab", f"report {report_id} was issued by more than one lab or for more than one "
                                  f"batch: {issued}; name the lab")
    return found[0]


def unknown_batch(batch_id: str, as_of: datetime | None) -> UnknownBatch:
    """The one error for a batch nobody knows, or one the caller may not see (``query.gate``)."""
    return UnknownBatch(_unknown("batch", batch_id, as_of))


def unknown_report(report_id: str, lab_id: str | None, as_of: datetime | None) -> UnknownReport:
    """The one error for a report nobody knows, or one the caller may not see (``query.gate``)."""
    return UnknownReport(_unknown("report", f"{lab_id}/{report_id}" if lab_id else report_id, as_of))


def _unknown(what: str, name: str, as_of: datetime | None) -> str:
    when = f" as of {as_of.isoformat()}" if as_of else ""
    return f"no {what} {name!r} is known{when}"
