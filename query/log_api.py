"""The transparency log over HTTP: signed checkpoints, the verifier key, entries and proofs.

``log_router`` is an ``APIRouter`` the API includes (``query.api``); its errors are the API's:
a number out of range (``BadParameter``) is a 422 naming the field, an event id not in the log
(``NotFound``) a 404, ClickHouse out of reach a 503. Endpoints are plain ``def`` (FastAPI runs
them in its thread pool); the reader is shared and thread-safe.

Hashes: leaf hashes in hex (as ``entry_sha256`` is stored), roots and proof hashes in standard
base64, as the checkpoint states its root, so an answer's root compares with a checkpoint's third
line as it is. Proofs are RFC 9162's, leaf side first.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from query.params import ID_MAX, ID_PATTERN, identifier
from query.transparency import ConsistencyProof, InclusionProof, LogEntry, LogReader, LogSigner
from sinks.drivers import driver_errors
from traceability.errors import BadParameter, ClickHouseUnavailable, NotFound
from traceability.log_entries import parse_entry

_Answer = TypeVar("_Answer")
_NOTE = "text/plain; charset=utf-8"


def log_router(reader_factory: Callable[[], LogReader], signer: LogSigner) -> APIRouter:
    """The ``/v1/log`` endpoints on the reader ``reader_factory`` gives, checkpoints signed by ``signer``."""
    router = APIRouter(prefix="/v1/log", tags=["transparency log"])

    def read(ask: Callable[[LogReader], _Answer]) -> _Answer:
        with driver_errors(ClickHouseUnavailable):
            return ask(reader_factory())

    @router.get("/checkpoint", response_class=PlainTextResponse,
                responses={200: {"content": {_NOTE: {}}, "description": "a C2SP signed note"}})
    def checkpoint() -> PlainTextResponse:
        """The log's checkpoint now (c2sp.org/tlog-checkpoint: origin, size, root) as a signed note.
        Keep it: a later consistency proof shows whether the log still extends it."""
        return PlainTextResponse(signer.sign(read(LogReader.checkpoint)), media_type=_NOTE)

    @router.get("/key", response_class=PlainTextResponse,
                responses={200: {"content": {_NOTE: {}}, "description": "a C2SP verifier key"}})
    def key() -> PlainTextResponse:
        """The verifier key of the log's checkpoints (`<origin>+<key id>+<key>`), for witnesses to pin."""
        return PlainTextResponse(signer.verifier_key(), media_type=_NOTE)

    @router.get("/entries/{index}", responses={404: {"description": "beyond the log: no such leaf yet"}})
    def entry(index: Annotated[int, Path(ge=0, description="leaf index, from 0")]) -> dict[str, Any]:
        """One entry: parsed, its exact bytes in base64 (what the leaf hashes), and its leaf hash in hex."""
        return entry_json(read(lambda r: r.entry(index)))

    @router.get("/proof/inclusion", responses={404: {"description": "no entry for the event, or a leaf or size "
                                                                     "beyond the log"},
                                               422: {"description": "index or size out of range"}})
    def inclusion(
        index: Annotated[int | None, Query(ge=0, description="leaf index (or give event_id)")] = None,
        size: Annotated[int | None, Query(ge=1, description="tree size (default: now)")] = None,
        event_id: Annotated[str | None, Query(description="a report version's or withdrawal's event id",
                                              pattern=ID_PATTERN, max_length=ID_MAX)] = None,
    ) -> dict[str, Any]:
        """The audit path of a leaf, by index or by a report version's event id, in the tree of `size`
        leaves: verify it against the root of a signed checkpoint of that size."""
        return inclusion_json(read(lambda r: r.inclusion(_leaf(r, index, size, event_id), size)))

    @router.get("/proof/consistency", responses={404: {"description": "a size beyond the log, or old above new"}})
    def consistency(
        old: Annotated[int, Query(ge=1, description="the earlier tree size (≥ 1)")],
        new: Annotated[int | None, Query(ge=1, description="the later tree size (default: now)")] = None,
    ) -> dict[str, Any]:
        """The proof that the tree of `new` leaves extends the tree of `old` leaves (RFC 9162 §2.1.4)."""
        return consistency_json(read(lambda r: r.consistency(old, new)))

    return router


def _leaf(reader: LogReader, index: int | None, size: int | None, event_id: str | None) -> int:
    """The leaf asked for, by index or event id (exactly one of them).

    Raises:
        BadParameter: both or neither, a malformed event id, or an event's leaf beyond ``size``.
        NotFound: no entry about the event.
    """
    if index is not None and event_id is None:
        return index
    if event_id is None or index is not None:
        raise BadParameter("index", "give either index or event_id")
    leaf = reader.leaf_of_event(identifier("event_id", event_id))
    if size is not None and leaf >= size:
        raise NotFound(f"size {size}: event {event_id}'s entry is leaf {leaf}, not in a tree of {size} leaves")
    return leaf


def entry_json(found: LogEntry) -> dict[str, Any]:
    """``GET /v1/log/entries/{index}``: the entry parsed (``None`` if it is not JSON) and as exact bytes."""
    try:
        parsed: Any = parse_entry(found.entry)
    except ValueError:
        parsed = None
    return {"index": found.index, "entry": parsed, "entry_b64": _b64(found.entry), "leaf_hash": found.leaf_hash.hex()}


def inclusion_json(proof: InclusionProof) -> dict[str, Any]:
    """``GET /v1/log/proof/inclusion``."""
    return {"index": proof.index, "size": proof.size, "leaf_hash": proof.leaf_hash.hex(), "root": _b64(proof.root),
            "proof": [_b64(p) for p in proof.proof]}


def consistency_json(proof: ConsistencyProof) -> dict[str, Any]:
    """``GET /v1/log/proof/consistency``."""
    return {"old": proof.old, "new": proof.new, "old_root": _b64(proof.old_root), "new_root": _b64(proof.new_root),
            "proof": [_b64(p) for p in proof.proof]}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
