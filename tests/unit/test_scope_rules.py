"""The rules of trace and recall answers, and the regulator's spreadsheet, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traceability import fsma
from traceability.events import InputLot, LabResult, Measurement, Shipment
from traceability.scope import Affected, Production, Recall, completeness, current_reports, totals

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def version(report: str, v: int, verdict: str, lab: str = "LAB-1", event: str | None = None) -> LabResult:
    return LabResult(event or f"{report}-v{v}-{verdict}", report, v, lab, "LOT-1", "S-1", "GB 6675.4-2014", verdict,
                     T0, T0 + timedelta(hours=v), (Measurement("Pb", 1.0, "mg/kg", 90.0, "pass"),))


def shipment(sid: str, batch: str, country: str, to_org: str, quantity: float, unit: str = "ea") -> Shipment:
    return Shipment(f"ev-{sid}", sid, batch, quantity, unit, "ORG-1", to_org, "DC", country, T0)


def test_the_highest_version_of_a_report_counts_and_the_others_are_listed_newest_first():
    [report] = current_reports([version("R", 1, "fail"), version("R", 3, "pass"), version("R", 2, "withdrawn")],
                               ["LAB-1"])
    assert (report.current.report_version, report.current.verdict) == (3, "pass")
    assert [v.report_version for v in report.superseded] == [2, 1]
    assert report.lab_registered


def test_at_equal_versions_a_fail_wins_and_a_repeated_event_counts_once():
    same = version("R", 1, "pass", event="e1")
    [report] = current_reports([same, same, version("R", 1, "fail", event="e2")], [])
    assert report.current.verdict == "fail" and [v.event_id for v in report.superseded] == ["e1"]
    assert not report.lab_registered


def test_completeness_names_unsourced_batches_unproduced_shipments_and_unregistered_labs():
    reports = current_reports([version("R", 1, "pass", lab="LAB-X")], ["LAB-1"])
    flags = completeness(["A", "B", "C"], produced=["B"], shipped=["C", "B"], reports=reports)
    assert flags.unsourced_batches == ("A", "C")
    assert flags.shipped_without_production == ("C",)
    assert flags.unregistered_labs == ("LAB-X",)
    assert not flags.complete
    assert completeness(["B"], ["B"], ["B"], current_reports([version("R", 1, "pass")], ["LAB-1"])).complete


def test_totals_add_up_per_country_and_recipient_keeping_units_apart_largest_first():
    by_country, by_recipient = totals([
        shipment("S1", "A", "DE", "ORG-A", 10), shipment("S2", "B", "DE", "ORG-B", 5),
        shipment("S3", "A", "US", "ORG-A", 30), shipment("S4", "A", "DE", "ORG-A", 2, unit="box"),
    ])
    assert [(t.key, t.unit, t.quantity, t.shipments) for t in by_country] == [
        ("US", "ea", 30, 1), ("DE", "ea", 15, 2), ("DE", "box", 2, 1)]
    assert [(t.key, t.unit, t.quantity) for t in by_recipient] == [
        ("ORG-A", "ea", 40), ("ORG-B", "ea", 5), ("ORG-A", "box", 2)]


def recall_of(productions: list[Production], shipments: list[Shipment]) -> Recall:
    lots = {p.batch_id for p in productions} | {s.batch_id for s in shipments}
    affected = tuple(Affected(b, i, "at_risk", "SKU", 1.0, "ea") for i, b in enumerate(sorted(lots)))
    return Recall("A", None, "failed", ("A",), affected, tuple(productions), tuple(shipments), (), (), (),
                  completeness([], [], [], []))


def test_the_spreadsheet_has_one_row_per_tracking_event_by_date_with_every_key_data_element():
    made = Production("prd-1", "B", "SKU-B", 100.0, "ea", "ORG-1", "Yiwu", T0,
                      (InputLot("A", 2.5, "kg"), InputLot("Z", 1.0, "kg")))
    later = shipment("S1", "B", "DE", "ORG-R", 40)
    later = Shipment(later.event_id, later.shipment_id, "B", 40.0, "ea", "ORG-1", "ORG-R", "Hamburg", "DE",
                     T0 + timedelta(days=1))
    rows = list(fsma.rows(recall_of([made], [later])))
    assert [dict(zip(fsma.HEADER, r, strict=True))["event_type"] for r in rows] == ["transformation", "shipping"]
    first, second = (dict(zip(fsma.HEADER, r, strict=True)) for r in rows)
    assert first["input_lots"] == "A (2.5 kg); Z (1 kg)" and first["reference_document_number"] == "prd-1"
    assert (second["ship_to_country"], second["quantity"], second["event_date"]) == ("DE", 40.0, "2026-11-02T00:00:00Z")
    assert len(fsma.HEADER) == len(fsma.COLUMNS) == len(rows[0])


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(start):
    assert fsma.neutralised(f"{start}SUM(A1)") == f"'{start}SUM(A1)"
    assert fsma.neutralised(-3.5) == -3.5  # numbers are numbers, never formulas
    assert fsma.neutralised("LOT-1=2") == "LOT-1=2"


@given(st.lists(st.text(min_size=1, max_size=12), min_size=4, max_size=4))
def test_no_text_cell_of_the_spreadsheet_can_start_a_formula(texts):
    org, location, batch, product = texts
    made = Production("prd-1", batch, product, 1.0, "ea", org, location, T0, (InputLot(texts[0], 1.0, "kg"),))
    ship = Shipment("ev", location, batch, 1.0, "ea", org, org, location, "DE", T0)
    for row in fsma.rows(recall_of([made], [ship])):
        for cell in row:
            assert not (isinstance(cell, str) and cell.startswith(("=", "+", "-", "@", "\t", "\r")))
