"""Access benchmark: what access by role (DESIGN §5) costs per trace and recall answer, next to the
bare reads of the same answers in the same run.

The benchmark starts its own stack and writes a generated supply chain's stored history directly,
as bench/queries.py does (rows by the sink's own mapping, closure and statuses by the BFS oracle),
plus the registry: every organisation of the chain (makers in CN-ZJ, retailers abroad) and a
regulator per shipment country and for CN-ZJ. It adds principals (an admin, the orgs that made the
two targets, a regulator whose jurisdiction both targets' goods reached, and fillers, so the key
snapshot has a deployment's size) and serves ``create_api(StackServices(...))`` in process through
``fastapi.testclient.TestClient``. Then, interleaved run by run so the machine's noise falls on
every path alike, p50/p99 of:

* the **baseline**: ``ScopeReader.trace`` / ``.recall`` called directly (no HTTP, no access);
* the pieces of the access path, called directly: the gate's admission alone
  (``Gate.may_read_batch``) for an org and for a regulator, ``Gate.trace`` / ``.recall`` as each
  (admission, the read, and for the org the ``involved`` query and the redaction), and the
  answer's JSON (``trace_json`` / ``recall_json`` + ``json.dumps``);
* over HTTP as an **admin** (authentication, audit record, routing, JSON: no access query), as the
  **org** that made the batch (admission, ``involved``, redaction) and as a **regulator** (admission
  by reach: downstream makers' places and shipment countries, then the full answer);
* ``Authenticator.authenticate`` alone for a valid and for an unknown API key, and the snapshot
  reload it does every second (``PrincipalStore.by_key_hash``).

Targets: the deepest finished good (most upstream batches among the deepest) for the trace, and
the made batch whose descendants come nearest ``--recall-size`` for the recall.

Usage: ``.venv/bin/python bench/access.py [--runs 200] [--products 2000 --components 1500 --raw-lots 100
--tiers 6] [--recall-size 300] [--principals 100]``. Figures go to stdout (markdown) and
bench/results/access.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Starlette asks TestClient users to move to httpx2; the tests ignore it too (pyproject.toml).
warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient` is deprecated")

from clickhouse_driver import Client  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from bench.own_stack import own_stack  # noqa: E402
from lotline.settings import Settings  # noqa: E402
from query import registry  # noqa: E402
from query.answers import recall_json, trace_json  # noqa: E402
from query.api import create_api  # noqa: E402
from query.gate import Gate  # noqa: E402
from query.principals import PrincipalStore, authenticator_for, new_key  # noqa: E402
from query.scope import ScopeReader  # noqa: E402
from query.services import StackServices  # noqa: E402
from sinks.clickhouse import ClickHouseAddress  # noqa: E402
from sinks.rows import COLUMNS, Provenance, RowBatch, add_event, new_batch  # noqa: E402
from streams.topics import TopicNames  # noqa: E402
from traceability.access import Principal, org_recall, org_trace  # noqa: E402
from traceability.errors import Unauthenticated  # noqa: E402
from traceability.events import Event, LabResult, Production, Shipment  # noqa: E402
from traceability.json_form import parse_object, utc_text  # noqa: E402
from traceability.simulation import COUNTRIES, ChainShape, supply_chain  # noqa: E402
from traceability.testing import oracle  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(days=30)
SEED = 7
MAKERS_PLACE = ("CN", "CN-ZJ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each path (default 200)")
    parser.add_argument("--raw-lots", type=int, default=100)
    parser.add_argument("--components", type=int, default=1500)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--tiers", type=int, default=6, help="component tiers (the chain is tiers + 1 deep)")
    parser.add_argument("--recall-size", type=int, default=300, help="descendants wanted in the recall target")
    parser.add_argument("--principals", type=int, default=100, help="filler principals in the key snapshot")
    parser.add_argument("--auth-seconds", type=float, default=3.0,
                        help="how long each authentication case is called in a loop (default 3 s)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "access.json")
    args = parser.parse_args()
    shape = ChainShape(raw_lots=args.raw_lots, components=args.components, products=args.products,
                       shipments_per_product=2, tiers=args.tiers, hub_skew=0.8, countries=12)
    chain = Chain(list(supply_chain(SEED, shape, T0)))
    facts = chain.facts(args.recall_size)
    with own_stack(workers=0) as stack:
        address = stack.endpoints.clickhouse
        print(f"loading {facts.batches:,} batches, {facts.pairs:,} closure pairs …", file=sys.stderr)
        _load(address.client(), address.database, chain.rows() | _rows(chain.registry()))
        # An API process does not hold the generated chain: its objects would lengthen every full
        # collection of the cyclic GC, which the HTTP path pays (the reads pause it, see query.scope).
        del chain
        gc.collect()
        figures = _bench(address, stack.endpoints.kafka_bootstrap, facts, args)
    figures |= {"when": NOW.isoformat(), "batches": facts.batches, "closure_pairs": facts.pairs,
                "shape": vars(shape)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(_table(figures))
    return 0


# -- the chain and its registry ------------------------------------------------------------------

@dataclass(frozen=True)
class Targets:
    deep: str  # the trace target
    spread: str  # the recall target
    regulator: str  # a jurisdiction both targets' goods reached


@dataclass(frozen=True)
class Facts:
    """What the measuring needs of the chain (the chain itself is dropped before it)."""

    targets: Targets
    batches: int
    pairs: int
    maker: dict[str, str]  # of each target
    makers: dict[str, list[str]]  # of each target and every batch made from it
    involved: dict[str, frozenset[str]]  # the batches each target's maker made, shipped or received
    recipients: list[str]


class Chain:
    """A generated chain's events, its closure by the oracle, and who made and shipped what where."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        productions = [e for e in events if isinstance(e, Production)]
        self.edges = {(i.batch_id, o.batch_id) for e in productions for i in e.inputs for o in e.outputs}
        self.maker = {o.batch_id: e.org_id for e in productions for o in e.outputs}
        self.shipments = [e for e in events if isinstance(e, Shipment)]
        self.batches = {b for edge in self.edges for b in edge} | {s.batch_id for s in self.shipments}
        self.closure = oracle.closure(self.batches, self.edges)
        self.pairs = sum(len(a) for a in self.closure.values())
        self.descendants: dict[str, set[str]] = defaultdict(set)
        for child, ancestors in self.closure.items():
            for ancestor in ancestors:
                self.descendants[ancestor].add(child)

    def facts(self, recall_size: int) -> Facts:
        finished = [b for b in self.maker if not self.descendants[b]]
        deep = max(finished, key=lambda b: (max(self.closure[b].values(), default=0), len(self.closure[b]), b))
        spread = min(self.maker, key=lambda b: (abs(len(self.descendants[b]) - recall_size), b))
        common = sorted(self.reached(deep) & self.reached(spread))
        targets = Targets(deep, spread, f"REG-{common[0]}" if common else "REG-CN-ZJ")
        return Facts(targets, len(self.batches), self.pairs, {b: self.maker[b] for b in (deep, spread)},
                     {b: self.makers(b) for b in (deep, spread)},
                     {self.maker[b]: frozenset(self.involved(self.maker[b])) for b in (deep, spread)},
                     sorted({s.to_org for s in self.shipments}))

    def reached(self, batch: str) -> set[str]:
        """The countries the shipments of the batch and of every batch made from it went to."""
        scope = {batch} | self.descendants[batch]
        return {s.to_country for s in self.shipments if s.batch_id in scope}

    def involved(self, org_id: str) -> set[str]:
        """Every batch the org made, shipped or received (what the gate's ``involved`` query finds)."""
        return ({b for b, maker in self.maker.items() if maker == org_id}
                | {s.batch_id for s in self.shipments if org_id in (s.from_org, s.to_org)})

    def makers(self, batch: str) -> list[str]:
        """The makers of the batch and of every batch made from it (whose places a regulator's reach reads)."""
        return sorted({self.maker[b] for b in {batch} | self.descendants[batch] if b in self.maker})

    def rows(self) -> RowBatch:
        """History rows by the sink's own mapping, closure and statuses by the oracle."""
        rows = _rows(self.events)
        rows["closure"] += [(child, a, d, T0) for child, ancestors in self.closure.items()
                            for a, d in ancestors.items()]
        results = [(e.batch_id, e.report_id, e.report_version, e.verdict) for e in self.events
                   if isinstance(e, LabResult)]
        for batch, (status, sources) in oracle.statuses(self.batches, self.edges, results).items():
            if status != "untested":
                rows["batch_status"].append((batch, status, list(sources), 1, 0, T0))
        return rows

    def registry(self) -> list[Event]:
        """Every organisation of the chain (makers and the shipper in CN-ZJ, recipients abroad) and a
        regulator per shipment country and for CN-ZJ, parsed from their JSON form."""
        at = utc_text(T0 - timedelta(days=1))
        home = set(self.maker.values()) | {s.from_org for s in self.shipments}
        away = sorted({s.to_org for s in self.shipments} - home)
        places = {org: MAKERS_PLACE for org in home} | {org: (COUNTRIES[n % 12], "") for n, org in enumerate(away)}
        orgs = [{"type": "organisation", "event_id": f"org-{org}", "org_id": org, "name": org, "country": country,
                 "subdivision": sub, "roles": ["manufacturer"], "registered_at": at}
                for org, (country, sub) in sorted(places.items())]
        areas = sorted({s.to_country for s in self.shipments}) + ["CN-ZJ"]
        regulators = [{"type": "regulator", "event_id": f"reg-{area}", "regulator_id": f"REG-{area}", "name": area,
                       "jurisdiction": [area], "recognises_mra_signatories": True, "recognised_bodies": [],
                       "required_qualifications": [], "registered_at": at} for area in areas]
        return [parse_object(item) for item in orgs + regulators]


def _rows(events: list[Event]) -> RowBatch:
    rows = new_batch()
    for event in events:
        add_event(rows, event, Provenance(0, 0, T0))
    return rows


def _load(client: Client, database: str, rows: RowBatch) -> None:
    for table, data in rows.items():
        columns = ", ".join(f"`{c}`" for c in COLUMNS[table])
        for start in range(0, len(data), 100_000):
            client.execute(f"INSERT INTO {database}.{table} ({columns}) VALUES", data[start:start + 100_000])


# -- measuring -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Callers:
    """The principals of the run and their keys."""

    admin: str
    org_trace: tuple[Principal, str]  # made the trace target
    org_recall: tuple[Principal, str]  # made the recall target
    regulator: tuple[Principal, str]


def _callers(address: ClickHouseAddress, facts: Facts, fillers: int) -> Callers:
    store, targets = PrincipalStore(address.client, address.database), facts.targets
    for n in range(fillers):
        store.add("org", org_id=facts.recipients[n % len(facts.recipients)], now=NOW)
    found = Callers(admin=store.add("admin", now=NOW)[1],
                    org_trace=store.add("org", org_id=facts.maker[targets.deep], now=NOW),
                    org_recall=store.add("org", org_id=facts.maker[targets.spread], now=NOW),
                    regulator=store.add("regulator", regulator_id=targets.regulator, now=NOW))
    store.close()
    return found


def _bench(address: ClickHouseAddress, bootstrap: str, facts: Facts, args: argparse.Namespace) -> dict[str, Any]:
    callers, targets = _callers(address, facts, args.principals), facts.targets
    authenticator = authenticator_for(address.client, address.database, jwt_issuer=None, jwt_jwks=None)
    settings = Settings()
    services = StackServices(bootstrap, address, TopicNames(settings.topic_prefix), settings.app_id,
                             authenticator=authenticator)
    reader = ScopeReader(address.client, address.database)
    gate = Gate(ScopeReader(address.client, address.database), address.client, address.database)
    try:
        with TestClient(create_api(services)) as http:
            print(f"measuring ({args.runs} runs of each path) …", file=sys.stderr)
            answers = {query: _paths(Paths(http, reader, gate, address, facts, callers), query, batch, org)
                       for query, batch, org in (("trace", targets.deep, callers.org_trace),
                                                 ("recall", targets.spread, callers.org_recall))}
            scopes = _scopes(http, reader, callers, targets)
            full_before = gc.get_stats()[2]["collections"]
            timed = _interleaved({f"{query} {path}": call for query, paths in answers.items()
                                  for path, call in paths.items()}, args.runs)
            collector = {"objects_tracked": len(gc.get_objects()),
                         "full_collections_during_runs": gc.get_stats()[2]["collections"] - full_before}
            auth = _auth(authenticator, address, callers.admin, args.auth_seconds, args.runs)
    finally:
        services.close()
    return {"targets": vars(targets), "scopes": scopes, "principals": args.principals + 4, "runs": args.runs,
            "gc": collector, "authentication": auth,
            "queries": {query: {path: timed[f"{query} {path}"] for path in paths} for query, paths in answers.items()}}


@dataclass(frozen=True)
class Paths:
    """What the paths of one run answer through."""

    http: TestClient
    reader: ScopeReader
    gate: Gate
    address: ClickHouseAddress
    facts: Facts
    callers: Callers


def _paths(p: Paths, query: str, batch: str, org: tuple[Principal, str]) -> dict[str, Callable[[], object]]:
    """Every path that answers ``query`` about ``batch``, and the pieces of the access path, by name
    (the baseline first)."""
    direct = p.reader.trace if query == "trace" else p.reader.recall
    gated = p.gate.trace if query == "trace" else p.gate.recall
    render = trace_json if query == "trace" else recall_json
    cut = org_trace if query == "trace" else org_recall
    answer, involved, makers = direct(batch), p.facts.involved[org[0].org_id], p.facts.makers[batch]
    regulator, client = p.callers.regulator[0], p.address.client()
    return {
        "baseline": lambda: direct(batch),
        "render": lambda: json.dumps(render(answer)),
        "redact": lambda: cut(answer, org[0].org_id, involved.__contains__),
        "admit org": lambda: _admitted(p.gate.may_read_batch(org[0], batch)),
        "admit regulator": lambda: _admitted(p.gate.may_read_batch(regulator, batch)),
        "places": lambda: registry.organisation_places(client, p.address.database, makers),
        "regulators": lambda: registry.regulators(client, p.address.database),
        "gate org": lambda: gated(org[0], batch, None),
        "gate regulator": lambda: gated(regulator, batch, None),
        "http admin": lambda: _get(p.http, p.callers.admin, query, batch),
        "http org": lambda: _get(p.http, org[1], query, batch),
        "http regulator": lambda: _get(p.http, p.callers.regulator[1], query, batch),
    }


def _admitted(admitted: bool) -> None:
    if not admitted:
        raise AssertionError("the caller was refused a batch it should read")


def _get(http: TestClient, key: str, query: str, batch: str) -> dict[str, Any]:
    response = http.get(f"/v1/batches/{batch}/{query}", headers={"Authorization": f"Bearer {key}"})
    if response.status_code != 200:
        raise AssertionError(f"{query} {batch}: HTTP {response.status_code} {response.text[:200]}")
    return response.json()


def _scopes(http: TestClient, reader: ScopeReader, callers: Callers, targets: Targets) -> dict[str, Any]:
    """What the answers hold, and what each caller's answer withheld (checked against the direct read)."""
    trace, recall = reader.trace(targets.deep), reader.recall(targets.spread)
    found = {"trace": {"batch": targets.deep, "depth": max(r.depth for r in trace.upstream),
                       "upstream": len(trace.upstream), "links": len(trace.links), "reports": len(trace.reports)},
             "recall": {"batch": targets.spread, "affected": len(recall.affected), "shipments": len(recall.shipments),
                        "productions": len(recall.productions)}}
    for query, batch, org in (("trace", targets.deep, callers.org_trace), ("recall", targets.spread,
                                                                              callers.org_recall)):
        admin = _get(http, callers.admin, query, batch)
        listed = "upstream" if query == "trace" else "affected"
        if len(admin[listed]) != found[query][listed]:
            raise AssertionError(f"the admin's {query} differs from the direct read")
        found[query]["org"] = org[0].org_id
        found[query]["org_withheld"] = _get(http, org[1], query, batch)["withheld"]
        found[query]["regulator_withheld"] = _get(http, callers.regulator[1], query, batch)["withheld"]
    return found


def _interleaved(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, dict[str, float]]:
    """p50/p99 of each call over ``runs`` rounds; each round calls every one once, in a rotating order,
    so a noisy moment of the shared machine falls on every path alike."""
    for call in calls.values():
        for _ in range(3):
            call()
    order = list(calls.items())
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    for r in range(runs):
        for name, call in order[r % len(order):] + order[:r % len(order)]:
            began = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - began)
    return {name: _stats(values) for name, values in seconds.items()}


def _auth(authenticator: Any, address: ClickHouseAddress, admin_key: str, seconds: float, reloads: int
          ) -> dict[str, dict[str, float]]:
    """Each case called in a loop for ``seconds``, so the snapshot reloads it triggers (every second
    for a known key, every 0.1 s at most for unknown ones) show in the mean and the tail."""
    valid, bad = f"Bearer {admin_key}", f"Bearer {new_key()}"

    def refused() -> None:
        try:
            authenticator.authenticate(bad)
        except Unauthenticated:
            return
        raise AssertionError("an unknown key was accepted")

    store = PrincipalStore(address.client, address.database)
    try:
        return {"valid key": _looped(lambda: authenticator.authenticate(valid), seconds),
                "unknown key": _looped(refused, seconds),
                "snapshot reload": _timed(store.by_key_hash, reloads)}
    finally:
        store.close()


def _timed(call: Callable[[], object], runs: int) -> dict[str, float]:
    for _ in range(3):
        call()
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return _stats(seconds)


def _looped(call: Callable[[], object], seconds: float) -> dict[str, float]:
    call()
    timings, until = [], time.perf_counter() + seconds
    while (began := time.perf_counter()) < until:
        call()
        timings.append(time.perf_counter() - began)
    return _stats(timings) | {"p999_ms": round(_quantile(sorted(timings), 0.999) * 1000, 4),
                              "max_ms": round(max(timings) * 1000, 3),
                              "mean_ms": round(statistics.fmean(timings) * 1000, 4)}


def _stats(seconds: list[float]) -> dict[str, float]:
    seconds = sorted(seconds)
    return {"p50_ms": round(statistics.median(seconds) * 1000, 4), "p99_ms": round(_quantile(seconds, 0.99) * 1000, 4),
            "runs": len(seconds)}


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# -- the table -----------------------------------------------------------------------------------

#: Paths that answer (the read included), then pieces of the access path timed alone.
_PATHS = {
    "baseline": "**baseline**: `ScopeReader` direct (no HTTP, no access)",
    "http admin": "HTTP as an admin (auth + audit + HTTP + JSON, no access query)",
    "http org": "HTTP as the org that made the batch",
    "http regulator": "HTTP as the regulator",
    "gate org": "`Gate` direct as the org (admission + read + involved + redaction)",
    "gate regulator": "`Gate` direct as the regulator (admission by reach + read)",
}
_PIECES = {
    "admit org": "piece: admission alone, org (`Gate.may_read_batch`: 1 query)",
    "admit regulator": "piece: admission alone, regulator (`Gate.may_read_batch`: 3 queries)",
    "places": "piece: of which makers' places (`registry.organisation_places`)",
    "regulators": "piece: of which the jurisdiction (`registry.regulators`, all of them)",
    "redact": "piece: redaction for the org (`org_trace`/`org_recall`, pure)",
    "render": "piece: answer → JSON text (`*_json` + `json.dumps`)",
}


def _table(f: dict[str, Any]) -> str:
    s = f["scopes"]
    lines = [
        f"Access benchmark, {f['when']}: {f['batches']:,} batches, {f['closure_pairs']:,} closure pairs, "
        f"{f['principals']} principals, {f['runs']} interleaved runs per path ({f['gc']['objects_tracked']:,} "
        f"objects tracked by the GC, {f['gc']['full_collections_during_runs']} full collections during the runs)", "",
        f"* trace {s['trace']['batch']}: depth {s['trace']['depth']}, {s['trace']['upstream']} upstream; "
        f"{s['trace']['org']} withheld {_withheld(s['trace']['org_withheld'])}",
        f"* recall {s['recall']['batch']}: {s['recall']['affected']} affected, {s['recall']['shipments']} shipments; "
        f"{s['recall']['org']} withheld {_withheld(s['recall']['org_withheld'])}",
        f"* regulator {f['targets']['regulator']} (admitted by "
        f"{'its makers' if f['targets']['regulator'] == 'REG-CN-ZJ' else 'shipment country'})", "",
        "| query | path | p50 ms | p99 ms | / baseline (p50) | / baseline (p99) | added to baseline, p50 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for query, paths in f["queries"].items():
        base = paths["baseline"]
        for path, label in (_PATHS | _PIECES).items():
            t = paths[path]
            added = f"{t['p50_ms'] - base['p50_ms']:+.2f}" if path in _PATHS and path != "baseline" else ""
            lines.append(f"| {query} | {label} | {t['p50_ms']:.2f} | {t['p99_ms']:.2f} | "
                         f"{t['p50_ms'] / base['p50_ms']:.2f} | {t['p99_ms'] / base['p99_ms']:.2f} | {added} |")
    base = f["queries"]["trace"]["baseline"]["p50_ms"]
    lines += ["", "| authentication | calls | p50 µs | p99 µs | p99.9 µs | max ms | mean µs | mean / trace baseline |",
              "|---|---|---|---|---|---|---|---|"]
    for name in ("valid key", "unknown key"):
        t = f["authentication"][name]
        lines.append(f"| `Authenticator.authenticate`, {name} | {t['runs']:,} | {t['p50_ms'] * 1000:.1f} | "
                     f"{t['p99_ms'] * 1000:.1f} | {t['p999_ms'] * 1000:.1f} | {t['max_ms']:.2f} | "
                     f"{t['mean_ms'] * 1000:.2f} | {t['mean_ms'] / base:.5f} |")
    t = f["authentication"]["snapshot reload"]
    lines.append(f"| snapshot reload (`PrincipalStore.by_key_hash`: each second, or on a miss 0.1 s after the last) | "
                 f"{t['runs']} | {t['p50_ms'] * 1000:.0f} | {t['p99_ms'] * 1000:.0f} | | | | "
                 f"{t['p50_ms'] / base:.3f} (p50) |")
    return "\n".join(lines)


def _withheld(w: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in w.items())


if __name__ == "__main__":
    raise SystemExit(main())
