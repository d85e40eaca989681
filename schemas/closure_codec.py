"""Wire format of the internal closure topic: lineage messages between workers (DESIGN §3).

Messages use Avro single-object encoding like the public events (``C3 01`` + CRC-64-AVRO of
``schemas/internal/closure-v1.avsc``), so a later version can be introduced beside this one.
Only workers write this topic; a message that does not decode is a bug or corruption, and the
worker dead-letters it rather than guessing.
"""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro

from schemas import SCHEMA_DIR
from schemas.codec import _DECODE_ERRORS, HEADER_SIZE, MAGIC, single_object_fingerprint
from traceability.errors import InvalidEvent, UndecodableEvent
from traceability.lineage import AncestryUpdate, Edge, Message, ResultSeen, RiskRegister

_SCHEMA_PATH = SCHEMA_DIR / "internal" / "closure-v1.avsc"
_EDGE, _RESULT, _UPDATE = (f"lotline.internal.{name}" for name in ("Edge", "ResultSeen", "AncestryUpdate"))


class ClosureCodec:
    """Encodes and decodes `traceability.lineage` messages (fastavro, no registry)."""

    def __init__(self) -> None:
        self._schema = fastavro.parse_schema(json.loads(_SCHEMA_PATH.read_text()), named_schemas={})
        self._header = MAGIC + single_object_fingerprint(self._schema)

    def encode(self, message: Message) -> bytes:
        buf = io.BytesIO()
        buf.write(self._header)
        fastavro.schemaless_writer(buf, self._schema, {"body": _body(message)})
        return buf.getvalue()

    def decode(self, data: bytes) -> Message:
        """Raises:
        UndecodableEvent: Not a closure message of a known version, or malformed.
        """
        if data[:HEADER_SIZE] != self._header:
            raise UndecodableEvent("closure topic: not a closure message of a known schema version")
        buf = io.BytesIO(data)
        buf.seek(HEADER_SIZE)
        try:
            name, body = fastavro.schemaless_reader(buf, self._schema, return_record_name=True)["body"]
            message = _message(name, body)
        except (*_DECODE_ERRORS, AttributeError) as exc:
            raise UndecodableEvent(f"closure topic: malformed message ({type(exc).__name__})") from None
        except InvalidEvent as exc:  # well-formed Avro, impossible values (a verdict, a version)
            raise UndecodableEvent(f"closure topic: {exc.reason}") from None
        if buf.tell() != len(data):
            raise UndecodableEvent(f"closure topic: {len(data) - buf.tell()} trailing bytes")
        return message


def _body(message: Message) -> tuple[str, dict[str, Any]]:
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
    risk = [{"source": r.source, "version": r.version, "failed": r.failed} for r in message.risk.values()]
    return _UPDATE, {"target": message.target, "ancestors": message.ancestors, "risk": risk}


def _message(name: str, body: dict[str, Any]) -> Message:
    if name == _EDGE:
        return Edge(body["parent"], body["child"], body["event_id"], body["origin"])
    if name == _RESULT:
        return ResultSeen(body["batch_id"], body["report_id"], body["report_version"], body["verdict"])
    risk = {r["source"]: RiskRegister(r["source"], r["version"], r["failed"]) for r in body["risk"]}
    return AncestryUpdate(body["target"], body["ancestors"], risk)
