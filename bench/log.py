"""Transparency log benchmark: build the tree of 1M stored entries cold, then proof latency.

Publishing a million accepted reports through the stream would measure the stream, so this
benchmark writes the ``log_entries`` table directly, the way the log agent would have: a
**module** of entries made by the log's own code (``traceability.log_entries``: report versions,
withdrawals, key registrations and revocations, about one in a hundred stored twice as a
redelivery would) is inserted once, then ClickHouse copies it server-side as many times as the
size asks for, each copy with its own ids (``M<n>-``) and offsets, so every copy is distinct.

It measures, with ``query.transparency.LogReader`` (the code behind ``/v1/log`` and ``lotline log``):

* the cold build (first call: read every row of partition 0 page by page, hash, dedup, index
  report event ids, build the tree) and the memory it keeps;
* a call when nothing is new (one indexed query), and an incremental refresh of 1,000 new rows;
* inclusion and consistency proofs, entries and checkpoints through the reader (each call
  refreshes first, so this is what an API request costs before HTTP), and through the HTTP
  router in-process (``fastapi.testclient``), signing included;
* the same proofs from the pure tree alone, without the refresh query.

Usage: ``.venv/bin/python bench/log.py [--entries 1000000] [--runs 500]``
Figures go to stdout (markdown) and bench/results/log.json.
"""

from __future__ import annotations

import argparse
import hashlib
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

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from bench.own_stack import own_stack  # noqa: E402
from query.log_api import log_router  # noqa: E402
from query.transparency import LogReader, LogSigner  # noqa: E402
from schemas.credential import new_key  # noqa: E402
from sinks.rows import COLUMNS  # noqa: E402
from traceability.ledger import ReportFacts  # noqa: E402
from traceability.log_entries import key_entries, report_entry  # noqa: E402
from traceability.registry import SigningKey  # noqa: E402
from traceability.transparency import MerkleTree, leaf_hash  # noqa: E402
from traceability.trust import Judgement  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(days=30)
MODULE = 10_000
JUDGED = Judgement("authentic", "accredited", "pass")
_KEYS = 50  # every 50th entry of the module is a key's
_REPORTS = [i for i in range(MODULE - MODULE // 100) if i % _KEYS]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="rows stored (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=500, help="timed calls per measured operation (default 500)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "log.json")
    args = parser.parse_args()

    with own_stack(workers=0) as stack:
        address = stack.endpoints.clickhouse
        client = address.client()
        table = f"{address.database}.log_entries"
        began = time.perf_counter()
        stored = _load(client, table, args.entries)
        load_s = time.perf_counter() - began
        print(f"{stored:,} rows stored in {load_s:.1f} s, building the tree …", file=sys.stderr)

        rss_before = _rss_mb()
        reader = LogReader(address.client, address.database)
        began = time.perf_counter()
        leaves = reader.size()
        cold_s = time.perf_counter() - began
        kept_mb = _rss_mb() - rss_before

        idle = _timed(args.runs, reader.size)
        _copy(client, table, 0, 1_000, copy=_copies(stored) + 1, offset=_next_offset(client, table))
        began = time.perf_counter()
        grown = reader.size()
        refresh_ms = (time.perf_counter() - began) * 1000

        rng = random.Random(9162)
        figures: dict[str, Any] = {
            "when": NOW.isoformat(), "rows": stored, "leaves": leaves, "load_s": round(load_s, 1),
            "cold_build_s": round(cold_s, 2), "kept_mb": round(kept_mb), "idle_call": idle,
            "refresh_1000_ms": round(refresh_ms, 1), "leaves_after_refresh": grown,
            "reader": _reader_figures(reader, grown, rng, args.runs),
            "http": _http_figures(reader, grown, rng, args.runs),
            "tree_only": _tree_figures(grown, rng, args.runs),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(_table(figures))
    return 0


# -- the data ------------------------------------------------------------------------------------

def _module() -> list[bytes]:
    """``MODULE`` rows of entries as the stream makes them, ids prefixed ``M0-``; 1 % are repeats."""
    rng = random.Random(7)
    rows: list[bytes] = []
    for i in range(MODULE - MODULE // 100):
        if i % _KEYS == 0:
            jwk = json.dumps({"kty": "OKP", "crv": "Ed25519", "x": f"M0-{i:043d}"})
            revoked = T0 + timedelta(days=3) if i % 100 == 0 else None
            key = SigningKey(f"M0-LAB-{i % 40}-k{i}", jwk, T0, None, revoked, "rotated" if revoked else "")
            rows += key_entries(f"M0-LAB-{i % 40}", key)[-1:]
            continue
        verdict = "withdrawn" if i % 97 == 0 else ("fail" if i % 13 == 0 else "pass")
        facts = ReportFacts(f"M0-LOT-{i // 3:05d}", f"M0-LAB-{i % 40}", f"M0-RPT-{i:05d}", 1 + i % 3, verdict,
                            f"M0-ev-{i:05d}", "GB 6675.4-2014", T0 + timedelta(seconds=i), None,
                            origin=f"M0-report {i}".encode())
        rows.append(report_entry(facts, JUDGED))
    rows += [rng.choice(rows) for _ in range(MODULE - len(rows))]  # redeliveries, at later offsets
    return rows


def _load(client: Any, table: str, entries: int) -> int:
    """The module at offsets 0.., then server-side copies up to ``entries`` rows."""
    columns = COLUMNS["log_entries"]
    assert columns == ("entry", "entry_sha256", "log_partition", "log_offset", "known_at"), columns
    rows = [(e.decode(), hashlib.sha256(e).hexdigest(), 0, offset, T0) for offset, e in enumerate(_module())]
    client.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES", rows)
    for copy in range(1, entries // MODULE):
        _copy(client, table, 0, MODULE, copy=copy, offset=copy * MODULE)
    return int(client.execute(f"SELECT count() FROM {table}")[0][0])


def _copy(client: Any, table: str, start: int, end: int, *, copy: int, offset: int) -> None:
    """Rows ``[start, end)`` of the module again, ids ``M<copy>-``, from ``offset`` on."""
    # The copied entry takes an alias of its own: 18.16 would put an alias named `entry` into SHA256(entry).
    client.execute(
        f"INSERT INTO {table} (entry, entry_sha256, log_partition, log_offset, known_at) "
        "SELECT copied, lower(hex(SHA256(copied))), 0, moved, known_at FROM ("
        f"SELECT replaceAll(entry, '\"M0-', '\"M{copy}-') AS copied, log_offset - {start} + {offset} AS moved, "
        f"known_at FROM {table} WHERE log_partition = 0 AND log_offset >= {start} AND log_offset < {end})"
    )


def _copies(stored: int) -> int:
    return stored // MODULE


def _next_offset(client: Any, table: str) -> int:
    return int(client.execute(f"SELECT max(log_offset) + 1 FROM {table}")[0][0])


# -- the measurements ----------------------------------------------------------------------------

def _timed(runs: int, call: Callable[[], object]) -> dict[str, float]:
    """p50 / p99 / max of ``runs`` calls, in milliseconds."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 3), "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 3),
            "max_ms": round(samples[-1], 3)}


def _reader_figures(reader: LogReader, size: int, rng: random.Random, runs: int) -> dict[str, Any]:
    return {
        "inclusion": _timed(runs, lambda: reader.inclusion(rng.randrange(size), size)),
        "inclusion_by_event": _timed(runs, lambda: reader.inclusion(reader.leaf_of_event(
            f"M{rng.randrange(_copies(size))}-ev-{rng.choice(_REPORTS):05d}"))),
        "consistency": _timed(runs, lambda: reader.consistency(rng.randrange(1, size), size)),
        "entry": _timed(runs, lambda: reader.entry(rng.randrange(size))),
        "checkpoint": _timed(runs, reader.checkpoint),
    }


def _http_figures(reader: LogReader, size: int, rng: random.Random, runs: int) -> dict[str, Any]:
    api = FastAPI()
    api.include_router(log_router(lambda: reader, LogSigner(reader.checkpoint().origin, new_key())))
    http = TestClient(api)

    def get(path: str, **params: object) -> Callable[[], object]:
        return lambda: http.get(path, params=params).raise_for_status()

    return {
        "checkpoint": _timed(runs, get("/v1/log/checkpoint")),
        "inclusion": _timed(runs, lambda: get("/v1/log/proof/inclusion", index=rng.randrange(size), size=size)()),
        "consistency": _timed(runs, lambda: get("/v1/log/proof/consistency", old=rng.randrange(1, size), new=size)()),
        "entry": _timed(runs, lambda: get(f"/v1/log/entries/{rng.randrange(size)}")()),
    }


def _tree_figures(size: int, rng: random.Random, runs: int) -> dict[str, Any]:
    """The pure tree's share: proofs from a tree of as many leaves, with no query before them."""
    began = time.perf_counter()
    tree = MerkleTree.from_leaf_hashes(leaf_hash(i.to_bytes(8, "big")) for i in range(size))
    build_s = time.perf_counter() - began
    return {
        "build_s": round(build_s, 2),
        "inclusion": _timed(runs * 4, lambda: tree.inclusion_proof(rng.randrange(size), size)),
        "consistency": _timed(runs * 4, lambda: tree.consistency_proof(rng.randrange(1, size), size)),
        "root": _timed(runs * 4, lambda: tree.root(rng.randrange(1, size))),
    }


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _table(f: dict[str, Any]) -> str:
    def row(name: str, t: dict[str, float]) -> str:
        return f"| {name} | {t['p50_ms']:.3f} | {t['p99_ms']:.3f} | {t['max_ms']:.3f} |"

    lines = [
        f"## Transparency log: {f['rows']:,} rows, {f['leaves']:,} leaves (distinct entries)",
        "",
        f"* cold build (read, hash, dedup, index, tree): **{f['cold_build_s']} s**; memory kept ≈ {f['kept_mb']} MB",
        f"* a call with nothing new: p50 {f['idle_call']['p50_ms']:.2f} ms, p99 {f['idle_call']['p99_ms']:.2f} ms",
        f"* refresh after 1,000 new rows: {f['refresh_1000_ms']} ms (now {f['leaves_after_refresh']:,} leaves)",
        f"* pure tree of as many leaves: built in {f['tree_only']['build_s']} s",
        "",
        "| operation | p50 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- |",
    ]
    for part, label in (("reader", "reader"), ("http", "HTTP"), ("tree_only", "tree only")):
        lines += [row(f"{label}: {name}", t) for name, t in f[part].items() if isinstance(t, dict)]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
