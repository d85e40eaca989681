"""What the operating commands print: stack status, publishing, sync, history and rejects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from query.history import Counts
from query.render.table import table
from streams.publishing import PublishReport

#: Bad lines listed one by one; the rest are counted.
SHOWN_REJECTED_LINES = 50


def stack_text(rows: Sequence[tuple[str, str, str]], out: TextIO) -> None:
    """``lotline stack status``: one row per component, process and endpoint."""
    table(("component", "state", "detail"), rows, out=out)


def publish_text(report: PublishReport, name: str, out: TextIO, err: TextIO) -> None:
    """Each bad line as ``NAME:LINE: reason`` on ``err`` (the first 50), then the counts on ``out``."""
    for error in report.rejected[:SHOWN_REJECTED_LINES]:
        print(f"{name}:{error.line}: {error.reason}", file=err)
    if len(report.rejected) > SHOWN_REJECTED_LINES:
        print(f"… and {len(report.rejected) - SHOWN_REJECTED_LINES} more rejected lines", file=err)
    held = f", {report.held_back:,} valid lines held back (--strict)" if report.held_back else ""
    print(f"published {report.published:,}, rejected {len(report.rejected):,}{held}", file=out)


def synced_text(out: TextIO) -> None:
    print("synced: everything published so far is stored", file=out)


def history_text(counts: Counts, chains: Mapping[str, int],
                 recent: Mapping[str, tuple[Sequence[str], Sequence[tuple[Any, ...]]]], out: TextIO) -> None:
    """Distinct events and rows per table, the chain summary, then the latest events of each table."""
    table(("table", "distinct events", "rows stored"),
          [(t, n, counts.rows[t]) for t, n in counts.events.items()]
          + [("rejects", counts.rejects, counts.rows["rejects"])], out=out)
    print(f"\n{counts.accepted:,} accepted events, {counts.lineage_edges:,} lineage edges, "
          f"{counts.rejects:,} rejects", file=out)
    print("chains: " + ", ".join(f"{n:,} {name}" for name, n in chains.items()) + "\n", file=out)
    for name, (columns, rows) in recent.items():
        if rows:
            print(f"latest {name}:", file=out)
            table(columns, rows, out=out)
            print(file=out)


def rejects_text(rows: Sequence[Mapping[str, Any]], out: TextIO) -> None:
    """Refused events, most recent first, with their reasons."""
    table(("rejected at", "source", "kind", "event id", "reason"),
          [(r["rejected_at"], r["source"], r["event_kind"] or "-", r["event_id"] or "-", r["reason"]) for r in rows],
          out=out)
