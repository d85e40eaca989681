"""Memory benchmark: a worker's resident memory per million batches held in its closure state.

It starts its own local stack (Tansu, ClickHouse, one worker) in a temporary state directory,
reads the worker's resident set (``/proc/<pid>/status``: VmRSS, and VmHWM for the peak) once it
has joined and is idle, then streams a generated supply chain through it (productions, lab
reports, shipments) and reads it again after `lotline sync`. Then it kills the worker and starts
a new one, which rebuilds the same state by folding the closure topic, and reads that too.

Reported: the idle baseline; the held and peak memory above it after the load, per million
batches and per closure pair (the state is mostly each batch's ancestors, so a deep chain costs
more per batch than a shallow one); the same after the rebuild. The per-million figure is a
linear extrapolation from the batches loaded.

Usage: ``.venv/bin/python bench/memory.py [--raw-lots N --components N --products N --tiers N]``
Figures go to stdout (markdown) and bench/results/memory.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.own_stack import OwnStack, own_stack, passing_report, send, sync  # noqa: E402
from deploy.local_stack import StackState, start_worker  # noqa: E402
from deploy.processes import stop  # noqa: E402
from lotline.settings import Settings  # noqa: E402
from streams.closure import closure_partition  # noqa: E402
from traceability.events import Production  # noqa: E402
from traceability.simulation import ChainShape, supply_chain  # noqa: E402

MIB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw-lots", type=int, default=2_000)
    parser.add_argument("--components", type=int, default=14_000)
    parser.add_argument("--products", type=int, default=24_000)
    parser.add_argument("--tiers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "memory.json")
    args = parser.parse_args()

    shape = ChainShape(args.raw_lots, args.components, args.products, tiers=args.tiers)
    events = list(supply_chain(args.seed, shape, datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)))
    edges = {(i.batch_id, o.batch_id) for e in events if isinstance(e, Production) for i in e.inputs for o in e.outputs}
    batches = len({b for edge in edges for b in edge})
    with own_stack(workers=1) as stack:
        sync(stack)  # the worker has joined
        idle = _memory(stack)
        began = time.perf_counter()
        send(events, stack.endpoints.kafka_bootstrap)
        sync(stack)
        seconds = time.perf_counter() - began
        loaded = _memory(stack)
        client, db = stack.endpoints.clickhouse.client(), stack.endpoints.clickhouse.database
        pairs = client.execute(f"SELECT count() FROM (SELECT DISTINCT descendant, ancestor FROM {db}.closure)")[0][0]
        rebuilt = _restart_and_rebuild(stack, {b for edge in edges for b in edge})

    figures = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "chain": {"events": len(events), "batches": batches, "edges": len(edges), "closure_pairs": pairs,
                  "depth": args.tiers + 1, "load_seconds": round(seconds, 1)},
        "idle_mib": round(idle["rss"] / MIB, 1),
        "loaded": _per(loaded, idle, batches, pairs),
        "rebuilt": _per(rebuilt, idle, batches, pairs),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(_table(figures))
    return 0


def _memory(stack: OwnStack) -> dict[str, int]:
    """The worker's resident set now and its peak so far, in bytes."""
    pid = StackState.load(stack.state).processes["worker-0"].pid
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss": int(fields["VmRSS"].split()[0]) * 1024, "peak": int(fields["VmHWM"].split()[0]) * 1024}


def _restart_and_rebuild(stack: OwnStack, batches: set[str]) -> dict[str, int]:
    """Replace the worker with a fresh one and wait until it has folded its partitions back."""
    state = StackState.load(stack.state)
    stop(state.processes["worker-0"])
    state.processes["worker-0"] = start_worker(stack.state, 0, stack.env)
    state.save(stack.state)
    # The new worker rebuilds a partition's state when the first message for it arrives: a report
    # on one known batch of each closure partition makes it rebuild them all.
    partitions = Settings().partitions
    owners = {closure_partition(b, partitions): b for b in sorted(batches, reverse=True)}
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    send([passing_report(f"mem-{p}", batch, at) for p, batch in owners.items()], stack.endpoints.kafka_bootstrap)
    sync(stack)
    return _memory(stack)


def _per(measured: dict[str, int], idle: dict[str, int], batches: int, pairs: int) -> dict[str, float]:
    held, peak = measured["rss"] - idle["rss"], measured["peak"] - idle["rss"]
    return {"rss_mib": round(measured["rss"] / MIB, 1), "peak_mib": round(measured["peak"] / MIB, 1),
            "held_mib_per_million_batches": round(held / MIB / batches * 1e6),
            "peak_mib_per_million_batches": round(peak / MIB / batches * 1e6),
            "held_bytes_per_closure_pair": round(held / max(pairs, 1), 1)}


def _table(f: dict) -> str:  # type: ignore[type-arg]
    chain, loaded, rebuilt = f["chain"], f["loaded"], f["rebuilt"]

    def row(name: str, m: dict[str, float]) -> str:
        return (f"| {name} | {m['rss_mib']} MiB | {m['peak_mib']} MiB | {m['held_mib_per_million_batches']:,} MiB "
                f"| {m['peak_mib_per_million_batches']:,} MiB | {m['held_bytes_per_closure_pair']} B |")

    return "\n".join([
        f"Memory benchmark, {f['when']}: {chain['batches']:,} batches, {chain['edges']:,} edges, "
        f"{chain['closure_pairs']:,} closure pairs, depth {chain['depth']} ({chain['events']:,} events, "
        f"streamed in {chain['load_seconds']} s); idle worker {f['idle_mib']} MiB",
        "",
        "| worker | RSS | peak RSS | held per 1M batches | peak per 1M batches | held per closure pair |",
        "|---|---|---|---|---|---|",
        row("after the load", loaded),
        row("after a restart (state rebuilt from the closure topic)", rebuilt),
    ])


if __name__ == "__main__":
    raise SystemExit(main())
