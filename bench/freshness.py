"""Freshness benchmark: publish → visible in a trace, p50/p99, under steady load at half the throughput.

It starts its own local stack (Tansu, ClickHouse, one worker) in a temporary state directory and,
in the same run:

1. loads a small supply chain through the stream (the batches the probes refer to);
2. **calibrates**: publishes a burst of lab reports and times it until the worker has committed
   all of them (published → queryable, as `lotline sync` sees it): the end-to-end throughput;
3. starts a **steady load** in a separate process: lab reports at ``--load-fraction`` (0.5) of that
   throughput, paced every 10 ms;
4. **probes** while the load runs, one every ``--probe-interval`` seconds, alternating:
   * *report*: a new lab report on a product batch, until the report is readable where the trace
     reads reports;
   * *lineage*: a production event making a new lot from a product batch, until the new lot's
     closure has every ancestor (its trace shows the whole upstream).
   Each probe is sent and flushed by its own producer; the clock runs from before the send to the
   first poll (every 5 ms) that sees it. After the run, a sample of probes is checked through
   `ScopeReader.trace`, the code behind `lotline trace` and the API.

DESIGN §8 asks p99 ≤ 1 s. Usage: ``.venv/bin/python bench/freshness.py [--seconds 60]``.
Figures go to stdout (markdown) and bench/results/freshness.json.
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

from bench.own_stack import OwnStack, own_stack, passing_report, send, sync  # noqa: E402
from lotline.settings import Settings  # noqa: E402
from query.scope import ScopeReader  # noqa: E402
from schemas.codec import AvroCodec  # noqa: E402
from streams.producer import CheckedProducer  # noqa: E402
from streams.topics import TopicNames, partition_key  # noqa: E402
from traceability.events import Event, InputLot, OutputLot, Production  # noqa: E402
from traceability.simulation import ChainShape, supply_chain  # noqa: E402
from traceability.testing import oracle  # noqa: E402

TOPICS = TopicNames(Settings().topic_prefix)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the probes run under load")
    parser.add_argument("--probe-interval", type=float, default=0.25)
    parser.add_argument("--load-fraction", type=float, default=0.5, help="of the calibrated throughput")
    parser.add_argument("--calibrate-reports", type=int, default=30_000)
    parser.add_argument("--load-worker", nargs=2, type=float, metavar=("RATE", "SECONDS"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "freshness.json")
    args = parser.parse_args()
    if args.load_worker:
        return _load_worker(*args.load_worker)

    now = datetime.now(UTC).replace(microsecond=0)
    with own_stack(workers=1) as stack:
        chain = _seed_chain(stack, now - timedelta(days=20))
        throughput = _calibrate(stack, args.calibrate_reports, now - timedelta(days=1))
        rate = throughput * args.load_fraction
        load = subprocess.Popen([sys.executable, __file__, "--load-worker", str(rate), str(args.seconds + 10)],
                                env=stack.env, stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(5)  # the load reaches its pace and the worker its steady state
            probes = _probe(stack, chain, args.seconds, args.probe_interval, now - timedelta(hours=1))
        finally:
            sent = json.loads(load.communicate(timeout=120)[0] or "{}")
        kept_up = _drained(stack, timeout=60)

    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "throughput_per_s": round(throughput), "load_per_s_asked": round(rate),
        "load_per_s_sent": round(sent.get("count", 0) / max(sent.get("seconds", 1), 1e-9)),
        "worker_kept_up": kept_up,
        **{kind: _summary(seconds) for kind, seconds in probes.items()},
        "target_p99_s": 1.0,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(_table(figures))
    return 0


def _seed_chain(stack: OwnStack, start: datetime) -> dict[str, set[str]]:
    """A 4-deep chain of ~1,000 batches through the stream; returns each product's ancestors."""
    shape = ChainShape(raw_lots=100, components=400, products=500, tested_fraction=0.2, failure_rate=0.0, tiers=3)
    events = list(supply_chain(7, shape, start))
    send(events, stack.endpoints.kafka_bootstrap)
    sync(stack)
    edges = [(i.batch_id, o.batch_id) for e in events if isinstance(e, Production) for i in e.inputs for o in e.outputs]
    closure = oracle.closure({b for edge in edges for b in edge}, edges)
    return {b: set(ancestors) for b, ancestors in closure.items() if b.startswith("TOY-")}


def _calibrate(stack: OwnStack, count: int, at: datetime) -> float:
    """Reports/s from the start of publishing a burst until the worker has committed all of it."""
    reports = [passing_report(f"cal-{i}", f"LOT-{i % 20_000:05d}", at) for i in range(count)]
    began = time.perf_counter()
    send(reports, stack.endpoints.kafka_bootstrap)
    sync(stack)
    seconds = time.perf_counter() - began
    print(f"calibration: {count:,} reports published → committed in {seconds:.1f} s", file=sys.stderr)
    return count / seconds


def _load_worker(rate: float, seconds: float) -> int:
    """Publish reports at ``rate`` per second for ``seconds``; print what was sent as JSON."""
    from deploy.local_stack import resolve_endpoints

    codec = AvroCodec()
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    sent = 0
    with CheckedProducer(resolve_endpoints(Settings().stack()).kafka_bootstrap) as producer:
        began = time.perf_counter()
        while (elapsed := time.perf_counter() - began) < seconds:
            while sent < elapsed * rate:
                report = passing_report(f"load-{sent}", f"LOT-{sent % 20_000:05d}", at)
                producer.send(TOPICS.lab_results, codec.encode(report), key=partition_key(report))
                sent += 1
            time.sleep(0.01)
        producer.flush()
        print(json.dumps({"count": sent, "seconds": time.perf_counter() - began}))
    return 0


def _probe(stack: OwnStack, chain: dict[str, set[str]], seconds: float, interval: float, at: datetime
           ) -> dict[str, list[float]]:
    address = stack.endpoints.clickhouse
    client, db = address.client(), address.database
    codec = AvroCodec()
    products = sorted(chain)
    found: dict[str, list[float]] = {"report": [], "lineage": []}
    checks: list[tuple[str, str, str]] = []
    with CheckedProducer(stack.endpoints.kafka_bootstrap) as producer:
        ends = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < ends:
            batch = products[n * 37 % len(products)]
            if n % 2 == 0:
                event: Event = passing_report(f"probe-{n}", batch, at)
                sql, params, want = (f"SELECT count() FROM {db}.lab_results WHERE batch_id = %(b)s AND "
                                     "report_id = %(r)s", {"b": batch, "r": event.report_id}, 1)
                checks.append(("report", batch, event.report_id))
            else:
                child = f"FRESH-{n:06d}"
                event = Production(f"fresh-prd-{n}", "ORG-BENCH", "Site 1", at, (InputLot(batch, 1.0, "kg"),),
                                   (OutputLot(child, "PRD-FRESH", 1.0, "ea"),))
                sql, params, want = (f"SELECT uniqExact(ancestor) FROM {db}.closure WHERE descendant = %(c)s",
                                     {"c": child}, len(chain[batch]) + 1)
                checks.append(("lineage", child, batch))
            began = time.perf_counter()
            producer.send(TOPICS.for_kind(event.kind), codec.encode(event), key=partition_key(event))
            producer.flush()
            while client.execute(sql, params)[0][0] < want:
                if time.perf_counter() - began > 30:
                    raise TimeoutError(f"probe {n} not visible after 30 s")
                time.sleep(0.005)
            found["report" if n % 2 == 0 else "lineage"].append(time.perf_counter() - began)
            n += 1
            time.sleep(max(0.0, interval - (time.perf_counter() - began)))
    _check_traces(ScopeReader(address.client, db), checks[:: max(1, len(checks) // 20)], chain)
    return found


def _check_traces(reader: ScopeReader, checks: list[tuple[str, str, str]], chain: dict[str, set[str]]) -> None:
    """What the probes polled is what a trace answers."""
    for kind, batch, other in checks:
        trace = reader.trace(batch)
        if kind == "report":
            assert other in {r.current.report_id for r in trace.reports}, f"{other} missing from the trace of {batch}"
        else:
            upstream = {r.batch_id for r in trace.upstream}
            assert upstream == chain[other] | {other}, f"the trace of {batch} lacks part of {other}'s upstream"


def _drained(stack: OwnStack, timeout: float) -> bool:
    try:
        sync(stack, timeout)
    except TimeoutError:
        return False
    return True


def _summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"probes": len(ordered), "p50_s": round(statistics.median(ordered), 3),
            "p99_s": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
            "max_s": round(ordered[-1], 3)}


def _table(f: dict) -> str:  # type: ignore[type-arg]
    rows = [f"| {kind} | {f[kind]['probes']} | {f[kind]['p50_s']} s | {f[kind]['p99_s']} s | {f[kind]['max_s']} s |"
            for kind in ("report", "lineage")]
    return "\n".join([
        f"Freshness benchmark, {f['when']}: throughput {f['throughput_per_s']:,} reports/s (calibrated), "
        f"steady load {f['load_per_s_sent']:,}/s (asked {f['load_per_s_asked']:,}/s); "
        f"worker kept up: {'yes' if f['worker_kept_up'] else 'NO'}",
        "",
        "| probe (publish → visible) | probes | p50 | p99 | max |",
        "|---|---|---|---|---|",
        *rows,
        f"| target | | | ≤ {f['target_p99_s']} s | |",
    ])


if __name__ == "__main__":
    raise SystemExit(main())
