"""What ``lotline principals`` prints: a new principal with its key (once), the list, a revocation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from query.principals import PrincipalRow
from query.render.table import table
from traceability.access import Principal
from traceability.json_form import utc_text


def new_principal_text(principal: Principal, key: str, created_at: datetime, out: TextIO) -> None:
    """``principals add``: who was added, and the key, with what to do with it."""
    print(f"principal  {principal.principal_id}", file=out)
    print(f"role       {_role(principal)}", file=out)
    if principal.name:
        print(f"name       {principal.name}", file=out)
    print(f"added      {utc_text(created_at)}", file=out)
    print(f"api key    {key}", file=out)
    print("\nThis key is shown once: Lotline keeps only its SHA-256 hash, so it cannot show it again. Store it "
          "now;\nclients send it as `Authorization: Bearer <key>`. Lost or leaked: `lotline principals revoke "
          f"{principal.principal_id}`\nand add another.", file=out)


def principals_text(rows: Sequence[PrincipalRow], out: TextIO) -> None:
    """``principals list``: every principal, revoked ones too (no keys, no hashes)."""
    active = sum(row.active for row in rows)
    print(f"{len(rows)} principals, {active} active", file=out)
    if rows:
        table(("principal", "role", "name", "added", "revoked"),
              [(r.principal.principal_id, _role(r.principal), r.principal.name, utc_text(r.created_at),
                utc_text(r.revoked_at) if r.revoked_at else "") for r in rows], out=out)


def revoked_text(row: PrincipalRow, out: TextIO) -> None:
    """``principals revoke``: whose key stopped working, and from when."""
    revoked = utc_text(row.revoked_at) if row.revoked_at else "now"
    print(f"revoked {row.principal.principal_id} ({_role(row.principal)}) from {revoked}: its key no longer "
          "authenticates (a running API notices within LOTLINE_PRINCIPAL_REFRESH_SECONDS)", file=out)


def _role(principal: Principal) -> str:
    return f"{principal.role} {principal.party}" if principal.party else principal.role
