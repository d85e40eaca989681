"""Registry entries for tests: a body, two regulators, a v2 lab with every nested record, a v1 lab,
two organisations (one with a subdivision, roles, a phone and two locations, one with none of them),
a product with every field, a signed lab result, and tracking events with every v2 field set (a
production, a shipment, a receiving). Times are relative to ``tests.conftest.NOW``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from tests.conftest import NOW
from traceability.events import (
    InputLot,
    Lab,
    LabResult,
    Measurement,
    OutputLot,
    Production,
    Receiving,
    ReferenceDocument,
    Shipment,
)
from traceability.registry import (
    Accreditation,
    AccreditationBody,
    Location,
    Organisation,
    Period,
    Product,
    Qualification,
    Regulator,
    SigningKey,
    StatusChange,
)

DAY = timedelta(days=1)
#: RFC 8037 A.2's public key (the x of its A.1 private key).
JWK = '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}'

CNAS = AccreditationBody("ab-cnas", "CNAS", "China National Accreditation Service for Conformity Assessment", "CN",
                         (Period(datetime(2001, 1, 31, tzinfo=UTC), None),), NOW - 30 * DAY)
DAKKS = AccreditationBody("ab-dakks", "DAkkS", "Deutsche Akkreditierungsstelle", "DE",
                          (Period(datetime(2010, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)),),
                          NOW - 30 * DAY)
SAMR_ZJ = Regulator("reg-samr-zj", "SAMR-ZJ", "Zhejiang Administration for Market Regulation", ("CN-ZJ",), False,
                    ("CNAS",), ("CMA",), NOW - 20 * DAY)
BAUA = Regulator("reg-de-baua", "DE-BAuA", "Federal Institute for Occupational Safety and Health", ("DE",), True, (),
                 (), NOW - 20 * DAY)
ACCREDITATION = Accreditation(
    "CNAS", "CNAS L1234", NOW - 365 * DAY, NOW + 365 * DAY,
    (StatusChange("granted", NOW - 365 * DAY), StatusChange("suspended", NOW - 40 * DAY),
     StatusChange("granted", NOW - 35 * DAY)),
    ("GB 6675.4-2014", "GB/T 22048-2015"), ("Pb (soluble)",), ("toys",),
)
KEY = SigningKey("LAB-CTI-YW-1a2b3c4d", JWK, NOW - 100 * DAY, None, None, "")
OLD_KEY = SigningKey("LAB-CTI-YW-0f0f0f0f", JWK.replace("11qY", "22qY"), NOW - 400 * DAY, NOW - 100 * DAY,
                     NOW - 150 * DAY, "laptop stolen")
LAB_V2 = Lab(
    "lab-ev-cti-2", "LAB-CTI-YW", "Yiwu Product Testing Centre", "CNAS", "CNAS L1234",
    ACCREDITATION.methods, "CN-ZJ", ACCREDITATION.valid_from, ACCREDITATION.valid_until, (), NOW - 10 * DAY,
    "91330782MA28C0XX1A", ("义乌市产品质量检验所",), (ACCREDITATION,),
    (Qualification("CMA", "2021110234U", NOW - 300 * DAY, NOW + 700 * DAY),), (KEY, OLD_KEY),
)
LAB_V1 = Lab("lab-ev-nbt-1", "LAB-NBT-NB", "Ningbo Toy Safety Laboratory", "CNAS", "L5678", ("GB 6675.4-2014",),
             "CN-ZJ", NOW - 365 * DAY, NOW + 365 * DAY, ("bm90LWEta2V5",), NOW - 50 * DAY)
YW_TOYS = Organisation("org-ev-yw-toys", "ORG-YW-TOYS", "Yiwu Happy Toys Co., Ltd.", "CN", "CN-ZJ",
                       ("manufacturer", "brand"), NOW - 20 * DAY, "+86 579 8555 0101", (
                           Location("YW-ASSEMBLY", "Assembly plant", "CN", "6901234000016", "88 Chouzhou North Road",
                                    29.3061, 120.0751, "Yiwu", "Zhejiang", "322000"),
                           Location("YW-PACKING", "Packing hall", "CN", city="Yiwu", region="Zhejiang",
                                    latitude=29.31, longitude=120.08),
                       ))
SPIELWAREN = Organisation("org-ev-de-spielwaren", "ORG-DE-SPIELWAREN", "Spielwaren Nord GmbH", "DE", "", (),
                          NOW - 20 * DAY)
CAR = Product("prod-ev-car", "SKU-CAR-RED", "ORG-YW-TOYS", "Red racing car", NOW - 20 * DAY, "Happy Toys",
              "toy vehicle", "die-cast body", "1 car, 14 cm", "window box", "6901234567892", "toys", "HT-RC-14",
              "Red plastic racing car with black wheels")
REGISTRY = (CNAS, DAKKS, SAMR_ZJ, BAUA, LAB_V2, LAB_V1, YW_TOYS, SPIELWAREN, CAR)

RESULT = LabResult("res-RPT-1", "RPT-1", 1, "LAB-CTI-YW", "PIG-RED-1", "S-1", "GB 6675.4-2014", "fail",
                   NOW - 2 * DAY, NOW - DAY, (Measurement("Pb (soluble)", 135.0, "mg/kg", 90.0, "fail"),))
SIGNED = dataclasses.replace(RESULT, credential="eyJhbGciOiJFZERTQSJ9.eyJpZCI6InJlcy0xIn0.c2lnbmF0dXJl")

DOCUMENTS = (ReferenceDocument("bill_of_lading", "BL-2611-0042"), ReferenceDocument("invoice", "INV-88123"))
MADE = Production("prd-ev-car-1", "ORG-YW-TOYS", "assembly line A", NOW - 10 * DAY,
                  (InputLot("BODY-1", 6000.0, "ea"), InputLot("WHEEL-1", 24000.0, "ea")),
                  (OutputLot("TOY-CAR-1", "SKU-CAR-RED", 6000.0, "ea"),),
                  "YW-ASSEMBLY", "FFRN 12345678901", (ReferenceDocument("work_order", "WO-2611-07"),))
SHIPPED = Shipment("shp-ev-1", "SHP-1", "TOY-CAR-1", 2400.0, "ea", "ORG-YW-TOYS", "ORG-DE-SPIELWAREN", "Hamburg DC",
                   "DE", NOW - 8 * DAY, "YW-PACKING", "DE-HH-DC", DOCUMENTS)
RECEIVED = Receiving("rcv-ev-1", "RCV-1", "TOY-CAR-1", 2380.0, "ea", "ORG-YW-TOYS", "ORG-DE-SPIELWAREN", "DE-HH-DC",
                     NOW - 2 * DAY, "YW-PACKING", "SHP-1", (ReferenceDocument("asn", "ASN-77"),))
#: A tracking event of each kind with every field set (locations, a source reference, reference documents).
TRACKED = (MADE, SHIPPED, RECEIVED)
