"""Schemas ↔ records, and backward compatibility of every published schema version."""

from __future__ import annotations

import dataclasses
import io
import json

import avro.schema
import fastavro
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from schemas.codec import MAGIC, AvroCodec, schema_versions, single_object_fingerprint
from tests.conftest import NOW
from tests.registry_samples import REGISTRY, SIGNED, TRACKED
from traceability.events import EVENT_KINDS, event_to_record, record_fields
from traceability.simulation import ChainShape, supply_chain

pytestmark = pytest.mark.contract


def compatible(reader: str, writer: str) -> bool:
    result = ReaderWriterCompatibilityChecker().get_compatibility(
        avro.schema.parse(reader), avro.schema.parse(writer)
    )
    return result.compatibility is SchemaCompatibilityType.compatible


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_the_current_schema_has_exactly_the_fields_of_the_record(kind):
    current = json.loads(schema_versions(kind)[-1].read_text())
    assert tuple(f["name"] for f in current["fields"]) == record_fields(kind)


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_the_current_schema_reads_every_published_version(kind):
    versions = schema_versions(kind)
    assert [p.stem for p in versions] == [f"v{i}" for i in range(1, len(versions) + 1)]
    current = versions[-1].read_text()
    for older in versions:
        assert compatible(current, older.read_text()), f"{kind}: {versions[-1].name} cannot read {older.name}"


def test_the_compatibility_check_catches_a_breaking_change():
    v1 = json.loads(schema_versions("shipment")[0].read_text())
    breaking = {**v1, "fields": [*v1["fields"], {"name": "carrier", "type": "string"}]}  # no default
    assert not compatible(json.dumps(breaking), json.dumps(v1))
    fine = {**v1, "fields": [*v1["fields"], {"name": "carrier", "type": "string", "default": ""}]}
    assert compatible(json.dumps(fine), json.dumps(v1))


def _sample(kind: str):
    """An event of ``kind`` with every field set (nested records included)."""
    simulated = supply_chain(3, ChainShape(raw_lots=2, components=2, products=2, tested_fraction=1.0), NOW)
    return next(e for e in [*TRACKED, *REGISTRY, SIGNED, *simulated] if e.kind == kind)


def _written(kind: str, version_path, record: dict) -> bytes:
    schema = fastavro.parse_schema(json.loads(version_path.read_text()), named_schemas={})
    buf = io.BytesIO(MAGIC + single_object_fingerprint(schema))
    buf.seek(0, io.SEEK_END)
    fields_written = {f["name"] for f in schema["fields"]}
    fastavro.schemaless_writer(buf, schema, {k: v for k, v in record.items() if k in fields_written})
    return buf.getvalue()


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_kind_round_trips_and_every_published_version_decodes_into_the_current_record(kind):
    codec, event = AvroCodec(), _sample(kind)
    assert codec.decode(codec.encode(event)) == event
    for path in schema_versions(kind):
        written = {f["name"] for f in json.loads(path.read_text())["fields"]}
        decoded = codec.decode(_written(kind, path, event_to_record(event)))
        defaults = {f.name: f.default for f in dataclasses.fields(event) if f.name not in written and f.name != "kind"}
        assert decoded == dataclasses.replace(event, **defaults), f"{kind} {path.name}"


def test_the_compatibility_check_catches_a_breaking_change_inside_a_nested_record():
    v2 = json.loads(schema_versions("lab")[1].read_text())
    accreditations = next(f for f in v2["fields"] if f["name"] == "accreditations")
    item = accreditations["type"]["items"]
    broken_item = {**item, "fields": [*item["fields"], {"name": "scope_url", "type": "string"}]}  # no default
    broken = {**v2, "fields": [{**f, "type": {**f["type"], "items": broken_item}} if f is accreditations else f
                               for f in v2["fields"]]}
    v1 = schema_versions("lab")[0].read_text()
    assert compatible(json.dumps(v2), v1)
    assert compatible(json.dumps(broken), v1)  # v1 writers have no accreditations: nothing to resolve
    assert not compatible(json.dumps(broken), json.dumps(v2))  # but v2 writers' records no longer read
    no_default = {**v2, "fields": [{k: v for k, v in f.items() if k != "default"} if f["name"] == "keys" else f
                                   for f in v2["fields"]]}
    assert not compatible(json.dumps(no_default), v1)
