"""Query benchmark: trace and recall p50/p99 on stored histories of 1M and 10M batches, next to
PostgreSQL with recursive CTEs over the same edges, same batches, same run; and the FSMA
spreadsheet export of a 10k-batch recall scope.

Loading 10M batches through the stream would take hours here (bench/lineage.py measures that
path), so this benchmark writes the stored history directly, the way the stream would have:

* a **module** (a small supply chain from the generator: 20 raw lots, 40 components, 60 toys,
  reports and shipments) is turned into rows with the sink's own mapping (`sinks.rows`), its
  closure and statuses by the BFS oracle; ClickHouse and PostgreSQL then each copy it server-side
  into as many modules as the size asks for (ids prefixed ``M<n>-``), so both hold the same edges;
* two **probes** go in once: a chain 30 deep whose last lot has about 1,200 upstream batches
  (the trace target), and a resin lot in 10,000 toys with 20,000 shipments (the recall target).

Lotline answers two ways, each with the same code as `lotline trace|recall` and the API, statuses
and reports included: from the **serving store** (`query.serving.ServingReader`, the default path
for current answers; the store is built from ClickHouse by `sinks.serving.ServingStore.rebuild`,
which is timed and whose size per batch is reported) and from **ClickHouse**
(`query.scope.ScopeReader`, the path of `as_of` answers, measured both current and with `as_of`).
Each answer from the store is measured as a first ask (read and built) and as an ask of an answer
kept since (`query.serving.AnswerCache`), checked against the stamps of all its batches after an
unrelated write, the cost every ask pays under live ingest.
PostgreSQL answers with recursive CTEs for upstream and downstream (minimal depth per batch) plus
indexed reads of the links, reports and shipments of the scope: the same rows, minus statuses,
which it would have to compute on top.

Usage: ``.venv/bin/python bench/queries.py [--sizes 1000000,10000000] [--runs 50]``
Figures go to stdout (markdown) and bench/results/queries.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import psycopg  # noqa: E402

from bench import postgres  # noqa: E402
from bench.own_stack import own_stack  # noqa: E402
from query import export  # noqa: E402
from query.answers import answer_bytes, recall_json, trace_json  # noqa: E402
from query.scope import ScopeReader  # noqa: E402
from query.serving import AnswerCache, ServingReader  # noqa: E402
from sinks.rows import COLUMNS, Provenance, RowBatch, add_event, new_batch  # noqa: E402
from sinks.serving import ServingStore  # noqa: E402
from traceability.events import (  # noqa: E402
    Event,
    LabResult,
    Production,
    Shipment,
)
from traceability.simulation import ChainShape, supply_chain  # noqa: E402
from traceability.testing import oracle  # noqa: E402
from traceability.testing.probes import DEEP_TOP, deep_chain, hub_chain  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(days=60)
MODULE = ChainShape(raw_lots=20, components=40, products=60, shipments_per_product=1, tested_fraction=0.3,
                    failure_rate=0.05)
#: Columns holding ids that get the module prefix; arrays of ids get it per element.
IDS = {
    "lab_results": {"event_id", "report_id", "batch_id", "sample_id"},
    "production_events": {"event_id"},
    "lineage_edges": {"event_id", "parent_batch", "child_batch"},
    "shipments": {"event_id", "shipment_id", "batch_id"},
    "closure": {"descendant", "ancestor"},
    "batch_status": {"batch_id"},
}
ID_ARRAYS = {"production_events": {"inputs.batch_id", "outputs.batch_id"}, "batch_status": {"risk_sources"}}
HUB = "HUB-RESIN-01"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="batches stored, comma-separated, ascending")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per probe query (default 50)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "queries.json")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    module_rows, module_batches = _module()
    probe_events = _probes()
    probe_rows = _rows(probe_events)
    results = []
    with own_stack(workers=0) as stack, postgres.server() as dsn:
        address = stack.endpoints.clickhouse
        client = address.client()
        pg = psycopg.connect(dsn, autocommit=True)
        loader = Loader(client, address.database, pg)
        loader.prepare(module_rows, probe_rows)
        modules = 0
        for size in sizes:
            wanted = max(0, (size - _batches(probe_events)) // module_batches)
            loader.grow(modules, wanted)
            modules = wanted
            stored = modules * module_batches + _batches(probe_events)
            began = time.perf_counter()
            serving = ServingStore(stack.state / "bench-serving" / str(size))
            serving.rebuild(client, address.database)
            built = time.perf_counter() - began
            size_of = serving.size()
            print(f"{size:,}: {stored:,} batches stored, serving store built in {built:.0f} s "
                  f"({size_of.bytes_per_batch:.0f} B per batch), measuring …", file=sys.stderr)
            results.append({"size": size, "batches_stored": stored, "modules": modules,
                            "serving_store": {"build_s": round(built, 1), "batches": size_of.batches,
                                              "closure_pairs": size_of.pairs, "bytes": size_of.bytes,
                                              "bytes_per_batch": round(size_of.bytes_per_batch, 1)},
                            **_measure(serving, ScopeReader(address.client, address.database), pg,
                                       modules, args.runs)})
            serving.close()

    figures = {"when": NOW.isoformat(), "module_batches": module_batches, "sizes": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(_table(figures))
    return 0


# -- the data ------------------------------------------------------------------------------------

def _rows(events: list[Event]) -> RowBatch:
    """History rows by the sink's own mapping, closure and statuses by the oracle."""
    rows = new_batch()
    for event in events:
        add_event(rows, event, Provenance(0, 0, T0))
    edges = {(e[1], e[2]) for e in rows["lineage_edges"]}
    batches = _batch_ids(events)
    for child, ancestors in oracle.closure(batches, edges).items():
        rows["closure"] += [(child, a, d, T0) for a, d in ancestors.items()]
    results = [(e.batch_id, e.report_id, e.report_version, e.verdict) for e in events if isinstance(e, LabResult)]
    for batch, (status, sources) in oracle.statuses(batches, edges, results).items():
        if status != "untested":
            rows["batch_status"].append((batch, status, list(sources), 1, 0, T0))
    return rows


def _module() -> tuple[RowBatch, int]:
    events = [e for e in supply_chain(1, MODULE, T0) if e.kind != "lab"]
    return _rows(events), len(_batch_ids(events))


def _probes() -> list[Event]:
    """A 30-deep chain (about 1,150 upstream batches at its end) and a resin lot in 10,000 toys."""
    return deep_chain(T0) + hub_chain(HUB, 10_000, T0)


def _batch_ids(events: list[Event]) -> set[str]:
    found: set[str] = set()
    for e in events:
        if isinstance(e, Production):
            found |= {i.batch_id for i in e.inputs} | {o.batch_id for o in e.outputs}
        elif isinstance(e, LabResult | Shipment):
            found.add(e.batch_id)
    return found


def _batches(events: list[Event]) -> int:
    return len(_batch_ids(events))


# -- loading -------------------------------------------------------------------------------------

class Loader:
    """Puts the same rows in ClickHouse (Lotline's tables) and PostgreSQL (edges, reports, shipments)."""

    PG_TABLES = {
        "edges": ("lineage_edges", "event_id text, parent text, child text, parent_quantity float8, parent_unit text, "
                  "child_product text, child_quantity float8, child_unit text, org_id text, site text, "
                  "occurred_at timestamptz", ("event_id", "parent", "child")),
        "reports": ("lab_results", "event_id text, report_id text, report_version int, lab_id text, batch_id text, "
                    "method text, verdict text, issued_at timestamptz, analytes text[], vals float8[]",
                    ("event_id", "report_id", "batch_id")),
        "shipments": ("shipments", "event_id text, shipment_id text, batch_id text, quantity float8, unit text, "
                      "from_org text, to_org text, to_location text, to_country text, occurred_at timestamptz",
                      ("event_id", "shipment_id", "batch_id")),
    }
    PG_INDEXES = ("edges (child)", "edges (parent)", "reports (batch_id)", "shipments (batch_id)")

    def __init__(self, client: Any, database: str, pg: psycopg.Connection[Any]) -> None:
        self.client, self.db, self.pg = client, database, pg

    def prepare(self, module: RowBatch, probes: RowBatch) -> None:
        for table in IDS:
            self.client.execute(f"CREATE TABLE {self.db}.tpl_{table} AS {self.db}.{table} ENGINE = Memory")
        for table, rows in probes.items():
            self._insert(table, table, rows)
        for table in IDS:
            self._insert(f"tpl_{table}", table, module[table])
        with self.pg.cursor() as cur:
            for name, (_source, columns, _ids) in self.PG_TABLES.items():
                cur.execute(f"CREATE TABLE {name} ({columns})")
                cur.execute(f"CREATE TABLE tpl_{name} ({columns})")
            for prefix, rows in (("", probes), ("tpl_", module)):
                self._pg_copy(cur, prefix, rows)

    def _insert(self, into: str, like: str, rows: list[Any]) -> None:
        columns = ", ".join(f"`{c}`" for c in COLUMNS[like])
        for start in range(0, len(rows), 100_000):
            self.client.execute(f"INSERT INTO {self.db}.{into} ({columns}) VALUES", rows[start:start + 100_000])

    def _pg_copy(self, cur: psycopg.Cursor[Any], prefix: str, rows: RowBatch) -> None:
        shaped = {
            "edges": [r[:11] for r in rows["lineage_edges"]],
            "reports": [(r[0], r[1], r[2], r[3], r[4], r[6], r[7], r[9], r[10], r[11]) for r in rows["lab_results"]],
            "shipments": [r[:10] for r in rows["shipments"]],
        }
        for name, data in shaped.items():
            with cur.copy(f"COPY {prefix}{name} FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)

    def grow(self, have: int, want: int, step: int = 10_000) -> None:
        """Copy the module from ``have`` to ``want`` times in both databases (server-side)."""
        began = time.perf_counter()
        for start in range(have, want, step):
            count = min(step, want - start)
            for table in IDS:
                self._ch_copy(table, start, count)
            print(f"  ClickHouse: {start + count:,} modules ({time.perf_counter() - began:.0f} s)", file=sys.stderr)
        ch = time.perf_counter() - began
        with self.pg.cursor() as cur:
            for index in self.PG_INDEXES:
                cur.execute(f"DROP INDEX IF EXISTS {_index_name(index)}")
            for name, (_source, columns, ids) in self.PG_TABLES.items():
                names = [c.split()[0] for c in columns.split(", ")]
                exprs = ", ".join(f"'M' || m || '-' || {c}" if c in ids else c for c in names)
                if want > have:
                    cur.execute(f"INSERT INTO {name} SELECT {exprs} FROM generate_series({have}, {want - 1}) m "
                                f"CROSS JOIN tpl_{name}")
            for index in self.PG_INDEXES:
                cur.execute(f"CREATE INDEX {_index_name(index)} ON {index}")
            cur.execute("ANALYZE")
        print(f"  loaded {want:,} modules: ClickHouse {ch:.0f} s, PostgreSQL {time.perf_counter() - began - ch:.0f} s",
              file=sys.stderr)

    def _ch_copy(self, table: str, start: int, count: int) -> None:
        exprs = []
        for column in COLUMNS[table]:
            quoted = f"`{column}`"
            if column in ID_ARRAYS.get(table, ()):
                exprs.append(f"arrayMap(x -> concat(p, x), {quoted})")
            elif column in IDS[table]:
                exprs.append(f"concat(p, {quoted})")
            else:
                exprs.append(quoted)
        columns = ", ".join(f"`{c}`" for c in COLUMNS[table])
        self.client.execute(
            f"INSERT INTO {self.db}.{table} ({columns}) SELECT {', '.join(exprs)} FROM {self.db}.tpl_{table} "
            f"CROSS JOIN (SELECT concat('M', toString(number + {start}), '-') AS p FROM numbers({count}))"
        )


def _index_name(index: str) -> str:
    return "ix_" + index.replace(" (", "_").replace(")", "")


# -- measuring -----------------------------------------------------------------------------------

_PG_UP = ("WITH RECURSIVE up(batch, depth) AS (SELECT parent, 1 FROM edges WHERE child = %(b)s UNION "
          "SELECT e.parent, up.depth + 1 FROM edges e JOIN up ON e.child = up.batch) "
          "SELECT batch, min(depth) FROM up GROUP BY batch")
_PG_DOWN = ("WITH RECURSIVE down(batch, depth) AS (SELECT child, 1 FROM edges WHERE parent = %(b)s UNION "
            "SELECT e.child, down.depth + 1 FROM edges e JOIN down ON e.parent = down.batch) "
            "SELECT batch, min(depth) FROM down GROUP BY batch")


def pg_trace(pg: psycopg.Connection[Any], batch: str) -> dict[str, int]:
    with pg.cursor() as cur:
        up = dict(cur.execute(_PG_UP, {"b": batch}).fetchall())
        cur.execute(_PG_DOWN, {"b": batch}).fetchall()
        lineage = [batch, *up]
        cur.execute("SELECT * FROM edges WHERE child = ANY(%(s)s)", {"s": lineage}).fetchall()
        cur.execute("SELECT * FROM reports WHERE batch_id = ANY(%(s)s)", {"s": lineage}).fetchall()
        cur.execute("SELECT * FROM shipments WHERE batch_id = %(b)s", {"b": batch}).fetchall()
    return up


def pg_recall(pg: psycopg.Connection[Any], batch: str) -> int:
    with pg.cursor() as cur:
        affected = [batch, *dict(cur.execute(_PG_DOWN, {"b": batch}).fetchall())]
        cur.execute("SELECT * FROM edges WHERE child = ANY(%(s)s)", {"s": affected}).fetchall()
        cur.execute("SELECT * FROM shipments WHERE batch_id = ANY(%(s)s)", {"s": affected}).fetchall()
        cur.execute("SELECT * FROM reports WHERE batch_id = %(b)s", {"b": batch}).fetchall()
    return len(affected)


def _timed(call: Callable[[], object], runs: int) -> dict[str, float]:
    for _ in range(3):
        call()
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    seconds.sort()
    return {"p50_ms": round(statistics.median(seconds) * 1000, 2),
            "p99_ms": round(seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))] * 1000, 2), "runs": runs}


def _cycled(calls: list[Callable[[], object]]) -> Callable[[], object]:
    index = iter(range(10**9))
    return lambda: calls[next(index) % len(calls)]()


def _measure(store: ServingStore, reader: ScopeReader, pg: psycopg.Connection[Any], modules: int, runs: int
             ) -> dict[str, Any]:
    """Each answer from the serving store is measured twice: read and built on every ask (``serving``,
    the first ask of an answer) and kept between asks (``serving_kept``, every ask after: the kept
    answer checked against the stamps of each of its batches, since a write elsewhere moved the
    store's sequence past the kept answer's, as live ingest does)."""
    serving, kept = ServingReader(store, AnswerCache(0)), ServingReader(store, AnswerCache())
    deep, hub = reader.trace(DEEP_TOP), reader.recall(HUB)
    assert serving.trace(DEEP_TOP) == deep, "the serving store and ClickHouse disagree on the trace"
    assert serving.recall(HUB) == hub, "the serving store and ClickHouse disagree on the recall"
    assert orjson.loads(serving.recall_json(HUB)) == orjson.loads(answer_bytes(recall_json(hub))), \
        "the recall JSON joined from the store's rendered rows is not the answer's"
    assert len(pg_trace(pg, DEEP_TOP)) == len(deep.upstream), "PostgreSQL and Lotline disagree on the trace"
    assert pg_recall(pg, HUB) == len(hub.affected), "PostgreSQL and Lotline disagree on the recall"
    as_of = NOW + timedelta(days=1)
    rng = random.Random(modules)
    small = [f"M{rng.randrange(modules)}-{kind}-1-{rng.randrange(20):05d}" for kind in ("RAW", "CMP", "TOY")
             for _ in range(10)] if modules else []
    for batch in small:
        assert serving.trace(batch) == reader.trace(batch), batch
    assert orjson.loads(kept.trace_json(DEEP_TOP)) == orjson.loads(answer_bytes(trace_json(deep)))
    first = [kept.trace(DEEP_TOP), kept.recall(HUB), kept.recall_json(HUB), kept.trace_json(DEEP_TOP)]
    store.apply({"batch_status": [(f"ELSEWHERE-{modules}", "clear", [], 1, 0, NOW)]})  # a write no answer reads
    again = [kept.trace(DEEP_TOP), kept.recall(HUB), kept.recall_json(HUB), kept.trace_json(DEEP_TOP)]
    assert all(a is b for a, b in zip(first, again, strict=True)), "the answers were not kept"
    found: dict[str, Any] = {
        "deep_trace": {"depth": max(r.depth for r in deep.upstream), "upstream": len(deep.upstream),
                       "serving": _timed(lambda: serving.trace(DEEP_TOP), runs),
                       "serving_kept": _timed(lambda: kept.trace(DEEP_TOP), runs),
                       "clickhouse": _timed(lambda: reader.trace(DEEP_TOP), runs),
                       "clickhouse_as_of": _timed(lambda: reader.trace(DEEP_TOP, as_of), runs),
                       "postgres": _timed(lambda: pg_trace(pg, DEEP_TOP), runs)},
        "hub_recall": {"affected": len(hub.affected), "shipments": len(hub.shipments),
                       "serving": _timed(lambda: serving.recall(HUB), max(10, runs // 2)),
                       "serving_kept": _timed(lambda: kept.recall(HUB), runs),
                       "clickhouse": _timed(lambda: reader.recall(HUB), max(10, runs // 2)),
                       "postgres": _timed(lambda: pg_recall(pg, HUB), max(10, runs // 2))},
        # What the API sends for a full view: joined from the store's rendered rows, against
        # writing the answer as JSON (the path of an org's share, and of ClickHouse's answers).
        "hub_recall_json": {"serving": _timed(lambda: serving.recall_json(HUB), max(10, runs // 2)),
                            "serving_kept": _timed(lambda: kept.recall_json(HUB), runs),
                            "serving_answer": _timed(lambda: answer_bytes(recall_json(serving.recall(HUB))), 10),
                            "clickhouse": _timed(lambda: answer_bytes(recall_json(reader.recall(HUB))), 10),
                            "postgres": _timed(lambda: pg_recall(pg, HUB), max(10, runs // 2))},
        "deep_trace_json": {"serving": _timed(lambda: answer_bytes(trace_json(serving.trace(DEEP_TOP))), runs),
                            "serving_kept": _timed(lambda: kept.trace_json(DEEP_TOP), runs),
                            "clickhouse": _timed(lambda: answer_bytes(trace_json(reader.trace(DEEP_TOP))), runs),
                            "postgres": _timed(lambda: pg_trace(pg, DEEP_TOP), runs)},
        "export": {"rows": sum(1 for _ in export.fsma.rows(hub)),
                   "csv": _timed(lambda: export.csv_text(hub), 5),
                   "xlsx": _timed(lambda: export.xlsx_bytes(hub, NOW), 5)},
    }
    if small:
        for question, pg_answer in (("trace", pg_trace), ("recall", pg_recall)):
            found[f"small_{question}"] = {
                "batches": len(small),
                "serving": _timed(_cycled([lambda b=b, q=question: getattr(serving, q)(b) for b in small]), runs * 2),
                "clickhouse": _timed(_cycled([lambda b=b, q=question: getattr(reader, q)(b) for b in small]),
                                     runs * 2),
                "postgres": _timed(_cycled([lambda b=b, f=pg_answer: f(pg, b) for b in small]), runs * 2)}
    return found


def _table(f: dict[str, Any]) -> str:
    lines = [f"Query benchmark, {f['when']} (module of {f['module_batches']} batches copied to size)", "",
             "| stored | query | scope | serving store p50 / p99 | kept answer p50 / p99 | ClickHouse p50 / p99 | "
             "PostgreSQL p50 / p99 | PostgreSQL / serving (p99) | PostgreSQL / kept (p99) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in f["sizes"]:
        scopes = {
            "deep_trace": f"depth {s['deep_trace']['depth']}, {s['deep_trace']['upstream']:,} upstream",
            "hub_recall": f"{s['hub_recall']['affected']:,} affected, {s['hub_recall']['shipments']:,} shipments",
            "deep_trace_json": "the deep trace as the API sends it (JSON bytes)",
            "hub_recall_json": "the hub recall as the API sends it (JSON bytes; serving: joined from rendered rows)",
            "small_trace": "30 module batches (raw, component, toy)",
            "small_recall": "30 module batches (raw, component, toy)",
        }
        for name, scope in scopes.items():
            if name not in s:
                continue
            fast, ch, pg = s[name]["serving"], s[name]["clickhouse"], s[name]["postgres"]
            kept = s[name].get("serving_kept")
            kept_cells = (f"{kept['p50_ms']} / {kept['p99_ms']} ms", f"{pg['p99_ms'] / kept['p99_ms']:.2f}") \
                if kept else ("", "")
            lines.append(f"| {s['batches_stored']:,} | {name.replace('_', ' ')} | {scope} | {fast['p50_ms']} / "
                         f"{fast['p99_ms']} ms | {kept_cells[0]} | {ch['p50_ms']} / {ch['p99_ms']} ms | "
                         f"{pg['p50_ms']} / {pg['p99_ms']} ms | {pg['p99_ms'] / fast['p99_ms']:.2f} | "
                         f"{kept_cells[1]} |")
        as_of = s["deep_trace"]["clickhouse_as_of"]
        lines.append(f"| {s['batches_stored']:,} | deep trace as_of | ClickHouse | | | {as_of['p50_ms']} / "
                     f"{as_of['p99_ms']} ms | | | |")
        js = s["hub_recall_json"]["serving_answer"]
        lines.append(f"| {s['batches_stored']:,} | hub recall JSON written from the answer | serving store | "
                     f"{js['p50_ms']} / {js['p99_ms']} ms | | | | | |")
        e, store = s["export"], s["serving_store"]
        lines.append(f"| {s['batches_stored']:,} | FSMA export of the hub recall | {e['rows']:,} rows | "
                     f"CSV {e['csv']['p50_ms']} ms, XLSX {e['xlsx']['p50_ms']} ms | | | | | |")
        lines.append(f"| {s['batches_stored']:,} | serving store | {store['batches']:,} batches, "
                     f"{store['closure_pairs']:,} pairs | {store['bytes'] / 2**20:,.0f} MiB, "
                     f"{store['bytes_per_batch']:.0f} B per batch, built in {store['build_s']} s | | | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
