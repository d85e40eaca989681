"""Avro single-object encoding of Lotline events, with fastavro on the hot path.

Every message starts with ``C3 01`` and the 8-byte little-endian CRC-64-AVRO fingerprint of
its writer schema, so a reader needs no registry server: it finds the writer schema among the
published versions in ``schemas/`` and resolves it to the current (highest) version.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas import SCHEMA_DIR
from traceability.errors import UndecodableEvent
from traceability.events import EVENT_KINDS, Event, EventKind, event_from_record, event_to_record

MAGIC = b"\xc3\x01"
HEADER_SIZE = 10
#: Errors fastavro raises on bytes that are not what the writer schema says.
_DECODE_ERRORS = (
    EOFError, ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError, OverflowError, struct.error,
)


@dataclass(frozen=True)
class WriterSchema:
    kind: EventKind
    version: int
    parsed: Any
    fingerprint: bytes


def schema_versions(kind: EventKind, schema_dir: Path = SCHEMA_DIR) -> list[Path]:
    """Every published version of a kind's schema, oldest first."""
    paths = list((schema_dir / kind).glob("v*.avsc"))
    return sorted(paths, key=lambda p: int(p.stem[1:]))


def single_object_fingerprint(parsed: Any) -> bytes:
    """CRC-64-AVRO of the schema's parsing canonical form, little-endian (Avro spec).

    fastavro's hex string is already the little-endian byte order. Its canonical form is the
    spec's (``{"type": "long", "logicalType": …}`` reduces to ``"long"``); the ``avro``
    package keeps ``{"type": "long"}`` there, so its fingerprints differ and are not used.
    """
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"))


class AvroCodec:
    """Encodes events with the current schema; decodes any published version."""

    def __init__(self, schema_dir: Path = SCHEMA_DIR) -> None:
        self._writers: dict[bytes, WriterSchema] = {}
        self._current: dict[EventKind, WriterSchema] = {}
        for kind in EVENT_KINDS:
            for path in schema_versions(kind, schema_dir):
                parsed = fastavro.parse_schema(json.loads(path.read_text()), named_schemas={})
                writer = WriterSchema(kind, int(path.stem[1:]), parsed, single_object_fingerprint(parsed))
                self._writers[writer.fingerprint] = writer
                self._current[kind] = writer

    def current(self, kind: EventKind) -> WriterSchema:
        return self._current[kind]

    def encode_record(self, kind: EventKind, record: dict[str, Any]) -> bytes:
        """Encode a plain record of ``kind`` with the current schema."""
        writer = self._current[kind]
        buf = io.BytesIO()
        buf.write(MAGIC + writer.fingerprint)
        fastavro.schemaless_writer(buf, writer.parsed, record)
        return buf.getvalue()

    def encode(self, event: Event) -> bytes:
        return self.encode_record(event.kind, event_to_record(event))

    def decode_record(self, data: bytes) -> tuple[EventKind, dict[str, Any]]:
        """Decode a message into its kind and a record in the current reader schema.

        Raises:
            UndecodableEvent: no magic, an unknown fingerprint, or bytes that do not fit.
        """
        if len(data) < HEADER_SIZE or data[:2] != MAGIC:
            raise UndecodableEvent("not an Avro single-object message (missing C3 01 header)")
        writer = self._writers.get(data[2:HEADER_SIZE])
        if writer is None:
            raise UndecodableEvent(f"unknown writer schema fingerprint {data[2:HEADER_SIZE].hex()}")
        reader = self._current[writer.kind]
        buf = io.BytesIO(data)
        buf.seek(HEADER_SIZE)
        try:
            record = fastavro.schemaless_reader(
                buf, writer.parsed, None if reader is writer else reader.parsed
            )
        except _DECODE_ERRORS as exc:
            raise UndecodableEvent(
                f"{writer.kind} v{writer.version}: bytes do not match the schema ({type(exc).__name__})"
            ) from None
        if buf.tell() != len(data):
            raise UndecodableEvent(f"{writer.kind} v{writer.version}: {len(data) - buf.tell()} trailing bytes")
        return writer.kind, record

    def decode(self, data: bytes) -> Event:
        kind, record = self.decode_record(data)
        return event_from_record(kind, record)

    def peek(self, data: bytes) -> tuple[str, str]:
        """Best-effort (kind, event_id) of a message that may be refused; blanks if unknown.

        ``event_id`` is the first field of every schema, so it decodes even when a later
        field is broken.
        """
        writer = self._writers.get(data[2:HEADER_SIZE]) if data[:2] == MAGIC else None
        if writer is None:
            return "", ""
        try:
            event_id = fastavro.schemaless_reader(io.BytesIO(data[HEADER_SIZE:]), "string")
        except _DECODE_ERRORS:
            event_id = ""
        return writer.kind, str(event_id)[:128]
