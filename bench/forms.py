"""What the official forms cost: FSMA 204's sortable spreadsheet and the Safety Gate draft of a big recall.

The probe is ``hub_chain``'s failing resin lot in 10,000 toys, each shipped twice (10,001 lots, 20,000
shipments, 10,000 transformations of 2 inputs), given master data: the maker and the 300 recipients
registered with a phone and a location each, the toys' products registered, every shipment naming
its ship-from and ship-to locations and two reference documents, every production its location and
work order, and a receiving (with its ASN) for every second shipment. The raw lots (the resin and 100
pigments) have no production record, so each transformation row lacks its input's product
description: 120,000 missing elements, each an About row. The history is written directly (the
sink's own row mapping, the closure by the oracle), not streamed. Timed, p50/p99 of ``--runs``:

* the FSMA workbook: reading the tracking records (``query.tracking``), filling the sheets
  (``traceability.fsma_template.form``), writing the XLSX, and all three as the API answers;
* the Safety Gate draft (``query.forms.FormReader.safety_gate``: a trace, a recall, the records,
  the registry, the draft);
* the baseline, in the same run: today's recall spreadsheet of the same scope (``ScopeReader.recall``
  and ``query.export.xlsx_bytes``), one row per tracking event in 16 columns.

    .venv/bin/python bench/forms.py [--toys 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.own_stack import own_stack  # noqa: E402
from query import export, fsma_export  # noqa: E402
from query.forms import FormReader  # noqa: E402
from query.scope import ScopeReader, answer_building  # noqa: E402
from query.tracking import TrackingReader  # noqa: E402
from sinks.rows import COLUMNS, Provenance, RowBatch, add_event, new_batch  # noqa: E402
from traceability.events import Event, LabResult, Production, Receiving, ReferenceDocument, Shipment  # noqa: E402
from traceability.fsma_template import form  # noqa: E402
from traceability.registry import Location, Organisation, Product  # noqa: E402
from traceability.testing import oracle  # noqa: E402
from traceability.testing.probes import hub_chain  # noqa: E402
from traceability.tracking import Request  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(days=30)
HUB = "HUB-RESIN-01"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--toys", type=int, default=10_000, help="toys made of the hub lot (default 10,000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each path (default 5)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "forms.json")
    args = parser.parse_args()

    events = chain(args.toys)
    with own_stack(workers=0) as stack:
        address = stack.endpoints.clickhouse
        client = address.client()
        write(client, address.database, rows(events))
        scope = ScopeReader(address.client, address.database)
        tracking = TrackingReader(client, address.database)
        forms = FormReader(scope, address.client(), address.database)
        request = Request("recall", batch_id=HUB)
        records = tracking.records(request)
        filled = form(records)
        figures = {
            "when": NOW.isoformat(), "lots": len(records.lots), "shipments": len(records.shipments),
            "receivings": len(records.receivings), "transformations": len(records.productions),
            "rows": {name: len(found) for name, found in filled.rows.items()}, "missing": len(filled.missing),
            "recall_spreadsheet": timed(lambda: export.xlsx_bytes(scope.recall(HUB), NOW), args.runs),
            "fsma_read": timed(_paused(lambda: tracking.records(request)), args.runs),
            "fsma_fill": timed(_paused(lambda: form(records)), args.runs),
            "fsma_xlsx": timed(_paused(lambda: fsma_export.xlsx_bytes(filled, records, NOW)), args.runs),
            "fsma_answer": timed(lambda: _answer(tracking, request), args.runs),
            "safety_gate": timed(lambda: forms.safety_gate(HUB, None, NOW), args.runs),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(table(figures))
    return 0


def _answer(tracking: TrackingReader, request: Request) -> bytes:
    """As the API answers: records read, sheets filled and the workbook written with the collector paused."""
    with answer_building():
        records = tracking.records(request)
        return fsma_export.xlsx_bytes(form(records), records, NOW)


def _paused(call: Callable[[], object]) -> Callable[[], object]:
    def paused() -> object:
        with answer_building():
            return call()
    return paused


def chain(toys: int) -> list[Event]:
    """The hub chain with master data: locations on every event, the parties and products registered."""
    events: list[Event] = []
    for e in hub_chain(HUB, toys, T0):
        if isinstance(e, Production):
            e = Production(e.event_id, e.org_id, e.site, e.occurred_at, e.inputs, e.outputs, "PLANT",
                           reference_documents=(ReferenceDocument("work_order", f"WO-{e.event_id}"),))
        elif isinstance(e, Shipment):
            documents = (ReferenceDocument("bill_of_lading", f"BL-{e.shipment_id}"),
                         ReferenceDocument("invoice", f"INV-{e.shipment_id}"))
            e = Shipment(e.event_id, e.shipment_id, e.batch_id, e.quantity, e.unit, e.from_org, e.to_org,
                         e.to_location, e.to_country, e.occurred_at, "PLANT", "DC", documents)
            if e.shipment_id.endswith("-0"):
                events.append(Receiving(f"rcv-{e.event_id}", f"RCV-{e.shipment_id}", e.batch_id, e.quantity - 1,
                                        e.unit, e.from_org, e.to_org, "DC", e.occurred_at + timedelta(days=2),
                                        "PLANT", e.shipment_id, (ReferenceDocument("asn", f"ASN-{e.shipment_id}"),)))
        events.append(e)
    recipients = {e.to_org: e.to_country for e in events if isinstance(e, Shipment)}
    events.append(_org("ORG-BENCH", "CN", "PLANT"))
    events += [_org(org, country, "DC") for org, country in sorted(recipients.items())]
    made = {o.product_id for e in events if isinstance(e, Production) for o in e.outputs}
    events += [Product(f"prod-{p}", p, "ORG-BENCH", f"Toy {p}", T0, "Bench Toys", packaging_size="1 toy",
                       packaging_style="box", gtin="", category="toys", model=p) for p in sorted(made)]
    return events


def _org(org_id: str, country: str, location: str) -> Organisation:
    place = Location(location, f"{org_id} {location}", country, street=f"{len(org_id)} Main Street", city="City",
                     region="Region", postal_code="12345")
    return Organisation(f"org-{org_id}", org_id, f"{org_id} Ltd", country, "", ("importer",), T0, "+1 555 0100",
                        (place,))


def rows(events: list[Event]) -> RowBatch:
    """History rows by the sink's own mapping, closure and statuses by the oracle."""
    batch = new_batch()
    for event in events:
        add_event(batch, event, Provenance(0, 0, T0))
    edges = {(e[1], e[2]) for e in batch["lineage_edges"]}
    lots = {b for edge in edges for b in edge}
    for child, ancestors in oracle.closure(lots, edges).items():
        batch["closure"] += [(child, a, d, T0) for a, d in ancestors.items()]
    results = [(e.batch_id, e.report_id, e.report_version, e.verdict) for e in events if isinstance(e, LabResult)]
    for lot, (status, sources) in oracle.statuses(lots, edges, results).items():
        if status != "untested":
            batch["batch_status"].append((lot, status, list(sources), 1, 0, T0))
    return batch


def write(client: Any, database: str, batch: RowBatch) -> None:
    for table, found in batch.items():
        columns = ", ".join(f"`{c}`" for c in COLUMNS[table])
        for start in range(0, len(found), 100_000):
            client.execute(f"INSERT INTO {database}.{table} ({columns}) VALUES", found[start:start + 100_000])


def timed(call: Callable[[], object], runs: int) -> dict[str, float]:
    call()  # warm
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    seconds.sort()
    p99 = seconds[min(len(seconds) - 1, round(0.99 * (len(seconds) - 1)))]
    return {"p50_ms": round(statistics.median(seconds) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


def table(f: dict[str, Any]) -> str:
    base = f["recall_spreadsheet"]["p50_ms"]
    lines = [f"Official forms, {f['when']}: {f['lots']:,} lots, {f['shipments']:,} shipments, "
             f"{f['receivings']:,} receivings, {f['transformations']:,} transformations; FSMA rows "
             + ", ".join(f"{name} {n:,}" for name, n in f["rows"].items()) + f"; {f['missing']:,} missing", "",
             "| path | p50 / p99 | p50 against the recall spreadsheet |", "|---|---|---|"]
    names = {"recall_spreadsheet": "baseline: recall read + today's recall XLSX",
             "fsma_read": "FSMA: tracking records read", "fsma_fill": "FSMA: sheets filled",
             "fsma_xlsx": "FSMA: XLSX written", "fsma_answer": "FSMA workbook, read to bytes (the API's answer)",
             "safety_gate": "Safety Gate draft (trace, recall, records, registry, draft)"}
    for key, name in names.items():
        t = f[key]
        lines.append(f"| {name} | {t['p50_ms']} / {t['p99_ms']} ms | {t['p50_ms'] / base:.2f}× |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
