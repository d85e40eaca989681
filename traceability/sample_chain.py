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
and the chain's organisations with where they are: the three Yiwu makers (``CN``, ``CN-ZJ``), the
pigment supplier and the seven importers they ship to, so a batch's place of making follows from its
production's org.

It carries the master data of the official forms (FSMA 204's sortable spreadsheet, an EU Safety Gate
notification): every organisation's phone and locations (addresses, most with a GLN; the pigment
supplier's by coordinates), the components and toys as registered products (the toys with GTINs),
where each production happened and its work order, each shipment's ship-from and ship-to locations
with its bill of lading and invoice, and receivings: the moulding shop receiving the red pigment lot
from its supplier, and four importers receiving their shipments (one counts ten cars fewer than
shipped). The raw lots have no production records, as their suppliers do not publish: the forms
state those gaps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from traceability.events import (
    Event,
    InputLot,
    Lab,
    LabResult,
    Measurement,
    OutputLot,
    Production,
    Receiving,
    ReferenceDocument,
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
        *_products(start),
        _lab("lab-ev-cti", "LAB-CTI-YW", "Yiwu Product Testing Centre", "L1234", at.day(0), start,
             "91330782MA28C0XX1A", "义乌市产品质量检验所", "2021110234U"),
        _lab("lab-ev-nbt", "LAB-NBT-NB", "Ningbo Toy Safety Laboratory", "L5678", at.day(0), start,
             "91330201MA2GXX5N7B", "宁波市玩具安全检测实验室", "2020110567F"),
        _receive("GRN-MOULD-2610-31", FAILED_LOT, 12.5, "kg", "ORG-YW-COLOUR", "COLOUR-PLANT", "ORG-YW-MOULD",
                 "MOULD-SHOP-2", at.day(0), "", ("receipt", "GRN-MOULD-2610-31"), ("invoice", "YRP-INV-26-1088")),
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
        # The importers that publish their receivings (the Hamburg one counts ten cars fewer).
        _receive("WE-HH-26-4471", TOY_TO_TRACE, 2_390, "ea", "ORG-YW-TOYS", "WAREHOUSE", "ORG-DE-SPIELWAREN", "HH-DC",
                 at.day(7), "SHP-2611-001", ("asn", "ASN-YW-2611-001"), ("receipt", "WE-HH-26-4471")),
        _receive("REC-LYO-8812", TOY_TO_TRACE, 1_800, "ea", "ORG-YW-TOYS", "WAREHOUSE", "ORG-FR-JOUETS", "LYON-DC",
                 at.day(7), "SHP-2611-002", ("bill_of_lading", "BL-YW-2611-002")),
        _receive("GRN-DAV-30017", "TOY-CAR-2611-02", 3_000, "ea", "ORG-YW-TOYS", "WAREHOUSE", "ORG-GB-PLAYTIME",
                 "DAVENTRY-DC", at.day(7), "SHP-2611-005", ("asn", "ASN-YW-2611-005")),
        _receive("WE-HH-26-4502", "TOY-BRICKS-2611-01", 500, "box", "ORG-YW-TOYS", "WAREHOUSE", "ORG-DE-SPIELWAREN",
                 "HH-DC", at.day(8), "SHP-2611-009", ("asn", "ASN-YW-2611-009")),
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
    """The orgs the chain's events name, with phones and locations, registered at ``start`` (before they act)."""
    makers = ("manufacturer",)
    importers = ("importer", "retailer")
    return [
        _org("ORG-YW-MOULD", "Yiwu Jiangdong Plastic Moulding Co., Ltd.", "CN", "CN-ZJ", makers, start,
             "+86 579 8555 0201",
             _yiwu("MOULD-SHOP-1", "Jiangdong moulding shop 1", "6901234000023", "18 Jiangdong Middle Road"),
             _yiwu("MOULD-SHOP-2", "Jiangdong moulding shop 2", "6901234000030", "20 Jiangdong Middle Road"),
             _yiwu("MOULD-SHOP-3", "Jiangdong moulding shop 3", "6901234000047", "22 Jiangdong Middle Road")),
        _org("ORG-YW-VINYL", "Yiwu Futian Vinyl Works", "CN", "CN-ZJ", makers, start, "+86 579 8555 0301",
             _yiwu("VINYL-WORKS", "Futian vinyl works", "6901234000054", "260 Futian Road")),
        _org("ORG-YW-COLOUR", "Yiwu Rainbow Pigments Co., Ltd.", "CN", "CN-ZJ", ("supplier",), start,
             "+86 579 8555 0401",
             Location("COLOUR-PLANT", "Rainbow pigment plant", "CN", latitude=29.259, longitude=120.136, city="Yiwu",
                      region="Zhejiang", postal_code="322000")),
        _org("ORG-YW-TOYS", "Yiwu Happy Toys Co., Ltd.", "CN", "CN-ZJ", ("manufacturer", "brand", "exporter"), start,
             "+86 579 8555 0101",
             _yiwu("LINE-A", "Happy Toys assembly line A", "6901234000061", "88 Chouzhou North Road"),
             _yiwu("LINE-B", "Happy Toys assembly line B", "6901234000078", "88 Chouzhou North Road"),
             _yiwu("PACKING-HALL", "Happy Toys packing hall", "6901234000085", "90 Chouzhou North Road"),
             _yiwu("WAREHOUSE", "Happy Toys export warehouse", "6901234000092", "1 Chengbei Road")),
        _org("ORG-DE-SPIELWAREN", "Spielwaren Nord GmbH", "DE", "DE-HH", importers, start, "+49 40 7890 1200",
             Location("HH-DC", "Hamburg DC", "DE", "4012345000009", "Kornweide 20", city="Hamburg", region="Hamburg",
                      postal_code="21107")),
        _org("ORG-FR-JOUETS", "Jouets Rhône SAS", "FR", "FR-ARA", importers, start, "+33 4 72 00 31 00",
             Location("LYON-DC", "Lyon DC", "FR", "", "12 Rue de l'Industrie", city="Lyon",
                      region="Auvergne-Rhône-Alpes", postal_code="69007")),
        _org("ORG-US-TOYMART", "ToyMart Inc.", "US", "", importers, start, "+1 973 555 0140",  # no one state
             Location("NEWARK-DC", "Newark NJ DC", "US", "0614141000012", "400 Delancy Street", city="Newark",
                      region="NJ", postal_code="07105"),
             Location("ONTARIO-DC", "Ontario CA DC", "US", "0614141000029", "4100 E Mission Blvd", city="Ontario",
                      region="CA", postal_code="91761")),
        _org("ORG-GB-PLAYTIME", "Playtime Retail Ltd", "GB", "GB-ENG", importers, start, "+44 1327 555 010",
             Location("DAVENTRY-DC", "Daventry DC", "GB", "5012345000008", "Royal Oak Way South", city="Daventry",
                      region="Northamptonshire", postal_code="NN11 8PG")),
        _org("ORG-JP-OMOCHA", "Omocha Kansai K.K.", "JP", "JP-27", ("importer", "distributor"), start,
             "+81 6 6612 0100",
             Location("OSAKA-DC", "Osaka DC", "JP", "4912345000002", "1-2-3 Nanko-kita, Suminoe-ku", city="Osaka",
                      region="Osaka", postal_code="559-0034")),
        _org("ORG-AU-KIDSCO", "KidsCo Pty Ltd", "AU", "AU-NSW", importers, start, "+61 2 9555 0120",
             Location("SYDNEY-DC", "Sydney DC", "AU", "9312345000005", "15 Huntingwood Drive", city="Huntingwood",
                      region="NSW", postal_code="2148")),
        _org("ORG-NL-SPEELGOED", "Speelgoed Rotterdam B.V.", "NL", "NL-ZH", ("importer", "distributor"), start,
             "+31 10 555 0130",
             Location("ROTTERDAM-DC", "Rotterdam DC", "NL", "8712345000004", "Waalhaven Oostzijde 1", city="Rotterdam",
                      region="Zuid-Holland", postal_code="3087 BM")),
    ]


def _yiwu(location_id: str, name: str, gln: str, street: str) -> Location:
    return Location(location_id, name, "CN", gln, street, city="Yiwu", region="Zhejiang", postal_code="322000")


#: The ship-to location each importer's DC name in a shipment stands for.
_DC = {"Hamburg DC": "HH-DC", "Lyon DC": "LYON-DC", "Newark NJ DC": "NEWARK-DC", "Ontario CA DC": "ONTARIO-DC",
       "Daventry DC": "DAVENTRY-DC", "Osaka DC": "OSAKA-DC", "Sydney DC": "SYDNEY-DC", "Rotterdam DC": "ROTTERDAM-DC"}
#: The location each production site's name stands for.
_SITE = {"Yiwu Jiangdong moulding shop 1": "MOULD-SHOP-1", "Yiwu Jiangdong moulding shop 2": "MOULD-SHOP-2",
         "Yiwu Jiangdong moulding shop 3": "MOULD-SHOP-3", "Yiwu Futian vinyl works": "VINYL-WORKS",
         "Yiwu Happy Toys assembly line A": "LINE-A", "Yiwu Happy Toys assembly line B": "LINE-B",
         "Yiwu Happy Toys packing hall": "PACKING-HALL"}


def _products(start: datetime) -> list[Event]:
    """The components and toys the productions make, registered by their makers at ``start``."""
    def part(product_id: str, org: str, name: str, size: str, style: str, model: str) -> Product:
        return Product(f"prod-ev-{product_id.lower()}", product_id, org, name, start, commodity="moulded plastic part",
                       packaging_size=size, packaging_style=style, category="toy components", model=model)

    def toy(product_id: str, name: str, size: str, gtin: str, model: str, description: str) -> Product:
        return Product(f"prod-ev-{product_id.lower()}", product_id, "ORG-YW-TOYS", name, start, brand="Happy Toys",
                       packaging_size=size, packaging_style="window box", gtin=gtin, category="toys", model=model,
                       description=description)

    return [
        part("CAR-BODY-RED", "ORG-YW-MOULD", "Red car body, ABS", "500 pieces", "carton", "CB-14R"),
        part("CAR-WHEEL-BLK", "ORG-YW-MOULD", "Black car wheel, PP", "2,000 pieces", "carton", "CW-14B"),
        part("BRICK-2X4-YLW", "ORG-YW-MOULD", "Yellow brick 2x4, ABS", "5,000 pieces", "bag", "BR-24Y"),
        part("DOLL-HEAD", "ORG-YW-VINYL", "Doll head, PVC", "300 pieces", "carton", "DH-30"),
        toy("SKU-CAR-RED", "Red racing car", "1 car, 14 cm", "6901234567014", "HT-RC-14",
            "Red plastic racing car with four black wheels, 14 cm long, for children from 3 years"),
        toy("SKU-DOLL-30CM", "Fashion doll, 30 cm", "1 doll, 30 cm", "6901234567021", "HT-FD-30",
            "Vinyl fashion doll with rooted hair, 30 cm tall"),
        toy("SKU-BRICKS-300", "Building bricks, 300 pieces", "300 bricks", "6901234567038", "HT-BB-300",
            "Box of 300 plastic building bricks in four colours"),
    ]


def _org(org_id: str, name: str, country: str, subdivision: str, roles: tuple[str, ...],
         registered: datetime, phone: str = "", *locations: Location) -> Organisation:
    event_id = f"org-ev-{org_id.removeprefix('ORG-').lower()}"
    return Organisation(event_id, org_id, name, country, subdivision, roles, registered, phone, locations)


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
    order = ReferenceDocument("work_order", f"WO-{output}")
    return Production(event_id, org, site, when, lots, (OutputLot(output, product, float(quantity), unit),),
                      _SITE[site], reference_documents=(order,))


def _report(report_id: str, lab: str, batch: str, test: tuple[str, str, float, str], value: float,
            when: datetime) -> LabResult:
    analyte, unit, limit, method = test
    verdict: Verdict = "fail" if value > limit else "pass"
    return LabResult(f"res-{report_id}", report_id, 1, lab, batch, f"S-{batch}", method, verdict,
                     when - timedelta(hours=4), when, (Measurement(analyte, value, unit, limit, verdict),))


def _ship(shipment_id: str, batch: str, quantity: float, unit: str, to_org: str, location: str, country: str,
          when: datetime) -> Shipment:
    number = shipment_id.removeprefix("SHP-")
    documents = (ReferenceDocument("bill_of_lading", f"BL-YW-{number}"),
                 ReferenceDocument("invoice", f"INV-YW-{number}"))
    return Shipment(f"ev-{shipment_id}", shipment_id, batch, float(quantity), unit, "ORG-YW-TOYS", to_org,
                    location, country, when, "WAREHOUSE", _DC[location], documents)


def _receive(receipt_id: str, batch: str, quantity: float, unit: str, from_org: str, from_location: str, to_org: str,
             location: str, when: datetime, shipment_id: str, *documents: tuple[str, str]) -> Receiving:
    return Receiving(f"rcv-{receipt_id}", receipt_id, batch, float(quantity), unit, from_org, to_org, location, when,
                     from_location, shipment_id, tuple(ReferenceDocument(kind, number) for kind, number in documents))


class _Stages:
    def __init__(self, start: datetime) -> None:
        self._start = start
        self._n = 0

    def day(self, stage: int) -> datetime:
        """A time on the stage's day, a minute after the previous event (so the order is stable)."""
        self._n += 1
        return self._start + timedelta(days=stage, minutes=self._n)
