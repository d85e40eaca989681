"""The registry's reads (``query.registry``) on a current ClickHouse (chdb): rows stored by the row
mapping read back as the same entries, deduplicated, current by ``registered_at``, and as of a moment.
The 18.16 server runs the same reads in the integration tier (tests/integration/test_registry_path.py)."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from query import registry
from sinks.ddl import statements
from sinks.rows import COLUMNS, Provenance, add_event, new_batch
from tests.conftest import NOW
from tests.registry_samples import LAB_V2, REGISTRY, SPIELWAREN, YW_TOYS

pytestmark = pytest.mark.contract
DATABASE = "registry_reads"
#: A later snapshot of one organisation, written an hour after the samples: it names its Land now.
MOVED = dataclasses.replace(SPIELWAREN, event_id="org-ev-de-spielwaren-2", subdivision="DE-HH", roles=("importer",),
                            registered_at=SPIELWAREN.registered_at + timedelta(days=1))


class ChdbClient:
    """The one call of clickhouse-driver's ``Client`` the reads make, on a chdb session."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def execute(self, sql: str, params: dict[str, Any], *, columnar: bool, with_column_types: bool) -> Any:
        assert columnar and with_column_types
        bound = re.sub(r"%\((\w+)\)s", lambda m: _literal(params[m.group(1)]), sql)
        answer = json.loads(str(self._session.query(bound, "JSONCompact")))
        types = [(c["name"], c["type"]) for c in answer["meta"]]
        return [list(column) for column in zip(*answer["data"], strict=True)], types


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return f"toDateTime({int(value.timestamp())})"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_literal, value)) + "]"
    return repr(value)


@pytest.fixture(scope="module")
def stored(current_clickhouse):
    """The samples stored twice (at-least-once), and later snapshots of one lab and one organisation written an
    hour later."""
    for statement in statements(DATABASE):
        current_clickhouse.query(statement)
    batch = new_batch()
    for offset, event in enumerate([*REGISTRY, *REGISTRY]):
        add_event(batch, event, Provenance(0, offset, NOW))
    later = dataclasses.replace(LAB_V2, event_id="lab-ev-cti-3", registered_at=LAB_V2.registered_at + timedelta(days=1),
                                keys=())
    add_event(batch, later, Provenance(0, 99, NOW + timedelta(hours=1)))
    add_event(batch, MOVED, Provenance(0, 100, NOW + timedelta(hours=1)))
    for table, rows in batch.items():
        names = ", ".join(f"`{c}`" for c in COLUMNS[table])
        values = ", ".join("(" + ", ".join(map(_literal, row)) + ")" for row in rows)
        current_clickhouse.query(f"INSERT INTO {DATABASE}.{table} ({names}) VALUES {values}")
    return ChdbClient(current_clickhouse), later


def test_the_registry_reads_back_every_entry_at_its_current_record(stored):
    client, later = stored
    labs = registry.labs(client, DATABASE)
    assert labs == {"LAB-CTI-YW": later, "LAB-NBT-NB": next(e for e in REGISTRY if e.event_id == "lab-ev-nbt-1")}
    assert set(registry.bodies(client, DATABASE).values()) == {e for e in REGISTRY if e.kind == "accreditation_body"}
    assert set(registry.regulators(client, DATABASE).values()) == {e for e in REGISTRY if e.kind == "regulator"}


def test_as_of_a_moment_the_registry_is_what_was_written_by_then(stored):
    client, later = stored
    assert registry.labs(client, DATABASE, NOW)["LAB-CTI-YW"] == LAB_V2
    assert registry.lab_history(client, DATABASE, "LAB-CTI-YW") == [LAB_V2, later]
    assert registry.lab_history(client, DATABASE, "LAB-CTI-YW", NOW) == [LAB_V2]
    assert registry.bodies(client, DATABASE, NOW - timedelta(seconds=1)) == {}


def test_organisations_read_back_at_their_current_record_and_as_of_a_moment(stored):
    client, _later = stored
    assert registry.organisations(client, DATABASE) == {"ORG-DE-SPIELWAREN": MOVED, "ORG-YW-TOYS": YW_TOYS}
    assert registry.organisations(client, DATABASE, NOW) == {"ORG-DE-SPIELWAREN": SPIELWAREN, "ORG-YW-TOYS": YW_TOYS}
    assert registry.organisations(client, DATABASE, NOW - timedelta(seconds=1)) == {}


def test_organisation_places_are_each_known_orgs_country_and_subdivision_without_blanks(stored):
    client, _later = stored
    asked = ["ORG-YW-TOYS", "ORG-DE-SPIELWAREN", "ORG-NOBODY", "ORG-YW-TOYS"]
    assert registry.organisation_places(client, DATABASE, asked) == {
        "ORG-DE-SPIELWAREN": frozenset({"DE", "DE-HH"}), "ORG-YW-TOYS": frozenset({"CN", "CN-ZJ"})}
    assert registry.organisation_places(client, DATABASE, ["ORG-DE-SPIELWAREN"], NOW) == {
        "ORG-DE-SPIELWAREN": frozenset({"DE"})}
    assert registry.organisation_places(client, DATABASE, ["ORG-NOBODY"]) == {}
    assert registry.organisation_places(client, DATABASE, []) == {}
