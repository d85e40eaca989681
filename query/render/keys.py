"""What ``lotline keys`` prints: the new key's id, where its halves went, and how to register it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO


def new_key_text(lab_id: str, jwk: Mapping[str, str], key_path: Path, jwk_path: Path, out: TextIO) -> None:
    """``lotline keys new``: the kid, the two files, and the line for the lab's registry entry."""
    print(f"kid          {jwk['kid']}", file=out)
    print(f"private key  {key_path}  (mode 0600: keep it on the lab's signing host, never share it)", file=out)
    print(f"public key   {jwk_path}", file=out)
    print(f"\nadd to lab {lab_id}'s registry entry, in public_keys:", file=out)
    print(f"  {json.dumps(dict(jwk), separators=(',', ':'))}", file=out)
