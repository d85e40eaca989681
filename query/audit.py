"""The audit log read back (``lotline audit``): who asked the API what, and how it ended.

Rows are read as written, never deduplicated: the writer inserts each batch once it succeeds (a
retry after a lost acknowledgement could store a batch twice; its rows share request ids). A
request's time is stored as seconds and milliseconds (ClickHouse 18.16 has no DateTime64) and
read as seconds since the epoch, so no time zone is guessed. Columns are decoded by name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from clickhouse_driver import Client

from query.columns import converted, decode, named
from query.params import moment
from traceability.audit import AuditRecord
from traceability.errors import BadParameter

_FIELDS = "request_id, principal_id, role, method, endpoint, path, objects, status, outcome, client, duration_ms"
_AGE = re.compile(r"(\d{1,9})([smhdw])")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def audit_records(client: Client, database: str, *, principal: str | None = None, since: datetime | None = None,
                  until: datetime | None = None, limit: int | None = None) -> list[AuditRecord]:
    """The requests recorded from ``since`` (included) to ``until`` (excluded), oldest first.

    Args:
        principal: Only this principal's requests (``""``: the requests without a credential).
        limit: Only the latest ``limit`` of them (still oldest first), like ``tail``.
    """
    params: dict[str, Any] = {}
    where = ""
    if principal is not None:
        params["principal"] = principal
        where += " AND principal_id = %(principal)s"
    if since is not None:
        params.update(since=_second(since), since_ms=_millisecond(since))
        where += " AND at >= %(since)s AND (at > %(since)s OR at_ms >= %(since_ms)s)"
    if until is not None:
        params.update(until=_second(until), until_ms=_millisecond(until))
        where += " AND at <= %(until)s AND (at < %(until)s OR at_ms < %(until_ms)s)"
    order = "DESC" if limit is not None else "ASC"
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    data, types = client.execute(
        f"SELECT toUInt32(at) AS at_second, at_ms, {_FIELDS} FROM {database}.audit WHERE 1 {where} "
        f"ORDER BY at {order}, at_ms {order}, request_id {order}{tail}",
        params, columnar=True, with_column_types=True,
    )
    columns = converted(named(data, types), objects=tuple)
    seconds, millis = columns.pop("at_second"), columns.pop("at_ms")
    ats = [datetime.fromtimestamp(s, UTC) + timedelta(milliseconds=ms) for s, ms in zip(seconds, millis, strict=True)]
    records = list(decode(AuditRecord, columns, at=ats))
    return records[::-1] if limit is not None else records


def audit_json(record: AuditRecord) -> dict[str, Any]:
    """A record as ``lotline audit --json`` prints it (the time in UTC, to the millisecond)."""
    return {
        "at": audit_time(record.at), "request_id": record.request_id, "principal_id": record.principal_id,
        "role": record.role, "method": record.method, "endpoint": record.endpoint, "path": record.path,
        "objects": list(record.objects), "status": record.status, "outcome": record.outcome,
        "client": record.client, "duration_ms": record.duration_ms,
    }


def audit_time(at: datetime) -> str:
    """``2026-11-20T12:00:00.250Z``: how audit times are shown."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def moment_or_age(field: str, value: str | None, now: datetime) -> datetime | None:
    """An ISO 8601 time with a zone, or an age before ``now`` (``90s``, ``15m``, ``2h``, ``7d``, ``1w``).

    Raises:
        BadParameter: naming ``field``.
    """
    if value is None:
        return None
    age = _AGE.fullmatch(value.strip())
    if age is None:
        try:
            return moment(field, value)
        except BadParameter as exc:
            raise BadParameter(field, f"{exc.reason}; or give an age such as 15m, 2h, 7d") from None
    amount, unit = age.groups()
    return now.astimezone(UTC) - timedelta(**{_UNIT[unit]: int(amount)})


def _second(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(microsecond=0)


def _millisecond(at: datetime) -> int:
    return at.microsecond // 1000
