"""The answers trace and recall should give, computed naively from the events themselves.

It shares nothing with `query.scope` or `traceability.scope`: closure and statuses come from the
BFS oracle, the rest from plain loops over the events. Answers are compared as plain values.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from traceability.events import Event, Lab, LabResult, Production, Shipment
from traceability.testing import oracle

_RANK = {"pass": 0, "withdrawn": 1, "fail": 2}


def lab_accreditations(events: list[Event]) -> dict[str, list[oracle.AccreditationTuple]]:
    """Each lab's accreditations in its latest registry snapshot, as plain tuples for the oracle."""
    latest: dict[str, Lab] = {}
    for e in events:
        if isinstance(e, Lab) and (e.lab_id not in latest or (e.registered_at, e.event_id) >
                                   (latest[e.lab_id].registered_at, latest[e.lab_id].event_id)):
            latest[e.lab_id] = e
    found: dict[str, list[oracle.AccreditationTuple]] = {}
    for lab_id, lab in latest.items():
        if lab.accreditations:
            found[lab_id] = [(frozenset(a.methods), a.valid_from, a.valid_until, _paused(a.statuses))
                             for a in lab.accreditations]
        else:  # a v1 entry: one accreditation, granted throughout
            found[lab_id] = [(frozenset(lab.accredited_methods), lab.valid_from, lab.valid_until, ())]
    return found


def _paused(statuses: Any) -> tuple[tuple[Any, Any], ...]:
    changes = sorted(statuses, key=lambda s: s.at)
    ends = [c.at for c in changes[1:]] + [None]
    return tuple((c.at, end) for c, end in zip(changes, ends, strict=True) if c.status != "granted")


def counting_results(events: list[Event]) -> list[oracle.ResultTuple]:
    """The (unsigned) lab results that count towards statuses, by the oracle's acceptance rule."""
    results = [(e.batch_id, e.lab_id, e.report_id, e.report_version, e.verdict, e.method, e.issued_at)
               for e in events if isinstance(e, LabResult)]
    return oracle.counting_results(results, lab_accreditations(events))


@dataclass
class World:
    """Everything the events say, indexed for the oracle."""

    edges: set[tuple[str, str, str]]  # (event_id, parent, child)
    made: dict[str, Production]  # output batch -> its (first) production
    reports: dict[str, list[LabResult]]  # batch -> versions
    shipments: dict[str, list[Shipment]]  # batch -> shipments
    labs: set[str]
    ancestors: dict[str, dict[str, int]]
    statuses: dict[str, oracle.StatusTuple]
    counting: set[oracle.ResultTuple]  # (batch, "lab report", version, verdict) of versions that count

    @classmethod
    def of(cls, events: list[Event], refused: set[tuple[str, str]] = frozenset()) -> World:
        unique = list({e.event_id: e for e in events}.values())
        edges, made, batches = set(), {}, set()
        reports: dict[str, list[LabResult]] = defaultdict(list)
        shipments: dict[str, list[Shipment]] = defaultdict(list)
        labs = set()
        for e in sorted(unique, key=_when):
            if isinstance(e, Production):
                for o in e.outputs:
                    for i in e.inputs:
                        if (i.batch_id, o.batch_id) not in refused:
                            edges.add((e.event_id, i.batch_id, o.batch_id))
                        batches |= {i.batch_id, o.batch_id}
                    if any((i.batch_id, o.batch_id) not in refused for i in e.inputs):
                        made.setdefault(o.batch_id, e)
            elif isinstance(e, LabResult):
                reports[e.batch_id].append(e)
                batches.add(e.batch_id)
            elif isinstance(e, Shipment):
                shipments[e.batch_id].append(e)
                batches.add(e.batch_id)
            elif isinstance(e, Lab):
                labs.add(e.lab_id)
        pairs = {(p, c) for _, p, c in edges}
        results = counting_results(unique)
        return cls(edges, made, reports, shipments, labs, oracle.closure(batches, pairs),
                   oracle.statuses(batches, pairs, results), set(results))

    def status(self, batch: str) -> tuple[str, list[str]]:
        status, sources = self.statuses.get(batch, ("untested", ()))
        return status, sorted(sources)

    def descendants(self, batch: str) -> dict[str, int]:
        return {b: anc[batch] for b, anc in self.ancestors.items() if batch in anc}

    def current_reports(self, batches: set[str]) -> dict[str, tuple[int, str, bool]]:
        """report id -> (version that counts, its verdict, lab registered): the highest counting
        version (a fail wins a tie), or the highest version when none counts."""
        best: dict[str, tuple[tuple[bool, int, int], LabResult]] = {}
        for batch in batches:
            for r in self.reports.get(batch, []):
                counts = (r.batch_id, f"{r.lab_id} {r.report_id}", r.report_version, r.verdict) in self.counting
                rank = (counts, r.report_version, _RANK[r.verdict])
                if r.report_id not in best or rank > best[r.report_id][0]:
                    best[r.report_id] = (rank, r)
        return {rid: (r.report_version, r.verdict, r.lab_id in self.labs) for rid, (_, r) in best.items()}

    def trace(self, batch: str) -> dict[str, Any]:
        up = self.ancestors.get(batch, {})
        lineage = {batch, *up}
        reports = self.current_reports(lineage)
        return {
            "status": self.status(batch),
            "upstream": {b: (d, self.status(b)[0]) for b, d in up.items()},
            "downstream": {b: (d, self.status(b)[0]) for b, d in self.descendants(batch).items()},
            "links": {e for e in self.edges if e[2] in lineage and e[1] in up},
            "reports": reports,
            "shipments": {s.shipment_id for s in self.shipments.get(batch, [])},
            "unsourced": sorted(b for b in lineage if b not in self.made),
            "shipped_without_production": sorted({batch} - set(self.made)) if self.shipments.get(batch) else [],
            "unregistered_labs": sorted({self._lab(rid, lineage) for rid, (_, _, ok) in reports.items() if not ok}),
        }

    def recall(self, batch: str) -> dict[str, Any]:
        affected = {batch: 0, **self.descendants(batch)}
        shipped = [s for b in affected for s in self.shipments.get(b, [])]
        by_country: dict[str, float] = defaultdict(float)
        for s in shipped:
            by_country[s.to_country] += s.quantity
        reports = self.current_reports({batch})
        return {
            "status": self.status(batch),
            "affected": {b: (d, self.status(b)[0], *self._output(b)) for b, d in affected.items()},
            "shipments": {s.shipment_id for s in shipped},
            "by_country": dict(by_country),
            "reports": reports,
            "unsourced": sorted(b for b in affected if b not in self.made),
            "shipped_without_production": sorted({s.batch_id for s in shipped} - set(self.made)),
            "unregistered_labs": sorted({self._lab(rid, {batch}) for rid, (_, _, ok) in reports.items() if not ok}),
            "spreadsheet": {("transformation", b, self.made[b].event_id) for b in affected if b in self.made}
            | {("shipping", s.batch_id, s.shipment_id) for s in shipped},
        }

    def _output(self, batch: str) -> tuple[str, float | None]:
        production = self.made.get(batch)
        if production is None:
            return "", None
        [out] = [o for o in production.outputs if o.batch_id == batch]
        return out.product_id, out.quantity

    def _lab(self, report_id: str, batches: set[str]) -> str:
        return next(r.lab_id for b in batches for r in self.reports.get(b, []) if r.report_id == report_id)


def _when(event: Event) -> Any:
    if isinstance(event, LabResult):
        return event.issued_at
    return event.registered_at if isinstance(event, Lab) else event.occurred_at


def trace_as_compared(answer: dict[str, Any]) -> dict[str, Any]:
    """A trace JSON answer in the oracle's terms."""
    flags = answer["completeness"]
    return {
        "status": (answer["status"], sorted(answer["risk_sources"])),
        "upstream": {r["batch_id"]: (r["depth"], r["status"]) for r in answer["upstream"]},
        "downstream": {r["batch_id"]: (r["depth"], r["status"]) for r in answer["downstream"]},
        "links": {(e["event_id"], e["parent"], e["child"]) for e in answer["links"]},
        "reports": {r["report_id"]: (r["version"], r["verdict"], r["lab_registered"]) for r in answer["reports"]},
        "shipments": {s["shipment_id"] for s in answer["shipments"]},
        "unsourced": flags["unsourced_batches"],
        "shipped_without_production": flags["shipped_without_production"],
        "unregistered_labs": flags["unregistered_labs"],
    }


def recall_as_compared(answer: dict[str, Any], spreadsheet: set[tuple[str, str, str]]) -> dict[str, Any]:
    """A recall JSON answer (and the spreadsheet's event keys) in the oracle's terms."""
    flags = answer["completeness"]
    return {
        "status": (answer["status"], sorted(answer["risk_sources"])),
        "affected": {a["batch_id"]: (a["depth"], a["status"], a["product_id"], a["quantity"])
                     for a in answer["affected"]},
        "shipments": {s["shipment_id"] for s in answer["shipments"]},
        "by_country": {t["country"]: t["quantity"] for t in answer["totals"]["by_country"]},
        "reports": {r["report_id"]: (r["version"], r["verdict"], r["lab_registered"]) for r in answer["reports"]},
        "unsourced": flags["unsourced_batches"],
        "shipped_without_production": flags["shipped_without_production"],
        "unregistered_labs": flags["unregistered_labs"],
        "spreadsheet": spreadsheet,
    }


#: The lists of trace and recall answers, and the fields that identify one of their entries.
_LISTS = {
    "trace": {"upstream": ("batch_id",), "downstream": ("batch_id",), "links": ("event_id", "parent", "child"),
              "reports": ("report_id",), "shipments": ("event_id",)},
    "recall": {"affected": ("batch_id",), "productions": ("event_id", "batch_id"), "shipments": ("event_id",),
               "reports": ("report_id",)},
}


def repeated_entries(trace: dict[str, Any], recall: dict[str, Any]) -> list[str]:
    """Entries a trace or recall JSON answer lists more than once (the comparisons above turn lists
    into sets and mappings, which would hide a repeat)."""
    repeated = []
    for answer_name, answer in (("trace", trace), ("recall", recall)):
        for name, fields in _LISTS[answer_name].items():
            keys = Counter(tuple(entry[f] for f in fields) for entry in answer[name])
            repeated += [f"{answer_name} {name}: {key}" for key, n in sorted(keys.items()) if n > 1]
    return repeated
