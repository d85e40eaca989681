"""Schemas ↔ records, and backward compatibility of every published schema version."""

from __future__ import annotations

import json

import avro.schema
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from schemas.codec import schema_versions
from traceability.events import EVENT_KINDS, record_fields

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
