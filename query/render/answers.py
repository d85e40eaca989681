"""Trace, recall and report answers as text for a terminal: a tree upstream, tables for the rest.

Long lists are cut at ``limit`` rows with a line saying how many more there are and how to get
them all (``--json``, ``--csv``, ``--xlsx``); nothing is dropped silently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from query.answers import report_json
from query.render.table import table
from traceability.events import Measurement
from traceability.scope import Completeness, Link, Recall, Report, Trace

_STATUS = {"failed": "FAILED", "at_risk": "AT RISK", "clear": "clear", "untested": "untested"}


def trace_text(trace: Trace, out: TextIO, limit: int = 50) -> None:
    product = f" ({trace.production.product_id})" if trace.production else ""
    status = _status(trace.status, trace.risk_sources, trace.batch_id)
    print(f"batch {trace.batch_id}{product}: {status}{_as_of(trace.as_of)}", file=out)
    if trace.production:
        p = trace.production
        print(f"made {date_text(p.occurred_at)} by {p.org_id} at {p.site}: {p.quantity:g} {p.unit} "
              f"(event {p.event_id})", file=out)
    statuses = {r.batch_id: r.status for r in trace.upstream}
    print(f"\nupstream: {len(trace.upstream):,} batches, deepest {max((r.depth for r in trace.upstream), default=0)}",
          file=out)
    tree = _tree(trace.batch_id, trace.links, statuses)
    for line in tree[:limit]:
        print("  " + line, file=out)
    _more(len(tree), limit, out)
    _section(f"reports on this batch and upstream: {len(trace.reports):,}", out)
    _reports(trace.reports, out, limit)
    _section(f"downstream: {len(trace.downstream):,} batches", out)
    _rows(("depth", "batch", "product", "status"),
          [(r.depth, r.batch_id, r.product_id or "-", r.status) for r in trace.downstream], out, limit)
    _section(f"shipments of this batch: {len(trace.shipments):,}", out)
    _rows(("date", "shipment", "quantity", "to", "location", "country"),
          [(date_text(s.occurred_at), s.shipment_id, f"{s.quantity:g} {s.unit}", s.to_org, s.to_location, s.to_country)
           for s in trace.shipments], out, limit)
    _completeness(trace.completeness, out)


def recall_text(recall: Recall, out: TextIO, limit: int = 50) -> None:
    status = _status(recall.status, recall.risk_sources, recall.batch_id)
    print(f"recall scope of {recall.batch_id}: {status}{_as_of(recall.as_of)}", file=out)
    units = defaultdict(float)
    for s in recall.shipments:
        units[s.unit] += s.quantity
    shipped = ", ".join(f"{q:g} {u}" for u, q in sorted(units.items())) or "nothing"
    countries = len({t.key for t in recall.by_country})
    print(f"{len(recall.affected):,} affected batches, {len(recall.shipments):,} shipments "
          f"to {countries} countries ({shipped})", file=out)
    _reports(recall.reports, out, limit)
    _section("affected batches", out)
    _rows(("depth", "batch", "product", "quantity", "status"),
          [(a.depth, a.batch_id, a.product_id or "-", f"{a.quantity:g} {a.unit}" if a.quantity else "-", a.status)
           for a in recall.affected], out, limit)
    _section("shipments", out)
    _rows(("date", "shipment", "batch", "quantity", "from", "to", "location", "country"),
          [(date_text(s.occurred_at), s.shipment_id, s.batch_id, f"{s.quantity:g} {s.unit}", s.from_org, s.to_org,
            s.to_location, s.to_country) for s in recall.shipments], out, limit)
    _section("totals per country", out)
    _rows(("country", "quantity", "shipments"),
          [(t.key, f"{t.quantity:g} {t.unit}", t.shipments) for t in recall.by_country], out, limit)
    _section("totals per recipient", out)
    _rows(("recipient", "quantity", "shipments"),
          [(t.key, f"{t.quantity:g} {t.unit}", t.shipments) for t in recall.by_recipient], out, limit)
    _completeness(recall.completeness, out)


def written_text(path: str, rows: int, recall: Recall, out: TextIO, sheets: Sequence[str] = ()) -> None:
    """What a spreadsheet export wrote: how many tracking events and batches, and its sheets."""
    listed = f" (sheets: {', '.join(sheets)})" if sheets else ""
    print(f"wrote {path}: {rows:,} tracking events, {len(recall.affected):,} affected batches{listed}", file=out)


def report_text(report: Report, out: TextIO) -> None:
    """One report at the version that counts, its measurements, and the versions it supersedes."""
    found = report_json(report)
    registered = "" if found["lab_registered"] else " (not in the registry)"
    print(f"report {found['report_id']} v{found['version']}: {found['verdict']} — batch {found['batch_id']}, "
          f"lab {found['lab_id']}{registered}, method {found['method']}, issued {found['issued_at']}", file=out)
    table(("analyte", "value", "unit", "limit", "verdict"),
          [(m["analyte"], m["value"], m["unit"], "-" if m["limit"] is None else m["limit"], m["verdict"])
           for m in found["measurements"]], out=out)
    for old in found["superseded"]:
        print(f"supersedes v{old['version']}: {old['verdict']}, issued {old['issued_at']}", file=out)


def _tree(batch: str, links: Sequence[Link], statuses: dict[str, str]) -> list[str]:
    """The upstream graph from ``batch``; a batch reached again is shown once, then referred to."""
    parents: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        parents[link.child].append(link)
    lines: list[str] = []
    shown: set[str] = set()

    def walk(node: str, prefix: str) -> None:
        edges = sorted(parents.get(node, []), key=lambda e: e.parent)
        for i, e in enumerate(edges):
            last = i == len(edges) - 1
            again = e.parent in shown and parents.get(e.parent)
            label = (f"{e.parent} ({e.input_quantity:g} {e.input_unit}) [{statuses.get(e.parent, 'untested')}]"
                     f"{'  (inputs shown above)' if again else ''}")
            lines.append(prefix + ("└─ " if last else "├─ ") + label)
            if not again:
                shown.add(e.parent)
                walk(e.parent, prefix + ("   " if last else "│  "))

    walk(batch, "")
    return lines or ["(no inputs known)"]


def _reports(reports: Sequence[Report], out: TextIO, limit: int) -> None:
    rows: list[tuple[Any, ...]] = []
    for r in reports:
        c = r.current
        lab = c.lab_id if r.lab_registered else f"{c.lab_id} (unregistered)"
        verdict = c.verdict.upper() if c.verdict == "fail" else c.verdict
        rows.append((c.report_id, f"v{c.report_version}", c.batch_id, lab, c.method, verdict, standing_text(r),
                     date_text(c.issued_at), _worst_measurement(c.measurements)))
    _rows(("report", "ver", "batch", "lab", "method", "verdict", "trust", "issued", "measurement"), rows, out, limit)


def standing_text(report: Report) -> str:
    """How the version that counts was judged, in a few words ("signed, accredited")."""
    standing = report.standing(report.current)
    if standing.outcome == "pending":
        return "not judged yet"
    signed = {"authentic": "signed", "unsigned": "unsigned"}.get(standing.outcome, standing.outcome.upper())
    accepted = "accredited" if standing.acceptance == "accredited" else standing.acceptance.replace("_", " ")
    return f"{signed}, {accepted}" + ("" if report.counts else " (does not count)")


def _worst_measurement(measurements: Sequence[Measurement]) -> str:
    """The first failing measurement, else the first one, as text ("-" when there is none)."""
    worst = next((m for m in measurements if m.verdict == "fail"), measurements[0] if measurements else None)
    if worst is None:
        return "-"
    limit = f" (limit {worst.limit:g})" if worst.limit is not None else ""
    return f"{worst.analyte} {worst.value:g} {worst.unit}{limit}"


def _rows(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO, limit: int) -> None:
    if not rows:
        print("  (none)", file=out)
        return
    table(headers, rows[:limit], out=out)
    _more(len(rows), limit, out)


def _more(count: int, limit: int, out: TextIO) -> None:
    if count > limit:
        print(f"  … {count - limit:,} more (all of them with --json, or --csv/--xlsx for a recall)", file=out)


def _section(title: str, out: TextIO) -> None:
    print(f"\n{title}", file=out)


def _completeness(flags: Completeness, out: TextIO) -> None:
    if flags.complete:
        print("\ncompleteness: complete (every batch has a production record, every lab is registered)", file=out)
        return
    print("\ncompleteness: INCOMPLETE", file=out)
    for label, items in (
        ("no production record (the chain ends here)", flags.unsourced_batches),
        ("shipped with no production record", flags.shipped_without_production),
        ("reports from labs not in the registry", flags.unregistered_labs),
    ):
        if items:
            shown = ", ".join(items[:10]) + (f" … and {len(items) - 10} more" if len(items) > 10 else "")
            print(f"  {label}: {shown}", file=out)


def _status(status: str, sources: Sequence[str], batch: str) -> str:
    label = _STATUS.get(status, status)
    others = [s for s in sources if s != batch]
    return f"{label} (risk from {', '.join(others)})" if others else label


def _as_of(moment: datetime | None) -> str:
    return f"  [as of {date_text(moment)}]" if moment else ""


def date_text(moment: datetime) -> str:
    """A moment as the terminal shows it: UTC to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
