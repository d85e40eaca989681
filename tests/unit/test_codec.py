"""The wire codec: single-object framing, round trips, schema resolution, hostile bytes."""

from __future__ import annotations

import json
import shutil

import pytest

from schemas import SCHEMA_DIR
from schemas.codec import AvroCodec, schema_versions
from tests.conftest import NOW
from tests.registry_samples import REGISTRY, SIGNED, TRACKED
from traceability.errors import UndecodableEvent
from traceability.events import EVENT_KINDS
from traceability.simulation import ChainShape, supply_chain

pytestmark = pytest.mark.unit
CODEC = AvroCodec()


def crc64_avro(data: bytes) -> int:
    """CRC-64-AVRO as the Avro specification writes it out (independent of fastavro)."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def sample_events():
    return list(supply_chain(1, ChainShape(raw_lots=3, components=3, products=3, tested_fraction=1.0), NOW))


def test_every_kind_of_event_survives_an_encode_decode_round_trip():
    events = [*sample_events(), *REGISTRY, SIGNED, *TRACKED]
    assert {e.kind for e in events} == set(EVENT_KINDS)
    for event in events:
        assert CODEC.decode(CODEC.encode(event)) == event


def test_a_message_starts_with_the_magic_and_the_little_endian_crc64_of_the_canonical_schema():
    from fastavro.schema import to_parsing_canonical_form

    writer = CODEC.current("lab_result")
    data = CODEC.encode(next(e for e in sample_events() if e.kind == "lab_result"))
    expected = crc64_avro(to_parsing_canonical_form(writer.parsed).encode()).to_bytes(8, "little")
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == expected


def test_a_message_written_with_an_older_schema_is_read_into_the_current_one(tmp_path):
    schema_dir = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, schema_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    versions = schema_versions("shipment", schema_dir)
    latest = json.loads(versions[-1].read_text())
    newer = {**latest, "fields": [*latest["fields"], {"name": "carrier", "type": "string", "default": "unknown"}]}
    (schema_dir / "shipment" / f"v{len(versions) + 1}.avsc").write_text(json.dumps(newer))
    old, new = AvroCodec(SCHEMA_DIR), AvroCodec(schema_dir)
    shipment = next(e for e in sample_events() if e.kind == "shipment")

    kind, record = new.decode_record(old.encode(shipment))
    assert kind == "shipment"
    assert record["carrier"] == "unknown"
    assert new.decode(old.encode(shipment)) == shipment


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "missing C3 01 header"),
        (b"{\"type\": \"shipment\"}", "missing C3 01 header"),
        (b"\xc3\x01" + b"\x00" * 8, "unknown writer schema fingerprint"),
    ],
)
def test_bytes_without_a_known_header_are_refused_with_the_reason(data, reason):
    with pytest.raises(UndecodableEvent, match=reason):
        CODEC.decode(data)


def test_truncated_and_padded_messages_are_refused():
    data = CODEC.encode(sample_events()[1])
    for cut in range(11, len(data)):
        with pytest.raises(UndecodableEvent):
            CODEC.decode(data[:cut])
    with pytest.raises(UndecodableEvent, match="trailing bytes"):
        CODEC.decode(data + b"\x00")


def test_peek_names_the_kind_and_event_id_of_a_message_that_does_not_decode():
    event = sample_events()[1]
    data = CODEC.encode(event)
    assert CODEC.peek(data[:-4]) == (event.kind, event.event_id)
    assert CODEC.peek(b"junk") == ("", "")
