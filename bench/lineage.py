"""Lineage benchmark: edges/s through closure and risk propagation, and the propagation delay.

It starts its own local stack (Tansu, ClickHouse, one worker) in a temporary state directory,
so it never touches yours, and measures in the same run:

* **core**: the pure closure (`traceability.lineage`, in process, no I/O) on the chain's edges:
  the ceiling the stream is compared with;
* **stream**: the same edges published as production events, until `lotline sync` says every
  closure row is in ClickHouse (edges/s end to end, and closure rows/s);
* **delay**: with the chain loaded and idle, a failing report on a raw lot, until its deepest
  descendant shows `at_risk` in ClickHouse (several lots; median and max, and per hop).

Usage: ``.venv/bin/python bench/lineage.py [--raw-lots N --components N --products N --tiers N]``
Figures go to stdout (markdown) and bench/results/lineage.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.own_stack import OwnStack, lotline, own_stack  # noqa: E402
from traceability.events import LabResult, Measurement, Production  # noqa: E402
from traceability.json_form import event_to_json  # noqa: E402
from traceability.lineage import Edge  # noqa: E402
from traceability.simulation import ChainShape, supply_chain  # noqa: E402
from traceability.testing import oracle  # noqa: E402
from traceability.testing.lineage_driver import run_to_quiescence  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw-lots", type=int, default=500)
    parser.add_argument("--components", type=int, default=3000)
    parser.add_argument("--products", type=int, default=4000)
    parser.add_argument("--tiers", type=int, default=6)
    parser.add_argument("--delay-samples", type=int, default=7)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "lineage.json")
    args = parser.parse_args()

    shape = ChainShape(args.raw_lots, args.components, args.products, 0, 0.0, 0.0, args.tiers)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    productions = [e for e in supply_chain(args.seed, shape, start) if isinstance(e, Production)]
    edges = sorted({(i.batch_id, o.batch_id) for p in productions for i in p.inputs for o in p.outputs})
    print(f"chain: {len(productions):,} production events, {len(edges):,} edges, depth {args.tiers + 1}",
          file=sys.stderr)

    core = _core(edges)
    with own_stack(workers=1) as stack:
        stream = _stream(stack, productions, len(edges))
        delay = _delays(stack, edges, args.delay_samples, args.tiers + 1)

    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "chain": {"production_events": len(productions), "edges": len(edges), "depth": args.tiers + 1,
                  "batches": len({b for e in edges for b in e}), "closure_pairs": core["closure_pairs"]},
        "core": core, "stream": stream, "delay": delay,
        "stream_vs_core": round(stream["edges_per_s"] / core["edges_per_s"], 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(_table(figures))
    return 0


def _core(edges: list[tuple[str, str]]) -> dict[str, float]:
    began = time.perf_counter()
    run = run_to_quiescence(Edge(p, c, f"{p}>{c}") for p, c in edges)
    seconds = time.perf_counter() - began
    pairs = sum(len(s.ancestors) for s in run.states.values())
    return {"seconds": round(seconds, 2), "edges_per_s": round(len(edges) / seconds), "closure_pairs": pairs,
            "pairs_per_s": round(pairs / seconds)}


def _stream(stack: OwnStack, productions: list[Production], edges: int) -> dict[str, float]:
    path = stack.state / "chain.jsonl"
    path.write_text("".join(json.dumps(event_to_json(p)) + "\n" for p in productions))
    began = time.perf_counter()
    lotline(stack.env, "publish", str(path))
    published = time.perf_counter() - began
    lotline(stack.env, "sync", "--timeout", "900")
    seconds = time.perf_counter() - began
    client, db = stack.endpoints.clickhouse.client(), stack.endpoints.clickhouse.database
    rows = client.execute(f"SELECT count() FROM {db}.closure")[0][0]
    return {"seconds": round(seconds, 2), "publish_seconds": round(published, 2),
            "edges_per_s": round(edges / seconds), "closure_rows": rows, "rows_per_s": round(rows / seconds)}


def _delays(stack: OwnStack, edges: list[tuple[str, str]], samples: int, depth: int) -> dict[str, float]:
    """Fail a raw lot, wait for its deepest descendant to be at risk; repeat on other lots."""
    batches = {b for e in edges for b in e}
    closure = oracle.closure(batches, edges)
    deepest: dict[str, tuple[int, str]] = {}
    for child, ancestors in closure.items():
        for ancestor, d in ancestors.items():
            deepest[ancestor] = max(deepest.get(ancestor, (0, "")), (d, child))
    raw = sorted((lot for lot in deepest if lot.startswith("RAW-")), key=lambda lot: (-deepest[lot][0], lot))
    client, db = stack.endpoints.clickhouse.client(), stack.endpoints.clickhouse.database
    seconds, hops = [], []
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for n, lot in enumerate(raw[:samples]):
        hop_count, leaf = deepest[lot]
        report = LabResult(f"bench-{n}", f"BENCH-{n}", 1, "LAB-B", lot, f"S-{n}", "GB 6675.4-2014", "fail", now,
                           now, (Measurement("Pb (soluble)", 200.0, "mg/kg", 90.0, "fail"),))
        line = json.dumps(event_to_json(report)) + "\n"
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lotline", "publish", "-"], input=line.encode(), env=stack.env,
                       check=True, capture_output=True)
        while not client.execute(
            f"SELECT count() FROM {db}.batch_status WHERE batch_id = %(leaf)s AND has(risk_sources, %(lot)s)",
            {"leaf": leaf, "lot": lot},
        )[0][0]:
            time.sleep(0.01)
        seconds.append(time.perf_counter() - began)
        hops.append(hop_count)
    per_hop = [s / h for s, h in zip(seconds, hops, strict=True)]
    return {"samples": len(seconds), "hops": hops, "median_s": round(statistics.median(seconds), 3),
            "max_s": round(max(seconds), 3), "median_per_hop_s": round(statistics.median(per_hop), 3),
            "includes": "one `lotline publish` process start (~0.5 s) and ClickHouse polling every 10 ms"}


def _table(f: dict) -> str:  # type: ignore[type-arg]
    chain, core, stream, delay = f["chain"], f["core"], f["stream"], f["delay"]
    return "\n".join([
        f"Lineage benchmark, {f['when']}: {chain['edges']:,} edges, {chain['batches']:,} batches, "
        f"depth {chain['depth']}, {chain['closure_pairs']:,} closure pairs",
        "",
        "| measure | figure |",
        "|---|---|",
        f"| core (pure closure, in process) | {core['edges_per_s']:,} edges/s ({core['pairs_per_s']:,} pairs/s) |",
        f"| stream (publish → sync, 1 worker) | {stream['edges_per_s']:,} edges/s "
        f"({stream['rows_per_s']:,} closure rows/s, {stream['seconds']} s) |",
        f"| stream / core | {f['stream_vs_core']} |",
        f"| propagation delay, {delay['samples']} raw lots, {min(delay['hops'])}-{max(delay['hops'])} hops "
        f"| median {delay['median_s']} s, max {delay['max_s']} s ({delay['median_per_hop_s']} s per hop) |",
    ])


if __name__ == "__main__":
    raise SystemExit(main())
