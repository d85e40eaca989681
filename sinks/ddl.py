"""Versioned DDL files (``ddl/NNN_name.sql``), rendered for one database."""

from __future__ import annotations

import re
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ColumnAddition:
    """An ``ALTER TABLE db.t ADD COLUMN IF NOT EXISTS c …`` statement, for servers without the clause."""

    database: str
    table: str
    column: str
    #: The statement without ``IF NOT EXISTS`` (18.16 refuses the clause: run this one if the column is missing).
    unconditional: str


_ADD_COLUMN = re.compile(
    r"ALTER\s+TABLE\s+(\w+)\.(\w+)\s+ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\s+(`?)(\w+)\3\s", re.IGNORECASE
)


def column_addition(statement: str) -> ColumnAddition | None:
    """What ``statement`` adds, if it adds one column (each ALTER in the DDL adds one)."""
    found = _ADD_COLUMN.match(statement)
    if found is None:
        return None
    database, table, _quote, column = found.groups()
    unconditional = re.sub(r"\s+IF\s+NOT\s+EXISTS", "", statement, count=1, flags=re.IGNORECASE)
    return ColumnAddition(database, table, column, unconditional)
