"""Semantic rules: each names the field it refuses."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tests.conftest import NOW
from tests.registry_samples import CAR, DOCUMENTS, MADE, RECEIVED, SHIPPED, TRACKED, YW_TOYS
from traceability.errors import InvalidEvent
from traceability.events import InputLot, Measurement, ReferenceDocument
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


# --- the official forms' fields (v2 tracking events, master data) ---------------------------------------


def test_tracking_events_name_their_locations_by_id_and_carry_at_most_two_known_reference_documents():
    for event in TRACKED:
        assert validate(event, NOW) is event
    refused(dataclasses.replace(SHIPPED, from_location="HH DC"), "from_location: only printable ASCII")
    refused(dataclasses.replace(MADE, location_id="x" * 129), "location_id: longer than 128")
    three = (*DOCUMENTS, ReferenceDocument("asn", "A-1"))
    refused(dataclasses.replace(SHIPPED, reference_documents=three), "reference_documents: at most 2, got 3")
    refused(dataclasses.replace(RECEIVED, reference_documents=(ReferenceDocument("fax", "1"),)),
            r"reference_documents\[0\].type: expected one of bill_of_lading, .*got 'fax'")
    refused(dataclasses.replace(MADE, reference_documents=(ReferenceDocument("work_order", " "),)),
            r"reference_documents\[0\].number: must not be empty")


@pytest.mark.parametrize("reference", ["FFRN 12345678901", "12345678901", "https://id.gs1.org/414/6901234000016",
                                       "https://brand.example.com/01/06901234567892/10/LOT-7"])
def test_a_source_reference_is_an_ffrn_or_a_gs1_digital_link(reference):
    assert validate(dataclasses.replace(MADE, tlc_source_reference=reference), NOW)


@pytest.mark.parametrize("reference", ["=HYPERLINK(1)", "FFRN 1234", "https://example.com/lot/7", "ftp://x/414/1"])
def test_any_other_source_reference_is_refused(reference):
    refused(dataclasses.replace(MADE, tlc_source_reference=reference), "tlc_source_reference: expected an FDA Food")


def test_a_receiving_names_its_receiver_and_where_and_comes_from_someone_else():
    refused(dataclasses.replace(RECEIVED, location_id=""), "location_id: must not be empty")
    refused(dataclasses.replace(RECEIVED, from_org=RECEIVED.to_org), "does not receive from itself")
    refused(dataclasses.replace(RECEIVED, quantity=0.0), r"receiving.quantity: must be > 0")
    refused(dataclasses.replace(RECEIVED, occurred_at=NOW + timedelta(days=2)), "occurred_at: .* is in the future")


def test_locations_and_products_carry_valid_codes_and_places():
    [assembly, packing] = YW_TOYS.locations
    def org_with(*places):
        return dataclasses.replace(YW_TOYS, locations=places)
    assert validate(CAR, NOW) is CAR and validate(YW_TOYS, NOW) is YW_TOYS
    refused(org_with(dataclasses.replace(assembly, gln="6901234000017")), r"locations\[0\].gln: a GLN is 13 digits")
    refused(org_with(assembly, dataclasses.replace(packing, location_id=assembly.location_id)),
            r"locations\[1\].location_id: 'YW-ASSEMBLY' listed twice")
    refused(org_with(dataclasses.replace(packing, longitude=None)), "coordinates need both latitude and longitude")
    refused(org_with(dataclasses.replace(packing, latitude=91.0)), "coordinates out of range")
    refused(org_with(dataclasses.replace(assembly, country="cn")), r"locations\[0\].country: expected an ISO 3166-1")
    refused(dataclasses.replace(CAR, gtin="6901234567893"), "gtin: a GTIN is 8, 12, 13 or 14 digits")
    refused(dataclasses.replace(CAR, name=" "), "name: must not be empty")
    assert validate(dataclasses.replace(CAR, gtin="96385074"), NOW)  # a GTIN-8
