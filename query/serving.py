"""Current trace and recall answers from the serving store (``sinks.serving``): a handful of lookups.

A trace reads the batch's ancestors and descendants (one record each) and the record of every
batch in them; a recall the descendants and their records. The answers are the ``Trace`` and
``Recall`` that ``query.scope.ScopeReader`` reads from ClickHouse, value for value (a test holds
them equal on the oracle chains); ``as_of`` answers are ClickHouse's alone, since the store keeps
only the present. Records come back as tuples decoded in C (msgpack); the answers' rows are
built from them without intermediate objects.

Large answers are kept between asks (``AnswerCache``): a 10,000-batch recall takes tens of
milliseconds to read and build, and checking that none of its batches was written since takes a
few. A kept answer is served only while that holds, so it is the answer the store gives now.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from query.answers import (
    NOTHING_WITHHELD,
    answer_bytes,
    completeness_object,
    report_json,
    total_object,
    trace_json,
    withheld_json,
)
from query.scope import collector_paused, unknown_batch
from sinks.serving import (
    EDGE_PARENT,
    EDGE_PRODUCT,
    EDGE_REFUSED,
    EDGES,
    JUDGED,
    PART_HEAD,
    PART_PRODUCTIONS,
    PART_SHIPMENTS,
    PART_TAIL,
    REPORTS,
    SHIPMENT_OCCURRED,
    SHIPMENTS,
    SHIPPED_COUNTRY,
    SHIPPED_JSON,
    SHIPPED_QUANTITY,
    SHIPPED_TO,
    SHIPPED_UNIT,
    STATUS,
    ServingStore,
    StoreView,
    open_store,
    record_productions,
    record_shipments,
    release,
    shipped_row,
    stored_moment,
)
from traceability.answer_form import affected_object
from traceability.events import LabResult, Measurement
from traceability.scope import (
    Link,
    Production,
    Recall,
    Report,
    Standing,
    Trace,
    affected_batch,
    completeness,
    current_reports,
    related,
    totals,
    totals_of,
)

_UNTESTED: tuple[str, tuple[str, ...]] = ("untested", ())


#: How many batches the answers a reader keeps may cover in all (a 10,000-batch recall with 20,000
#: shipments holds about 24 MiB as a ``Recall`` and 9 MB as JSON, measured with tracemalloc; so the
#: default is at most a few hundred MB); answers of fewer batches than ``SMALLEST_KEPT`` are not kept.
CACHE_BATCHES, SMALLEST_KEPT = 100_000, 256


#: How an ask of an answer went: served kept, kept but outdated by a write since, or not kept.
ASKED = ("served", "outdated", "not kept")


@dataclass(frozen=True)
class KeptFigures:
    """An ``AnswerCache``'s figures: asks by outcome (``ASKED``), answers kept, batches they cover."""

    asked: dict[str, int]
    answers: int
    batches: int


class AnswerCache:
    """Answers kept between asks, least recently asked dropped first; safe to share between threads.

    Each is kept with the store's sequence number when it was read and the batches it covers; it
    is served while no write since then stamped any of them (``StoreView.changed_since``), and
    dropped once one did.

    Args:
        batches: The most batches the kept answers may cover in all (0: keep none).
        smallest: Answers covering fewer batches are not kept (they cost little more to read than to check).
    """

    def __init__(self, batches: int = CACHE_BATCHES, smallest: int = SMALLEST_KEPT) -> None:
        self._budget, self._smallest = batches, smallest
        self._kept: OrderedDict[tuple[str, str], tuple[bytes, list[bytes], Any]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self._asked = dict.fromkeys(ASKED, 0)

    def get(self, view: StoreView, kind: str, batch_id: str) -> Any:
        """The answer of ``kind`` kept for ``batch_id`` if it still holds in ``view``, else ``None``."""
        with self._lock:
            kept = self._kept.get((kind, batch_id))
            if kept is not None:
                self._kept.move_to_end((kind, batch_id))
            else:
                self._asked["not kept"] += 1
        if kept is None:
            return None
        sequence, keys, answer = kept
        if view.changed_since(sequence, keys):
            with self._lock:
                self._asked["outdated"] += 1
                if self._kept.get((kind, batch_id)) is kept:
                    del self._kept[kind, batch_id]
                    self._held -= len(keys)
            return None
        with self._lock:
            self._asked["served"] += 1
        return answer

    def figures(self) -> KeptFigures:
        """How asks went so far, and what is kept now."""
        with self._lock:
            return KeptFigures(dict(self._asked), len(self._kept), self._held)

    def put(self, sequence: bytes, kind: str, batch_id: str, covered: Collection[str], answer: Any) -> None:
        """Keep ``answer``, read at ``sequence``, of the batches ``covered``, if it is large enough."""
        if not self._smallest <= len(covered) <= self._budget:
            return
        keys = [b.encode() for b in covered]
        with self._lock:
            known = self._kept.pop((kind, batch_id), None)
            if known is not None:
                self._held -= len(known[1])
            self._kept[kind, batch_id] = (sequence, keys, answer)
            self._held += len(keys)
            while self._held > self._budget:
                _key, (_sequence, dropped, _answer) = self._kept.popitem(last=False)
                self._held -= len(dropped)

    def __len__(self) -> int:
        return len(self._kept)


class ServingReader:
    """Answers current traces and recalls from one serving store; safe to share between threads.

    Args:
        store: The store, open for reading.
        cache: Where large answers are kept between asks (default: a cache of ``CACHE_BATCHES``).
    """

    def __init__(self, store: ServingStore, cache: AnswerCache | None = None) -> None:
        self._store = store
        self._cache = AnswerCache() if cache is None else cache

    @collector_paused
    def trace(self, batch_id: str) -> Trace:
        """As ``ScopeReader.trace`` with no ``as_of``.

        Raises:
            UnknownBatch: nothing about the batch is known.
        """
        with self._store.reading() as view:
            if (kept := self._cache.get(view, "trace", batch_id)) is not None:
                return kept  # type: ignore[no-any-return]
            sequence = view.sequence()
            upstream, downstream = view.upstream(batch_id), view.downstream(batch_id)
            records = view.batches([*upstream, *downstream, batch_id])
            lineage = sorted({batch_id, *upstream})
            versions = [r for b in lineage if (rec := records.get(b)) for r in rec[REPORTS]]
            registered = view.registered_labs({v[3] for v in versions})
        statuses = _statuses(records)
        # Children in order, each record's edges by parent and event: the links come out ordered.
        links = tuple(_row(Link, (e[0], e[1], child, *e[2:9], stored_moment(e[9])))
                      for child in lineage if (rec := records.get(child))
                      for e in rec[EDGES] if not e[EDGE_REFUSED] and e[EDGE_PARENT] in upstream)
        products = {e.child: e.product_id for e in links} | {
            b: rec[EDGES][0][EDGE_PRODUCT] for b in downstream if (rec := records.get(b)) and rec[EDGES]}
        own = records.get(batch_id)
        reports = _reports(versions, records, lineage, registered)
        shipments = tuple(record_shipments(own)) if own else ()
        made = _productions({batch_id: own} if own else {})
        if not (upstream or downstream or batch_id in statuses or made or reports or shipments):
            raise unknown_batch(batch_id, None)
        status, sources = statuses.get(batch_id, _UNTESTED)
        names = {batch: status for batch, (status, _sources) in statuses.items()}
        answer = Trace(
            batch_id=batch_id, as_of=None, status=status, risk_sources=sources,
            production=made[0] if made else None,
            upstream=related(upstream, names, products),
            downstream=related(downstream, names, products),
            links=links, reports=reports, shipments=shipments,
            completeness=completeness({batch_id, *upstream}, {e.child for e in links} | {p.batch_id for p in made},
                                      [s.batch_id for s in shipments], reports),
        )
        self._cache.put(sequence, "trace", batch_id, [batch_id, *upstream, *downstream], answer)
        return answer

    @collector_paused
    def trace_json(self, batch_id: str) -> bytes:
        """The trace's JSON as ``query.answers.trace_json`` writes it for a full view (nothing withheld).

        Raises:
            UnknownBatch: nothing about the batch is known.
        """
        with self._store.reading() as view:
            if (kept := self._cache.get(view, "trace_json", batch_id)) is not None:
                return kept  # type: ignore[no-any-return]
            sequence = view.sequence()  # the trace is read at this sequence or a later one: kept as of this
        trace = self.trace(batch_id)
        answer = answer_bytes(trace_json(trace))
        covered = [batch_id, *(r.batch_id for r in trace.upstream), *(r.batch_id for r in trace.downstream)]
        self._cache.put(sequence, "trace_json", batch_id, covered, answer)
        return answer

    @collector_paused
    def recall(self, batch_id: str) -> Recall:
        """As ``ScopeReader.recall`` with no ``as_of``.

        Raises:
            UnknownBatch: nothing about the batch is known.
        """
        with self._store.reading() as view:
            if (kept := self._cache.get(view, "recall", batch_id)) is not None:
                return kept  # type: ignore[no-any-return]
            sequence = view.sequence()
            downstream = view.downstream(batch_id)
            records = view.batches([*downstream, batch_id])
            own = records.get(batch_id)
            versions = list(own[REPORTS]) if own else []
            registered = view.registered_labs({v[3] for v in versions})
        depths = {batch_id: 0, **downstream}
        statuses = _statuses(records)
        productions = _productions(records)
        shipped = sorted((s for rec in records.values() for s in rec[SHIPMENTS]), key=_SHIPMENT_ORDER)
        shipments = tuple(map(shipped_row, shipped))
        reports = _reports(versions, records, [batch_id], registered)
        if len(depths) == 1 and not (statuses or productions or shipments or reports):
            raise unknown_batch(batch_id, None)
        made: dict[str, Production] = {}
        for p in productions:
            made.setdefault(p.batch_id, p)
        affected = tuple(
            affected_batch(b, d, statuses.get(b, _UNTESTED)[0], made.get(b))
            for b, d in sorted(depths.items(), key=_NEAREST)
        )
        by_country, by_recipient = totals(shipments)
        status, sources = statuses.get(batch_id, _UNTESTED)
        answer = Recall(
            batch_id=batch_id, as_of=None, status=status, risk_sources=sources, affected=affected,
            productions=productions, shipments=shipments, by_country=by_country, by_recipient=by_recipient,
            reports=reports, completeness=completeness(depths, made, [s.batch_id for s in shipments], reports),
        )
        self._cache.put(sequence, "recall", batch_id, depths, answer)
        return answer

    @collector_paused
    def recall_json(self, batch_id: str) -> bytes:
        """The recall's JSON as ``query.answers.recall_json`` writes it for a full view (nothing
        withheld), joined from the rows the store rendered when it stored each batch: no row of
        the answer is built here, only ordered (a test holds both JSONs equal on the oracle chains).

        Raises:
            UnknownBatch: nothing about the batch is known.
        """
        with self._store.reading() as view:
            if (kept := self._cache.get(view, "recall_json", batch_id)) is not None:
                return kept  # type: ignore[no-any-return]
            sequence = view.sequence()
            downstream = view.downstream(batch_id)
            parts = view.answer_parts([batch_id, *downstream])
            own = view.batch(batch_id)
            versions = list(own[REPORTS]) if own else []
            registered = view.registered_labs({v[3] for v in versions})
        reports = _reports(versions, {batch_id: own} if own else {}, [batch_id], registered)
        productions = sorted(chain.from_iterable(p[PART_PRODUCTIONS] for p in parts.values()))
        shipments = sorted(chain.from_iterable(p[PART_SHIPMENTS] for p in parts.values()))
        status, sources = (own[STATUS][0], own[STATUS][1]) if own and own[STATUS] else _UNTESTED
        if not (downstream or own and own[STATUS] or productions or shipments or reports):
            raise unknown_batch(batch_id, None)
        depths = {batch_id: 0, **downstream}  # nearest first, as the store keeps them
        affected = [p[PART_HEAD] + b"%d" % depth + p[PART_TAIL] if (p := parts.get(batch)) is not None
                    else orjson.dumps(affected_object(affected_batch(batch, depth, "untested", None)))
                    for batch, depth in depths.items()]
        by_country, by_recipient = totals_of(map(_TOTALLED, shipments))
        made = {batch for batch, p in parts.items() if p[PART_PRODUCTIONS]}
        shipped = {batch for batch, p in parts.items() if p[PART_SHIPMENTS]}
        answer = orjson.dumps({
            "batch_id": batch_id, "as_of": None, "status": status, "risk_sources": list(sources),
            "affected": _joined(affected),
            "productions": _joined(map(_SECOND, productions)),
            "shipments": _joined(map(_SHIPPED, shipments)),
            "totals": {"by_country": [total_object("country", t) for t in by_country],
                       "by_recipient": [total_object("to_org", t) for t in by_recipient]},
            "reports": [report_json(r) for r in reports],
            "completeness": completeness_object(completeness(depths, made, shipped, reports)),
            "withheld": withheld_json(NOTHING_WITHHELD),
        })
        self._cache.put(sequence, "recall_json", batch_id, depths, answer)
        return answer

    def kept(self) -> KeptFigures:
        return self._cache.figures()

    def view(self) -> AbstractContextManager[StoreView]:
        """A consistent view of the store (``with reader.view() as view: …``), for access facts."""
        return self._store.reading()


#: A named tuple from a tuple of its fields, without the Python-level ``__new__`` (0.1 µs, not 0.5).
_row = tuple.__new__
_NEAREST = itemgetter(1, 0)  # depth, then batch id
_SHIPMENT_ORDER = itemgetter(SHIPMENT_OCCURRED, 1, 0)  # occurred_at, shipment_id, event_id (as ClickHouse orders)
_TOTALLED = itemgetter(SHIPPED_COUNTRY, SHIPPED_TO, SHIPPED_UNIT, SHIPPED_QUANTITY)
_SHIPPED = itemgetter(SHIPPED_JSON)
_SECOND = itemgetter(1)


def _joined(rendered: Iterable[bytes]) -> orjson.Fragment:
    """Rows rendered as JSON, as one JSON array to write as it is."""
    return orjson.Fragment(b"[" + b",".join(rendered) + b"]")


def _statuses(records: Mapping[str, tuple[Any, ...]]) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {b: (rec[STATUS][0], rec[STATUS][1]) for b, rec in records.items() if rec[STATUS] is not None}


def _productions(records: Mapping[str, tuple[Any, ...]]) -> tuple[Production, ...]:
    """The productions of every record, oldest first, as ClickHouse orders them."""
    found = [p for child, rec in records.items() for p in record_productions(child, rec)]
    found.sort(key=_PRODUCTION_ORDER)
    return tuple(found)


_PRODUCTION_ORDER = itemgetter(7, 1, 0)  # occurred_at, batch_id, event_id


def _reports(versions: Iterable[tuple[Any, ...]], records: Mapping[str, tuple[Any, ...]], batches: Iterable[str],
             registered: set[str]) -> tuple[Report, ...]:
    results = [_result(v) for v in versions]
    standings = {event: Standing(outcome, acceptance, counts_as)
                 for b in batches if (rec := records.get(b))
                 for event, (_seq, outcome, acceptance, counts_as) in rec[JUDGED].items()}
    return current_reports(results, registered, standings)


def _result(v: tuple[Any, ...]) -> LabResult:
    (event, report, version, lab, batch, sample, method, verdict, tested, issued,
     analytes, values, units, limits, verdicts) = v
    measured = tuple(Measurement(*m) for m in zip(analytes, values, units, limits, verdicts, strict=True))
    return LabResult(event, report, version, lab, batch, sample, method, verdict, stored_moment(tested),
                     stored_moment(issued), measured)


def parties(view: StoreView, batch_ids: Iterable[str]) -> dict[str, tuple[set[str], set[str], set[str], set[str]]]:
    """Who had a hand in each batch that has a record: (makers, senders, recipients, countries shipped to).

    As ``query.gate`` reads them from ClickHouse: makers are the orgs of every edge into the batch,
    refused ones included; an org that shipped to itself counts as sender only.
    """
    found = {}
    for batch, rec in view.batches(batch_ids).items():
        shipments = rec[SHIPMENTS]
        found[batch] = ({e[7] for e in rec[EDGES]}, {s[5] for s in shipments},
                        {s[6] for s in shipments if s[6] != s[5]}, {s[8] for s in shipments})
    return found


class ServingSource:
    """The serving store of a deployment, opened when it first exists and read once it is complete.

    Until the workers have built it (``sinks.serving.ServingStore.rebuild``), answers come from
    ClickHouse: ``reader`` is ``None``. Once complete, a store stays complete (a rebuild swaps the
    whole content in one transaction).
    """

    def __init__(self, path: Path, *, cache_batches: int = CACHE_BATCHES) -> None:
        self.path = path
        self._cache_batches = cache_batches
        self._store: ServingStore | None = None
        self._reader: ServingReader | None = None
        self._opening = threading.Lock()

    def reader(self) -> ServingReader | None:
        if self._reader is not None:
            return self._reader
        with self._opening:
            if self._store is not None and self._store.outdated:  # reopened: the workers may have rebuilt it since
                release(self._store)
                self._store = None
            if self._store is None and (self.path / "data.mdb").exists():
                self._store = open_store(self.path)
            if self._store is not None and self._store.complete():
                self._reader = ServingReader(self._store, AnswerCache(self._cache_batches))
        return self._reader

    def kept(self) -> KeptFigures | None:
        """The kept answers' figures, once answers come from the store."""
        return self._reader.kept() if self._reader is not None else None

    def close(self) -> None:
        if self._store is not None:
            release(self._store)
            self._store = self._reader = None
