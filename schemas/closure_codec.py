"""Wire format of the internal closure topic: lineage messages between workers (DESIGN §3).

One Kafka record carries many messages (all for batches of the record's partition): per-record
costs (Faust events, acks, produce requests, broker work) then are shared, and they dominated
when every message was a record. Records use Avro single-object encoding like the public events
(``C3 01`` + CRC-64-AVRO of ``schemas/internal/closure-v2.avsc``; version 1 lacked the trust
ledger's messages), so a later version can be introduced beside this one.
Only workers write this topic; a message that does not decode is a bug or corruption, and the
worker dead-letters it rather than guessing.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from sys import intern
from typing import Any

import fastavro

from schemas import SCHEMA_DIR
from schemas.codec import _DECODE_ERRORS, HEADER_SIZE, MAGIC, single_object_fingerprint
from traceability.errors import InvalidEvent, UndecodableEvent
from traceability.ledger import ClosureMessage, LabArrived, ReportArrived
from traceability.lineage import AncestryUpdate, Edge, ResultSeen, RiskRegister

#: Records stay under Kafka's default 1 MB message limit.
MAX_RECORD_BYTES = 200 * 1024
_SCHEMA_PATH = SCHEMA_DIR / "internal" / "closure-v2.avsc"
_EDGE, _RESULT, _UPDATE, _REPORT, _LAB = (
    f"lotline.internal.{name}" for name in ("Edge", "ResultSeen", "AncestryUpdate", "ReportArrived", "LabArrived")
)


class ClosureCodec:
    """Encodes and decodes records of `traceability.lineage` messages (fastavro, no registry)."""

    def __init__(self) -> None:
        self._schema = fastavro.parse_schema(json.loads(_SCHEMA_PATH.read_text()), named_schemas={})
        self._header = MAGIC + single_object_fingerprint(self._schema)

    def encode(self, messages: Sequence[ClosureMessage]) -> bytes:
        buf = io.BytesIO()
        buf.write(self._header)
        fastavro.schemaless_writer(buf, self._schema, {"messages": [_body(m) for m in messages]})
        return buf.getvalue()

    def records(self, messages: Sequence[ClosureMessage], max_bytes: int = MAX_RECORD_BYTES) -> list[bytes]:
        """Encode messages into as few records as keep each under about ``max_bytes``."""
        found: list[bytes] = []
        chunk: list[ClosureMessage] = []
        size = 0
        for message in messages:
            estimate = _estimate(message)
            if chunk and size + estimate > max_bytes:
                found.append(self.encode(chunk))
                chunk, size = [], 0
            chunk.append(message)
            size += estimate
        if chunk:
            found.append(self.encode(chunk))
        return found

    def decode(self, data: bytes) -> list[ClosureMessage]:
        """Raises:
        UndecodableEvent: Not a closure record of a known version, or malformed.
        """
        if data[:HEADER_SIZE] != self._header:
            raise UndecodableEvent("closure topic: not a closure record of a known schema version")
        buf = io.BytesIO(data)
        buf.seek(HEADER_SIZE)
        try:
            bodies = fastavro.schemaless_reader(buf, self._schema, return_record_name=True)["messages"]
            messages = [_message(name, body) for name, body in bodies]
        except (*_DECODE_ERRORS, AttributeError) as exc:
            raise UndecodableEvent(f"closure topic: malformed record ({type(exc).__name__})") from None
        except InvalidEvent as exc:  # well-formed Avro, impossible values (a verdict, a version)
            raise UndecodableEvent(f"closure topic: {exc.reason}") from None
        if buf.tell() != len(data):
            raise UndecodableEvent(f"closure topic: {len(data) - buf.tell()} trailing bytes")
        return messages


def _estimate(message: ClosureMessage) -> int:
    """About a message's encoded size, without encoding it twice (ids count one byte per
    character: an id of 4-byte characters could make a record 4x larger, still under 1 MB)."""
    if isinstance(message, Edge):
        return 16 + len(message.origin) + len(message.parent) + len(message.child) + len(message.event_id)
    if isinstance(message, ResultSeen):
        return 24 + len(message.batch_id) + len(message.report_id)
    if isinstance(message, ReportArrived):
        return 8 + len(message.batch_id) + len(message.origin)
    if isinstance(message, LabArrived):
        return 8 + len(message.lab_id) + len(message.origin)
    return 8 + len(message.target) + sum(4 + len(a) for a in message.ancestors) + sum(
        16 + 2 * len(s) for s in message.risk
    )


def _body(message: ClosureMessage) -> tuple[str, dict[str, Any]]:
    if isinstance(message, Edge):
        return _EDGE, {
            "parent": message.parent, "child": message.child, "event_id": message.event_id,
            "origin": message.origin,
        }
    if isinstance(message, ResultSeen):
        return _RESULT, {
            "batch_id": message.batch_id, "report_id": message.report_id,
            "report_version": message.report_version, "verdict": message.verdict,
        }
    if isinstance(message, ReportArrived):
        return _REPORT, {"batch_id": message.batch_id, "origin": message.origin}
    if isinstance(message, LabArrived):
        return _LAB, {"lab_id": message.lab_id, "origin": message.origin}
    risk = [{"source": r.source, "version": r.version, "failed": r.failed} for r in message.risk.values()]
    return _UPDATE, {"target": message.target, "ancestors": message.ancestors, "risk": risk}


def _message(name: str, body: dict[str, Any]) -> ClosureMessage:
    if name == _EDGE:
        return Edge(body["parent"], body["child"], body["event_id"], body["origin"])
    if name == _RESULT:
        return ResultSeen(body["batch_id"], body["report_id"], body["report_version"], body["verdict"])
    if name == _REPORT:
        return ReportArrived(intern(body["batch_id"]), body["origin"])
    if name == _LAB:
        return LabArrived(body["lab_id"], body["origin"])
    # Interned: a worker's states hold each batch id once, not once per (batch, ancestor) pair.
    risk = {intern(r["source"]): RiskRegister(intern(r["source"]), r["version"], r["failed"]) for r in body["risk"]}
    return AncestryUpdate(intern(body["target"]), {intern(a): d for a, d in body["ancestors"].items()}, risk)
