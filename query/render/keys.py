"""What ``lotline keys`` prints: the new key's id, where its halves went, and how to register it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TextIO

from traceability.json_form import utc_text


def new_key_text(lab_id: str, jwk: Mapping[str, str], key_path: Path, jwk_path: Path, out: TextIO,
                 now: datetime) -> None:
    """``lotline keys new``: the kid, the two files, and the ``keys`` item for the lab's registry entry."""
    print(f"kid          {jwk['kid']}", file=out)
    print(f"private key  {key_path}  (mode 0600: keep it on the lab's signing host, never share it)", file=out)
    print(f"public key   {jwk_path}", file=out)
    print(f"\nregister it: lotline keys register {jwk_path} --lab {lab_id}", file=out)
    print(f"or add under \"keys\" in lab {lab_id}'s registry entry (a lab snapshot: the whole record, this item "
          "added), then `lotline registry load` it:", file=out)
    print(f"  {json.dumps(registry_key(jwk, now), separators=(',', ':'))}", file=out)


def registry_key(jwk: Mapping[str, str], now: datetime) -> dict[str, object]:
    """The ``keys`` item of a lab's JSON form for ``jwk``: valid from ``now``, no end, not revoked."""
    return {"kid": jwk["kid"], "jwk": dict(jwk), "not_before": utc_text(now.replace(microsecond=0)),
            "not_after": None, "revoked_at": None, "revocation_reason": ""}
