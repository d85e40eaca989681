"""The demo's supply chain: toy factories in Yiwu, small enough to read, shaped like the real thing.

Resin, pigment and plasticiser lots from three suppliers go into moulded components (car
bodies, wheels, doll heads, bricks), the components into three toys, and the toys to retailers
in seven countries. Two registered labs test lead (GB 6675.4-2014, soluble Pb) and phthalates
(GB/T 22048-2015); one red pigment lot fails for lead, so every car made with it is at risk.
One report comes from a lab that is not in the registry, which the answers flag.

The registry holds the accreditation body CNAS (an ILAC MRA signatory for testing since
2001-01-31), the two labs as v2 records (a CNAS accreditation whose scope is the two methods, and
a CMA qualification; no signing keys: the demo signs elsewhere), two regulators: Zhejiang's
market regulator (recognises CNAS, requires CMA) and a German one (recognises any MRA signatory),
and the chain's organisations with where they are: the three Yiwu makers (``CN``, ``CN-ZJ``) and the
seven importers they ship to, so a batch's place of making follows from its production's org.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from traceability.events import Event, InputLot, Lab, LabResult, Measurement, OutputLot, Production, Shipment, Verdict
from traceability.registry import (
    Accreditation,
    AccreditationBody,
    Organisation,
    Period,
    Qualification,
    Regulator,
    StatusChange,
)

#: The lots the demo prints: a finished toy to trace, and the failing lot to recall.
TOY_TO_TRACE = "TOY-CAR-2611-01"
FAILED_LOT = "PIG-RED-2610-07"

_LEAD = ("Pb (soluble)", "mg/kg", 90.0, "GB 6675.4-2014")
_PHTHALATES = ("DEHP+DBP+BBP", "%", 0.1, "GB/T 22048-2015")


def yiwu_toys(start: datetime) -> list[Event]:
    """The demo chain's events in causal order, timed from ``start`` (one day per stage)."""
    at = _Stages(start)
    return [
        *_authorities(start),
        *_organisations(start),
        _lab("lab-ev-cti", "LAB-CTI-YW", "Yiwu Product Testing Centre", "L1234", at.day(0), start,
             "91330782MA28C0XX1A", "义乌市产品质量检验所", "2021110234U"),
        _lab("lab-ev-nbt", "LAB-NBT-NB", "Ningbo Toy Safety Laboratory", "L5678", at.day(0), start,
             "91330201MA2GXX5N7B", "宁波市玩具安全检测实验室", "2020110567F"),
        # Moulding: raw lots -> components (kg in, pieces out).
        _make("prd-body-01", "ORG-YW-MOULD", "Yiwu Jiangdong moulding shop 2", at.day(1),
              {"RESIN-ABS-2610-01": 420.0, FAILED_LOT: 6.5}, "BODY-2611-01", "CAR-BODY-RED", 12_000),
        _make("prd-body-02", "ORG-YW-MOULD", "Yiwu Jiangdong moulding shop 2", at.day(1),
              {"RESIN-ABS-2610-02": 380.0, FAILED_LOT: 5.8}, "BODY-2611-02", "CAR-BODY-RED", 11_000),
        _make("prd-wheel-01", "ORG-YW-MOULD", "Yiwu Jiangdong moulding shop 3", at.day(1),
              {"RESIN-PP-2610-04": 150.0, "PIG-BLK-2610-02": 2.0}, "WHEEL-2611-01", "CAR-WHEEL-BLK", 48_000),
        _make("prd-head-01", "ORG-YW-VINYL", "Yiwu Futian vinyl works", at.day(1),
              {"RESIN-PVC-2610-03": 90.0, "PLST-DINP-2610-05": 35.0, "PIG-SKN-2610-03": 1.2},
              "HEAD-2611-01", "DOLL-HEAD", 9_000),
        _make("prd-brick-01", "ORG-YW-MOULD", "Yiwu Jiangdong moulding shop 1", at.day(1),
              {"RESIN-ABS-2610-02": 300.0, "PIG-YLW-2610-04": 4.0}, "BRICK-2611-01", "BRICK-2X4-YLW", 150_000),
        # Assembly: components -> toys.
        _make("prd-car-01", "ORG-YW-TOYS", "Yiwu Happy Toys assembly line A", at.day(2),
              {"BODY-2611-01": 6_000, "WHEEL-2611-01": 24_000}, TOY_TO_TRACE, "SKU-CAR-RED", 6_000, in_unit="ea"),
        _make("prd-car-02", "ORG-YW-TOYS", "Yiwu Happy Toys assembly line A", at.day(2),
              {"BODY-2611-01": 6_000, "BODY-2611-02": 5_000, "WHEEL-2611-01": 24_000}, "TOY-CAR-2611-02",
              "SKU-CAR-RED", 11_000, in_unit="ea"),
        _make("prd-doll-01", "ORG-YW-TOYS", "Yiwu Happy Toys assembly line B", at.day(2),
              {"HEAD-2611-01": 9_000}, "TOY-DOLL-2611-01", "SKU-DOLL-30CM", 9_000, in_unit="ea"),
        _make("prd-set-01", "ORG-YW-TOYS", "Yiwu Happy Toys packing hall", at.day(2),
              {"BRICK-2611-01": 150_000}, "TOY-BRICKS-2611-01", "SKU-BRICKS-300", 500, unit="box", in_unit="ea"),
        # Lab reports on raw lots and components.
        _report("RPT-CTI-0001", "LAB-CTI-YW", "RESIN-ABS-2610-01", _LEAD, 12.0, at.day(3)),
        _report("RPT-CTI-0002", "LAB-CTI-YW", FAILED_LOT, _LEAD, 135.0, at.day(3)),
        _report("RPT-CTI-0003", "LAB-CTI-YW", "PIG-BLK-2610-02", _LEAD, 8.0, at.day(3)),
        _report("RPT-NBT-0101", "LAB-NBT-NB", "PLST-DINP-2610-05", _PHTHALATES, 0.02, at.day(3)),
        _report("RPT-NBT-0102", "LAB-NBT-NB", "HEAD-2611-01", _PHTHALATES, 0.04, at.day(3)),
        _report("RPT-QT-7781", "LAB-QUICKTEST", "WHEEL-2611-01", _LEAD, 20.0, at.day(3)),
        _report("RPT-CTI-0004", "LAB-CTI-YW", "BRICK-2611-01", _LEAD, 5.0, at.day(3)),
        # Shipments of the finished toys.
        _ship("SHP-2611-001", TOY_TO_TRACE, 2_400, "ea", "ORG-DE-SPIELWAREN", "Hamburg DC", "DE", at.day(4)),
        _ship("SHP-2611-002", TOY_TO_TRACE, 1_800, "ea", "ORG-FR-JOUETS", "Lyon DC", "FR", at.day(4)),
        _ship("SHP-2611-003", TOY_TO_TRACE, 1_800, "ea", "ORG-US-TOYMART", "Newark NJ DC", "US", at.day(5)),
        _ship("SHP-2611-004", "TOY-CAR-2611-02", 5_000, "ea", "ORG-US-TOYMART", "Ontario CA DC", "US", at.day(5)),
        _ship("SHP-2611-005", "TOY-CAR-2611-02", 3_000, "ea", "ORG-GB-PLAYTIME", "Daventry DC", "GB", at.day(5)),
        _ship("SHP-2611-006", "TOY-CAR-2611-02", 3_000, "ea", "ORG-JP-OMOCHA", "Osaka DC", "JP", at.day(6)),
        _ship("SHP-2611-007", "TOY-DOLL-2611-01", 4_500, "ea", "ORG-AU-KIDSCO", "Sydney DC", "AU", at.day(6)),
        _ship("SHP-2611-008", "TOY-DOLL-2611-01", 4_500, "ea", "ORG-NL-SPEELGOED", "Rotterdam DC", "NL", at.day(6)),
        _ship("SHP-2611-009", "TOY-BRICKS-2611-01", 500, "box", "ORG-DE-SPIELWAREN", "Hamburg DC", "DE", at.day(6)),
    ]


def _authorities(start: datetime) -> list[Event]:
    """CNAS and two regulators, registered at ``start`` (before the labs)."""
    return [
        AccreditationBody("ab-cnas", "CNAS", "China National Accreditation Service for Conformity Assessment", "CN",
                          (Period(datetime(2001, 1, 31, tzinfo=UTC), None),), start),
        Regulator("reg-samr-zj", "SAMR-ZJ", "Zhejiang Administration for Market Regulation", ("CN-ZJ",), False,
                  ("CNAS",), ("CMA",), start),
        Regulator("reg-de-baua", "DE-BAuA", "Federal Institute for Occupational Safety and Health (BAuA)", ("DE",),
                  True, (), (), start),
    ]


def _organisations(start: datetime) -> list[Event]:
    """The orgs the chain's productions and shipments name, registered at ``start`` (before they act)."""
    makers = ("manufacturer",)
    importers = ("importer", "retailer")
    return [
        _org("ORG-YW-MOULD", "Yiwu Jiangdong Plastic Moulding Co., Ltd.", "CN", "CN-ZJ", makers, start),
        _org("ORG-YW-VINYL", "Yiwu Futian Vinyl Works", "CN", "CN-ZJ", makers, start),
        _org("ORG-YW-TOYS", "Yiwu Happy Toys Co., Ltd.", "CN", "CN-ZJ", ("manufacturer", "brand"), start),
        _org("ORG-DE-SPIELWAREN", "Spielwaren Nord GmbH", "DE", "DE-HH", importers, start),
        _org("ORG-FR-JOUETS", "Jouets Rhône SAS", "FR", "FR-ARA", importers, start),
        _org("ORG-US-TOYMART", "ToyMart Inc.", "US", "", importers, start),  # DCs in NJ and CA: no one state
        _org("ORG-GB-PLAYTIME", "Playtime Retail Ltd", "GB", "GB-ENG", importers, start),
        _org("ORG-JP-OMOCHA", "Omocha Kansai K.K.", "JP", "JP-27", ("importer", "distributor"), start),
        _org("ORG-AU-KIDSCO", "KidsCo Pty Ltd", "AU", "AU-NSW", importers, start),
        _org("ORG-NL-SPEELGOED", "Speelgoed Rotterdam B.V.", "NL", "NL-ZH", ("importer", "distributor"), start),
    ]


def _org(org_id: str, name: str, country: str, subdivision: str, roles: tuple[str, ...],
         registered: datetime) -> Organisation:
    event_id = f"org-ev-{org_id.removeprefix('ORG-').lower()}"
    return Organisation(event_id, org_id, name, country, subdivision, roles, registered)


def _lab(event_id: str, lab_id: str, name: str, number: str, registered: datetime, start: datetime,
         legal_id: str, local_name: str, cma: str) -> Lab:
    """A registered demo lab: its v1 fields and the same CNAS accreditation as a v2 record, plus CMA."""
    methods = (_LEAD[3], _PHTHALATES[3])
    since, until = start - timedelta(days=365), start + timedelta(days=730)
    accreditation = Accreditation("CNAS", f"CNAS {number}", since, until, (StatusChange("granted", since),), methods,
                                  (_LEAD[0], _PHTHALATES[0]), ("toys",))
    return Lab(event_id, lab_id, name, "CNAS", number, methods, "CN-ZJ", since, until, (), registered,
               legal_id, (local_name,), (accreditation,), (Qualification("CMA", cma, since, until),))


def _make(event_id: str, org: str, site: str, when: datetime, inputs: dict[str, float], output: str,
          product: str, quantity: float, unit: str = "ea", in_unit: str = "kg") -> Production:
    lots = tuple(InputLot(batch, qty, in_unit) for batch, qty in inputs.items())
    return Production(event_id, org, site, when, lots, (OutputLot(output, product, float(quantity), unit),))


def _report(report_id: str, lab: str, batch: str, test: tuple[str, str, float, str], value: float,
            when: datetime) -> LabResult:
    analyte, unit, limit, method = test
    verdict: Verdict = "fail" if value > limit else "pass"
    return LabResult(f"res-{report_id}", report_id, 1, lab, batch, f"S-{batch}", method, verdict,
                     when - timedelta(hours=4), when, (Measurement(analyte, value, unit, limit, verdict),))


def _ship(shipment_id: str, batch: str, quantity: float, unit: str, to_org: str, location: str, country: str,
          when: datetime) -> Shipment:
    return Shipment(f"ev-{shipment_id}", shipment_id, batch, float(quantity), unit, "ORG-YW-TOYS", to_org,
                    location, country, when)


class _Stages:
    def __init__(self, start: datetime) -> None:
        self._start = start
        self._n = 0

    def day(self, stage: int) -> datetime:
        """A time on the stage's day, a minute after the previous event (so the order is stable)."""
        self._n += 1
        return self._start + timedelta(days=stage, minutes=self._n)
