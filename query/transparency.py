"""The transparency log as stored: its Merkle tree, built from ``log_entries`` and kept current.

The log's order is partition 0 of the ``<prefix>.log`` topic; the worker stores every entry with
its offset (``streams.transparency``), possibly more than once (delivery is at-least-once). The
leaves are the distinct entries in order of first offset: a repeated entry is the same leaf, so
it is skipped wherever it appears again. Distinct entries are distinct bytes, so the leaf hash
(``SHA-256(0x00 || entry)``) names an entry exactly as ``entry_sha256`` does; it is computed from
the bytes read rather than trusted from a column that could disagree with them.

``LogReader`` reads the table once and then only what is new: every call first reads the rows
with an offset above the last one seen (an indexed range read on ``(log_partition,
log_offset)``; one query when nothing is new) and appends their distinct entries to the tree.
Rows never appear behind one already read: the worker writes partition 0's messages in order,
each batch in one insert, and a worker that takes the partition over rewrites from the
committed offset, below which everything was stored (so what it rewrites is repeats). A row
planted later at an old offset is therefore not seen by a running reader: the tree it has
answered for stays the tree it answers for; a fresh reader (``lotline log check``) sees the
altered history and its root no longer extends the checkpoints witnesses saved.

What it keeps: the tree (about 64 bytes per leaf), the leaf hashes, their first offsets and two
indexes (entry hash -> leaf, report event id -> leaf); entries stay in ClickHouse (``entry(i)``
reads one row by its offset). Measured by ``bench/log.py`` at 1M rows (990k leaves, 2 cores):
about 320 MB kept; a cold build of 5-7 s, of which parsing entries for their event ids is about
2.8 s (``parse_entry``, the one reader of an entry's meaning), reading 1 s, hashing and dedup
0.9 s, the tree 0.8 s; a call with nothing new 1.2 ms (the one query); a proof 1.1 ms p50, of
which 15 µs is the tree's.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from query.columns import named, pick
from schemas.checkpoint import sign_checkpoint, verifier_key_text
from traceability.errors import BadParameter, NotFound
from traceability.log_entries import parse_entry
from traceability.transparency import Checkpoint, MerkleTree, leaf_hash

#: The log's name when a deployment sets none (``LOTLINE_LOG_ORIGIN`` should be its public URL).
DEFAULT_ORIGIN = "lotline/log"
#: Offsets read per query: bounds what a cold build holds at once (~30 MB of entries).
PAGE_OFFSETS = 65_536
#: The kinds of entry that state a report version; their ``event_id`` is indexed.
REPORT_KINDS = frozenset({"report_version", "withdrawal"})
_EVENT_ID = b'"event_id":'  # cheap pre-check before parsing: key entries have none


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One leaf's entry as stored now.

    Attributes:
        index: The leaf.
        entry: The entry's bytes as stored at the leaf's first offset.
        leaf_hash: The leaf in the tree (what proofs are about). A verifier recomputes it from
            ``entry``; if the stored bytes were altered after the tree was read, they differ.
    """

    index: int
    entry: bytes
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """RFC 9162 audit path of leaf ``index`` in the tree of ``size`` leaves whose head is ``root``."""

    index: int
    size: int
    leaf_hash: bytes
    root: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """RFC 9162 proof that the tree of ``new`` leaves extends the tree of ``old`` leaves."""

    old: int
    new: int
    old_root: bytes
    new_root: bytes
    proof: tuple[bytes, ...]


@dataclass(frozen=True)
class LogSigner:
    """The log's signing key under its name (the origin, as C2SP advises for a log's own key)."""

    origin: str
    key: Ed25519PrivateKey

    def sign(self, checkpoint: Checkpoint) -> str:
        """``checkpoint`` as a signed note (C2SP signed-note, Ed25519)."""
        if checkpoint.origin != self.origin:
            raise ValueError(f"a checkpoint of {checkpoint.origin!r} signed as {self.origin!r}")
        return sign_checkpoint(checkpoint, self.origin, self.key)

    def verifier_key(self) -> str:
        """The C2SP verifier key (``<name>+<key id>+<key>``) witnesses pin."""
        return verifier_key_text(self.origin, self.key.public_key())


class LogReader:
    """The log's tree and its proofs, read from one ClickHouse database and refreshed on each call.

    Thread-safe: one lock holds a refresh and the answer computed after it together (a proof costs
    microseconds; the tree changes only during a refresh), and the one ClickHouse client is used
    only under it.

    Args:
        connect: Makes a ClickHouse client (called again after a failed read).
        database: The deployment's database.
        origin: The log's name, stated in every checkpoint.
        page: Offsets read per query.
    """

    def __init__(self, connect: Callable[[], Any], database: str, *, origin: str = DEFAULT_ORIGIN,
                 page: int = PAGE_OFFSETS) -> None:
        self._connect = connect
        self._db = database
        self._origin = origin
        self._page = page
        self._lock = threading.Lock()
        self._client: Any = None
        self._tree = MerkleTree()
        self._leaves: list[bytes] = []  # leaf hash by index; the same objects are the keys of _by_hash
        self._offsets = array("Q")  # where each leaf first occurs: its record's offset,
        self._positions = array("I")  # and its place in the record
        self._by_hash: dict[bytes, int] = {}
        self._by_event: dict[str, int] = {}
        self._next_offset = 0

    def size(self) -> int:
        """The number of leaves (distinct entries)."""
        with self._current() as tree:
            return tree.size

    def checkpoint(self) -> Checkpoint:
        """The tree head now, as a checkpoint of this log's origin."""
        with self._current() as tree:
            return Checkpoint(self._origin, tree.size, tree.root())

    def entry(self, index: int) -> LogEntry:
        """Leaf ``index``'s entry, read from ClickHouse at its first offset.

        Raises:
            BadParameter: ``index`` is not a leaf.
            NotFound: the row is no longer stored (the stored log lost an entry it had).
        """
        with self._current() as tree:
            _check_range("index", index, 0, tree.size - 1, "a leaf of the log")
            offset, position = self._offsets[index], self._positions[index]
            rows = self._query(f"SELECT entry FROM {self._db}.log_entries WHERE log_partition = 0 "
                               "AND log_offset = %(offset)s AND log_index = %(position)s LIMIT 1",
                               {"offset": offset, "position": position})
            (entries,) = pick(rows, "entry")
            if not entries:
                raise NotFound(f"log entry {index} (partition 0, offset {offset}) is no longer stored")
            return LogEntry(index, entries[0], self._leaves[index])

    def inclusion(self, index: int, size: int | None = None) -> InclusionProof:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves (default: now).

        Raises:
            BadParameter: ``size`` is beyond the log, or ``index`` is not a leaf of that tree.
        """
        with self._current() as tree:
            size = tree.size if size is None else _check_range("size", size, 1, tree.size, "a size the log has had")
            _check_range("index", index, 0, size - 1, f"a leaf of the tree of size {size}")
            return InclusionProof(index, size, self._leaves[index], tree.root(size),
                                  tuple(tree.inclusion_proof(index, size)))

    def consistency(self, old: int, new: int | None = None) -> ConsistencyProof:
        """The proof that the tree of ``new`` leaves (default: now) extends the tree of ``old``.

        Raises:
            BadParameter: not ``1 <= old <= new <= size`` (nothing proves a tree extends the empty one).
        """
        with self._current() as tree:
            new = tree.size if new is None else _check_range("new", new, 1, tree.size, "a size the log has had")
            _check_range("old", old, 1, new, f"a size from 1 to the new size {new}")
            return ConsistencyProof(old, new, tree.root(old), tree.root(new), tuple(tree.consistency_proof(old, new)))

    def leaf_of_event(self, event_id: str) -> int:
        """The leaf of the first entry about report version ``event_id`` (its acceptance).

        A version accepted, refused and accepted again has an entry per acceptance; the first is
        when it entered the log.

        Raises:
            NotFound: no report version or withdrawal with this event id is in the log.
        """
        with self._current():
            index = self._by_event.get(event_id)
        if index is None:
            raise NotFound(f"no report version or withdrawal with event id {event_id!r} is in the log")
        return index

    @contextmanager
    def _current(self) -> Iterator[MerkleTree]:
        with self._lock:
            self._refresh()
            yield self._tree

    def _refresh(self) -> None:
        """Reads the rows above the last offset seen, page by page, and grows the tree by them."""
        try:
            count, last = pick(self._query(
                f"SELECT count() AS new_rows, max(log_offset) AS last_offset FROM {self._db}.log_entries "
                "WHERE log_partition = 0 AND log_offset >= %(start)s", {"start": self._next_offset},
            ), "new_rows", "last_offset")
            if not count or not count[0]:
                return
            while self._next_offset <= last[0]:
                end = min(self._next_offset + self._page, last[0] + 1)
                offsets, positions, entries = pick(self._query(
                    f"SELECT log_offset, log_index, entry FROM {self._db}.log_entries WHERE log_partition = 0 "
                    "AND log_offset >= %(start)s AND log_offset < %(end)s ORDER BY log_offset, log_index",
                    {"start": self._next_offset, "end": end},
                ), "log_offset", "log_index", "entry")
                self._add(offsets, positions, entries)
                self._next_offset = end
        finally:  # what was read is in the tree, even when a later page failed
            self._grow_tree()

    def _add(self, offsets: Sequence[int], positions: Sequence[int], entries: Sequence[bytes]) -> None:
        by_hash, leaves = self._by_hash, self._leaves
        for offset, position, entry in zip(offsets, positions, entries, strict=True):
            leaf = leaf_hash(entry)
            if leaf in by_hash:
                continue
            index = len(leaves)
            by_hash[leaf] = index
            leaves.append(leaf)
            self._offsets.append(offset)
            self._positions.append(position)
            if _EVENT_ID in entry:
                self._index_event(entry, index)

    def _index_event(self, entry: bytes, index: int) -> None:
        try:
            fields = parse_entry(entry)
        except ValueError:  # not JSON: still a leaf, about no report
            return
        event_id = fields.get("event_id")
        if fields.get("kind") in REPORT_KINDS and isinstance(event_id, str):
            self._by_event.setdefault(event_id, index)

    def _grow_tree(self) -> None:
        if not self._tree.size and self._leaves:  # a cold build: level by level is about twice as fast
            self._tree = MerkleTree.from_leaf_hashes(self._leaves)
            return
        for leaf in self._leaves[self._tree.size:]:
            self._tree.append(leaf)

    def _query(self, sql: str, params: dict[str, Any]) -> dict[str, Sequence[Any]]:
        """The columns of ``sql`` by name, strings as bytes (entries are hashed as stored)."""
        client = self._client = self._client or self._connect()
        try:
            data, types = client.execute(sql, params, columnar=True, with_column_types=True,
                                         settings={"strings_as_bytes": True})
        except BaseException:
            self._client = None  # a half-used connection is not reused
            client.disconnect()
            raise
        return named(data, types)


def _check_range(field: str, value: int, low: int, high: int, what: str) -> int:
    """``value`` if it lies in ``low..high``.

    Raises:
        BadParameter: below ``low`` (malformed whatever the log holds; the API's schema says so too).
        NotFound: above ``high``: the log has no such leaf or tree (yet).
    """
    if low <= value <= high:
        return value
    span = f"{low}..{high}" if low <= high else "none yet: the log is empty"
    if value < low:
        raise BadParameter(field, f"must be {what} ({span}), got {value}")
    raise NotFound(f"{field} {value}: the log has no such {what.split(' (')[0].removeprefix('a ')} ({span})")
