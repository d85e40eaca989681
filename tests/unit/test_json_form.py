"""The JSON contract: clear errors for everything a hand-written line gets wrong."""

from __future__ import annotations

import json

import pytest

from tests.conftest import NOW
from traceability.errors import InvalidEvent
from traceability.json_form import event_to_json, parse_event
from traceability.simulation import ChainShape, supply_chain

pytestmark = pytest.mark.unit
EVENTS = list(supply_chain(4, ChainShape(raw_lots=2, components=2, products=2, tested_fraction=1.0), NOW))


def test_every_event_round_trips_through_its_json_form():
    for event in EVENTS:
        assert parse_event(json.dumps(event_to_json(event))) == event


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"type": "invoice"}, "type: expected one of"),
        ({"quantity": "lots"}, "quantity: expected a number, got str"),
        ({"quantity": True}, "quantity: expected a number, got bool"),
        ({"to_org": 42}, "to_org: expected a string, got int"),
        ({"occurred_at": "yesterday"}, "occurred_at: not an ISO 8601 timestamp"),
        ({"occurred_at": "2026-11-01T00:00:00"}, "occurred_at: timestamp needs a time zone"),
        ({"occurred_at": 1700000000}, "occurred_at: expected an ISO 8601 string, got int"),
    ],
)
def test_a_wrong_field_is_named_in_the_error(patch, reason):
    shipment = next(event_to_json(e) for e in EVENTS if e.kind == "shipment")
    with pytest.raises(InvalidEvent, match=reason):
        parse_event(json.dumps({**shipment, **patch}))


def test_missing_fields_and_non_objects_are_refused():
    with pytest.raises(InvalidEvent, match="shipment: missing field 'shipment_id'"):
        parse_event('{"type": "shipment", "event_id": "x"}')
    with pytest.raises(InvalidEvent, match="expected a JSON object"):
        parse_event("[1, 2]")
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        parse_event(b"\xff\xfe")
