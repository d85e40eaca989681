"""Trace and recall scope read from ClickHouse, optionally as known at a moment.

This is the path of ``as_of`` answers and exports; current traces and recalls come from the
serving store (``query.serving``) once the workers have built it. Every read is an indexed range
read: the closure by descendant (upstream) or by ancestor (downstream), and the history tables by
batch id for exactly the batches in scope. An answer is two queries, one round trip each (18.16
costs 1.3–5 ms per query from Python): the first reads the scope itself (the closure both ways, the
batch's own shipments and production); the second sends the scope's batches with it as external
tables and reads every other part, each part's rows aggregated into arrays in one row of a
``UNION ALL`` (``_one_query``), named ``part__column`` so that no alias repeats in the query.

Why two queries so (bench/queries.py at 100k batches on 2 busy cores, p50, each arrangement against
the others in back-to-back runs): 18.16 joins two tables per SELECT, so one query of parts joined
by ``CROSS JOIN`` nests them, and 18.16 analyses a subquery again at every level, building the sets
of its ``IN (subquery)`` at each analysis: the closure was read once per level, and that one query
cost 2–3 times the nine reads it replaced. The scope as external tables makes those sets cheap, and
``UNION ALL`` keeps each part one level deep and runs large parts side by side. Two queries side by
side instead (one per group of parts, each with its closure subqueries, on two connections)
answered about as fast (deep trace 72–74 ms against 67–80, hub recall 294–301 against 231–291,
small trace 67–73 against 61–62, small recall 37–39 against 41) for a quarter more ClickHouse CPU
per answer; this arrangement takes the least CPU of all (a small trace 58–62 ms of server CPU,
69–72 for the nine reads, 74–79 side by side). One answer still waits longer than with the nine
concurrent reads it replaced (small trace 61 against 26–34 ms, deep trace 67–80 against 40–47,
small recall 41 against 20–28; hub recall 231–291 against 268–270): 18.16 analyses the parts of one
query one after another, nine queries on both cores at once.

Results come back by column and become answer values without intermediate rows, each value built
from the columns named after its fields (`query.columns`): every column of a read has an alias
equal to the field it fills, so reordering a SELECT or a dataclass cannot mis-map a value.
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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from clickhouse_driver import Client

from query.columns import Columns, converted, decode, decode_nested, decode_tuples, named, nested, pick, renamed
from traceability.errors import BadParameter, UnknownBatch, UnknownReport
from traceability.events import InputLot, LabResult, Measurement
from traceability.json_form import utc_moment
from traceability.scope import (
    Link,
    Production,
    Recall,
    Report,
    Shipped,
    Standing,
    Trace,
    affected_batch,
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

    One reader serves one calling thread, on one connection (opened with ``connect``).
    """

    def __init__(self, connect: Callable[[], Client], database: str) -> None:
        self._connect = connect
        self._db = database
        self._local = threading.local()

    def close(self) -> None:
        client = getattr(self._local, "client", None)
        if client is not None:
            client.disconnect()
            self._local.client = None

    @collector_paused
    def trace(self, batch_id: str, as_of: datetime | None = None) -> Trace:
        """Status, upstream and downstream batches, the links and reports upstream, shipments.

        Raises:
            UnknownBatch: nothing about the batch is known (as of ``as_of``).
        """
        q = _Scopes(self._db, batch_id, as_of)
        read = self._read(q, {
            "upstream": q.depths("closure", "descendant", "ancestor"),
            "downstream": q.depths("closure_by_ancestor", "ancestor", "descendant"),
            "shipments": q.shipments(q.itself),
            "made": q.productions(q.itself),
        })
        lineage, below = [batch_id, *read["upstream"]["batch_id"]], list(read["downstream"]["batch_id"])
        read |= self._read(q, {
            "statuses": q.statuses(q.among("known")),
            "links": q.links(q.among("lineage")),
            "products": q.products(q.among("downstream")),
            "reports": q.reports(f"batch_id IN ({q.among('lineage')})"),
            "judgements": q.judgements(f"batch_id IN ({q.among('lineage')})"),
        }, known=[*lineage, *below], lineage=lineage, downstream=below)
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
        read = self._read(q, {
            "downstream": q.depths("closure_by_ancestor", "ancestor", "descendant"),
            "reports": q.reports(f"batch_id IN ({q.itself})"),
            "judgements": q.judgements(f"batch_id IN ({q.itself})"),
        })
        read |= self._read(q, {
            "statuses": q.statuses(q.among("affected")),
            "productions": q.productions(q.among("affected")),
            "shipments": q.shipments(q.among("affected")),
        }, affected=[batch_id, *read["downstream"]["batch_id"]])
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
            affected_batch(b, d, statuses.get(b, untested)[0], made.get(b))
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
        return _reports(self._read(q, {"reports": q.reports(which), "judgements": q.judgements(which)}))

    def _read(self, q: _Scopes, parts: dict[str, _Part], **scopes: list[str]) -> dict[str, Columns]:
        """The parts' rows in one query, each part's columns by name; ``scopes`` go with it as tables."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._connect()
        tables = [{"name": _SCOPE + name, "structure": [("batch_id", "String")], "data": [(b,) for b in batches]}
                  for name, batches in scopes.items()]
        data, types = client.execute(_one_query(parts), q.params, columnar=True, with_column_types=True,
                                     external_tables=tables)
        return _by_part(named(data, types))


@dataclass(frozen=True)
class _Part:
    """One part of an answer: a SELECT, the names of its columns, and those holding an array per row."""

    columns: tuple[str, ...]
    sql: str
    arrays: frozenset[str] = frozenset()


def _part(columns: dict[str, str], rest: str, arrays: Iterable[str] = ()) -> _Part:
    """``SELECT`` each column (alias -> expression) ``rest`` (FROM … onwards)."""
    select = ", ".join(expr if expr == alias else f"{expr} AS `{alias}`" for alias, expr in columns.items())
    return _Part(tuple(columns), f"SELECT {select} {rest}", frozenset(arrays))


#: Names the tables of batches sent with a query (temporary, so unqualified; stored tables are qualified).
_SCOPE = "scope_"
#: The column of `_one_query` that names the part of a row, and what joins a part's name to a column's.
_TAG, _JOIN = "part", "__"


def _one_query(parts: dict[str, _Part]) -> str:
    """One row per part, UNION ALL: the part's name, its columns as arrays, the others' left empty.

    An aggregate without GROUP BY gives one row even for no rows, and ``groupArray`` keeps the
    order of a sorted subquery. 18.16 casts each branch to the types common to all, but only
    between arrays of as many dimensions: an empty stands for an array of arrays as one.
    """
    every = [(name, column) for name, part in parts.items() for column in part.columns]
    branches = []
    for name, part in parts.items():
        columns = ", ".join(f"{f'groupArray(`{c}`)' if n == name else _empty(parts[n], c)} AS `{n}{_JOIN}{c}`"
                            for n, c in every)
        branches.append(f"SELECT '{name}' AS {_TAG}, {columns} FROM ({part.sql})")
    return " UNION ALL ".join(branches)


def _empty(part: _Part, column: str) -> str:
    return "arrayFilter(x -> 0, [[]])" if column in part.arrays else "[]"


def _by_part(rows: Columns) -> dict[str, Columns]:
    """The rows of `_one_query` split back into each part's columns (a part's arrays are in its row)."""
    row = {name: i for i, name in enumerate(rows[_TAG])}
    parts: dict[str, Columns] = {}
    for column, values in rows.items():
        if column != _TAG:
            part, _, name = column.partition(_JOIN)
            parts.setdefault(part, {})[name] = values[row[part]]
    return parts


class _Scopes:
    """The SQL of the parts of an answer about one batch; its scopes are the tables `among` reads."""

    def __init__(self, database: str, batch_id: str, as_of: datetime | None) -> None:
        self.db = database
        self.params: dict[str, Any] = {"batch": batch_id}
        if as_of is not None:
            self.params["as_of"] = as_of
        self.known = "AND known_at <= %(as_of)s" if as_of else ""
        self.ingested = "AND ingested_at <= %(as_of)s" if as_of else ""
        self.itself = "%(batch)s"

    def among(self, scope: str) -> str:
        """The batches of a scope, sent with the query (`ScopeReader._read`)."""
        return f"SELECT batch_id FROM {_SCOPE}{scope}"

    def depths(self, table: str, key: str, other: str) -> _Part:
        return _part({"batch_id": other, "depth": "min(depth)"},
                     f"FROM {self.db}.{table} WHERE {key} = %(batch)s {self.known} GROUP BY {other}")

    def statuses(self, scope: str) -> _Part:
        return _part({"batch_id": "batch_id", "status": "argMax(status, seq)",
                      "risk_sources": "argMax(risk_sources, seq)"},
                     f"FROM {self.db}.batch_status WHERE batch_id IN ({scope}) {self.known} GROUP BY batch_id",
                     arrays=("risk_sources",))

    def links(self, children: str) -> _Part:
        """Accepted lineage edges into ``children`` (edges refused as cycles left out)."""
        return _part({"event_id": "event_id", "parent": "parent_batch", "child": "child_batch",
                      "input_quantity": "any(parent_quantity)", "input_unit": "any(parent_unit)",
                      "product_id": "any(child_product)", "output_quantity": "any(child_quantity)",
                      "output_unit": "any(child_unit)", "org_id": "any(org_id)", "site": "any(site)",
                      "occurred_at": "toUInt32(any(occurred_at))"},
                     f"FROM {self.db}.lineage_edges WHERE child_batch IN ({children}) {self.ingested} "
                     f"AND {self._accepted} GROUP BY event_id, parent_batch, child_batch "
                     "ORDER BY child_batch, parent_batch, event_id")

    #: The elements of the tuples in a production's ``inputs``: field filled -> column. The first
    #: (the input batch, unique in a group) orders them. One array of tuples costs 18.16 2 ms less
    #: on a 10k-production read than an array per field, each sorted by the batch (measured).
    INPUT_LOT = {"batch_id": "parent_batch", "quantity": "parent_quantity", "unit": "parent_unit"}

    def productions(self, children: str) -> _Part:
        """The accepted links into ``children`` grouped by (event, output lot), inputs sorted."""
        lot = ", ".join(self.INPUT_LOT.values())
        return _part({"event_id": "event_id", "batch_id": "child_batch", "product_id": "any(child_product)",
                      "quantity": "any(child_quantity)", "unit": "any(child_unit)", "org_id": "any(org_id)",
                      "site": "any(site)", "occurred_at": "toUInt32(any(occurred_at))",
                      "inputs": f"arraySort(groupArray(({lot})))"},
                     "FROM (SELECT event_id, parent_batch, child_batch, any(parent_quantity) AS parent_quantity, "
                     "any(parent_unit) AS parent_unit, any(child_product) AS child_product, "
                     "any(child_quantity) AS child_quantity, any(child_unit) AS child_unit, any(org_id) AS org_id, "
                     f"any(site) AS site, any(occurred_at) AS occurred_at FROM {self.db}.lineage_edges "
                     f"WHERE child_batch IN ({children}) {self.ingested} AND {self._accepted} "
                     "GROUP BY event_id, parent_batch, child_batch) GROUP BY event_id, child_batch "
                     "ORDER BY occurred_at, child_batch, event_id", arrays=("inputs",))

    def products(self, batches: str) -> _Part:
        return _part({"batch_id": "child_batch", "product_id": "any(child_product)"},
                     f"FROM {self.db}.lineage_edges WHERE child_batch IN ({batches}) {self.ingested} "
                     "GROUP BY child_batch")

    #: `reports` aliases -> the fields they fill: ``which`` filters on batch or report id, and
    #: the lab id is looked up in the registry (aliased alike, each would be the aggregate there).
    REPORT_ALIASES = {"report": "report_id", "lab": "lab_id", "tested_batch": "batch_id"}
    #: A report's measurements (a Nested column): field of `Measurement` -> column.
    MEASURED = {"analyte": "analyte", "value": "value", "unit": "unit", "limit": "limit_value", "verdict": "verdict"}

    def reports(self, which: str) -> _Part:
        """Every version of the reports ``which`` picks, and whether the lab is registered."""
        measured = {f"measurements.{field}": f"any(measurements.{column})" for field, column in self.MEASURED.items()}
        return _part({"event_id": "event_id", "report": "any(report_id)", "report_version": "any(report_version)",
                      "lab": "any(lab_id)", "tested_batch": "any(batch_id)", "sample_id": "any(sample_id)",
                      "method": "any(method)", "verdict": "any(verdict)", "tested_at": "toUInt32(any(tested_at))",
                      "issued_at": "toUInt32(any(issued_at))", **measured,
                      "lab_registered": f"any(lab_id) IN (SELECT lab_id FROM {self.db}.labs WHERE 1 {self.ingested})"},
                     f"FROM {self.db}.lab_results WHERE {which} {self.ingested} GROUP BY event_id", arrays=measured)

    def judgements(self, which: str) -> _Part:
        """The current judgement of every version of the reports ``which`` picks (highest seq)."""
        return _part({"event_id": "event_id", "judged_outcome": "argMax(outcome, seq)",
                      "judged_acceptance": "argMax(acceptance, seq)", "judged_counts_as": "argMax(counts_as, seq)"},
                     f"FROM {self.db}.report_judgements WHERE event_id IN "
                     f"(SELECT event_id FROM {self.db}.lab_results WHERE {which} {self.ingested}) {self.known} "
                     "GROUP BY event_id")

    #: `shipments` aliases -> the fields they fill (the WHERE filters on the batch id).
    SHIPMENT_ALIASES = {"shipped_batch": "batch_id"}

    def shipments(self, batches: str) -> _Part:
        """The shipments of ``batches``, oldest first."""
        return _part({"event_id": "event_id", "shipment_id": "any(shipment_id)", "shipped_batch": "any(batch_id)",
                      "quantity": "any(quantity)", "unit": "any(unit)", "from_org": "any(from_org)",
                      "to_org": "any(to_org)", "to_location": "any(to_location)", "to_country": "any(to_country)",
                      "occurred_at": "toUInt32(any(occurred_at))"},
                     f"FROM {self.db}.shipments WHERE batch_id IN ({batches}) {self.ingested} GROUP BY event_id "
                     "ORDER BY occurred_at, shipment_id, event_id")

    @property
    def _accepted(self) -> str:
        return (f"(event_id, parent_batch, child_batch) NOT IN "
                f"(SELECT event_id, parent_batch, child_batch FROM {self.db}.refused_edges)")


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


def _shipments(columns: Columns) -> tuple[Shipped, ...]:
    """Shipments, oldest first (ordered by the query)."""
    columns = renamed(converted(columns, to_country=unpadded, occurred_at=utc_moment), _Scopes.SHIPMENT_ALIASES)
    return tuple(decode(Shipped, columns))


def _productions(columns: Columns) -> tuple[Production, ...]:
    """Production events, one per (event, output lot), oldest first (ordered by the query)."""
    fields = converted(columns, occurred_at=utc_moment)
    inputs = decode_tuples(InputLot, tuple(_Scopes.INPUT_LOT), fields.pop("inputs"))
    return tuple(decode(Production, fields, inputs=inputs))


def unpadded(country: str) -> str:
    """A ``FixedString(2)`` value without its padding."""
    return country.rstrip("\0")


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
