"""Versioned DDL files (``ddl/NNN_name.sql``), rendered for one database."""

from __future__ import annotations

import re
from pathlib import Path

from traceability.errors import SetupError

DDL_DIR = Path(__file__).resolve().parent / "ddl"
_COMMENT = re.compile(r"^\s*--.*$", re.MULTILINE)
_DATABASE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def ddl_files() -> list[Path]:
    """Every DDL file, in the order it must be applied."""
    return sorted(DDL_DIR.glob("[0-9][0-9][0-9]_*.sql"))


def statements(database: str) -> list[str]:
    """All DDL statements, rendered for ``database`` (each idempotent: ``IF NOT EXISTS``)."""
    if not _DATABASE.fullmatch(database):
        raise SetupError(f"database name {database!r} is not a plain identifier (LOTLINE_DATABASE)")
    rendered = [f"CREATE DATABASE IF NOT EXISTS {database}"]
    for path in ddl_files():
        text = _COMMENT.sub("", path.read_text())
        rendered += [s.strip().replace("{db}", database) for s in text.split(";") if s.strip()]
    return rendered
