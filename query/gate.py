"""Answers cut to their caller: the facts access decisions need, read from ClickHouse, and the
rules of ``traceability.access`` applied to trace, recall and report answers.

The gate decides before it reads an answer, from who had a hand in the batch (its makers, senders
and recipients, and for a regulator the places its goods reached), read as known now: access is
about who the caller is today, whatever moment it asks about. What the caller may not read raises
exactly the ``NotFound`` an unknown id raises (same class, same message), so the HTTP answers are
the same byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from clickhouse_driver import Client

from query import registry
from query.answers import answer_bytes, recall_json, trace_json
from query.forms import FormReader
from query.scope import ScopeReader, the_report, unknown_batch
from query.serving import ServingReader, ServingSource, parties
from traceability.access import (
    Parties,
    Principal,
    Withheld,
    may_read_batch,
    may_read_report,
    org_recall,
    org_trace,
)
from traceability.errors import Unauthenticated
from traceability.events import LabResult
from traceability.notification import Notification
from traceability.scope import Recall, Report, Trace
from traceability.tracking import Request, TrackingRecords


def signed_in(principal: Principal) -> None:
    """Refuse the public where an answer needs a caller (the same answer for every object asked about).

    Raises:
        Unauthenticated: ``principal`` is the public.
    """
    if principal.role == "public":
        raise Unauthenticated("this needs a credential: Authorization: Bearer <API key or token>")


class Gate:
    """One per calling thread, like the reader it wraps.

    With a complete serving store (``serving``), current answers and the access facts come from it
    (facts are read as known now whatever moment is asked about); ``as_of`` answers from ClickHouse.
    """

    def __init__(self, reader: ScopeReader, connect: Callable[[], Client], database: str,
                 serving: ServingSource | None = None) -> None:
        self._reader = reader
        self._connect = connect
        self._db = database
        self._serving = serving
        self._client: Client | None = None
        self._form_reader: FormReader | None = None

    def _store(self) -> ServingReader | None:
        return self._serving.reader() if self._serving is not None else None

    def _trace(self, batch_id: str, as_of: datetime | None) -> Trace:
        store = self._store() if as_of is None else None
        return store.trace(batch_id) if store is not None else self._reader.trace(batch_id, as_of)

    def _recall(self, batch_id: str, as_of: datetime | None) -> Recall:
        store = self._store() if as_of is None else None
        return store.recall(batch_id) if store is not None else self._reader.recall(batch_id, as_of)

    def trace(self, principal: Principal, batch_id: str, as_of: datetime | None) -> tuple[Trace, Withheld]:
        """The trace as ``principal`` may read it, and what was withheld from it.

        Raises:
            UnknownBatch: the batch is unknown, or ``principal`` may not read it.
        """
        if principal.role == "org":  # one read admits it and says which batches of the answer are its own
            own = self._admitted_org(principal, batch_id, as_of, "lineage")
            return org_trace(self._trace(batch_id, as_of), principal.org_id, own.__contains__)
        self._admit(principal, batch_id, as_of)
        return self._trace(batch_id, as_of), Withheld()

    def recall(self, principal: Principal, batch_id: str, as_of: datetime | None) -> tuple[Recall, Withheld]:
        """The recall as ``principal`` may read it (see ``trace``)."""
        if principal.role == "org":
            own = self._admitted_org(principal, batch_id, as_of, "downstream")
            return org_recall(self._recall(batch_id, as_of), principal.org_id, own.__contains__)
        self._admit(principal, batch_id, as_of)
        return self._recall(batch_id, as_of), Withheld()

    def trace_json(self, principal: Principal, batch_id: str, as_of: datetime | None) -> bytes:
        """The trace's JSON as ``principal`` may read it (see ``trace``): a full view of a current
        trace from the serving store (``ServingReader.trace_json``, kept between asks when large)."""
        store = self._full_view(principal, batch_id, as_of)
        if store is None:
            return answer_bytes(trace_json(*self.trace(principal, batch_id, as_of)))
        return store.trace_json(batch_id)

    def recall_json(self, principal: Principal, batch_id: str, as_of: datetime | None) -> bytes:
        """The recall's JSON as ``principal`` may read it (see ``trace``).

        A full view of a current recall (every role but an org, which sees its share) is joined
        from the rows the serving store rendered (``ServingReader.recall_json``); any other is
        written from the answer (``query.answers.recall_json``).
        """
        store = self._full_view(principal, batch_id, as_of)
        if store is None:
            return answer_bytes(recall_json(*self.recall(principal, batch_id, as_of)))
        return store.recall_json(batch_id)

    def _full_view(self, principal: Principal, batch_id: str, as_of: datetime | None) -> ServingReader | None:
        """The serving store, once ``principal`` is admitted, when it reads a full view of a current
        answer (every role but an org); ``None`` when the answer must be read and written instead."""
        store = self._store() if as_of is None and principal.role != "org" else None
        if store is not None:
            self._admit(principal, batch_id, as_of)
        return store

    def tracking(self, principal: Principal, request: Request, as_of: datetime | None) -> TrackingRecords:
        """The tracking records of a regulator's request, cut to the lots ``principal`` may read.

        The forms are the regulators' (and the operator's): an admin reads every lot; a regulator the
        recall scope of a batch it may read (in full, as its recall), and of a list of lots or a product
        the lots it may read (the others are left out, as if unknown). Anybody else reads nothing:
        a recall is the same ``UnknownBatch`` as for an unknown batch, a list or a product is empty.

        Raises:
            UnknownBatch: the recalled batch is unknown, or ``principal`` may not read it.
        """
        if principal.role == "admin":
            return self._forms().tracking(request, as_of)
        if request.kind == "recall":
            self._admit_regulator(principal, request.batch_id, as_of)
            return self._forms().tracking(request, as_of)
        def readable(lot: str) -> bool:
            return principal.role == "regulator" and self.may_read_batch(principal, lot)
        return self._forms().tracking(request, as_of, keep=readable)

    def safety_gate(self, principal: Principal, batch_id: str, as_of: datetime | None, now: datetime
                    ) -> Notification:
        """The Safety Gate notification draft of a batch, for an admin or a regulator that may read it.

        Raises:
            UnknownBatch: the batch is unknown, or ``principal`` may not read it (or is no regulator).
        """
        if principal.role != "admin":
            self._admit_regulator(principal, batch_id, as_of)
        return self._forms().safety_gate(batch_id, as_of, now)

    def _admit_regulator(self, principal: Principal, batch_id: str, as_of: datetime | None) -> None:
        if principal.role != "regulator" or not self.may_read_batch(principal, batch_id):
            raise unknown_batch(batch_id, as_of)

    def _forms(self) -> FormReader:
        if self._form_reader is None:
            self._form_reader = FormReader(self._reader, self._clickhouse(), self._db)
        return self._form_reader

    def report(self, principal: Principal, report_id: str, as_of: datetime | None, lab_id: str | None = None
               ) -> Report:
        """A report ``principal`` may read in full.

        Raises:
            UnknownReport: no such report is known, or none of that id may be read by ``principal``.
            BadParameter: without ``lab_id``, readable reports of two labs (or batches) share the id.
        """
        readable = [r for r in self._reader.reports(report_id, as_of, lab_id=lab_id) if self.may_read(principal, r)]
        return the_report(readable, report_id, lab_id, as_of)

    def may_read(self, principal: Principal, report: Report) -> bool:
        """Whether ``principal`` may read ``report`` in full (measurements and all)."""
        return self.may_read_result(principal, report.current)

    def may_read_result(self, principal: Principal, result: LabResult) -> bool:
        """Whether ``principal`` may read the report ``result`` is a version of, in full."""
        if principal.role in ("admin", "lab", "public"):
            return may_read_report(principal, result.lab_id, principal.role == "admin")
        return may_read_report(principal, result.lab_id, self.may_read_batch(principal, result.batch_id))

    def may_read_batch(self, principal: Principal, batch_id: str) -> bool:
        if principal.role == "org":
            return may_read_batch(principal, self._shares(principal.org_id, batch_id).get(batch_id, Parties()))
        if principal.role == "regulator":
            return may_read_batch(principal, self._reach(batch_id), self._jurisdiction(principal.regulator_id))
        return may_read_batch(principal, Parties())

    # -- facts (each read is indexed by batch; scopes are subqueries on the closure) ----------

    _upstream = "SELECT ancestor FROM {db}.closure WHERE descendant = %(batch)s"
    _downstream = "SELECT descendant FROM {db}.closure_by_ancestor WHERE ancestor = %(batch)s"
    #: The batches around the one asked about whose parties an answer needs.
    _SCOPES = {"lineage": f"{_upstream} UNION ALL {_downstream}", "downstream": _downstream}

    def _admit(self, principal: Principal, batch_id: str, as_of: datetime | None) -> None:
        if not self.may_read_batch(principal, batch_id):
            raise unknown_batch(batch_id, as_of)

    def _admitted_org(self, principal: Principal, batch_id: str, as_of: datetime | None, scope: str) -> set[str]:
        """The batches of the answer (the batch and ``scope``: lineage or downstream) the org had a hand in.

        Raises:
            UnknownBatch: the org may not read the batch (its share of it is nothing).
        """
        shares = self._shares(principal.org_id, batch_id, scope)
        if not may_read_batch(principal, shares.get(batch_id, Parties())):
            raise unknown_batch(batch_id, as_of)
        return {batch for batch, parties in shares.items() if parties.involve(principal.org_id)}

    def _shares(self, org_id: str, batch_id: str, scope: str | None = None) -> dict[str, Parties]:
        """The org's part in the batch and in those of ``scope`` (``_SCOPES``): made, shipped, received."""
        store = self._store()
        if store is not None:
            with store.view() as view:
                around = {**view.upstream(batch_id), **view.downstream(batch_id)} if scope == "lineage" else (
                    view.downstream(batch_id) if scope == "downstream" else {})
                found = parties(view, [batch_id, *around])
            return {batch: _share(org_id, org_id in made, org_id in sent, org_id in received)
                    for batch, (made, sent, received, _countries) in found.items()
                    if org_id in made or org_id in sent or org_id in received}
        batches = f"(SELECT %(batch)s UNION ALL {self._SCOPES[scope].format(db=self._db)})" if scope else "(%(batch)s)"
        rows = self._execute(
            f"SELECT 'made', child_batch FROM {self._db}.lineage_edges WHERE org_id = %(org)s "
            f"AND child_batch IN {batches} UNION ALL SELECT if(from_org = %(org)s, 'shipped', 'received'), batch_id "
            f"FROM {self._db}.shipments WHERE (from_org = %(org)s OR to_org = %(org)s) AND batch_id IN {batches}",
            {"org": org_id, "batch": batch_id})
        parts: dict[str, set[str]] = {}
        for part, batch in rows:
            parts.setdefault(batch, set()).add(part)
        return {batch: _share(org_id, "made" in found, "shipped" in found, "received" in found)
                for batch, found in parts.items()}

    def _reach(self, batch_id: str) -> Parties:
        """Where the goods of the batch and of every batch made from it were made and shipped to."""
        makers, countries = self._makers_and_countries(batch_id)
        places = registry.organisation_places(self._clickhouse(), self._db, sorted(makers))
        return Parties(made_by=frozenset(makers), made_in=frozenset(p for org in makers for p in places.get(org, ())),
                       shipped_to=frozenset(countries))

    def _makers_and_countries(self, batch_id: str) -> tuple[set[str], set[str]]:
        store = self._store()
        if store is not None:
            with store.view() as view:
                found = parties(view, [batch_id, *view.downstream(batch_id)]).values()
            return ({org for made, *_rest in found for org in made},
                    {country for *_rest, countries in found for country in countries})
        batches = f"(SELECT %(batch)s UNION ALL {self._downstream.format(db=self._db)})"
        rows = self._execute(
            f"SELECT 'made', org_id FROM {self._db}.lineage_edges WHERE child_batch IN {batches} "
            f"UNION ALL SELECT 'shipped', toString(to_country) FROM {self._db}.shipments WHERE batch_id IN {batches}",
            {"batch": batch_id})
        return ({value for kind, value in rows if kind == "made"},
                {value.rstrip("\0") for kind, value in rows if kind == "shipped"})

    def _jurisdiction(self, regulator_id: str) -> tuple[str, ...]:
        found = registry.regulators(self._clickhouse(), self._db).get(regulator_id)
        return found.jurisdiction if found else ()

    def _execute(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._clickhouse().execute(sql, params)
        return rows

    def _clickhouse(self) -> Client:
        if self._client is None:
            self._client = self._connect()
        return self._client


def _share(org_id: str, made: bool, shipped: bool, received: bool) -> Parties:
    mine, none = frozenset({org_id}), frozenset[str]()
    return Parties(made_by=mine if made else none, shipped_by=mine if shipped else none,
                   received_by=mine if received else none)
