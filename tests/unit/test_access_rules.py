"""The access rules (``traceability.access``): one decision per test group, on plain values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from traceability.access import (
    PUBLIC,
    Parties,
    Principal,
    Withheld,
    may_read_batch,
    may_read_report,
    org_recall,
    org_trace,
    principal_problem,
    verification_jurisdiction,
    within,
    write_refusal,
)
from traceability.events import InputLot, LabResult, Shipment
from traceability.scope import Affected, Completeness, Link, Production, Recall, Related, Report, Trace, totals

pytestmark = pytest.mark.unit

LAB = Principal("p-lab", "lab", lab_id="LAB-A")
ORG = Principal("p-org", "org", org_id="ORG-A")
REG = Principal("p-reg", "regulator", regulator_id="REG-DE")
ADMIN = Principal("p-admin", "admin")
T = datetime(2026, 11, 20, tzinfo=UTC)


# -- principals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("principal", [LAB, ORG, REG, ADMIN])
def test_a_principal_bound_to_its_own_party_is_well_formed(principal: Principal) -> None:
    assert principal_problem(principal) is None


@pytest.mark.parametrize(("principal", "problem"), [
    (Principal("p", "lab"), "a lab principal names its lab"),
    (Principal("p", "org", lab_id="LAB-A"), "an org principal names its org"),
    (Principal("p", "regulator", regulator_id="R", org_id="O"), "a regulator principal names its regulator"),
    (Principal("p", "admin", org_id="O"), "an admin principal names no lab, org or regulator"),
    (Principal("p", "public"), "role 'public' is not one of lab, org, regulator, admin"),
])
def test_a_principal_bound_wrongly_is_refused_with_the_reason(principal: Principal, problem: str) -> None:
    assert principal_problem(principal) == problem


# -- writes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("principal", "item"), [
    (LAB, {"type": "lab_result", "lab_id": "LAB-A"}),
    (ORG, {"type": "production", "org_id": "ORG-A"}),
    (ORG, {"type": "shipment", "from_org": "ORG-A", "to_org": "ORG-B"}),
    (ADMIN, {"type": "lab", "lab_id": "LAB-A"}),
    (ADMIN, {"type": "shipment", "from_org": "ORG-Z"}),
    # malformed in what names the party: the validator rejects it (and dead-letters it), as for anyone
    (LAB, {"type": "lab_result"}),
    (ORG, {"type": "shipment", "from_org": 7}),
    (LAB, {"type": "no such kind"}),
    (LAB, ["not", "an", "object"]),
    (ORG, {"type": [], "org_id": "ORG-B"}),  # found by the fuzzing: an unhashable kind was a 500
])
def test_a_party_may_publish_as_itself(principal: Principal, item: object) -> None:
    assert write_refusal(principal, item) is None


@pytest.mark.parametrize(("principal", "item", "reason"), [
    (LAB, {"type": "lab_result", "lab_id": "LAB-B"}, "LAB-A publishes lab results only as itself, not as 'LAB-B'"),
    (ORG, {"type": "production", "org_id": "ORG-B"}, "ORG-A publishes production only as itself, not as 'ORG-B'"),
    (ORG, {"type": "shipment", "from_org": "ORG-B", "to_org": "ORG-A"},
     "ORG-A publishes shipments only from itself, not as 'ORG-B'"),
    (LAB, {"type": "shipment", "from_org": "LAB-A"}, "a lab does not publish shipments"),
    (ORG, {"type": "lab_result", "lab_id": "ORG-A"}, "an org does not publish lab results"),
    (REG, {"type": "production", "org_id": "REG-DE"}, "a regulator does not publish production"),
    (LAB, {"type": "lab", "lab_id": "LAB-A"}, "registry entries are published by an admin"),
    (ORG, {"type": "organisation", "org_id": "ORG-A"}, "registry entries are published by an admin"),
    (PUBLIC, {"type": "lab_result", "lab_id": "LAB-A"}, "publishing needs a credential"),
])
def test_a_write_as_somebody_else_is_refused_with_the_reason(principal: Principal, item: object, reason: str) -> None:
    assert write_refusal(principal, item) == reason


# -- reads --------------------------------------------------------------------------------------


def test_an_area_holds_itself_and_its_subdivisions_only() -> None:
    assert within("CN-ZJ", ["CN"]) and within("CN", ["CN"]) and within("CN-ZJ", ["CN-ZJ"])
    assert not within("CN", ["CN-ZJ"]) and not within("CNX", ["CN"]) and not within("DE", ["CN", "FR"])
    assert not within("DE", [""])


@pytest.mark.parametrize(("parties", "readable"), [
    (Parties(made_by=frozenset({"ORG-A"})), True),
    (Parties(shipped_by=frozenset({"ORG-A"})), True),
    (Parties(received_by=frozenset({"ORG-A"})), True),
    (Parties(made_by=frozenset({"ORG-B"}), received_by=frozenset({"ORG-C"})), False),
    (Parties(), False),
])
def test_an_org_reads_batches_it_made_shipped_or_received(parties: Parties, readable: bool) -> None:
    assert may_read_batch(ORG, parties) is readable


@pytest.mark.parametrize(("parties", "jurisdiction", "readable"), [
    (Parties(made_in=frozenset({"DE"})), ("DE",), True),
    (Parties(shipped_to=frozenset({"DE"})), ("DE",), True),
    (Parties(made_in=frozenset({"CN", "CN-ZJ"})), ("CN-ZJ",), True),
    (Parties(made_in=frozenset({"CN", "CN-JS"})), ("CN-ZJ",), False),
    (Parties(made_in=frozenset({"CN"}), shipped_to=frozenset({"FR"})), ("DE",), False),
    (Parties(made_in=frozenset({"DE"})), (), False),  # a regulator without a registry record reads nothing
])
def test_a_regulator_reads_what_was_made_in_or_shipped_into_its_jurisdiction(
        parties: Parties, jurisdiction: tuple[str, ...], readable: bool) -> None:
    assert may_read_batch(REG, parties, jurisdiction) is readable


def test_labs_and_the_public_read_no_batch_and_an_admin_reads_every_one() -> None:
    everything = Parties(made_by=frozenset({"LAB-A"}), made_in=frozenset({"DE"}), shipped_to=frozenset({"DE"}))
    assert not may_read_batch(LAB, everything, ("DE",))
    assert not may_read_batch(PUBLIC, everything, ("DE",))
    assert may_read_batch(ADMIN, Parties())


def test_a_lab_reads_its_own_reports_whatever_the_batch_and_others_by_their_batch() -> None:
    assert may_read_report(LAB, "LAB-A", batch_readable=False)
    assert not may_read_report(LAB, "LAB-B", batch_readable=True)
    assert may_read_report(ORG, "LAB-B", batch_readable=True)
    assert not may_read_report(ORG, "LAB-B", batch_readable=False)


def test_a_regulator_verifies_for_its_own_jurisdiction_unless_it_asks_for_another() -> None:
    assert verification_jurisdiction(REG, None) == "REG-DE"
    assert verification_jurisdiction(REG, "CN-ZJ") == "CN-ZJ"
    assert verification_jurisdiction(ORG, None) is None


# -- an org's share of an answer ------------------------------------------------------------------


def _report(batch: str) -> Report:
    version = LabResult(f"ev-{batch}", f"R-{batch}", 1, "LAB-A", batch, "S", "M", "fail", T, T, ())
    return Report(version, (), True)


def _ship(event: str, batch: str, sender: str, recipient: str, quantity: float, country: str) -> Shipment:
    return Shipment(event, f"S-{event}", batch, quantity, "ea", sender, recipient, "somewhere", country, T)


def _link(parent: str, child: str, org: str) -> Link:
    return Link(f"p-{child}", parent, child, 1.0, "kg", f"P-{child}", 10.0, "ea", org, "site", T)


def _production(batch: str, org: str) -> Production:
    return Production(f"p-{batch}", batch, f"P-{batch}", 10.0, "ea", org, "site", T, (InputLot("X", 1.0, "kg"),))


def test_an_orgs_trace_shows_other_parties_batches_as_id_depth_and_status_and_counts_what_it_leaves_out() -> None:
    # ORG-A made TOY from PIGMENT (made by ORG-P); ORG-A shipped TOY to ORG-B and ORG-C shipped it on.
    trace = Trace(
        batch_id="TOY", as_of=None, status="failed_upstream", risk_sources=("PIGMENT",),
        production=_production("TOY", "ORG-A"),
        upstream=(Related("PIGMENT", 1, "failed", "P-PIGMENT"), Related("RESIN", 2, "passed", "P-RESIN")),
        downstream=(Related("BOX", 1, "untested", "P-BOX"),),
        links=(_link("PIGMENT", "TOY", "ORG-A"), _link("RESIN", "PIGMENT", "ORG-P")),
        reports=(_report("PIGMENT"), _report("TOY")),
        shipments=(_ship("s1", "TOY", "ORG-A", "ORG-B", 5, "DE"), _ship("s2", "TOY", "ORG-B", "ORG-C", 3, "FR")),
        completeness=Completeness(),
    )
    mine, withheld = org_trace(trace, "ORG-A", {"TOY"}.__contains__)
    assert [(r.batch_id, r.depth, r.status, r.product_id) for r in mine.upstream] == [
        ("PIGMENT", 1, "failed", ""), ("RESIN", 2, "passed", "")]
    assert [(r.batch_id, r.product_id) for r in mine.downstream] == [("BOX", "")]
    assert [link.child for link in mine.links] == ["TOY"]
    assert [r.current.batch_id for r in mine.reports] == ["TOY"]
    assert [s.event_id for s in mine.shipments] == ["s1"]
    assert mine.production == trace.production and mine.risk_sources == ("PIGMENT",) and mine.status == trace.status
    assert withheld == Withheld(batches=3, productions=1, shipments=1, reports=1)


def test_an_orgs_recall_keeps_quantities_and_totals_of_its_own_shipments_only() -> None:
    shipments = (_ship("s1", "TOY", "ORG-A", "ORG-B", 5, "DE"), _ship("s2", "BOX", "ORG-B", "ORG-C", 3, "DE"),
                 _ship("s3", "BOX", "ORG-C", "ORG-A", 2, "FR"))
    by_country, by_recipient = totals(shipments)
    recall = Recall(
        batch_id="TOY", as_of=None, status="failed", risk_sources=("TOY",),
        affected=(Affected("TOY", 0, "failed", "P-TOY", 10.0, "ea"),
                  Affected("BOX", 1, "untested", "P-BOX", 4.0, "ea")),
        productions=(_production("TOY", "ORG-A"), _production("BOX", "ORG-B")),
        shipments=shipments, by_country=by_country, by_recipient=by_recipient,
        reports=(_report("TOY"),), completeness=Completeness(),
    )
    mine, withheld = org_recall(recall, "ORG-A", {"TOY"}.__contains__)
    assert mine.affected == (Affected("TOY", 0, "failed", "P-TOY", 10.0, "ea"),
                             Affected("BOX", 1, "untested", "", None, ""))
    assert [p.batch_id for p in mine.productions] == ["TOY"]
    assert [s.event_id for s in mine.shipments] == ["s1", "s3"]  # sent by it, and received by it
    assert [(t.key, t.quantity) for t in mine.by_country] == [("DE", 5.0), ("FR", 2.0)]
    assert [(t.key, t.quantity) for t in mine.by_recipient] == [("ORG-B", 5.0), ("ORG-A", 2.0)]
    assert withheld == Withheld(batches=1, productions=1, shipments=1, reports=0)


def test_an_org_is_told_of_gaps_in_the_chain_but_not_which_labs_tested_or_what_others_shipped() -> None:
    theirs = Report(LabResult("ev-P", "R-P", 1, "LAB-UNREG", "PIGMENT", "S", "M", "fail", T, T, ()), (), False)
    gaps = Completeness(unsourced_batches=("PIGMENT",), shipped_without_production=("PIGMENT", "TOY"),
                        unregistered_labs=("LAB-UNREG",))
    trace = Trace(batch_id="TOY", as_of=None, status="at_risk", risk_sources=("PIGMENT",), production=None,
                  upstream=(Related("PIGMENT", 1, "failed", "P-PIGMENT"),), downstream=(), links=(),
                  reports=(theirs,), shipments=(), completeness=gaps)
    mine, _ = org_trace(trace, "ORG-A", {"TOY"}.__contains__)
    assert mine.completeness == Completeness(unsourced_batches=("PIGMENT",), shipped_without_production=("TOY",))
    recall = Recall(batch_id="TOY", as_of=None, status="at_risk", risk_sources=("PIGMENT",), affected=(),
                    productions=(), shipments=(), by_country=(), by_recipient=(), reports=(theirs,),
                    completeness=gaps)
    assert org_recall(recall, "ORG-A", {"TOY"}.__contains__)[0].completeness == mine.completeness
    assert org_trace(trace, "ORG-P", {"TOY", "PIGMENT"}.__contains__)[0].completeness == gaps  # its own lab's
