"""``lotline audit`` as text: one row per request, oldest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from query.audit import audit_time
from query.render.table import table
from traceability.audit import AuditRecord

HEADERS = ("time", "principal", "role", "method", "endpoint", "objects", "status", "outcome")


def audit_text(records: Sequence[AuditRecord], out: TextIO, *, more: bool = False) -> None:
    """The requests as a table; ``more``: older requests match too (cut at ``--limit``).

    A request without a credential shows principal ``-``; one that named no object, objects ``-``.
    """
    if not records:
        print("no audit records match", file=out)
        return
    table(HEADERS, [(audit_time(r.at), r.principal_id or "-", r.role, r.method, r.endpoint, r.objects or "-",
                     r.status, r.outcome) for r in records], out=out)
    shown = f"{len(records):,} request" + ("s" if len(records) != 1 else "")
    print(f"\n{shown}" + ("; older ones match too (raise --limit or narrow --since)" if more else ""), file=out)
