"""Query results become values by column name: a reordered SELECT or dataclass changes nothing, and a
column missing or foreign to the dataclass is a clear error, never a value in the wrong field."""

from __future__ import annotations

import random
from dataclasses import MISSING, fields, make_dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from query import scope
from query.columns import ColumnMismatch, decode, decode_nested, decode_tuples, named, pick
from traceability.events import InputLot, Measurement, Shipment
from traceability.scope import Standing

pytestmark = pytest.mark.contract

T0 = 1_795_000_000  # seconds since the epoch, as the reads select timestamps
#: Shipments by field, and as the read returns them (the batch id aliased apart, `_Scopes.shipments`).
SHIPMENTS: dict[str, tuple[Any, ...]] = {
    "event_id": ("shp-1", "shp-2"), "shipment_id": ("SHP-1", "SHP-2"), "batch_id": ("LOT-A", "LOT-B"),
    "quantity": (12.5, 40.0), "unit": ("pcs", "box"), "from_org": ("ORG-PLANT", "ORG-PLANT"),
    "to_org": ("ORG-SHOP", "ORG-DEPOT"), "to_location": ("Rotterdam", "Lyon"), "to_country": ("NL", "F\0"),
    "occurred_at": (T0, T0 + 60),
}
SHIPMENTS_READ = {("shipped_batch" if name == "batch_id" else name): c for name, c in SHIPMENTS.items()}
PRODUCTIONS_READ: dict[str, tuple[Any, ...]] = {
    "event_id": ("prd-1", "prd-2"), "batch_id": ("LOT-C", "LOT-D"), "product_id": ("TOY-DUCK", "TOY-FROG"),
    "quantity": (400.0, 250.0), "unit": ("ea", "box"), "org_id": ("ORG-PLANT", "ORG-PLANT"),
    "site": ("line 1", "line 2"), "occurred_at": (T0, T0 + 5),
    "inputs": ([("LOT-A", 2.5, "kg"), ("LOT-B", 3.0, "l")], [("LOT-C", 1.0, "ea")]),  # `_Scopes.INPUT_LOT`
}
REPORTS_READ: dict[str, tuple[Any, ...]] = {
    "event_id": ("res-1", "res-2"), "report": ("RPT-1", "RPT-2"), "report_version": (1, 3),
    "lab": ("LAB-7", "LAB-X"), "tested_batch": ("LOT-A", "LOT-B"), "sample_id": ("S-1", "S-2"),
    "method": ("GB 6675.4-2014", "EN 71-3"), "verdict": ("fail", "pass"), "tested_at": (T0, T0 + 1),
    "issued_at": (T0 + 2, T0 + 3), "measurements.analyte": (["Pb", "Cd"], []),
    "measurements.value": ([120.5, 1.25], []), "measurements.unit": (["mg/kg", "µg/kg"], []),
    "measurements.limit": ([90.0, None], []), "measurements.verdict": (["fail", "pass"], []),
    "lab_registered": (1, 0),
}
JUDGEMENTS_READ: dict[str, tuple[Any, ...]] = {
    "event_id": ("res-2", "res-1"), "judged_outcome": ("unsigned", "authentic"),
    "judged_acceptance": ("lab_unknown", "accredited"), "judged_counts_as": ("", "fail"),
}


def shuffled(columns: dict[str, Any], seed: int) -> dict[str, Any]:
    names = random.Random(seed).sample(list(columns), len(columns))
    assert names != list(columns)
    return {name: columns[name] for name in names}


def permuted(cls: type, seed: int) -> type:
    """``cls`` with its fields in another order; fields with a default (added in later versions, left out
    of reads that do not need them) are left out, as ``decode`` may leave them."""
    plain = [f for f in fields(cls) if f.name != "kind" and f.default is MISSING]
    order = random.Random(seed).sample(plain, len(plain))
    assert order != plain
    return make_dataclass(f"Permuted{cls.__name__}", [(f.name, f.type) for f in order], frozen=True)


def reads(reports: dict, judgements: dict) -> dict:
    return {"reports": reports, "judgements": judgements}


@pytest.mark.parametrize("seed", range(3))
def test_shuffled_query_columns_decode_into_identical_answer_values(seed):
    assert scope._shipments(shuffled(SHIPMENTS_READ, seed)) == scope._shipments(SHIPMENTS_READ)
    assert scope._productions(shuffled(PRODUCTIONS_READ, seed)) == scope._productions(PRODUCTIONS_READ)
    assert scope._reports(reads(shuffled(REPORTS_READ, seed), shuffled(JUDGEMENTS_READ, seed))) == scope._reports(
        reads(REPORTS_READ, JUDGEMENTS_READ))


def test_answer_values_hold_each_column_under_the_field_of_its_name():
    [made, _] = scope._productions(PRODUCTIONS_READ)
    assert made.inputs == (InputLot("LOT-A", 2.5, "kg"), InputLot("LOT-B", 3.0, "l"))
    assert (made.batch_id, made.product_id, made.site, made.occurred_at) == (
        "LOT-C", "TOY-DUCK", "line 1", datetime.fromtimestamp(T0, UTC))
    [_, second] = scope._shipments(SHIPMENTS_READ)
    assert (second.batch_id, second.to_org, second.to_location, second.to_country) == (
        "LOT-B", "ORG-DEPOT", "Lyon", "F")
    [failed, passed] = sorted(scope._reports(reads(REPORTS_READ, JUDGEMENTS_READ)), key=lambda r: r.current.report_id)
    assert (failed.current.report_id, failed.current.lab_id, failed.current.batch_id) == ("RPT-1", "LAB-7", "LOT-A")
    assert [m.limit for m in failed.current.measurements] == [90.0, None]
    assert (failed.lab_registered, passed.lab_registered) == (True, False)
    assert failed.standing(failed.current) == Standing("authentic", "accredited", "fail")
    assert passed.standing(passed.current) == Standing("unsigned", "lab_unknown", "")


@pytest.mark.parametrize("seed", range(3))
def test_a_dataclass_with_its_fields_reordered_gets_the_same_value_in_every_field(seed):
    other = permuted(Shipment, seed)
    columns = {name: SHIPMENTS[name] for name in SHIPMENTS}
    for mine, theirs in zip(decode(Shipment, columns), decode(other, columns), strict=True):
        assert {f.name: getattr(mine, f.name) for f in fields(other)} == vars(theirs)
    arrays = {"analyte": (["Pb", "Cd"],), "value": ([120.5, 1.25],), "unit": (["mg/kg", "µg/kg"],),
              "limit": ([90.0, None],), "verdict": (["fail", "pass"],)}
    [(lead, cadmium)] = decode_nested(permuted(Measurement, seed), arrays)
    assert (lead.analyte, lead.value, lead.unit, lead.limit, cadmium.limit) == ("Pb", 120.5, "mg/kg", 90.0, None)
    [(first, second)] = decode_tuples(permuted(InputLot, seed), ("batch_id", "quantity", "unit"),
                                      [[("A", 1.0, "kg"), ("B", 2.0, "l")]])
    assert (first.batch_id, first.quantity, first.unit, second.batch_id) == ("A", 1.0, "kg", "B")
    [(again,)] = decode_tuples(InputLot, ("unit", "batch_id", "quantity"), [[("kg", "A", 1.0)]])
    assert again == InputLot("A", 1.0, "kg")


def test_a_column_missing_or_foreign_to_the_dataclass_is_refused_with_its_name():
    without = {k: v for k, v in SHIPMENTS.items() if k != "to_org"}
    with pytest.raises(ColumnMismatch, match=r"Shipment.*missing \['to_org'\], unexpected \[\]"):
        decode(Shipment, without)
    with pytest.raises(ColumnMismatch, match=r"missing \[\], unexpected \['any\(to_org\)'\]"):
        decode(Shipment, {**SHIPMENTS, "any(to_org)": SHIPMENTS["to_org"]})
    with pytest.raises(ColumnMismatch, match=r"missing \['to_org'\], unexpected \['recipient'\]"):
        decode(Shipment, {**without, "recipient": SHIPMENTS["to_org"]})
    with pytest.raises(ColumnMismatch, match=r"InputLot.*missing \['batch_id'\], unexpected \['batch'\]"):
        decode_tuples(InputLot, ("batch", "quantity", "unit"), [])
    with pytest.raises(ColumnMismatch, match=r"supplied twice: \['occurred_at'\]"):
        decode(Shipment, SHIPMENTS, occurred_at=SHIPMENTS["occurred_at"])
    with pytest.raises(ColumnMismatch, match=r"unexpected \['lab_registered'\]"):
        scope._shipments({**SHIPMENTS_READ, "lab_registered": (1, 1)})
    with pytest.raises(ColumnMismatch, match=r"both an alias and its field: \['batch_id'\]"):
        scope._shipments({**SHIPMENTS_READ, "batch_id": SHIPMENTS["batch_id"]})


def test_a_field_with_a_default_may_be_left_out_or_read_by_name():
    assert {s.kind for s in decode(Shipment, SHIPMENTS)} == {"shipment"}
    later = {"from_location": ("", ""), "to_location_id": ("", ""), "reference_documents": ((), ())}
    assert {s.kind for s in decode(Shipment, {**SHIPMENTS, **later, "kind": ("x", "y")})} == {"x", "y"}
    with pytest.raises(ColumnMismatch, match="defaults are left out only at the end"):
        decode(Shipment, {**SHIPMENTS, "kind": ("x", "y")})


def test_a_read_is_its_columns_by_the_names_the_driver_gives():
    types = [("batch_id", "String"), ("depth", "UInt16")]
    assert named([("A", "B"), (1, 2)], types) == {"batch_id": ("A", "B"), "depth": (1, 2)}
    assert named([], types) == {"batch_id": (), "depth": ()}
    with pytest.raises(ColumnMismatch, match="two columns alike"):
        named([("A",), ("B",)], [("batch_id", "String"), ("batch_id", "String")])
    assert pick({"depth": (1,), "batch_id": ("A",)}, "batch_id", "depth") == [("A",), (1,)]
    with pytest.raises(ColumnMismatch, match=r"missing \['depth'\], unexpected \['min\(depth\)'\]"):
        pick({"batch_id": ("A",), "min(depth)": (1,)}, "batch_id", "depth")
