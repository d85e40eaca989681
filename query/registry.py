"""The registry read from ClickHouse (DESIGN §5): labs, accreditation bodies, regulators, organisations (with
their locations) and products.

Every snapshot is kept; delivery is at-least-once, so snapshots are deduplicated by ``event_id``,
and ``as_of`` keeps only rows written by then (``ingested_at``), as in ``query.scope``. An
entry's current record is ``traceability.registry.latest`` of its snapshots. Columns are aliased
to the fields they fill and decoded by name (``query.columns``); a stored entry becomes its JSON
form again (a lab's nested fields are stored as that JSON text) and is rebuilt by
``traceability.json_form``, so the read side checks stored records exactly like published ones.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from clickhouse_driver import Client

from query.columns import Columns, converted, named, renamed
from sinks.rows import LAB_JSON_COLUMNS
from traceability.errors import UnknownLab
from traceability.events import AccreditationBody, Event, Lab, Organisation, Product, Regulator
from traceability.json_form import event_to_json, parse_object, utc_text
from traceability.registry import latest

_Entry = TypeVar("_Entry", Lab, AccreditationBody, Regulator, Organisation, Product)

#: The columns of each table that hold times (read as seconds: no time zone to guess).
_LAB_TIMES = ("valid_from", "valid_until", "registered_at")
#: Aliases -> the fields they fill: an alias equal to a column the WHERE filters on would be
#: substituted there by 18.16 (see ``query.scope``).
_LAB_ALIASES = {"lab": "lab_id"}


def labs(client: Client, database: str, as_of: datetime | None = None) -> dict[str, Lab]:
    """Every lab's current record (as known at ``as_of``), by lab id."""
    return _current(lab_snapshots(client, database, as_of), lambda lab: lab.lab_id)


def lab(client: Client, database: str, lab_id: str, as_of: datetime | None = None) -> Lab | None:
    """One lab's current record (as known at ``as_of``), ``None`` if the registry does not know it."""
    return latest(lab_snapshots(client, database, as_of, lab_id))


def lab_history(client: Client, database: str, lab_id: str, as_of: datetime | None = None) -> list[Lab]:
    """Every snapshot of one lab, oldest first (``registered_at``, then ``event_id``).

    Raises:
        UnknownLab: no snapshot of the lab is known (as of ``as_of``).
    """
    history = sorted(lab_snapshots(client, database, as_of, lab_id), key=lambda lab: (lab.registered_at, lab.event_id))
    if not history:
        when = f" as of {utc_text(as_of)}" if as_of else ""
        raise UnknownLab(f"no lab {lab_id!r} is in the registry{when}")
    return history


def lab_snapshots(client: Client, database: str, as_of: datetime | None = None, lab_id: str | None = None
                  ) -> list[Lab]:
    """The distinct snapshots of every lab (or of ``lab_id``)."""
    scalars = ("name", "accreditation_body", "accreditation_number", "accredited_methods", "region",
               "public_keys", "legal_id", "names", *LAB_JSON_COLUMNS.values())
    select = ", ".join([*(f"any({c}) AS {c}" for c in scalars), *(f"toUInt32(any({c})) AS {c}" for c in _LAB_TIMES)])
    params, where = _filters(as_of)
    if lab_id is not None:
        params["lab"] = lab_id
        where += " AND lab_id = %(lab)s"
    columns = _read(client, f"SELECT event_id, any(lab_id) AS lab, {select} FROM {database}.labs "
                            f"WHERE 1 {where} GROUP BY event_id", params)
    columns = renamed(converted(columns, **{c: _time_text for c in _LAB_TIMES}), _LAB_ALIASES)
    return [_entry(Lab, "lab", _lab_object(row)) for row in _rows(columns)]


def bodies(client: Client, database: str, as_of: datetime | None = None) -> dict[str, AccreditationBody]:
    """Every accreditation body's current record, by body id."""
    params, where = _filters(as_of)
    columns = _read(client, "SELECT event_id, any(body_id) AS body, any(name) AS name, any(economy) AS economy, "
                            "arrayMap(t -> toUInt32(t), any(mra_testing.start)) AS mra_start, "
                            "arrayMap(t -> toUInt32(t), any(mra_testing.end)) AS mra_end, "
                            f"toUInt32(any(registered_at)) AS registered_at FROM {database}.accreditation_bodies "
                            f"WHERE 1 {where} GROUP BY event_id", params)
    columns = renamed(converted(columns, registered_at=_time_text), {"body": "body_id"})
    snapshots = [_entry(AccreditationBody, "accreditation_body", _body_object(row)) for row in _rows(columns)]
    return _current(snapshots, lambda body: body.body_id)


def regulators(client: Client, database: str, as_of: datetime | None = None) -> dict[str, Regulator]:
    """Every regulator's current record, by regulator id."""
    params, where = _filters(as_of)
    columns = _read(client, "SELECT event_id, any(regulator_id) AS regulator, any(name) AS name, "
                            "any(jurisdiction) AS jurisdiction, "
                            "any(recognises_mra_signatories) AS recognises_mra_signatories, "
                            "any(recognised_bodies) AS recognised_bodies, "
                            "any(required_qualifications) AS required_qualifications, "
                            f"toUInt32(any(registered_at)) AS registered_at FROM {database}.regulators "
                            f"WHERE 1 {where} GROUP BY event_id", params)
    columns = renamed(converted(columns, registered_at=_time_text, recognises_mra_signatories=bool),
                      {"regulator": "regulator_id"})
    snapshots = [_entry(Regulator, "regulator", row) for row in _rows(columns)]
    return _current(snapshots, lambda regulator: regulator.regulator_id)


def organisations(client: Client, database: str, as_of: datetime | None = None) -> dict[str, Organisation]:
    """Every organisation's current record (as known at ``as_of``), by org id."""
    return _current(_organisation_snapshots(client, database, as_of), lambda org: org.org_id)


def organisation_places(client: Client, database: str, org_ids: Iterable[str], as_of: datetime | None = None
                        ) -> dict[str, frozenset[str]]:
    """Where each of ``org_ids`` is by its current record: its country and subdivision (``{"CN", "CN-ZJ"}``,
    no blanks, ``Organisation.places``). An org the registry does not know (as of ``as_of``) is left out."""
    wanted = sorted(set(org_ids))
    if not wanted:
        return {}
    current = _current(_organisation_snapshots(client, database, as_of, wanted), lambda org: org.org_id)
    return {org_id: org.places for org_id, org in current.items()}


def _organisation_snapshots(client: Client, database: str, as_of: datetime | None,
                            org_ids: Sequence[str] | None = None) -> list[Organisation]:
    """The distinct snapshots of every organisation (or of ``org_ids``)."""
    params, where = _filters(as_of)
    if org_ids is not None:
        params["orgs"] = list(org_ids)
        where += " AND has(%(orgs)s, org_id)"
    # Each field from the copy written last: an org snapshot's event id published again as v2 (with its
    # phone and locations) reads as the v2 copy.
    columns = _read(client, "SELECT event_id, argMax(org_id, ingested_at) AS org, argMax(name, ingested_at) AS name, "
                            "argMax(country, ingested_at) AS country, argMax(subdivision, ingested_at) AS subdivision, "
                            "argMax(roles, ingested_at) AS roles, "
                            "toUInt32(argMax(registered_at, ingested_at)) AS registered_at, "
                            "argMax(phone, ingested_at) AS phone, "
                            f"argMax(locations_json, ingested_at) AS locations FROM {database}.organisations "
                            f"WHERE 1 {where} GROUP BY event_id", params)
    columns = renamed(converted(columns, registered_at=_time_text, locations=json.loads), {"org": "org_id"})
    return [_entry(Organisation, "organisation", row) for row in _rows(columns)]


def products(client: Client, database: str, product_ids: Iterable[str] | None = None,
             as_of: datetime | None = None) -> dict[str, Product]:
    """Every product's current record (of ``product_ids`` only, if given), as known at ``as_of``."""
    params, where = _filters(as_of)
    if product_ids is not None:
        params["products"] = sorted(set(product_ids))
        if not params["products"]:
            return {}  # has([], …) is a type error on 18.16 (an Array(Nothing))
        where += " AND has(%(products)s, product_id)"
    fields = ("org_id", "name", "brand", "commodity", "variety", "packaging_size", "packaging_style", "gtin",
              "category", "model", "description")
    columns = _read(client, "SELECT event_id, any(product_id) AS product, "
                            + "".join(f"any({name}) AS {name}, " for name in fields)
                            + f"toUInt32(any(registered_at)) AS registered_at FROM {database}.products "
                            f"WHERE 1 {where} GROUP BY event_id", params)
    columns = renamed(converted(columns, registered_at=_time_text), {"product": "product_id"})
    snapshots = [_entry(Product, "product", row) for row in _rows(columns)]
    return _current(snapshots, lambda product: product.product_id)


def registry_json(bodies: Mapping[str, AccreditationBody], labs_: Mapping[str, Lab],
                  regulators_: Mapping[str, Regulator], organisations_: Mapping[str, Organisation],
                  as_of: datetime | None, history: Sequence[Lab] | None = None,
                  products_: Mapping[str, Product] | None = None) -> dict[str, Any]:
    """``lotline registry show --json``: each entry's current record in its JSON form (the form
    ``lotline registry load`` takes), and, for one lab, its history (oldest first)."""
    answer: dict[str, Any] = {
        "as_of": utc_text(as_of) if as_of else None,
        "accreditation_bodies": [event_to_json(b) for b in bodies.values()],
        "labs": [event_to_json(lab) for lab in labs_.values()],
        "regulators": [event_to_json(r) for r in regulators_.values()],
        "organisations": [event_to_json(o) for o in organisations_.values()],
        "products": [event_to_json(p) for p in (products_ or {}).values()],
    }
    if history is not None:
        answer["history"] = [event_to_json(lab) for lab in history]
    return answer


def _filters(as_of: datetime | None) -> tuple[dict[str, Any], str]:
    if as_of is None:
        return {}, ""
    return {"as_of": as_of}, "AND ingested_at <= %(as_of)s"


def _read(client: Client, sql: str, params: Mapping[str, Any]) -> Columns:
    data, types = client.execute(sql, dict(params), columnar=True, with_column_types=True)
    return named(data, types)


def _rows(columns: Columns) -> Iterator[dict[str, Any]]:
    """One mapping per row, by column name."""
    names = list(columns)
    for values in zip(*columns.values(), strict=True):
        yield dict(zip(names, values, strict=True))


def _time_text(seconds: int | None) -> str | None:
    return None if seconds is None else utc_text(datetime.fromtimestamp(seconds, UTC))


def _lab_object(row: dict[str, Any]) -> dict[str, Any]:
    """A stored lab row as its JSON form (the nested fields parsed from their JSON text)."""
    nested = {name: json.loads(row.pop(column)) for name, column in LAB_JSON_COLUMNS.items()}
    return {**row, **nested}


def _body_object(row: dict[str, Any]) -> dict[str, Any]:
    starts, ends = row.pop("mra_start"), row.pop("mra_end")
    periods = [{"start": _time_text(s), "end": _time_text(e)} for s, e in zip(starts, ends, strict=True)]
    return {**row, "mra_testing": periods}


def _entry(cls: type[_Entry], kind: str, obj: Mapping[str, Any]) -> _Entry:
    event: Event = parse_object({"type": kind, **obj})
    if not isinstance(event, cls):  # parse_object builds the kind it is given
        raise TypeError(f"expected a {cls.__name__}, got {type(event).__name__}")
    return event


def _current(snapshots: Sequence[_Entry], key: Callable[[_Entry], str]) -> dict[str, _Entry]:
    grouped: dict[str, list[_Entry]] = defaultdict(list)
    for snapshot in snapshots:
        grouped[key(snapshot)].append(snapshot)
    current = {entry_id: latest(entries) for entry_id, entries in grouped.items()}
    return {entry_id: entry for entry_id, entry in sorted(current.items()) if entry is not None}
