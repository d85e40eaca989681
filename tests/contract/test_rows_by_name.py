"""Rows are built by column name: the builders name exactly the DDL's columns, and rows built for a
reordered column list, inserted with that list, store every value under the same name.

The expected rows are written here by name from the samples (column = field, and a few renames),
sharing no code with ``sinks.rows``; every sample row has a distinct value in each column, so a
value under the wrong name cannot go unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import streams.closure
import streams.transparency
from schemas.closure_codec import ClosureCodec
from schemas.codec import AvroCodec
from sinks.ddl import statements
from sinks.rows import COLUMNS, Provenance, RowBatch, RowMapping, RowMismatch, new_batch, row_builder
from streams.closure import ClosureStore, Delivered
from streams.ingest import RawMessage
from streams.transparency import log_rows
from tests.contract.conftest import describe, select
from traceability.dead_letter import DeadLetter
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
from traceability.ledger import ReportArrived
from traceability.lineage import Edge, ResultSeen
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

pytestmark = pytest.mark.contract

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SRC = Provenance(3, 41, NOW, "sig-0451")
LETTER_SRC = Provenance(1, 7, NOW + timedelta(seconds=5))
LAB_RESULT = LabResult(
    "res-1", "RPT-1", 2, "LAB-7", "LOT-A", "S-1", "GB 6675.4-2014", "fail", NOW - 3 * DAY, NOW - 2 * DAY,
    (Measurement("Pb (soluble)", 120.5, "mg/kg", 90.0, "fail"), Measurement("Cd", 1.25, "µg/kg", None, "pass")),
    "eyJhbGciOiJFZERTQSJ9.eyJpZCI6InJlcy0xIn0.c2ln",
)
PRODUCTION = Production(
    "prd-1", "ORG-PLANT", "Ningbo line 2", NOW - 4 * DAY,
    (InputLot("LOT-IN-1", 25.5, "kg"), InputLot("LOT-IN-2", 3.0, "l")),
    (OutputLot("LOT-OUT-1", "TOY-DUCK", 400.0, "ea"), OutputLot("LOT-OUT-2", "TOY-FROG", 250.0, "box")),
    "NB-LINE-2", "FFRN 11122233344", (ReferenceDocument("work_order", "WO-7"), ReferenceDocument("batch_log", "BL-9")),
)
SHIPMENT = Shipment("shp-1", "SHP-1", "LOT-OUT-1", 120.0, "pcs", "ORG-PLANT", "ORG-SHOP", "Rotterdam", "NL", NOW - DAY,
                    "NB-DOCK", "RTM-DC", (ReferenceDocument("bill_of_lading", "BOL-55"),))
RECEIVING = Receiving("rcv-1", "RCV-1", "LOT-OUT-2", 118.0, "box", "ORG-CARRIER-SRC", "ORG-STORE", "STORE-3",
                      NOW - 5 * DAY, "SRC-WH", "SHP-0", (ReferenceDocument("asn", "ASN-12"),
                                                         ReferenceDocument("receipt", "RC-4")))
PRODUCT = Product("prod-ev-1", "TOY-DUCK", "ORG-BRAND", "Bath duck", NOW - 100 * DAY, "Quacky", "bath toy", "yellow",
                  "1 duck, 9 cm", "blister", "4006381333931", "toys", "QD-9", "A yellow rubber duck")
JWK = '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}'
LAB = Lab("lab-ev-1", "LAB-7", "Lab Seven", "CNAS", "L1234", ("GB 6675.4-2014", "EN 71-3"), "CN",
          NOW - 300 * DAY, NOW + 60 * DAY, ("key-a", "key-b"), NOW - 301 * DAY, "91330782MA2X0000Y1", ("第七实验室",),
          (Accreditation("CNAS", "CNAS L1234", NOW - 300 * DAY, NOW + 60 * DAY,
                         (StatusChange("granted", NOW - 300 * DAY), StatusChange("suspended", NOW - 10 * DAY)),
                         ("GB 6675.4-2014",), ("Pb",), ("toys",)),),
          (Qualification("CMA", "2021110234U", NOW - 200 * DAY, NOW + 100 * DAY),),
          (SigningKey("LAB-7-1a2b3c4d", JWK, NOW - 30 * DAY, None, NOW - DAY, "key compromised"),))
BODY = AccreditationBody("ab-cnas", "CNAS", "China National Accreditation Service", "CN",
                         (Period(NOW - 9000 * DAY, NOW - 5000 * DAY), Period(NOW - 4000 * DAY, None)), NOW - 400 * DAY)
REGULATOR = Regulator("reg-1", "SAMR-ZJ", "Zhejiang AMR", ("CN-ZJ", "CN-SH"), True, ("CNAS", "HKAS"), ("CMA",),
                      NOW - 500 * DAY)
ORGANISATION = Organisation("org-ev-1", "ORG-YW-TOYS", "Yiwu Happy Toys", "CN", "CN-ZJ", ("manufacturer", "brand"),
                            NOW - 450 * DAY, "+86 579 8555 0101",
                            (Location("YW-A", "Assembly", "CN", "6901234000016", "88 Chouzhou Rd", 29.3, 120.07, "Yiwu",
                                      "Zhejiang", "322000"),))
LETTER = DeadLetter(b'{"kind": "shipment", "event_id": "shp-9"', "quantity: must be > 0", "worker",
                    NOW - timedelta(hours=1), "lt.shipments", 2, 9, "shipment", "shp-9")
CYCLE = "lineage cycle: LOT-A -> LOT-B -> LOT-A (edge prd-ba rejected)"
LOG_ENTRY = b'{"kid":"LAB-7-1a2b3c4d","kind":"key_registered","lab_id":"LAB-7"}'



def built(mapping: RowMapping) -> RowBatch:
    """The rows of the samples (events, a dead letter, closure facts) built by ``mapping``."""
    batch = new_batch()
    for event in (LAB_RESULT, PRODUCTION, SHIPMENT, RECEIVING, LAB, BODY, REGULATOR, ORGANISATION, PRODUCT):
        mapping.add_event(batch, event, SRC)
    mapping.add_reject(batch, LETTER, LETTER_SRC)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(streams.closure, "add_row", mapping.add_row)
        patch.setattr(streams.transparency, "add_row", mapping.add_row)
        for table, rows in _closure_rows().items():
            batch[table] += rows
        record = b"\n".join([b"{}", b'{"a":1}', b'{"b":2}', LOG_ENTRY])  # the sample is a record's fourth entry
        for table, rows in log_rows([RawMessage(record, "t.log", 0, 17)], NOW).items():
            batch[table] += rows[3:]
    return batch


def _closure_rows() -> RowBatch:
    """A failed lot, its child put at risk, and an edge refused as a cycle, through the closure step."""
    store, codec = ClosureStore(), ClosureCodec()
    store.reset(0, 0)
    first = store.apply([Delivered(0, 0, Edge("LOT-A", "LOT-B", "prd-ab", b"ab")),
                         Delivered(0, 1, ResultSeen("LOT-A", "RPT-1", 1, "fail"))], NOW, codec, "t")
    then = [*first.updates, Edge("LOT-B", "LOT-A", "prd-ba", b"ba")]
    second = store.apply([Delivered(0, 2 + i, m) for i, m in enumerate(then)], NOW, codec, "t")
    # A report whose credential does not read: judged signature_invalid, changing nothing else.
    third = store.apply([Delivered(0, 5, ReportArrived("LOT-A", AvroCodec().encode(LAB_RESULT)))], NOW, codec, "t")
    rows = new_batch()
    for outcome in (first, second, third):
        for table, more in outcome.rows.items():
            rows[table] += more
    return rows


def expected() -> dict[str, list[dict[str, Any]]]:
    """Every sample row, by column name."""
    prov = {"kafka_partition": 3, "kafka_offset": 41, "ingested_at": NOW}
    p = PRODUCTION
    return {
        "lab_results": [{**_fields(LAB_RESULT, "measurements"), **_nested("measurements", LAB_RESULT.measurements,
                                                                           limit="limit_value"),
                         "signature": "sig-0451", **prov}],
        "production_events": [{**_fields(p, "inputs", "outputs", "reference_documents"), **_nested("inputs", p.inputs),
                               **_nested("outputs", p.outputs), **_documents(p), **prov}],
        "lineage_edges": [
            {"event_id": p.event_id, "parent_batch": i.batch_id, "child_batch": o.batch_id,
             "parent_quantity": i.quantity, "parent_unit": i.unit, "child_product": o.product_id,
             "child_quantity": o.quantity, "child_unit": o.unit, "org_id": p.org_id, "site": p.site,
             "occurred_at": p.occurred_at, "ingested_at": NOW}
            for i in p.inputs for o in p.outputs
        ],
        "shipments": [{**_fields(SHIPMENT, "reference_documents"), **_documents(SHIPMENT), **prov}],
        "receivings": [{**_fields(RECEIVING, "reference_documents"), **_documents(RECEIVING), **prov}],
        "products": [{**_fields(PRODUCT), **prov}],
        "labs": [{**_fields(LAB, "accreditations", "qualifications", "keys"), **_lab_json(), **prov}],
        "accreditation_bodies": [{**_fields(BODY, "mra_testing"), **_nested("mra_testing", BODY.mra_testing), **prov}],
        "regulators": [{**_fields(REGULATOR), **prov}],
        "organisations": [{**_fields(ORGANISATION, "locations"), "locations_json": json.dumps(
            [{"location_id": "YW-A", "name": "Assembly", "country": "CN", "gln": "6901234000016",
              "street": "88 Chouzhou Rd", "latitude": 29.3, "longitude": 120.07, "city": "Yiwu", "region": "Zhejiang",
              "postal_code": "322000"}], ensure_ascii=False, separators=(",", ":")), **prov}],
        "rejects": [{
            "reject_id": LETTER.reject_id, "reason": LETTER.reason, "source": "worker", "event_kind": "shipment",
            "event_id": "shp-9", "original": LETTER.original, "original_topic": "lt.shipments",
            "original_partition": 2, "original_offset": 9, "rejected_at": LETTER.rejected_at,
            "dead_letter_partition": 1, "dead_letter_offset": 7, "ingested_at": LETTER_SRC.ingested_at,
        }],
        "closure": [{"descendant": "LOT-B", "ancestor": "LOT-A", "depth": 1, "known_at": NOW}],
        "batch_status": [
            {"batch_id": "LOT-A", "status": "failed", "risk_sources": ["LOT-A"], "seq": 1 << 20,
             "closure_partition": 0, "known_at": NOW},
            {"batch_id": "LOT-B", "status": "at_risk", "risk_sources": ["LOT-A"], "seq": 2 << 20,
             "closure_partition": 0, "known_at": NOW},
        ],
        "report_judgements": [{
            "lab_id": "LAB-7", "report_id": "RPT-1", "report_version": 2, "event_id": "res-1", "batch_id": "LOT-A",
            "outcome": "signature_invalid", "acceptance": "lab_unknown", "counts_as": "", "seq": 5 << 20,
            "closure_partition": 0, "known_at": NOW,
        }],
        "log_entries": [{"entry": LOG_ENTRY, "entry_sha256": hashlib.sha256(LOG_ENTRY).hexdigest(), "log_partition": 0,
                         "log_offset": 17, "log_index": 3, "known_at": NOW}],
        "refused_edges": [{"event_id": "prd-ba", "parent_batch": "LOT-B", "child_batch": "LOT-A", "reason": CYCLE,
                           "known_at": NOW}],
    }


def _documents(event: Production | Shipment | Receiving) -> dict[str, list[str]]:
    return {"reference_document_types": [d.type for d in event.reference_documents],
            "reference_document_numbers": [d.number for d in event.reference_documents]}


def _lab_json() -> dict[str, str]:
    """The sample lab's nested fields as the JSON text of their JSON form (times in UTC, the JWK an object)."""
    def iso(moment: datetime | None) -> str | None:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None

    [a], [q], [k] = LAB.accreditations, LAB.qualifications, LAB.keys
    accreditations = [{
        "body_id": a.body_id, "number": a.number, "valid_from": iso(a.valid_from), "valid_until": iso(a.valid_until),
        "statuses": [{"status": c.status, "at": iso(c.at)} for c in a.statuses], "methods": list(a.methods),
        "analytes": list(a.analytes), "product_categories": list(a.product_categories),
    }]
    qualifications = [{"kind": q.kind, "number": q.number, "valid_from": iso(q.valid_from),
                       "valid_until": iso(q.valid_until)}]
    keys = [{"kid": k.kid, "jwk": json.loads(k.jwk), "not_before": iso(k.not_before), "not_after": None,
             "revoked_at": iso(k.revoked_at), "revocation_reason": k.revocation_reason}]
    text = {"accreditations_json": accreditations, "qualifications_json": qualifications, "keys_json": keys}
    return {column: json.dumps(value, ensure_ascii=False, separators=(",", ":")) for column, value in text.items()}


def _fields(value: Any, *nested: str) -> dict[str, Any]:
    return {f.name: getattr(value, f.name) for f in fields(value) if f.name not in {*nested, "kind"}}


def _nested(prefix: str, items: Sequence[Any], **renamed: str) -> dict[str, list[Any]]:
    names = [f.name for f in fields(items[0])]
    return {f"{prefix}.{renamed.get(n, n)}": [getattr(item, n) for item in items] for n in names}


def stored(value: Any) -> Any:
    """A value as it reads back from ClickHouse as JSON (DateTime: seconds, as a string)."""
    if isinstance(value, datetime):
        return str(int(value.timestamp()))
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list | tuple):
        return [stored(v) for v in value]
    return value


def literal(value: Any) -> str:
    """A value as a ClickHouse literal."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return str(int(value.timestamp()))
    if isinstance(value, bytes):
        return f"unhex('{value.hex()}')"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(literal, value)) + "]"
    return repr(value)


ORDERS: dict[str, Callable[[Sequence[str]], list[str]]] = {
    "ddl-order": list,
    "reversed": lambda names: list(reversed(names)),
    "shuffled": lambda names: random.Random(len(names)).sample(list(names), len(names)),
}


def _sorted(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: sorted((k, repr(v)) for k, v in row.items()))


def test_the_samples_hold_a_different_value_in_every_column_of_a_row():
    for table, rows in expected().items():
        for row in rows:
            assert len({repr(v) for v in row.values()}) == len(row), table


def test_every_row_builder_names_exactly_the_columns_of_its_table_on_a_current_clickhouse(current_clickhouse):
    ddl = {table: describe(current_clickhouse, table) for table in COLUMNS}
    rows = built(RowMapping(ddl))  # a name missing from or foreign to the DDL raises RowMismatch
    assert {table for table, some in rows.items() if some} == set(ddl)
    for table, some in rows.items():
        by_name = [{name: stored(v) for name, v in zip(ddl[table], row, strict=True)} for row in some]
        assert by_name == [{name: stored(v) for name, v in row.items()} for row in expected()[table]], table


@pytest.mark.parametrize("order", ORDERS)
def test_a_reordered_column_list_still_stores_each_value_under_its_name(current_clickhouse, order):
    database = f"rows_{order.replace('-', '_')}"
    for statement in statements(database):
        current_clickhouse.query(statement)
    columns = {table: ORDERS[order](names) for table, names in COLUMNS.items()}
    assert order == "ddl-order" or all(columns[t] != list(COLUMNS[t]) for t in COLUMNS)
    for table, rows in built(RowMapping(columns)).items():
        names = ", ".join(f"`{c}`" for c in columns[table])
        values = ", ".join("(" + ", ".join(map(literal, row)) + ")" for row in rows)
        current_clickhouse.query(f"INSERT INTO {database}.{table} ({names}) VALUES {values}")
    for table, rows in expected().items():
        back = select(current_clickhouse, f"SELECT * FROM {database}.{table}")
        assert _sorted(back) == _sorted({k: stored(v) for k, v in row.items()} for row in rows), table


def test_a_row_missing_a_column_or_naming_another_is_refused_with_the_names():
    row = row_builder("closure", COLUMNS["closure"])
    values = {"descendant": "B", "ancestor": "A", "depth": 1, "known_at": NOW}
    assert row(values) == ("B", "A", 1, NOW)
    assert row(dict(reversed(values.items()))) == ("B", "A", 1, NOW)
    with pytest.raises(RowMismatch, match=r"closure: .*missing \['depth'\], unexpected \[\]"):
        row({k: v for k, v in values.items() if k != "depth"})
    with pytest.raises(RowMismatch, match=r"missing \[\], unexpected \['level'\]"):
        row({**values, "level": 1})
    with pytest.raises(RowMismatch, match=r"missing \['depth'\], unexpected \['level'\]"):
        row({"level" if k == "depth" else k: v for k, v in values.items()})
