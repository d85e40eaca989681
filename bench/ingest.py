"""Ingest benchmark: lab reports/s end to end, next to the bare-Faust ceiling measured in the same run.

It starts its own local stack (Tansu, ClickHouse, no worker) in a temporary state directory, loads
the lab-results topic with N signed-off reports (Avro, keyed by batch, as `lotline publish` sends
them), then measures, one after the other on the same loaded topic:

* **ceiling**: a bare Faust app (the same `LotlineApp` transport and settings) whose agent takes
  the raw topics in the same batches as Lotline's ingest agent and only acks them;
* **lotline**: one `lotline worker`: decode, validate, write rows to ClickHouse, send closure
  messages, commit. Timed from its first commit to the moment every report is committed, which
  is when `lotline sync` would return, so every report counted is queryable (checked after).

* **signed**: the same worker on a second topic set holding the same reports, each signed by
  the bench lab's registered Ed25519 key (a compact JWS per report, checked in the stream: read,
  signature, claims against the event, acceptance against the lab's accreditation).

Both time only the steady part (first event to last), not the group join. Reported: reports/s
for each, their ratio (DESIGN §8 asks ≥ 0.7), the target (≥ 7.5k reports/s), and what signature
checking costs: 1 − signed/unsigned (DESIGN §8 asks ≤ 15 % of the ceiling's budget).

Usage: ``.venv/bin/python bench/ingest.py [--reports N] [--rounds R]``
Figures go to stdout (markdown) and bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.own_stack import own_stack, passing_report, send  # noqa: E402
from deploy.kafka_admin import ensure_topics  # noqa: E402
from lotline.settings import Settings  # noqa: E402
from schemas import credential  # noqa: E402
from sinks.clickhouse import ClickHouseAddress  # noqa: E402
from streams.offsets import OffsetReader  # noqa: E402
from streams.topics import TopicNames  # noqa: E402
from traceability.events import Event, Lab, LabResult  # noqa: E402
from traceability.registry import Accreditation, SigningKey  # noqa: E402

SIGNED_PREFIX = "lotline-signed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1, help="ceiling/lotline pairs, each on a fresh group")
    parser.add_argument("--ceiling-worker", type=int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    args = parser.parse_args()
    if args.ceiling_worker:
        return _ceiling_worker(args.ceiling_worker)

    with own_stack(workers=0) as stack:
        bootstrap, address = stack.endpoints.kafka_bootstrap, stack.endpoints.clickhouse
        loaded = _load(bootstrap, _reports(args.reports), Settings().topic_prefix)
        ensure_topics(bootstrap, TopicNames(SIGNED_PREFIX).consumed, Settings().partitions)
        signing = _load(bootstrap, _signed(_reports(args.reports)), SIGNED_PREFIX)
        rounds = []
        for n in range(args.rounds):
            ceiling = _ceiling(stack.env, args.reports, f"bench-ceiling-{n}")
            stream = _stream(stack.env, bootstrap, address, args.reports, f"bench-lotline-{n}")
            signed = _stream({**stack.env, "LOTLINE_TOPIC_PREFIX": SIGNED_PREFIX}, bootstrap, address, args.reports,
                             f"bench-signed-{n}", SIGNED_PREFIX)
            rounds.append({"ceiling_per_s": ceiling, **stream, "signed_per_s": signed["reports_per_s"]})

    ceiling = statistics.median(r["ceiling_per_s"] for r in rounds)
    lotline = statistics.median(r["reports_per_s"] for r in rounds)
    signed_rate = statistics.median(r["signed_per_s"] for r in rounds)
    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "reports": args.reports,
        "load_seconds": loaded, "signed_load_seconds": signing, "rounds": rounds, "ceiling_per_s": round(ceiling),
        "lotline_per_s": round(lotline), "ratio": round(lotline / ceiling, 3), "target_ratio": 0.7,
        "target_per_s": 7500, "signed_per_s": round(signed_rate),
        "signature_cost": round(1 - signed_rate / lotline, 3), "target_signature_cost": 0.15,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(_table(figures))
    return 0


def _reports(count: int) -> list[LabResult]:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    return [passing_report(str(i), f"LOT-{i % 20_000:05d}", at) for i in range(count)]


def _signed(reports: list[LabResult]) -> list[Event]:
    """The bench lab's registry entry with a key, then every report signed with that key."""
    key = credential.new_key()
    kid = credential.default_kid("LAB-BENCH", key)
    at = reports[0].issued_at - timedelta(days=30)
    lab = Lab("bench-lab", "LAB-BENCH", "Bench Lab", "CNAS", "L0001", ("GB 6675.4-2014",), "CN-ZJ", at,
              at + timedelta(days=365), (), at,
              accreditations=(Accreditation("CNAS", "CNAS L0001", at, at + timedelta(days=365), (),
                                            ("GB 6675.4-2014",), (), ()),),
              keys=(SigningKey(kid, json.dumps(credential.public_jwk(key, kid)), at, None, None, ""),))
    claimed = credential.ClaimedAccreditation("CNAS", "CNAS L0001")
    return [lab, *(dataclasses.replace(r, credential=credential.sign(r, key, kid=kid, accreditation=claimed))
                   for r in reports)]


def _load(bootstrap: str, events: list[Event], prefix: str) -> float:
    """Publish the events as `lotline publish` would (Avro, keyed by batch); returns seconds."""
    began = time.perf_counter()
    send(events, bootstrap, prefix)
    seconds = time.perf_counter() - began
    print(f"loaded {len(events):,} events on {prefix} in {seconds:.1f} s", file=sys.stderr)
    return round(seconds, 1)


def _ceiling(env: dict[str, str], count: int, group: str) -> float:
    done = subprocess.run([sys.executable, __file__, "--ceiling-worker", str(count)],
                          env={**env, "LOTLINE_APP_ID": group}, capture_output=True, text=True, timeout=900)
    # Faust's worker turns prints into log lines: find the figure wherever it went.
    found_at = (done.stdout + done.stderr).rfind('{"count"')
    if found_at < 0:
        raise RuntimeError(f"ceiling worker failed:\n{done.stderr[-3000:]}")
    found = json.loads((done.stdout + done.stderr)[found_at:].splitlines()[0])
    print(f"ceiling: {found['count']:,} events in {found['seconds']:.2f} s", file=sys.stderr)
    return found["count"] / found["seconds"]


def _ceiling_worker(count: int) -> int:
    """A bare Faust agent on the raw topics, batched like the ingest agent; prints its rate and exits."""
    import faust

    from deploy.local_stack import resolve_endpoints
    from streams.transport import LotlineApp

    settings = Settings()
    bootstrap = resolve_endpoints(settings.stack()).kafka_bootstrap
    datadir = Path(settings.state_dir) / "faust-ceiling"
    app = LotlineApp(
        settings.app_id, broker=f"kafka://{bootstrap}", store="memory://", value_serializer="raw",
        key_serializer="raw", web_enabled=False, datadir=str(datadir), topic_partitions=settings.partitions,
        topic_allow_declare=False, consumer_auto_offset_reset="earliest",
        broker_commit_interval=settings.commit_interval, broker_session_timeout=settings.broker_session_timeout,
        broker_rebalance_timeout=settings.broker_rebalance_timeout,
        broker_heartbeat_interval=settings.broker_heartbeat_interval, fetch_max_wait_ms=settings.fetch_max_wait_ms,
    )
    topics = TopicNames(settings.topic_prefix)
    raw = app.topic(*topics.raw, value_serializer="raw", key_serializer="raw")
    seen = {"count": 0, "first": 0.0}

    @app.agent(raw)
    async def noop(stream: faust.StreamT) -> None:
        async for batch in stream.noack_take(settings.sink_batch_size, within=settings.sink_flush_seconds):
            if not seen["count"]:
                seen["first"] = time.perf_counter()
            for event in batch:
                await stream.ack(event)
            seen["count"] += len(batch)
            if seen["count"] >= count:
                seconds = time.perf_counter() - seen["first"]
                print(json.dumps({"count": seen["count"], "seconds": seconds}), flush=True)
                os._exit(0)

    faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()
    return 1


def _stream(env: dict[str, str], bootstrap: str, address: ClickHouseAddress, count: int, group: str,
            prefix: str | None = None) -> dict[str, float]:
    env = {**env, "LOTLINE_APP_ID": group}
    topics = TopicNames(prefix or Settings().topic_prefix)
    reader = OffsetReader(bootstrap, group)
    log = open(Path(env["LOTLINE_STATE_DIR"]) / f"{group}.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen([sys.executable, "-m", "lotline", "worker"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        first = start = None
        while True:
            lags = reader.lags(topics.consumed, exact=False)
            committed = sum(lag.committed for lag in lags if lag.topic == topics.lab_results)
            if first is None and committed:
                first, start = committed, time.perf_counter()
            if committed >= count and not sum(lag.behind for lag in lags):
                seconds = time.perf_counter() - (start or 0)
                break
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited with {worker.returncode}; see {log.name}")
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(30)
        reader.close()
    client = address.client()
    stored = client.execute(f"SELECT uniqExact(event_id) FROM {address.database}.lab_results")[0][0]
    client.execute(f"TRUNCATE TABLE {address.database}.lab_results")  # the next round starts empty
    assert stored == count, f"{stored} of {count} reports are queryable"
    print(f"lotline: {count - first:,} reports in {seconds:.2f} s after its first commit", file=sys.stderr)
    return {"reports_per_s": round((count - first) / seconds), "stream_seconds": round(seconds, 2)}


def _table(f: dict) -> str:  # type: ignore[type-arg]
    return "\n".join([
        f"Ingest benchmark, {f['when']}: {f['reports']:,} lab reports (2 measurements each), "
        f"{len(f['rounds'])} round(s), medians",
        "",
        "| measure | figure |",
        "|---|---|",
        f"| bare Faust ceiling (no-op agent, same topics and batching) | {f['ceiling_per_s']:,} events/s |",
        f"| Lotline (decode, validate, ClickHouse rows, closure messages, commit) | {f['lotline_per_s']:,} reports/s |",
        f"| Lotline / ceiling | {f['ratio']} (target ≥ {f['target_ratio']}) |",
        f"| target | ≥ {f['target_per_s']:,} reports/s |",
        f"| Lotline, every report signed and checked in the stream | {f['signed_per_s']:,} reports/s |",
        f"| cost of signature checking (1 − signed / unsigned) | {f['signature_cost']:.1%} "
        f"(target ≤ {f['target_signature_cost']:.0%}) |",
    ])


if __name__ == "__main__":
    raise SystemExit(main())
