"""The serving store: what current answers need, kept by the workers next to ClickHouse, laid out
so a trace or a recall is a handful of lookups (LMDB, memory-mapped; the API reads it in place).

ClickHouse stays the system of record (history, ``as_of``, exports, analytics). This store holds
the same facts as of now, merged by the rules the ClickHouse reads apply at query time, so the
answers from either are equal:

* ``up``/``down``: per batch, its ancestors (descendants) with their minimal depth, one record;
* ``batch``: per batch, its latest status (highest ``seq``), the lineage edges into it (deduplicated
  by event and parent; an edge refused as a cycle kept, flagged), its shipments and its report
  versions (deduplicated by event id) and their judgements (highest ``seq`` per version);
* ``answer``: per batch, what a recall takes of it, rendered as JSON as it is stored (``answer_parts``);
* ``refused``: the edges refused as cycles (a refusal may be stored before its edge);
* ``labs``: registered lab ids; ``meta``: whether the store holds everything ClickHouse holds, and
  the sequence number of its last write;
* ``stamp``: per batch, the sequence number of the last write that changed anything an answer takes
  of it (its record, answer parts, ancestors or descendants): a reader that keeps an answer knows
  it still holds when none of its batches was stamped since (``StoreView.changed_since``).

Every merge is a set union, a minimum or a maximum, so a batch of rows applied twice, or batches
applied in any order, leave the same store: the worker applies a batch right after ClickHouse has
stored it and before the offsets are committed, and a crash in between only means the batch is
applied again. One LMDB write transaction per batch of rows: a killed writer leaves nothing half
written, and the workers of one machine share one store (LMDB serialises their writes).

A store that does not say it is complete is not read (``complete``): it is built from ClickHouse
first (``rebuild``), in one write transaction, so workers applying their rows meanwhile wait and
then merge theirs in again.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import lmdb
import msgpack
import orjson
import structlog
from clickhouse_driver import Client

from sinks.clickhouse import ClickHouseAddress
from sinks.drivers import driver_errors
from sinks.port import Sink
from sinks.rows import COLUMNS, Row, RowBatch
from traceability.answer_form import AFFECTED_AFTER_DEPTH, affected_object, production_object, shipped_object
from traceability.errors import ClickHouseUnavailable
from traceability.events import InputLot
from traceability.json_form import utc_moment
from traceability.scope import Production, Shipped, affected_batch

log = structlog.get_logger(__name__)

#: The tables whose rows the store keeps, by the columns it takes from each (names from ``COLUMNS``).
KEPT: dict[str, tuple[str, ...]] = {
    "closure": ("descendant", "ancestor", "depth"),
    "batch_status": ("batch_id", "status", "risk_sources", "seq"),
    "lineage_edges": ("child_batch", "event_id", "parent_batch", "parent_quantity", "parent_unit", "child_product",
                      "child_quantity", "child_unit", "org_id", "site", "occurred_at"),
    "refused_edges": ("event_id", "parent_batch", "child_batch"),
    "shipments": ("batch_id", "event_id", "shipment_id", "batch_id", "quantity", "unit", "from_org", "to_org",
                  "to_location", "to_country", "occurred_at"),
    "lab_results": ("batch_id", "event_id", "report_id", "report_version", "lab_id", "batch_id", "sample_id",
                    "method", "verdict", "tested_at", "issued_at", "measurements.analyte", "measurements.value",
                    "measurements.unit", "measurements.limit_value", "measurements.verdict"),
    "report_judgements": ("batch_id", "event_id", "seq", "outcome", "acceptance", "counts_as"),
    "labs": ("lab_id",),
}
#: Columns holding a moment, kept as whole seconds since the epoch.
_MOMENTS = {"occurred_at", "tested_at", "issued_at"}

# A batch record is a list: its status, edges in, shipments, report versions, judgements.
STATUS, EDGES, SHIPMENTS, REPORTS, JUDGED = range(5)
# An edge in a record: the fields of ``KEPT["lineage_edges"]`` after the child, then whether it was refused.
EDGE_EVENT, EDGE_PARENT, EDGE_PRODUCT, EDGE_ORG, EDGE_OCCURRED, EDGE_REFUSED = 0, 1, 4, 7, 9, 10
SHIPMENT_OCCURRED, REPORT_EVENT = 9, 0
# A batch's answer parts (``answer_parts``): its affected row around the depth, its productions and shipments.
PART_HEAD, PART_TAIL, PART_PRODUCTIONS, PART_SHIPMENTS = range(4)
# A shipment among a batch's answer parts: its order key, what the totals sum, its JSON.
SHIPPED_KEY, SHIPPED_COUNTRY, SHIPPED_TO, SHIPPED_UNIT, SHIPPED_QUANTITY, SHIPPED_JSON = range(6)
_DATABASES = ("up", "down", "batch", "answer", "refused", "labs", "meta", "stamp")
_COMPLETE, _SEQUENCE, _LABS_STAMP = b"complete", b"sequence", b"labs"
#: The records' layout, kept as the value of ``complete``: a store of another layout is rebuilt before it is read.
LAYOUT = b"3"


@dataclass(frozen=True)
class StoreSize:
    """How much the store takes: batches recorded, closure pairs, bytes on disk."""

    batches: int
    pairs: int
    bytes: int

    @property
    def bytes_per_batch(self) -> float:
        return self.bytes / self.batches if self.batches else 0.0


class ServingStore:
    """One LMDB environment, opened for writing (the workers) or for reading (the API, the CLI).

    Args:
        path: The store's directory (created when writing).
        readonly: Open for reading only; the directory must exist.
        map_size: The most the store may grow to (address space, not disk: the file grows as used).
    """

    def __init__(self, path: Path, *, readonly: bool = False, map_size: int = 1 << 36) -> None:
        if not readonly:
            path.mkdir(parents=True, exist_ok=True)
        self.path = path
        # sync off: a killed process loses nothing (the pages are the kernel's); a machine that
        # crashes may lose the last transactions, which the rebuild from ClickHouse restores.
        self._env = lmdb.open(str(path), map_size=map_size, max_dbs=len(_DATABASES), readonly=readonly,
                              sync=False, readahead=False, max_readers=512)
        self._dbs = {}
        for name in _DATABASES:
            try:
                self._dbs[name] = self._env.open_db(name.encode(), create=not readonly)
            except lmdb.NotFoundError:  # a reader of a store of an older layout: incomplete until rebuilt
                continue
        self.outdated = len(self._dbs) < len(_DATABASES)

    def close(self) -> None:
        self._env.close()

    # -- reading -----------------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[StoreView]:
        """One consistent view of the store, for one answer."""
        with self._env.begin(buffers=False) as txn:
            yield StoreView(txn, self._dbs)

    def complete(self) -> bool:
        """Whether the store holds everything ClickHouse holds, in this layout (``LAYOUT``)."""
        if self.outdated:
            return False
        with self._env.begin() as txn:
            return txn.get(_COMPLETE, db=self._dbs["meta"]) == LAYOUT

    def size(self) -> StoreSize:
        with self._env.begin() as txn:
            batches = txn.stat(self._dbs["batch"])["entries"]
            pairs = sum(len(_unpacked(value)) for _key, value in txn.cursor(self._dbs["up"]))
        info, stat = self._env.info(), self._env.stat()
        return StoreSize(batches, pairs, (info["last_pgno"] + 1) * stat["psize"])

    # -- writing -----------------------------------------------------------------------------------

    def apply(self, batch: RowBatch) -> None:
        """Merge the rows of ``batch`` (in ``COLUMNS`` order, as the sink writes them) in one transaction."""
        kept = {table: rows for table, rows in batch.items() if table in KEPT and rows}
        if kept:
            with self._env.begin(write=True) as txn:
                _Merge(txn, self._dbs, _next_sequence(txn, self._dbs["meta"])).rows(kept)

    def rebuild(self, client: Client, database: str, *, chunk: int = 200_000, force: bool = False) -> bool:
        """Fill the store from ClickHouse, unless it is complete already (or ``force``); say whether it did.

        One write transaction: nobody reads a half-built store, and rows applied meanwhile by
        workers wait for it and are merged in after (a merge is idempotent).
        """
        with self._env.begin(write=True) as txn:
            if txn.get(_COMPLETE, db=self._dbs["meta"]) == LAYOUT and not force:
                return False
            sequence = _next_sequence(txn, self._dbs["meta"])  # past every stamp a reader may hold
            for name in _DATABASES:
                txn.drop(self._dbs[name], delete=False)
            txn.put(_SEQUENCE, sequence, db=self._dbs["meta"])
            txn.put(_LABS_STAMP, sequence, db=self._dbs["meta"])
            merge = _Merge(txn, self._dbs, sequence)
            for table in KEPT:
                for rows in _stored_rows(client, database, table, chunk):
                    merge.rows({table: rows})
            txn.put(_COMPLETE, LAYOUT, db=self._dbs["meta"])
        return True

    def forget(self) -> None:
        """Say the store no longer holds everything ClickHouse holds (a worker stores rows without it):
        readers go back to ClickHouse until a rebuild."""
        with self._env.begin(write=True) as txn:
            txn.delete(_COMPLETE, db=self._dbs["meta"])


class ServingSink:
    """A sink that stores rows in ClickHouse, then merges them into the serving store.

    The store is written only once ClickHouse has the rows, so it never holds what the system of
    record lacks; a failure in between is retried as a whole (both merges are idempotent). Before
    its first merge the sink builds the store from ClickHouse if it is not complete, inside the
    write, so a ClickHouse that is down then is retried like any write.
    """

    def __init__(self, primary: Sink, store: ServingStore, clickhouse: ClickHouseAddress) -> None:
        self._primary = primary
        self._store = store
        self._clickhouse = clickhouse
        self._built = False

    def write(self, batch: RowBatch) -> None:
        self._primary.write(batch)
        if not self._built:
            with driver_errors(ClickHouseUnavailable):
                if self._store.rebuild(self._clickhouse.client(), self._clickhouse.database):
                    log.info("serving store built from ClickHouse", path=str(self._store.path))
            self._built = True
        self._store.apply(batch)


class StoreView:
    """Reads of one transaction: records decoded as tuples, missing ones as ``None``."""

    def __init__(self, txn: lmdb.Transaction, dbs: dict[str, Any]) -> None:
        self._txn = txn
        self._up, self._down, self._batch, self._labs = dbs["up"], dbs["down"], dbs["batch"], dbs["labs"]
        self._parts, self._meta, self._stamp = dbs["answer"], dbs["meta"], dbs["stamp"]

    def sequence(self) -> bytes:
        """The sequence number of the store's last write (8 bytes, big-endian: they order as numbers)."""
        return self._txn.get(_SEQUENCE, db=self._meta) or _NO_SEQUENCE

    def changed_since(self, sequence: bytes, batch_keys: Iterable[bytes]) -> bool:
        """Whether a write after ``sequence`` changed any of the batches (ids encoded) or the labs registered."""
        if self.sequence() == sequence:
            return False
        if (self._txn.get(_LABS_STAMP, db=self._meta) or _NO_SEQUENCE) > sequence:
            return True
        get, db = self._txn.get, self._stamp
        return any((stamp := get(key, db=db)) is not None and stamp > sequence for key in batch_keys)

    def upstream(self, batch_id: str) -> dict[str, int]:
        return self._depths(self._up, batch_id)

    def downstream(self, batch_id: str) -> dict[str, int]:
        return self._depths(self._down, batch_id)

    def batch(self, batch_id: str) -> tuple[Any, ...] | None:
        raw = self._txn.get(batch_id.encode(), db=self._batch)
        return None if raw is None else msgpack.unpackb(raw, use_list=False)  # type: ignore[no-any-return]

    def batches(self, batch_ids: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        """The records of those of ``batch_ids`` that have one."""
        return self._decoded(self._batch, batch_ids)

    def answer_parts(self, batch_ids: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        """The answer parts (``answer_parts``) of those of ``batch_ids`` that have a record."""
        return self._decoded(self._parts, batch_ids)

    def _decoded(self, db: Any, batch_ids: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        get, unpack = self._txn.get, msgpack.unpackb
        found = {}
        for batch_id in batch_ids:
            raw = get(batch_id.encode(), db=db)
            if raw is not None:
                found[batch_id] = unpack(raw, use_list=False)
        return found

    def registered_labs(self, lab_ids: Iterable[str]) -> set[str]:
        return {lab for lab in lab_ids if self._txn.get(lab.encode(), db=self._labs) is not None}

    def _depths(self, db: Any, batch_id: str) -> dict[str, int]:
        raw = self._txn.get(batch_id.encode(), db=db)
        return {} if raw is None else _unpacked(raw)


class _Merge:
    """Rows merged into the records of one write transaction (each record read and written once)."""

    def __init__(self, txn: lmdb.Transaction, dbs: dict[str, Any], sequence: bytes) -> None:
        self._txn = txn
        self._dbs = dbs
        self._sequence = sequence

    def rows(self, batch: RowBatch) -> None:
        picked = {table: _picked(table, rows) for table, rows in batch.items()}
        if rows := picked.get("labs"):
            for (lab,) in rows:
                self._txn.put(lab.encode(), b"", db=self._dbs["labs"])
            self._txn.put(_LABS_STAMP, self._sequence, db=self._dbs["meta"])
        if rows := picked.get("closure"):
            self._pairs("up", ((d, a, depth) for d, a, depth in rows))
            self._pairs("down", ((a, d, depth) for d, a, depth in rows))
        refused = picked.get("refused_edges", [])
        for key in refused:
            self._txn.put("\0".join(key).encode(), b"", db=self._dbs["refused"])
        by_batch: dict[str, list[tuple[int, Row]]] = defaultdict(list)
        for part, table in ((STATUS, "batch_status"), (EDGES, "lineage_edges"), (SHIPMENTS, "shipments"),
                            (REPORTS, "lab_results"), (JUDGED, "report_judgements")):
            for row in picked.get(table, ()):
                by_batch[row[0]].append((part, row[1:]))
        for event, parent, child in refused:
            by_batch[child].append((-1, (event, parent)))
        db, parts = self._dbs["batch"], self._dbs["answer"]
        for batch_id, facts in by_batch.items():  # each record read, merged and written once
            record = self._merged(batch_id, facts)
            key = batch_id.encode()
            self._txn.put(key, msgpack.packb(record), db=db)
            if any(part not in _NOT_IN_ANSWER_PARTS for part, _fact in facts):  # a report alone changes none
                self._txn.put(key, msgpack.packb(answer_parts(batch_id, record)), db=parts)
            self._stamp(key)

    def _pairs(self, name: str, pairs: Iterable[tuple[str, str, int]]) -> None:
        grouped: dict[str, dict[str, int]] = defaultdict(dict)
        for key, other, depth in pairs:
            known = grouped[key].get(other)
            if known is None or depth < known:
                grouped[key][other] = depth
        db = self._dbs[name]
        for key, found in grouped.items():
            raw = self._txn.get(key.encode(), db=db)
            depths = {} if raw is None else _unpacked(raw)
            changed = False
            for other, depth in found.items():
                known = depths.get(other)
                if known is None or depth < known:
                    depths[other] = depth
                    changed = True
            if changed:  # kept nearest first (depth, then batch): readers take the answer's order as stored
                self._txn.put(key.encode(), msgpack.packb(dict(sorted(depths.items(), key=_NEAREST))), db=db)
                self._stamp(key.encode())

    def _stamp(self, key: bytes) -> None:
        self._txn.put(key, self._sequence, db=self._dbs["stamp"])

    def _merged(self, batch_id: str, facts: list[tuple[int, Row]]) -> list[Any]:
        raw = self._txn.get(batch_id.encode(), db=self._dbs["batch"])
        record: list[Any] = [None, [], [], [], {}] if raw is None else msgpack.unpackb(raw)
        edges = {(e[EDGE_EVENT], e[EDGE_PARENT]): e for e in record[EDGES]}
        shipments = {s[0]: s for s in record[SHIPMENTS]}
        reports = {r[REPORT_EVENT]: r for r in record[REPORTS]}
        refusals: list[tuple[str, str]] = []
        for part, fact in facts:
            if part == STATUS:
                status, sources, seq = fact
                if record[STATUS] is None or seq > record[STATUS][2]:
                    record[STATUS] = [status, list(sources), seq]
            elif part == EDGES:
                edges.setdefault((fact[0], fact[1]), [*fact, self._refused(fact[0], fact[1], batch_id)])
            elif part == SHIPMENTS:
                shipments.setdefault(fact[0], list(fact))
            elif part == REPORTS:
                reports.setdefault(fact[0], list(fact))
            elif part == JUDGED:
                event, seq, *judgement = fact
                known = record[JUDGED].get(event)
                if known is None or seq > known[0]:
                    record[JUDGED][event] = [seq, *judgement]
            else:
                refusals.append(fact)
        for key in refusals:
            if key in edges:
                edges[key][EDGE_REFUSED] = True
        record[EDGES] = sorted(edges.values(), key=itemgetter(EDGE_PARENT, EDGE_EVENT))
        record[SHIPMENTS] = sorted(shipments.values(), key=itemgetter(SHIPMENT_OCCURRED, 1, 0))
        record[REPORTS] = sorted(reports.values(), key=itemgetter(REPORT_EVENT))
        return record

    def _refused(self, event: str, parent: str, child: str) -> bool:
        return self._txn.get(f"{event}\0{parent}\0{child}".encode(), db=self._dbs["refused"]) is not None


_NO_SEQUENCE = bytes(8)


def _next_sequence(txn: lmdb.Transaction, meta: Any) -> bytes:
    """The sequence number of this write transaction (one more than the last), kept in ``meta``."""
    last = txn.get(_SEQUENCE, db=meta) or _NO_SEQUENCE
    sequence = (int.from_bytes(last, "big") + 1).to_bytes(8, "big")
    txn.put(_SEQUENCE, sequence, db=meta)
    return sequence


def record_productions(batch_id: str, record: Sequence[Any]) -> list[Production]:
    """The productions of a batch from its record: its accepted edges grouped by event, each event's
    inputs by batch (a record's edges are ordered by parent, then event: ClickHouse's ``arraySort``)."""
    by_event: dict[str, list[Sequence[Any]]] = {}
    for e in record[EDGES]:
        if not e[EDGE_REFUSED]:
            by_event.setdefault(e[EDGE_EVENT], []).append(e)
    found = []
    for event, grouped in by_event.items():
        first = grouped[0]
        inputs = tuple(InputLot(e[1], e[2], e[3]) for e in grouped)
        found.append(_row(Production, (event, batch_id, *first[4:9], stored_moment(first[9]), inputs)))
    return found


def record_shipments(record: Sequence[Any]) -> list[Shipped]:
    """A batch's shipments from its record, in ClickHouse's order (occurred, shipment, event)."""
    return list(map(shipped_row, record[SHIPMENTS]))


def shipped_row(s: Sequence[Any]) -> Shipped:
    """A shipment of a record as an answer's row."""
    return _row(Shipped, (*s[:SHIPMENT_OCCURRED], stored_moment(s[SHIPMENT_OCCURRED])))


def answer_parts(batch_id: str, record: Sequence[Any]) -> list[Any]:
    """What a recall takes of a batch, rendered as it is stored (``PART_*``).

    * its affected row as JSON cut around the depth, the one field only a recall knows: made by
      its first production (by time, then event), with its latest status;
    * its productions: ``(order key, JSON)``, the key ordering them as ClickHouse does (time, batch, event);
    * its shipments: ``(order key, country, recipient, unit, quantity, JSON)``, ordered by time,
      shipment and event; the totals sum what is between.

    Order keys join fixed-width seconds and ids with NUL, which no id holds (printable ASCII):
    they order as the tuples would, and a list of them sorts by Python's fastest comparison.
    """
    made = record_productions(batch_id, record)
    first = min(made, key=_MADE_FIRST, default=None)
    status = record[STATUS][0] if record[STATUS] is not None else "untested"
    affected = affected_object(affected_batch(batch_id, 0, status, first))
    head = orjson.dumps({"batch_id": batch_id})[:-1] + b',"depth":'
    tail = b"," + orjson.dumps({key: affected[key] for key in AFFECTED_AFTER_DEPTH})[1:]
    productions = [(_order_key(p.occurred_at, batch_id, p.event_id), orjson.dumps(production_object(p)))
                   for p in made]
    shipments = [(_order_key(s.occurred_at, s.shipment_id, s.event_id), s.to_country, s.to_org, s.unit, s.quantity,
                  orjson.dumps(shipped_object(s))) for s in record_shipments(record)]
    return [head, tail, productions, shipments]


def _order_key(moment: datetime, *ids: str) -> str:
    return "\0".join((f"{int(moment.timestamp()):010d}", *ids))


_MADE_FIRST = itemgetter(7, 0)  # occurred_at, event_id
#: The parts of a record that ``answer_parts`` does not read (a status, an edge, a refusal or a shipment it does).
_NOT_IN_ANSWER_PARTS = frozenset({REPORTS, JUDGED})
_NEAREST = itemgetter(1, 0)  # depth, then batch id


#: A moment kept as seconds, as an aware UTC moment; moments repeat (a day's run), so each is built once.
stored_moment = lru_cache(maxsize=65_536)(utc_moment)


#: A named tuple from a tuple of its fields, without the Python-level ``__new__`` (0.1 µs, not 0.5).
_row = tuple.__new__


_OPENED: dict[Path, tuple[ServingStore, int]] = {}
_OPENING = threading.Lock()


def open_store(path: Path) -> ServingStore:
    """The process's reader of the store at ``path`` (LMDB opens an environment once per process):
    opened on first use, shared, closed by the last ``release``."""
    with _OPENING:
        store, users = _OPENED.get(path.resolve(), (None, 0))
        if store is None:
            store = ServingStore(path, readonly=True)
        _OPENED[path.resolve()] = (store, users + 1)
        return store


def release(store: ServingStore) -> None:
    with _OPENING:
        found, users = _OPENED.get(store.path.resolve(), (None, 0))
        if found is not store:
            return
        if users > 1:
            _OPENED[store.path.resolve()] = (store, users - 1)
        else:
            del _OPENED[store.path.resolve()]
            store.close()


def _picked(table: str, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
    """The kept columns of ``rows`` by name, moments as seconds and countries unpadded."""
    positions = {name: i for i, name in enumerate(COLUMNS[table])}
    kept = KEPT[table]
    take = itemgetter(*(positions[name] for name in kept))
    moments = [i for i, name in enumerate(kept) if name in _MOMENTS]
    country = kept.index("to_country") if "to_country" in kept else None
    picked = []
    for row in rows:
        values = take(row)
        values = list(values) if len(kept) > 1 else [values]
        for i in moments:
            values[i] = _seconds(values[i])
        if country is not None:
            values[country] = values[country].rstrip("\0")
        picked.append(tuple(values))
    return picked


def _seconds(moment: datetime | int) -> int:
    return moment if isinstance(moment, int) else int(moment.timestamp())


def _unpacked(raw: bytes) -> dict[str, int]:
    return msgpack.unpackb(raw)  # type: ignore[no-any-return]


def _stored_rows(client: Client, database: str, table: str, chunk: int) -> Iterator[list[Row]]:
    """A table's rows in ``COLUMNS`` order (moments as seconds), ``chunk`` at a time."""
    names = COLUMNS[table]
    wanted = set(KEPT[table])
    exprs = ", ".join(
        (f"toUInt32(`{name}`)" if name in _MOMENTS else f"`{name}`") if name in wanted else "0" for name in names)
    rows: list[Row] = []
    for row in client.execute_iter(f"SELECT {exprs} FROM {database}.{table}", settings={"max_block_size": chunk}):
        rows.append(row)
        if len(rows) >= chunk:
            yield rows
            rows = []
    if rows:
        yield rows
