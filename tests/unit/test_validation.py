"""Semantic rules: each names the field it refuses."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tests.conftest import NOW
from traceability.errors import InvalidEvent
from traceability.events import InputLot, Measurement
from traceability.simulation import ChainShape, supply_chain
from traceability.validation import validate

pytestmark = pytest.mark.unit
SHAPE = ChainShape(raw_lots=2, components=2, products=2, tested_fraction=1.0)
EVENTS = list(supply_chain(2, SHAPE, NOW - timedelta(days=30)))
LAB = next(e for e in EVENTS if e.kind == "lab")
PRODUCTION = next(e for e in EVENTS if e.kind == "production")
RESULT = next(e for e in EVENTS if e.kind == "lab_result" and e.verdict == "pass")
SHIPMENT = next(e for e in EVENTS if e.kind == "shipment")


def refused(event, match):
    with pytest.raises(InvalidEvent, match=match):
        validate(event, NOW)


def test_the_simulated_supply_chain_is_valid():
    for event in EVENTS:
        assert validate(event, NOW) is event


def test_empty_and_unprintable_ids_are_refused():
    refused(dataclasses.replace(SHIPMENT, event_id=""), "event_id: must not be empty")
    refused(dataclasses.replace(SHIPMENT, batch_id="A B"), "batch_id: only printable ASCII")
    refused(dataclasses.replace(SHIPMENT, batch_id="x" * 129), "batch_id: longer than 128")


def test_quantities_must_be_positive_finite_and_in_a_known_unit():
    refused(dataclasses.replace(SHIPMENT, quantity=0.0), r"shipment.quantity: must be > 0")
    refused(dataclasses.replace(SHIPMENT, quantity=float("nan")), "must be a finite number")
    refused(dataclasses.replace(SHIPMENT, unit="bushel"), "unknown unit 'bushel'")
    bad_input = (InputLot("RAW-X", -1.0, "kg"),)
    refused(dataclasses.replace(PRODUCTION, inputs=bad_input), r"inputs\[0\].quantity: must be > 0")


def test_times_from_the_far_future_before_1990_or_without_a_zone_are_refused():
    refused(dataclasses.replace(SHIPMENT, occurred_at=NOW + timedelta(days=2)), "occurred_at: .* is in the future")
    refused(dataclasses.replace(SHIPMENT, occurred_at=NOW.replace(year=1970)), "before 1990")
    refused(dataclasses.replace(SHIPMENT, occurred_at=NOW.replace(tzinfo=None)), "needs a time zone")
    assert validate(dataclasses.replace(SHIPMENT, occurred_at=NOW + timedelta(hours=23)), NOW)


def test_a_report_cannot_pass_with_a_failing_measurement_or_be_issued_before_its_test():
    failing = Measurement("Pb", 200.0, "mg/kg", 90.0, "fail")
    refused(dataclasses.replace(RESULT, measurements=(failing,)), r"report passes but measurements\[0\] \(Pb\) fails")
    refused(dataclasses.replace(RESULT, issued_at=RESULT.tested_at - timedelta(seconds=1)), "issued before its test")
    refused(dataclasses.replace(RESULT, report_version=0), "report_version: must be >= 1")


def test_a_production_needs_inputs_and_outputs_and_no_batch_on_both_sides():
    refused(dataclasses.replace(PRODUCTION, inputs=()), "at least one input")
    refused(dataclasses.replace(PRODUCTION, outputs=()), "at least one output")
    own = (InputLot(PRODUCTION.outputs[0].batch_id, 1.0, "kg"),)
    refused(dataclasses.replace(PRODUCTION, inputs=own), "is its own input")
    twice = PRODUCTION.inputs[:1] * 2
    refused(dataclasses.replace(PRODUCTION, inputs=twice), "listed twice")


def test_countries_are_iso_codes_and_lab_validity_is_an_interval():
    refused(dataclasses.replace(SHIPMENT, to_country="de"), "to_country: expected an ISO 3166 alpha-2 code")
    refused(dataclasses.replace(LAB, valid_until=LAB.valid_from), "valid_until: must be after valid_from")
