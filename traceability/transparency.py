"""The transparency log's core: an RFC 9162 Merkle tree, its proofs, their verifiers, checkpoints.

Every accepted report version, withdrawal, key registration and revocation is a leaf
(``SHA-256(0x00 || entry)``, RFC 9162 §2.1.1); a checkpoint (c2sp.org/tlog-checkpoint) names the
tree at one size. Anyone holding two checkpoints can check with a consistency proof that the
later tree extends the earlier one, so the log cannot back-date, alter or drop an entry unseen.

``MerkleTree`` keeps, per level, every complete subtree hash as 32-byte digests in one
``bytearray`` (about 2n digests: 64 bytes per leaf plus the arrays' growth slack). A subtree
``[start, start + 2**k)`` with ``start`` a multiple of ``2**k`` is one lookup; any other range the
RFC's recursion asks for is a right edge ``[start, end)`` folded from at most log2(n) cached
subtrees. A root, an inclusion proof or a consistency proof for any earlier size therefore costs
O(log n) lookups and at most two such folds, never a pass over the leaves.

The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by step and call nothing the prover
uses, so a bug in one is not mirrored in the other; they answer ``False`` to any hostile input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from traceability.errors import BadParameter, InvalidEvent

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: Tree sizes are uint64 on the wire (RFC 9162, C2SP checkpoints); a proof has at most 64 hashes.
MAX_SIZE = 2**64 - 1
_MAX_PROOF = 64
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


def leaf_hash(entry: bytes) -> bytes:
    """The hash of one log entry: ``SHA-256(0x00 || entry)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: ``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(width: int) -> int:
    """The largest power of two smaller than ``width`` (``width`` > 1): where RFC 9162 splits."""
    return 1 << ((width - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 9162 Merkle tree of leaf hashes, answering for every size it has had."""

    def __init__(self) -> None:
        # _levels[k] holds the hashes of the complete subtrees of 2**k leaves, left to right.
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0

    @classmethod
    def from_leaf_hashes(cls, hashes: Iterable[bytes]) -> MerkleTree:
        """A tree holding ``hashes`` as its leaves, built level by level.

        Raises:
            ValueError: A hash is not 32 bytes long (a bug upstream: leaves come from ``leaf_hash``).
        """
        tree = cls()
        leaves = bytearray()
        for h in hashes:
            leaves += _checked(h)
        tree._levels = [leaves]
        tree._size = len(leaves) // HASH_SIZE
        level = leaves
        while len(level) >= 2 * HASH_SIZE:
            view = memoryview(level)
            pairs = len(level) // (2 * HASH_SIZE)
            level = bytearray(b"".join(
                hashlib.sha256(b"\x01" + view[i : i + 2 * HASH_SIZE]).digest()
                for i in range(0, pairs * 2 * HASH_SIZE, 2 * HASH_SIZE)
            ))
            tree._levels.append(level)
        return tree

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._size

    def append(self, leaf: bytes) -> int:
        """Adds one leaf hash and returns its index; O(1) hashes amortised, O(log n) at worst.

        Raises:
            ValueError: ``leaf`` is not 32 bytes long.
        """
        self._levels[0] += _checked(leaf)
        index = self._size
        self._size += 1
        level, position = 0, index
        while position & 1:  # a right child completes its parent
            below = self._levels[level]
            parent = hashlib.sha256(b"\x01" + below[-2 * HASH_SIZE :]).digest()
            level, position = level + 1, position >> 1
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += parent
        return index

    def root(self, size: int | None = None) -> bytes:
        """The tree head MTH(D[0:size]); the current size when ``size`` is None.

        Raises:
            BadParameter: ``size`` is negative or beyond the tree.
        """
        size = self._size if size is None else self._checked_size("size", size)
        return self._range_hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf side first.

        Raises:
            BadParameter: ``size`` is beyond the tree, or ``index`` is not a leaf of that tree.
        """
        size = self._size if size is None else self._checked_size("size", size)
        if not 0 <= index < size:
            raise BadParameter("index", f"must be a leaf of the tree of size {size}, got {index}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            middle = start + _split(end - start)
            if index < middle:
                proof.append(self._range_hash(middle, end))
                end = middle
            else:
                proof.append(self._range_hash(start, middle))
                start = middle
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1 (SUBPROOF), leaf side first.

        The RFC defines it for 0 < old_size <= new_size: a tree is consistent with the empty tree
        without any proof, and ``verify_consistency`` refuses to call that proven.

        Raises:
            BadParameter: The sizes are not 0 < old_size <= new_size <= size.
        """
        new_size = self._size if new_size is None else self._checked_size("new_size", new_size)
        if not 0 < old_size <= new_size:
            raise BadParameter("old_size", f"must be in 1..{new_size}, got {old_size}")
        proof: list[bytes] = []
        start, end, whole = 0, new_size, True
        while old_size != end:
            middle = start + _split(end - start)
            if old_size <= middle:
                proof.append(self._range_hash(middle, end))
                end = middle
            else:
                proof.append(self._range_hash(start, middle))
                start, whole = middle, False
        if not whole:  # the old tree is not a subtree the verifier already holds as its root
            proof.append(self._range_hash(start, end))
        proof.reverse()
        return proof

    def _checked_size(self, field: str, size: int) -> int:
        if not 0 <= size <= self._size:
            raise BadParameter(field, f"must be in 0..{self._size}, got {size}")
        return size

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC recursion visits (``start`` aligned, ``end`` > start).

        The range splits into complete subtrees by the bits of its width, largest first; the RFC's
        tree over it pairs them from the right.
        """
        pieces: list[bytes] = []
        width = end - start
        while width:
            level = width.bit_length() - 1
            offset = (start >> level) * HASH_SIZE
            pieces.append(bytes(self._levels[level][offset : offset + HASH_SIZE]))
            start += 1 << level
            width -= 1 << level
        digest = pieces.pop()
        while pieces:
            digest = node_hash(pieces.pop(), digest)
        return digest


def _checked(leaf: bytes) -> bytes:
    if len(leaf) != HASH_SIZE:
        raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf)}")
    return leaf


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SIZE


def _is_digest(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_proof(proof: object) -> bool:
    return (
        isinstance(proof, Sequence) and not isinstance(proof, bytes | str) and len(proof) <= _MAX_PROOF
        and all(_is_digest(p) for p in proof)
    )


def _interior(left: bytes, right: bytes) -> bytes:
    # The verifiers' own node hash: they share nothing with the prover but hashlib.
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows leaf ``leaf_hash`` at ``index`` in the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Any malformed argument (wrong types or lengths, index outside the tree,
    sizes beyond uint64, a proof too long or too short) is a failed verification, never an error.
    """
    if not (_is_size(index) and _is_size(size) and _is_digest(leaf_hash) and _is_digest(root)):
        return False
    if not _is_proof(proof) or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _interior(p, r)
            while fn and not fn & 1:  # a right edge: climb to where the path turns
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _interior(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree (``new_size``, ``new_root``) extends (``old_size``, ``old_root``).

    RFC 9162 §2.1.4.2, for 0 < old_size <= new_size (equal sizes need an empty proof and equal
    roots). A consistency proof from the empty tree proves nothing and is refused, as in
    transparency-dev/merkle. Malformed arguments give ``False``, never an error.
    """
    if not (_is_size(old_size) and _is_size(new_size) and _is_digest(old_root) and _is_digest(new_root)):
        return False
    if not _is_proof(proof) or not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return len(proof) == 0 and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _interior(c, fr), _interior(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _interior(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head as c2sp.org/tlog-checkpoint states it: the log's origin, a size, its root.

    Raises:
        InvalidEvent: On construction, when a field could not be written as a checkpoint body
            (empty origin or one with a control character, size outside uint64, root not 32 bytes).
    """

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not self.origin or any(ord(c) < 0x20 for c in self.origin):
            raise InvalidEvent("checkpoint origin: must be non-empty, without control characters")
        if not _is_size(self.size):
            raise InvalidEvent(f"checkpoint size: must be in 0..{MAX_SIZE}")
        if not _is_digest(self.root):
            raise InvalidEvent(f"checkpoint root: must be {HASH_SIZE} bytes")

    def body(self) -> str:
        """The note text: ``origin``, size in decimal, root in standard base64, each line ending ``\\n``."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode('ascii')}\n"


def parse_checkpoint_body(text: str) -> Checkpoint:
    """The checkpoint a note text states, read strictly (the inverse of ``Checkpoint.body``).

    Lotline's log writes no extension lines, so a body with any is refused rather than have
    lines the returned value would silently drop.

    Raises:
        InvalidEvent: The text is not exactly three lines, each ending in a newline, with a
            non-empty origin, a canonical decimal size and the canonical base64 of 32 bytes.
    """
    if not text.endswith("\n"):
        raise InvalidEvent("checkpoint: the body must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) != 3:
        raise InvalidEvent(f"checkpoint: expected 3 lines (origin, size, root), got {len(lines)}")
    origin, size, root = lines
    if len(size) > len(str(MAX_SIZE)) or not _DECIMAL.fullmatch(size):
        raise InvalidEvent(f"checkpoint size: not a decimal without leading zeros: {size[:40]!r}")
    try:
        digest = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidEvent(f"checkpoint root: not standard base64: {root[:60]!r}") from None
    if base64.b64encode(digest).decode("ascii") != root:
        raise InvalidEvent("checkpoint root: not canonical base64")
    return Checkpoint(origin, int(size), digest)
