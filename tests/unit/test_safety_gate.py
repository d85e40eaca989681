"""The Safety Gate notification draft of a batch, filled from a hand-built chain.

The chain: a red pigment lot PIG-1 (no production record: a raw material) fails lead in two reports,
one from an accredited lab and one from a registered lab with no accreditation. It goes into car
bodies (BODY-1, never shipped), and the bodies into two consumer products made in China: a car
(CAR-1, made at a registered location) and a truck (TRUCK-1, product without a GTIN, production
naming no location). The car goes to a German importer, which ships part of it on to a shop in
Germany (a distributor with coordinates for an address and no phone, which also records the
receiving); the truck goes to the same importer and to a French importer that is not in the
registry. The maker also moves cars to its own warehouse, which is no placing on the market.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from traceability.events import (
    InputLot,
    Lab,
    LabResult,
    Measurement,
    OutputLot,
    Production,
    Receiving,
    Shipment,
    Verdict,
)
from traceability.registry import (
    Accreditation,
    AccreditationBody,
    Location,
    Organisation,
    Period,
    Product,
    StatusChange,
)
from traceability.safety_gate import (
    DRAFT,
    LEFT_TO_AUTHORITY,
    Address,
    Batch,
    FailingReport,
    Missing,
    Notification,
    NotifiedProduct,
    Party,
    Quantity,
    ReportAccreditation,
    draft,
    risk_type,
)
from traceability.scope import Completeness, Standing, Total, Trace, current_reports
from traceability.tracking import Request, TrackingRecords

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
AS_OF = T0 + 10 * DAY
NOW = T0 + 20 * DAY

CNAS = AccreditationBody("ab-cnas", "CNAS", "China National Accreditation Service for Conformity Assessment", "CN",
                         (Period(datetime(2001, 1, 31, tzinfo=UTC), None),), T0 - 100 * DAY)
LAB_A = Lab("lab-ev-a", "LAB-A", "Yiwu Testing Centre", "CNAS", "CNAS L1234", ("GB 6675.4-2014",), "CN-ZJ",
            T0 - 365 * DAY, T0 + 365 * DAY, (), T0 - 100 * DAY)
LAB_U = Lab("lab-ev-u", "LAB-U", "QuickTest Ltd", "", "", (), "CN-ZJ", T0, T0, (), T0 - 100 * DAY)  # no accreditation
LABS = {"LAB-A": LAB_A, "LAB-U": LAB_U}
BODIES = {"CNAS": CNAS}

LINE_A = Location("LOC-A", "Assembly line A", "CN", street="8 Factory Road", city="Yiwu", region="Zhejiang",
                  postal_code="322000")
HAMBURG = Location("LOC-HH", "Hamburg DC", "DE", street="Kaistraße 1", city="Hamburg", region="Hamburg",
                   postal_code="20457")
MUNICH = Location("LOC-MUC", "Munich store", "DE", latitude=48.1374, longitude=11.5755, city="München",
                  region="Bayern")
TOYS = Organisation("org-ev-toys", "ORG-TOYS", "Happy Toys Co., Ltd.", "CN", "CN-ZJ", ("manufacturer", "brand"),
                    T0 - 50 * DAY, phone="+86 579 8555 0101", locations=(LINE_A,))
MOULD = Organisation("org-ev-mould", "ORG-MOULD", "Jiangdong Moulding", "CN", "CN-ZJ", ("manufacturer",),
                     T0 - 50 * DAY, phone="+86 579 8555 0202")
DE_IMP = Organisation("org-ev-de-imp", "ORG-DE-IMP", "Spielwaren Nord GmbH", "DE", "DE-HH", ("importer",),
                      T0 - 50 * DAY, phone="+49 40 555 0101", locations=(HAMBURG,))
DE_SHOP = Organisation("org-ev-de-shop", "ORG-DE-SHOP", "Spielzeugladen München", "DE", "DE-BY", ("retailer",),
                       T0 - 50 * DAY, locations=(MUNICH,))
ORGS = {o.org_id: o for o in (TOYS, MOULD, DE_IMP, DE_SHOP)}  # ORG-FR-IMP is not registered

CAR = Product("prd-ev-car", "SKU-CAR", "ORG-TOYS", "Red racing car", T0 - 50 * DAY, brand="Happy Racer",
              packaging_size="1 car, 14 cm", packaging_style="window box", gtin="06901234567892", category="toys",
              model="HR-14", description="Red plastic racing car with black wheels, 14 cm")
TRUCK = Product("prd-ev-truck", "SKU-TRUCK", "ORG-TOYS", "Red dump truck", T0 - 50 * DAY, brand="Happy Racer",
                packaging_size="1 truck, 20 cm", packaging_style="blister card", category="toys", model="HR-20",
                description="Red plastic dump truck, 20 cm")  # no GTIN
PRODUCTS = {"SKU-CAR": CAR, "SKU-TRUCK": TRUCK}

P_BODY = Production("prd-body", "ORG-MOULD", "moulding shop 2", T0 + DAY,
                    (InputLot("PIG-1", 6.5, "kg"), InputLot("RESIN-1", 400.0, "kg")),
                    (OutputLot("BODY-1", "CAR-BODY", 12_000.0, "ea"),))
P_CAR = Production("prd-car", "ORG-TOYS", "assembly line A", T0 + 2 * DAY, (InputLot("BODY-1", 6_000.0, "ea"),),
                   (OutputLot("CAR-1", "SKU-CAR", 6_000.0, "ea"),), location_id="LOC-A")
P_TRUCK = Production("prd-truck", "ORG-TOYS", "assembly line B", T0 + 2 * DAY, (InputLot("BODY-1", 6_000.0, "ea"),),
                     (OutputLot("TRUCK-1", "SKU-TRUCK", 6_000.0, "ea"),))  # names no location


def ship(sid: str, batch: str, quantity: float, from_org: str, to_org: str, to_location: str, country: str,
         day: int, from_location: str = "", to_location_id: str = "") -> Shipment:
    return Shipment(f"ev-{sid}", sid, batch, quantity, "ea", from_org, to_org, to_location, country, T0 + day * DAY,
                    from_location, to_location_id)


S1 = ship("S1", "CAR-1", 600.0, "ORG-TOYS", "ORG-DE-IMP", "Hamburg DC", "DE", 4, "LOC-A", "LOC-HH")
S2 = ship("S2", "CAR-1", 200.0, "ORG-DE-IMP", "ORG-DE-SHOP", "Munich store", "DE", 6, "LOC-HH", "LOC-MUC")  # onward
S3 = ship("S3", "TRUCK-1", 300.0, "ORG-TOYS", "ORG-FR-IMP", "Lyon DC", "FR", 4)
S4 = ship("S4", "TRUCK-1", 100.0, "ORG-TOYS", "ORG-DE-IMP", "Hamburg DC", "DE", 5, "", "LOC-HH")
S5 = ship("S5", "CAR-1", 1_000.0, "ORG-TOYS", "ORG-TOYS", "Yiwu warehouse", "CN", 3)  # its own warehouse
SHIPMENTS = (S5, S1, S3, S4, S2)
R1 = Receiving("ev-R1", "R1", "CAR-1", 200.0, "ea", "ORG-DE-IMP", "ORG-DE-SHOP", "LOC-MUC", T0 + 7 * DAY, "LOC-HH",
               "S2")


def result(report: str, lab: str, batch: str, method: str, verdict: Verdict, *measurements: Measurement,
           version: int = 1) -> LabResult:
    return LabResult(f"res-{report}-v{version}", report, version, lab, batch, f"S-{batch}", method, verdict,
                     T0 + 2 * DAY, T0 + 3 * DAY, measurements)


LEAD_FAIL = Measurement("Pb (soluble)", 135.0, "mg/kg", 90.0, "fail")
CADMIUM_PASS = Measurement("Cd (soluble)", 3.0, "mg/kg", 75.0, "pass")
RPT_A = result("RPT-A", "LAB-A", "PIG-1", "GB 6675.4-2014", "fail", LEAD_FAIL, CADMIUM_PASS)
RPT_U = result("RPT-U", "LAB-U", "PIG-1", "EN 71-3:2019+A1:2021", "fail",
               Measurement("Pb", 40.0, "mg/kg", 23.0, "fail"))
RPT_R = result("RPT-R", "LAB-A", "RESIN-1", "GB 6675.4-2014", "pass", Measurement("Pb (soluble)", 9.0, "mg/kg", 90.0,
                                                                                   "pass"))
A_JUDGED = Standing("authentic", "accredited", "fail")
U_JUDGED = Standing("unsigned", "accreditation_inactive", "fail")


def chain(results: tuple[LabResult, ...] = (RPT_A, RPT_U, RPT_R), standings: dict[str, Standing] | None = None,
          sources: tuple[str, ...] = ("PIG-1",), shipments: tuple[Shipment, ...] = SHIPMENTS,
          made: dict[str, Production] | None = None, organisations: dict[str, Organisation] | None = None,
          products: dict[str, Product] | None = None) -> tuple[Trace, TrackingRecords]:
    """The trace and the recall scope's tracking records of PIG-1, with the parts a test changes."""
    judged = {RPT_A.event_id: A_JUDGED, RPT_U.event_id: U_JUDGED} if standings is None else standings
    reports = current_reports(results, LABS, judged)
    made = {"BODY-1": P_BODY, "CAR-1": P_CAR, "TRUCK-1": P_TRUCK} if made is None else made
    lots = tuple(sorted({"PIG-1", *made, *(s.batch_id for s in shipments)}))
    trace = Trace("PIG-1", AS_OF, "failed", sources, None, (), (), (), reports, (), Completeness())
    records = TrackingRecords(Request("recall", batch_id="PIG-1"), AS_OF, lots, tuple(made.values()), shipments,
                              (R1,), made, ORGS if organisations is None else organisations,
                              PRODUCTS if products is None else products)
    return trace, records


def drafted(**changes: Any) -> Notification:
    return draft(*chain(**changes), LABS, BODIES, NOW)


# --- the header ---------------------------------------------------------------------------------------------


def test_the_header_names_the_batch_its_status_when_it_was_known_and_that_it_is_a_draft():
    n = drafted()
    assert (n.batch_id, n.status, n.as_of, n.generated_at) == ("PIG-1", "failed", AS_OF, NOW)
    assert n.nature == DRAFT == "draft for the notifying authority"


def test_the_measures_and_the_legal_requirement_are_left_to_the_authority():
    n = drafted()
    assert n.measures == n.risk.legal_requirements == LEFT_TO_AUTHORITY == "left to the notifying authority"


# --- the product --------------------------------------------------------------------------------------------


def test_a_failing_raw_material_is_notified_through_the_consumer_products_made_from_it():
    n = drafted()
    assert [p.product_id for p in n.products] == ["SKU-CAR", "SKU-TRUCK"]
    assert {b for p in n.products for b in p.batch_numbers} == {"CAR-1", "TRUCK-1"}  # not PIG-1, not BODY-1


def test_each_product_carries_its_registered_master_data_its_batches_origin_and_what_was_shipped():
    car, truck = drafted().products
    assert car == NotifiedProduct(
        "SKU-CAR", True, "toys", "Red racing car", "Happy Racer", "HR-14", "06901234567892",
        "Red plastic racing car with black wheels, 14 cm", "1 car, 14 cm", "window box",
        (Batch("CAR-1", "CN", "ORG-TOYS", (Quantity("ea", 600.0, 1),)),), (Quantity("ea", 600.0, 1),))
    assert truck == NotifiedProduct(
        "SKU-TRUCK", True, "toys", "Red dump truck", "Happy Racer", "HR-20", "", "Red plastic dump truck, 20 cm",
        "1 truck, 20 cm", "blister card",
        (Batch("TRUCK-1", "CN", "ORG-TOYS", (Quantity("ea", 400.0, 2),)),), (Quantity("ea", 400.0, 2),))
    assert (car.batch_numbers, car.countries_of_origin) == (("CAR-1",), ("CN",))


def test_the_country_of_origin_is_the_production_locations_else_the_makers_registered_country():
    abroad = dataclasses.replace(LINE_A, country="VN")
    toys = dataclasses.replace(TOYS, locations=(abroad,))
    car, truck = drafted(organisations={**ORGS, "ORG-TOYS": toys}).products
    assert car.batches[0].country_of_origin == "VN"  # made at LOC-A, now registered in Vietnam
    assert truck.batches[0].country_of_origin == "CN"  # its production names no location: the maker's country


def test_a_lot_made_by_an_unregistered_maker_at_no_known_place_has_no_known_origin_but_its_exports_still_count():
    n = drafted(organisations={k: v for k, v in ORGS.items() if k != "ORG-TOYS"})
    assert [b.country_of_origin for p in n.products for b in p.batches] == ["", ""]
    assert [p.org_id for p in n.traceability.with_role("importer")] == ["ORG-DE-IMP", "ORG-FR-IMP"]
    assert Missing("product", "CAR-1", "country of origin not known") in n.missing
    assert Missing("traceability", "ORG-TOYS", "manufacturer, exporter not in the registry: name, address and phone "
                   "not known") in n.missing


def test_a_product_not_in_the_registry_and_a_lot_without_a_production_record_are_named_in_the_missing_list():
    kit = ship("S9", "KIT-1", 50.0, "ORG-TOYS", "ORG-DE-IMP", "Hamburg DC", "DE", 5)
    n = drafted(shipments=(*SHIPMENTS, kit), products={"SKU-CAR": CAR})
    assert [p.product_id for p in n.products] == ["SKU-CAR", "SKU-TRUCK", ""]
    truck, unknown = n.products[1:]
    assert truck == NotifiedProduct("SKU-TRUCK", False, "", "", "", "", "", "", "", "", truck.batches, truck.shipped)
    assert unknown.batches == (Batch("KIT-1", "", "", (Quantity("ea", 50.0, 1),)),)
    assert n.missing[:2] == (
        Missing("product", "SKU-TRUCK", "not in the registry: its name, category, brand, model, barcode, description "
                "and packaging are not known"),
        Missing("product", "KIT-1", "no production record: its product, manufacturer and country of origin are not "
                "known"),
    )


def test_a_registered_product_without_master_data_has_each_gap_named():
    bare = Product("prd-ev-truck", "SKU-TRUCK", "ORG-TOYS", "Red dump truck", T0)
    n = drafted(products={"SKU-CAR": CAR, "SKU-TRUCK": bare})
    assert [m.element for m in n.missing if m.subject == "SKU-TRUCK"] == [
        "no category", "no brand", "no model or type", "no barcode (GTIN)", "no description", "no packaging"]


def test_nothing_shipped_to_another_organisation_means_no_product_is_known_to_be_on_the_market():
    n = drafted(shipments=(S5,))
    assert n.products == () and n.traceability.destinations == ()
    assert n.missing[0] == Missing("product", "PIG-1", "no lot of the recall scope was shipped to another "
                                   "organisation: no product is known to be on the market")


# --- traceability -------------------------------------------------------------------------------------------


def test_destinations_count_what_reached_each_country_once_not_the_onward_shipments_or_own_transfers():
    assert drafted().traceability.destinations == (Total("DE", "ea", 700.0, 2), Total("FR", "ea", 300.0, 1))


def test_the_parties_are_the_maker_and_exporter_the_importers_and_the_distributor_each_with_contact_details():
    parties = drafted().traceability.parties
    assert parties == (
        Party("ORG-TOYS", True, "Happy Toys Co., Ltd.", ("manufacturer", "exporter"), "+86 579 8555 0101", "CN",
              Address("LOC-A", "Assembly line A", "8 Factory Road", "Yiwu", "Zhejiang", "322000", "CN")),
        Party("ORG-DE-IMP", True, "Spielwaren Nord GmbH", ("importer",), "+49 40 555 0101", "DE",
              Address("LOC-HH", "Hamburg DC", "Kaistraße 1", "Hamburg", "Hamburg", "20457", "DE")),
        Party("ORG-FR-IMP", False, "", ("importer",), "", "FR", None),
        Party("ORG-DE-SHOP", True, "Spielzeugladen München", ("distributor",), "", "DE",
              Address("LOC-MUC", "Munich store", "48.1374, 11.5755", "München", "Bayern", "", "DE")),
    )


def test_parties_are_listed_by_role():
    t = drafted().traceability
    assert [p.org_id for p in t.with_role("manufacturer")] == ["ORG-TOYS"]
    assert [p.org_id for p in t.with_role("exporter")] == ["ORG-TOYS"]
    assert [p.org_id for p in t.with_role("importer")] == ["ORG-DE-IMP", "ORG-FR-IMP"]
    assert [p.org_id for p in t.with_role("distributor")] == ["ORG-DE-SHOP"]


def test_a_re_export_from_a_destination_is_a_destination_of_its_own_and_its_recipient_a_distributor():
    on = ship("S6", "CAR-1", 50.0, "ORG-DE-IMP", "ORG-AT-SHOP", "Wien", "AT", 7, "LOC-HH")
    n = drafted(shipments=(*SHIPMENTS, on))
    assert Total("AT", "ea", 50.0, 1) in n.traceability.destinations
    assert [p.org_id for p in n.traceability.with_role("distributor")] == ["ORG-AT-SHOP", "ORG-DE-SHOP"]
    assert [p.org_id for p in n.traceability.with_role("exporter")] == ["ORG-TOYS"]  # DE is not the origin
    assert n.products[0].shipped == (Quantity("ea", 650.0, 2),)


def test_a_receiving_alone_makes_its_receiver_a_distributor_with_the_receiving_location_for_an_address():
    n = drafted(shipments=(S5, S1, S3, S4))  # the shop's receiving stays, the shipment to it is not recorded
    [shop] = n.traceability.with_role("distributor")
    assert (shop.org_id, shop.address) == ("ORG-DE-SHOP", _address_of(MUNICH))
    assert n.traceability.destinations == (Total("DE", "ea", 700.0, 2), Total("FR", "ea", 300.0, 1))


def test_a_party_named_at_a_location_it_never_registered_has_no_address_and_says_so():
    moved = dataclasses.replace(DE_IMP, locations=())
    n = drafted(organisations={**ORGS, "ORG-DE-IMP": moved})
    [importer] = [p for p in n.traceability.parties if p.org_id == "ORG-DE-IMP"]
    assert (importer.address, importer.country) == (None, "DE")
    assert Missing("traceability", "ORG-DE-IMP", "importer: address not known (no registered location of it is "
                   "named by the events)") in n.missing


# --- the risk -----------------------------------------------------------------------------------------------


def test_the_risk_is_each_counting_failing_report_on_the_failing_lot_with_its_lab_and_accreditation():
    risk = drafted().risk
    assert risk.sources == ("PIG-1",)
    assert risk.reports == (
        FailingReport("PIG-1", "RPT-A", 1, "res-RPT-A-v1", "LAB-A", "Yiwu Testing Centre", True, "GB 6675.4-2014",
                      "Chemical", T0 + 2 * DAY, T0 + 3 * DAY, (LEAD_FAIL,),
                      ReportAccreditation("CNAS", CNAS.name, "CNAS L1234", "granted", True, True), A_JUDGED),
        FailingReport("PIG-1", "RPT-U", 1, "res-RPT-U-v1", "LAB-U", "QuickTest Ltd", True, "EN 71-3:2019+A1:2021",
                      "Chemical", T0 + 2 * DAY, T0 + 3 * DAY, (Measurement("Pb", 40.0, "mg/kg", 23.0, "fail"),),
                      None, U_JUDGED),
    )
    assert [r.accredited for r in risk.reports] == [True, False]  # the unaccredited lab's fail still counts
    assert risk.risk_types == ("Chemical",)
    assert risk.standards_not_met == ("EN 71-3:2019+A1:2021", "GB 6675.4-2014")


def test_a_report_issued_while_the_accreditation_was_suspended_shows_the_suspension_and_is_not_accredited():
    since = T0 - 365 * DAY
    suspended = Accreditation("CNAS", "CNAS L1234", since, T0 + 365 * DAY,
                              (StatusChange("granted", since), StatusChange("suspended", T0)), ("GB 6675.4-2014",),
                              (), ())
    labs = {**LABS, "LAB-A": dataclasses.replace(LAB_A, accreditations=(suspended,))}
    n = draft(*chain(), labs, BODIES, NOW)
    assert n.risk.reports[0].accreditation == ReportAccreditation("CNAS", CNAS.name, "CNAS L1234", "suspended",
                                                                  False, True)
    assert not n.risk.reports[0].accredited


def test_a_lab_not_in_the_registry_leaves_its_name_and_accreditation_unknown():
    n = draft(*chain(), {"LAB-A": LAB_A}, BODIES, NOW)
    unknown = n.risk.reports[1]
    assert (unknown.lab_name, unknown.lab_registered, unknown.accreditation) == ("", False, None)
    assert Missing("risk", "LAB-U/RPT-U", "lab LAB-U not in the registry: its name and accreditation are not known"
                   ) in n.missing


def test_an_accreditation_body_not_in_the_registry_is_named_in_the_missing_list():
    n = draft(*chain(), LABS, {}, NOW)
    accreditation = n.risk.reports[0].accreditation
    assert accreditation is not None and accreditation.body_name == ""
    assert Missing("risk", "LAB-A/RPT-A", "accreditation body CNAS not in the registry") in n.missing


def test_a_method_outside_the_table_gives_no_risk_type_and_leaves_it_to_the_authority():
    odd = result("RPT-A", "LAB-A", "PIG-1", "In-house method 7", "fail", LEAD_FAIL)
    n = drafted(results=(odd,), standings={})
    assert (n.risk.reports[0].risk_type, n.risk.risk_types) == ("", ())
    assert n.risk.reports[0].standing == Standing("pending", "pending", "")  # not judged yet
    assert Missing("risk", "LAB-A/RPT-A", "risk type not known for method 'In-house method 7': for the authority "
                   "to assess") in n.missing


def test_a_forged_fail_is_no_evidence_and_a_risk_source_without_evidence_is_named():
    forged = {RPT_A.event_id: Standing("altered", "accredited", ""), RPT_U.event_id: U_JUDGED}
    n = drafted(standings=forged, sources=("PIG-1", "PIG-2"))
    assert [r.report_id for r in n.risk.reports] == ["RPT-U"]
    assert n.missing[-1] == Missing("risk", "PIG-2", "no failing report on it that counts")


def test_a_report_superseded_by_a_pass_is_no_longer_a_failing_report():
    cleared = result("RPT-A", "LAB-A", "PIG-1", "GB 6675.4-2014", "pass", version=2)
    n = drafted(results=(RPT_A, cleared, RPT_U), standings={RPT_U.event_id: U_JUDGED})
    assert [r.report_id for r in n.risk.reports] == ["RPT-U"]


def test_a_fail_verdict_without_a_failing_measurement_says_so():
    bare = result("RPT-A", "LAB-A", "PIG-1", "GB 6675.4-2014", "fail", CADMIUM_PASS)
    n = drafted(results=(bare,), standings={})
    assert n.risk.reports[0].failures == ()
    assert n.missing[-1] == Missing("risk", "LAB-A/RPT-A", "no failing measurement recorded")


# --- what the chain does not know ---------------------------------------------------------------------------


def test_the_missing_list_names_exactly_the_gaps_of_the_chain():
    assert drafted().missing == (
        Missing("product", "SKU-TRUCK", "no barcode (GTIN)"),
        Missing("traceability", "ORG-FR-IMP", "importer not in the registry: name, address and phone not known"),
        Missing("traceability", "ORG-DE-SHOP", "distributor: phone not known"),
    )


# --- the risk type table ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "expected"), [
    ("GB 6675.4-2014", "Chemical"),
    ("GB/T 22048-2015", "Chemical"),
    ("EN 71-3:2019+A1:2021", "Chemical"),
    ("DIN EN 71-3:2019", "Chemical"),
    ("en  71-3", "Chemical"),
    ("EN 71-12:2016", "Chemical"),
    ("ISO 8124-3:2020", "Chemical"),
    ("EN 14372:2004", "Chemical"),
    ("ASTM F963-17 §4.3.5.2", "Chemical"),
    ("CPSC-CH-C1001-09.4", "Chemical"),
    ("ASTM F963-17 §4.5", ""),  # sound-producing toys: not the chemical section
    ("ASTM F963-17", ""),  # the whole standard says no one risk
    ("EN 71-31", ""),  # no such part; not EN 71-3
    ("GB 6675.41-2014", ""),
    ("EN 71-1:2014", ""),  # mechanical and physical: too many risks for one type
    ("In-house method 7", ""),
    ("", ""),
])
def test_the_risk_type_comes_from_the_standard_number_without_its_year(method, expected):
    assert risk_type(method) == expected


def _address_of(place: Location) -> Address:
    return Address(place.location_id, place.name, place.address_or_coordinates(), place.city, place.region,
                   place.postal_code, place.country)
