"""Whether the log today extends a checkpoint saved earlier: the witness's check, as a pure function.

A witness (a regulator keeping checkpoints) holds the log to what it signed: the log today must
be the saved tree with entries appended, nothing altered, dropped or reordered. That is one
consistency proof from the saved size to today's (RFC 9162 §2.1.4), verified against the saved
root and today's root by ``traceability.transparency.verify_consistency``, which shares no code
with the prover. A log now smaller than the saved one was truncated; no proof can help it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from traceability.transparency import EMPTY_ROOT, Checkpoint, verify_consistency


@dataclass(frozen=True, slots=True)
class Extension:
    """The outcome of holding today's log to a saved checkpoint.

    Attributes:
        holds: The log today extends the saved checkpoint.
        old_size: The saved checkpoint's size.
        new_size: Today's size.
        reason: Why it does not hold ('' when it does).
    """

    holds: bool
    old_size: int
    new_size: int
    reason: str = ""


def check_extension(saved: Checkpoint, today: Checkpoint, proof: Sequence[bytes]) -> Extension:
    """Whether ``today`` extends ``saved``, given a consistency proof from ``saved.size`` to ``today.size``.

    ``proof`` is ignored where none is needed (a saved empty tree, or equal sizes, where the roots
    must simply be equal) or none can exist (today's log is smaller).
    """
    old, new = saved.size, today.size

    def broken(reason: str) -> Extension:
        return Extension(False, old, new, reason)

    if saved.origin != today.origin:
        return broken(f"the saved checkpoint is of the log {saved.origin!r}, this log is {today.origin!r}")
    if new < old:
        return broken(f"the log has {new} entries, fewer than the {old} of the saved checkpoint: it was truncated "
                      "or entries were dropped")
    if old == 0:
        return Extension(True, old, new) if saved.root == EMPTY_ROOT else broken(
            "the saved checkpoint of size 0 does not state the empty tree's root")
    if old == new:
        return Extension(True, old, new) if saved.root == today.root else broken(
            f"the log still has {new} entries but its root is {_b64(today.root)}, not the saved "
            f"{_b64(saved.root)}: its history was altered")
    if not verify_consistency(old, new, saved.root, today.root, proof):
        return broken(f"the consistency proof from size {old} to {new} does not verify against the saved root "
                      f"{_b64(saved.root)}: entries of the saved log were altered, dropped or reordered")
    return Extension(True, old, new)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")
