"""Trace and recall on the real stack: the reader, the HTTP API and the CLI agree with the oracle.

A generated chain (about 600 batches, 5 deep, failures with corrections and withdrawals, a report
from an unregistered lab, a raw lot shipped with no production record) is published in
disorder with duplicates. For a sample of batches, every form of every answer is compared: the
JSON from ClickHouse with the oracle; the API's JSON, CSV and XLSX and the CLI's output with it.
"""

from __future__ import annotations

import csv
import io
import json
import random
import time
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
import structlog

from query.answers import recall_json, trace_json
from query.scope import ScopeReader
from tests.integration.chains import LAB_1, RECENT, START, production, report, tick, write_jsonl
from tests.integration.scope_oracle import World, recall_as_compared, trace_as_compared
from traceability.events import LabResult, Measurement, Shipment
from traceability.simulation import ChainShape, supply_chain

pytestmark = pytest.mark.integration

SHAPE = ChainShape(raw_lots=60, components=240, products=300, shipments_per_product=2, tested_fraction=0.5,
                   failure_rate=0.1, tiers=4, correction_rate=0.3, withdrawal_rate=0.2)
SEED = 11


def _edge_cases() -> list:
    """A report from a lab not in the registry, and a raw lot shipped with no production record."""
    when = START + timedelta(days=2)
    return [
        LabResult("res-unreg-1", "RPT-UNREG-1", 1, "LAB-NOT-REGISTERED", f"CMP-{SEED}-00005", "S-U1",
                  "GB 6675.4-2014", "pass", when, when, (Measurement("Pb (soluble)", 10.0, "mg/kg", 90.0, "pass"),)),
        Shipment("shp-raw-1", "SHP-RAW-1", f"RAW-{SEED}-00003", 50.0, "kg", "ORG-RESIN", "ORG-OTHER-PLANT",
                 "Jinhua", "CN", when),
    ]


def _sample(world: World, rng: random.Random) -> list[str]:
    failed = sorted(b for b, (s, _) in world.statuses.items() if s == "failed")[:8]
    at_risk = sorted(b for b, (s, _) in world.statuses.items() if s == "at_risk")
    every = sorted(world.ancestors)
    return sorted({*failed, *rng.sample(at_risk, 8), *rng.sample(every, 10), f"CMP-{SEED}-00005",
                   f"RAW-{SEED}-00003", f"TOY-{SEED}-00001"})


def _spreadsheet_keys(rows: list[list]) -> set[tuple[str, str, str]]:
    return {(r[0], r[1], r[-1]) for r in rows}


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _xlsx_rows(data: bytes, sheet: str = "Recall scope") -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [["" if v is None else v for v in row] for row in book[sheet].iter_rows(values_only=True)]


def _same_cells(csv_rows: list[list[str]], xlsx_rows: list[list]) -> bool:
    def norm(cell: object) -> str:
        return f"{float(cell):g}" if isinstance(cell, int | float) else str(cell)

    def norm_csv(cell: str) -> str:
        try:
            return f"{float(cell):g}"
        except ValueError:
            return cell

    return [[norm_csv(c) for c in r] for r in csv_rows] == [[norm(c) for c in r] for r in xlsx_rows]


def test_trace_and_recall_agree_with_the_oracle_in_json_csv_xlsx_api_and_cli(deployment, tmp_path):
    rng = random.Random(SEED)
    events = list(supply_chain(SEED, SHAPE, START)) + _edge_cases()
    published = events + rng.sample(events, len(events) // 10)
    rng.shuffle(published)
    deployment.start_worker()
    done = deployment.lotline("publish", str(write_jsonl(tmp_path / "chain.jsonl", published)))
    assert done.returncode == 0, done.stderr
    deployment.sync()

    world = World.of(events)
    reader = ScopeReader(deployment.client, deployment.settings.database)
    api = deployment.api()
    batches = _sample(world, rng)
    assert len(batches) >= 25
    for batch in batches:
        trace = json.loads(json.dumps(trace_json(reader.trace(batch))))
        assert trace_as_compared(trace) == world.trace(batch), batch
        assert api.get(f"/v1/batches/{batch}/trace").json() == trace

        recall = json.loads(json.dumps(recall_json(reader.recall(batch))))
        csv_text = api.get(f"/v1/batches/{batch}/recall", params={"format": "csv"}).text
        header, *rows = _csv_rows(csv_text)
        assert len(rows) == len(_spreadsheet_keys(rows))  # one row per tracking event
        assert recall_as_compared(recall, _spreadsheet_keys(rows)) == world.recall(batch), batch
        assert api.get(f"/v1/batches/{batch}/recall").json() == recall
        xlsx = api.get(f"/v1/batches/{batch}/recall", params={"format": "xlsx"})
        assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert _same_cells([header, *rows], _xlsx_rows(xlsx.content)), batch

    # The flags the edge cases plant, seen where a user would see them.
    assert reader.trace(f"CMP-{SEED}-00005").completeness.unregistered_labs == ("LAB-NOT-REGISTERED",)
    raw_recall = reader.recall(f"RAW-{SEED}-00003")
    assert raw_recall.completeness.shipped_without_production == (f"RAW-{SEED}-00003",)

    # The CLI prints the same answers, and writes the same spreadsheets.
    failed = next(b for b in batches if world.statuses.get(b, ("",))[0] == "failed")
    toy = f"TOY-{SEED}-00001"
    cli_trace = deployment.lotline("trace", toy, "--json")
    assert cli_trace.returncode == 0, cli_trace.stderr
    assert json.loads(cli_trace.stdout) == json.loads(json.dumps(trace_json(reader.trace(toy))))
    cli_recall = deployment.lotline("recall", failed, "--json")
    assert json.loads(cli_recall.stdout) == json.loads(json.dumps(recall_json(reader.recall(failed))))
    assert deployment.lotline("recall", failed, "--csv", str(tmp_path / "r.csv")).returncode == 0
    assert deployment.lotline("recall", failed, "--xlsx", str(tmp_path / "r.xlsx")).returncode == 0
    api_csv = api.get(f"/v1/batches/{failed}/recall", params={"format": "csv"}).text
    assert (tmp_path / "r.csv").read_text() == api_csv.replace("\r\n", "\n")
    assert _same_cells(_csv_rows(api_csv), _xlsx_rows((tmp_path / "r.xlsx").read_bytes()))
    dictionary = _xlsx_rows((tmp_path / "r.xlsx").read_bytes(), "Data dictionary")
    assert [row[0] for row in dictionary[1:]] == _csv_rows(api_csv)[0]  # every column is explained
    text = deployment.lotline("recall", failed)
    assert text.returncode == 0 and f"recall scope of {failed}: FAILED" in text.stdout


def _ship(shipment_id: str, batch: str, country: str, to_org: str = "ORG-R", location: str = "DC 1") -> Shipment:
    return Shipment(f"ev-{shipment_id}", shipment_id, batch, 40.0, "ea", "ORG-1", to_org, location, country, RECENT)


def _publish_and_mark(dep, tmp_path, name: str, events: list) -> datetime:
    """Publish, wait until stored, and return a moment after it (second precision, as stored)."""
    assert dep.lotline("publish", str(write_jsonl(tmp_path / f"{name}.jsonl", events))).returncode in (0, 1)
    dep.sync()
    return tick()


def test_as_of_answers_what_was_known_before_a_failing_report_and_after_its_correction(deployment, tmp_path):
    deployment.start_worker()
    before_anything = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    chain = [LAB_1, production("p1", ["RESIN-1"], "PART-1"), production("p2", ["PART-1"], "TOY-1"),
             _ship("S-1", "TOY-1", "DE"), _ship("S-2", "TOY-1", "US")]
    known_chain = _publish_and_mark(deployment, tmp_path, "chain", chain)
    known_fail = _publish_and_mark(deployment, tmp_path, "fail", [report("RESIN-1", 1, "fail")])
    known_fix = _publish_and_mark(deployment, tmp_path, "fix", [report("RESIN-1", 2, "pass")])
    api = deployment.api()

    def both(kind: str, batch: str, moment: datetime) -> dict:
        answer = api.get(f"/v1/batches/{batch}/{kind}", params={"as_of": moment.isoformat()})
        cli = deployment.lotline(kind, batch, "--as-of", moment.isoformat(), "--json")
        assert answer.status_code == 200 and cli.returncode == 0, (answer.text, cli.stderr)
        assert json.loads(cli.stdout) == answer.json()
        return answer.json()

    gone = api.get("/v1/batches/TOY-1/trace", params={"as_of": before_anything.isoformat()})
    assert gone.status_code == 404 and "TOY-1" in gone.json()["detail"]

    toy = both("trace", "TOY-1", known_chain)
    assert (toy["status"], toy["risk_sources"], toy["reports"]) == ("untested", [], [])
    assert [(r["batch_id"], r["depth"]) for r in toy["upstream"]] == [("PART-1", 1), ("RESIN-1", 2)]
    recall = both("recall", "RESIN-1", known_chain)
    assert recall["status"] == "untested"
    assert {s["shipment_id"] for s in recall["shipments"]} == {"S-1", "S-2"}

    toy = both("trace", "TOY-1", known_fail)
    assert (toy["status"], toy["risk_sources"]) == ("at_risk", ["RESIN-1"])
    assert [(r["report_id"], r["version"], r["verdict"]) for r in toy["reports"]] == [("RPT-RESIN-1", 1, "fail")]
    recall = both("recall", "RESIN-1", known_fail)
    assert recall["status"] == "failed"
    assert [(a["batch_id"], a["depth"], a["status"]) for a in recall["affected"]] == [
        ("RESIN-1", 0, "failed"), ("PART-1", 1, "at_risk"), ("TOY-1", 2, "at_risk")]
    assert {t["country"]: t["quantity"] for t in recall["totals"]["by_country"]} == {"DE": 40.0, "US": 40.0}

    toy = both("trace", "TOY-1", known_fix)
    assert (toy["status"], toy["risk_sources"]) == ("untested", [])
    [counted] = toy["reports"]
    assert (counted["version"], counted["verdict"]) == (2, "pass")
    assert [(v["version"], v["verdict"]) for v in counted["superseded"]] == [(1, "fail")]
    assert both("recall", "RESIN-1", known_fix)["status"] == "clear"
    report_then = api.get("/v1/reports/RPT-RESIN-1", params={"as_of": known_fail.isoformat()}).json()
    assert (report_then["version"], report_then["verdict"], report_then["superseded"]) == (1, "fail", [])


def test_bad_requests_get_clear_errors_and_published_events_become_answers(deployment):
    deployment.start_worker()
    api = deployment.api()

    unknown = api.get("/v1/batches/NO-SUCH-LOT/trace")
    assert unknown.status_code == 404 and "NO-SUCH-LOT" in unknown.json()["detail"]
    assert api.get("/v1/batches/NO-SUCH-LOT/recall").status_code == 404
    assert api.get("/v1/reports/NO-SUCH-REPORT").status_code == 404
    malformed = api.get("/v1/batches/" + "X" * 200 + "/trace").json()["detail"][0]
    assert malformed["loc"] == ["path", "batch_id"] and "128" in malformed["msg"]
    naive = api.get("/v1/batches/LOT-1/recall", params={"as_of": "2026-11-20T10:00:00"}).json()["detail"][0]
    assert naive["loc"] == ["query", "as_of"] and "time zone" in naive["msg"]
    not_a_time = api.get("/v1/batches/LOT-1/trace", params={"as_of": "yesterday"})
    assert not_a_time.status_code == 422 and not_a_time.json()["detail"][0]["loc"] == ["query", "as_of"]
    wrong_format = api.get("/v1/batches/LOT-1/recall", params={"format": "pdf"})
    assert wrong_format.status_code == 422 and wrong_format.json()["detail"][0]["loc"] == ["query", "format"]
    assert api.post("/v1/events", json={"not": "a list"}).status_code == 422

    good = [{"type": "production", "event_id": "api-p1", "org_id": "ORG-1", "site": "Yiwu",
             "occurred_at": RECENT.isoformat(), "inputs": [{"batch_id": "API-RESIN", "quantity": 5, "unit": "kg"}],
             "outputs": [{"batch_id": "API-TOY", "product_id": "SKU-1", "quantity": 10, "unit": "ea"}]},
            {"type": "shipment", "event_id": "api-s1", "shipment_id": "API-S1", "batch_id": "API-TOY",
             "quantity": 10, "unit": "ea", "from_org": "ORG-1", "to_org": "ORG-2", "to_location": "Lyon",
             "to_country": "FR", "occurred_at": RECENT.isoformat()}]
    bad = {"type": "shipment", "event_id": "api-bad", "shipment_id": "API-S2", "batch_id": "API-TOY",
           "quantity": -3, "unit": "ea", "from_org": "ORG-1", "to_org": "ORG-2", "to_location": "Lyon",
           "to_country": "FR", "occurred_at": RECENT.isoformat()}
    posted = api.post("/v1/events", json=[good[0], bad, good[1]])
    assert posted.status_code == 202
    body = posted.json()
    assert (body["published"], body["rejected"]) == (2, 1)
    assert [r["status"] for r in body["results"]] == ["published", "rejected", "published"]
    assert "quantity" in body["results"][1]["reason"]
    deployment.sync()

    recall = api.get("/v1/batches/API-RESIN/recall").json()
    assert [a["batch_id"] for a in recall["affected"]] == ["API-RESIN", "API-TOY"]
    assert [s["shipment_id"] for s in recall["shipments"]] == ["API-S1"]
    rejects = deployment.client().execute(
        f"SELECT source, event_id, reason FROM {deployment.settings.database}.rejects")
    assert [(source, event_id) for source, event_id, _ in rejects] == [("api", "api-bad")]

    assert api.get("/healthz").json() == {"status": "ok", "kafka": "ok", "clickhouse": "ok"}
    metrics = api.get("/metrics").text
    assert 'lotline_query_seconds_count{query="recall"}' in metrics
    assert 'lotline_api_events_total{outcome="rejected"} 1.0' in metrics
    assert f'lotline_consumer_lag{{topic="{deployment.topics.lineage}"}} 0' in metrics
    assert 'lotline_stored_rows{table="shipments"}' in metrics
    assert 'lotline_kept_answer_asks_total{outcome="not kept"}' in metrics  # answers of two batches are not kept

    cli = deployment.lotline("trace", "NO-SUCH-LOT")
    assert cli.returncode == 4 and "no batch 'NO-SUCH-LOT' is known" in cli.stderr
    cli = deployment.lotline("recall", "LOT 1")
    assert cli.returncode == 2 and "batch:" in cli.stderr and "spaces" in cli.stderr
    cli = deployment.lotline("trace", "LOT-1", "--as-of", "2026-13-01T00:00:00Z")
    assert cli.returncode == 2 and "--as-of" in cli.stderr


def test_spreadsheets_neutralise_formulas_and_answers_leave_out_an_edge_refused_as_a_cycle(deployment, tmp_path):
    deployment.start_worker()
    events = [
        production("p1", ["=RESIN"], "PART-1"), production("p2", ["PART-1"], "TOY-1"),
        _ship("S-1", "TOY-1", "DE", to_org="=HYPERLINK(\"http://x\")", location="@SUM(A1:A9)"),
        _ship("S-2", "TOY-1", "FR", to_org="+1-555", location="-2+3"),
        production("p3-cycle", ["TOY-1"], "=RESIN"),  # closes =RESIN -> PART-1 -> TOY-1 -> =RESIN: refused
    ]
    _publish_and_mark(deployment, tmp_path, "hostile", events[:4])
    _publish_and_mark(deployment, tmp_path, "cycle", events[4:])
    api = deployment.api()

    recall = api.get("/v1/batches/=RESIN/recall").json()
    assert [a["batch_id"] for a in recall["affected"]] == ["=RESIN", "PART-1", "TOY-1"]
    assert [p["event_id"] for p in recall["productions"]] == ["p1", "p2"]  # not the refused p3-cycle
    assert recall["completeness"]["unsourced_batches"] == ["=RESIN"]
    trace = api.get("/v1/batches/=RESIN/trace").json()
    assert (trace["upstream"], trace["links"], trace["production"]) == ([], [], None)

    rows = _csv_rows(api.get("/v1/batches/=RESIN/recall", params={"format": "csv"}).text)
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'@SUM(A1:A9)" in cells and "'-2+3" in cells
    assert any(c.startswith("'=RESIN (") for c in cells)  # an input-lot list starting with the hostile id
    book = openpyxl.load_workbook(io.BytesIO(api.get("/v1/batches/=RESIN/recall",
                                                     params={"format": "xlsx"}).content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert not (isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"))


def test_simulate_publishes_a_chain_with_splits_and_hubs_straight_to_the_stack(deployment):
    deployment.start_worker()
    done = deployment.lotline("simulate", "--seed", "4", "--raw-lots", "5", "--components", "20", "--products", "30",
                              "--tiers", "3", "--max-outputs", "3", "--hub-skew", "1.2", "--publish")
    assert done.returncode == 0, done.stderr
    shape = ChainShape(raw_lots=5, components=20, products=30, tiers=3, max_outputs=3, hub_skew=1.2)
    events = list(supply_chain(4, shape, START))
    assert f"published {len(events)}, rejected 0" in done.stdout
    deployment.sync()
    world = World.of(events)
    reader = ScopeReader(deployment.client, deployment.settings.database)
    hub = "RAW-4-00000"
    recall = json.loads(json.dumps(recall_json(reader.recall(hub))))
    assert {b for b in recall_as_compared(recall, set())["affected"]} == set(world.recall(hub)["affected"])
    assert len(recall["affected"]) > 20  # the first raw lot is a hub


def test_a_bug_while_answering_is_a_500_with_a_log_line_never_a_404(deployment, monkeypatch):
    def broken(self, batch_id, as_of=None):
        return {}["a key that is not there"]  # a KeyError is a LookupError: it must not pass for "unknown"

    monkeypatch.setattr(ScopeReader, "trace", broken)
    api = deployment.api()
    with structlog.testing.capture_logs() as logged:
        answer = api.get("/v1/batches/ANY-LOT/trace")
    assert answer.status_code == 500 and answer.json() == {"detail": "internal error (logged)"}
    [line] = [entry for entry in logged if entry["event"] == "request failed"]
    assert line["log_level"] == "error" and line["path"] == "/v1/batches/ANY-LOT/trace"
    assert isinstance(line["exc_info"], KeyError)
    assert api.get("/v1/batches/ANY-LOT/recall").status_code == 404  # the real reader: not found
