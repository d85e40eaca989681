"""Principals and their API keys (DESIGN §5, access by role): added, listed, revoked, looked up.

A principal is a caller with one role, bound to its lab, org or regulator
(``traceability.access.Principal``). Its API key (``query.api_keys``: 256 random bits) is shown
once when the principal is added; only the key's SHA-256 is stored. The
``principals`` table keeps a row per change; a principal's state is the fold of its rows
(``fold``), read whole each time: a deployment has hundreds of principals, not millions.

``query.authentication.Authenticator`` turns a request's ``Authorization`` header into a principal;
``authenticator_for`` wires it to this store and, when an issuer is configured, to a
``query.jwt_bearer.JwtVerifier``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from clickhouse_driver import Client

from query.api_keys import key_hash, new_key
from query.authentication import Authenticator
from query.columns import decode, named, renamed
from query.jwt_bearer import Jwks, JwtVerifier
from query.params import identifier
from sinks.drivers import driver_errors
from traceability.access import BINDING, ROLES, Principal, Role, principal_problem
from traceability.errors import BadParameter, ClickHouseUnavailable, NotFound, SetupError
from traceability.json_form import utc_text

__all__ = ["Authenticator", "JwtVerifier", "PrincipalRow", "PrincipalStore", "UnknownPrincipal", "authenticator_for",
           "COLUMNS", "key_hash", "new_key", "principal_json"]

#: A principal's free-text name: one line, short enough for a listing.
MAX_NAME = 200
_PARTIES = ("lab_id", "org_id", "regulator_id")
#: The columns of the ``principals`` table (sinks/ddl/008_principals.sql), in order.
COLUMNS = ("principal_id", "change", "role", *_PARTIES, "name", "key_sha256", "at")


class UnknownPrincipal(NotFound):
    """No principal with this id was ever added."""


@dataclass(frozen=True, slots=True)
class PrincipalRow:
    """A principal as ``lotline principals list`` shows it: no key, no hash."""

    principal: Principal
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class Change:
    """One row of the ``principals`` table."""

    principal_id: str
    change: Literal["added", "revoked"]
    role: Role
    lab_id: str
    org_id: str
    regulator_id: str
    name: str
    key_sha256: str
    at: datetime


def fold(changes: Iterable[Change]) -> dict[str, tuple[PrincipalRow, str]]:
    """Each principal's state and key hash, by id (sorted): its first 'added' row says who it is
    and its first 'revoked' row since when it is revoked; a revocation of nobody added is ignored."""
    added: dict[str, Change] = {}
    revoked: dict[str, datetime] = {}
    for change in sorted(changes, key=lambda c: (c.at, c.change)):
        if change.change == "added":
            added.setdefault(change.principal_id, change)
        else:
            revoked.setdefault(change.principal_id, change.at)
    return {pid: (PrincipalRow(_principal_of(row), row.at, revoked.get(pid)), row.key_sha256)
            for pid, row in sorted(added.items())}


def _principal_of(row: Change) -> Principal:
    return Principal(row.principal_id, row.role, row.lab_id, row.org_id, row.regulator_id, row.name)


class PrincipalStore:
    """The ``principals`` table of one database.

    Thread-safe: one lock holds each read or write, and its one ClickHouse client is used only under it.
    A server that cannot be reached raises ``ClickHouseUnavailable``.

    Args:
        connect: Makes a ClickHouse client (called again after a failed query).
        database: The deployment's database.
    """

    def __init__(self, connect: Callable[[], Client], database: str) -> None:
        self._connect = connect
        self._db = database
        self._lock = threading.Lock()
        self._client: Client | None = None

    def add(self, role: str, *, lab_id: str = "", org_id: str = "", regulator_id: str = "", name: str = "",
            now: datetime) -> tuple[Principal, str]:
        """Add a principal with a new API key; the key is returned once and never stored.

        Raises:
            BadParameter: the role is unknown, an id is malformed, the name is not one short line,
                or the role's binding is wrong (a lab names its lab and nothing else; an admin
                names nothing); ``field`` is the offending argument (``role``, ``lab_id``, …).
        """
        principal = _checked(role, lab_id=lab_id, org_id=org_id, regulator_id=regulator_id, name=name)
        key = new_key()
        with self._lock:
            taken = self._fold().keys()
            while principal.principal_id in taken:  # 48 random bits: practically never
                principal = Principal(_new_id(), principal.role, lab_id, org_id, regulator_id, name)
            self._insert(principal, "added", key_hash(key), now)
        return principal, key

    def revoke(self, principal_id: str, *, now: datetime) -> PrincipalRow:
        """Revoke a principal's key from ``now`` on.

        Raises:
            UnknownPrincipal: no principal with this id was added.
            BadParameter: it is revoked already (``field`` ``principal_id``).
        """
        with self._lock:
            found = self._fold().get(principal_id)
            if found is None:
                raise UnknownPrincipal(f"no principal {principal_id!r}: `lotline principals list` shows them")
            row, hashed = found
            if row.revoked_at is not None:
                raise BadParameter("principal_id", f"{principal_id} is revoked already (since "
                                                   f"{utc_text(row.revoked_at)})")
            self._insert(row.principal, "revoked", hashed, now)
        return PrincipalRow(row.principal, row.created_at, _seconds(now))

    def by_key_hash(self) -> dict[str, Principal]:
        """Every principal not revoked, by the hash of its key (what ``Authenticator`` loads)."""
        with self._lock:
            folded = self._fold()
        return {hashed: row.principal for row, hashed in folded.values() if row.active}

    def list(self) -> Sequence[PrincipalRow]:
        """Every principal ever added, revoked ones too, by id."""
        with self._lock:
            return [row for row, _hash in self._fold().values()]

    def close(self) -> None:
        """Disconnect (the next call connects again)."""
        with self._lock:
            if self._client is not None:
                self._client.disconnect()
                self._client = None

    def _fold(self) -> dict[str, tuple[PrincipalRow, str]]:
        # at_seconds, not at: read as seconds, so no time zone is guessed (as in query.registry).
        data, types = self._execute(f"SELECT {', '.join(COLUMNS[:-1])}, toUInt32(at) AS at_seconds "
                                    f"FROM {self._db}.principals", columnar=True, with_column_types=True)
        columns = renamed(named(data, types), {"at_seconds": "at"})
        columns["at"] = [datetime.fromtimestamp(s, UTC) for s in columns["at"]]
        return fold(decode(Change, columns))

    def _insert(self, principal: Principal, change: str, hashed: str, now: datetime) -> None:
        row = {"principal_id": principal.principal_id, "change": change, "role": principal.role,
               "lab_id": principal.lab_id, "org_id": principal.org_id, "regulator_id": principal.regulator_id,
               "name": principal.name, "key_sha256": hashed, "at": _seconds(now)}
        self._execute(f"INSERT INTO {self._db}.principals ({', '.join(COLUMNS)}) VALUES", [row])

    def _execute(self, sql: str, params: Any = None, **options: Any) -> Any:
        """Run one statement; a server down or busy is ``ClickHouseUnavailable`` (the API's 503, CLI exit 3)."""
        client = self._client = self._client or self._connect()
        try:
            with driver_errors(ClickHouseUnavailable):
                return client.execute(sql, params, **options)
        except BaseException:
            self._client = None  # a half-used connection is not reused
            client.disconnect()
            raise


def _checked(role: str, *, lab_id: str, org_id: str, regulator_id: str, name: str) -> Principal:
    if role not in ROLES:
        raise BadParameter("role", f"{role!r} is not one of {', '.join(ROLES)}")
    for field, value in zip(_PARTIES, (lab_id, org_id, regulator_id), strict=True):
        if value:
            identifier(field, value)
    if len(name) > MAX_NAME or not name.isprintable():
        raise BadParameter("name", f"one line of printable text, at most {MAX_NAME} characters")
    principal = Principal(_new_id(), role, lab_id, org_id, regulator_id, name)
    problem = principal_problem(principal)
    if problem is not None:
        raise BadParameter(_offending(principal), problem)
    return principal


def _offending(principal: Principal) -> str:
    """The argument a wrong binding is about: the party the role needs, else one it must not name."""
    wanted = BINDING.get(principal.role)
    if wanted is not None and not getattr(principal, wanted):
        return wanted
    return next((f for f in _PARTIES if f != wanted and getattr(principal, f)), "role")


def _seconds(moment: datetime) -> datetime:
    """``moment`` in UTC as the table keeps it (DateTime: seconds)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def _new_id() -> str:
    return "p-" + secrets.token_hex(6)


def principal_json(row: PrincipalRow) -> dict[str, Any]:
    """A principal as ``lotline principals list --json`` gives it (no key, no hash)."""
    p = row.principal
    return {"principal_id": p.principal_id, "role": p.role, "lab_id": p.lab_id, "org_id": p.org_id,
            "regulator_id": p.regulator_id, "party": p.party, "name": p.name, "created_at": utc_text(row.created_at),
            "revoked_at": utc_text(row.revoked_at) if row.revoked_at else None, "active": row.active}


def authenticator_for(connect: Callable[[], Client], database: str, *, jwt_issuer: str | None,
                      jwt_jwks: str | None, jwt_audience: str | None = None, refresh_seconds: float = 1.0
                      ) -> Authenticator:
    """The API's authenticator: API keys from the ``principals`` table and, when an issuer is
    configured (``LOTLINE_JWT_ISSUER`` with ``LOTLINE_JWT_JWKS``), its JWTs.

    Raises:
        SetupError: only one of the issuer and its key set is configured, or the key set file
            cannot be read.
    """
    if bool(jwt_issuer) != bool(jwt_jwks):
        missing = "LOTLINE_JWT_JWKS (a file or URL)" if jwt_issuer else "LOTLINE_JWT_ISSUER"
        raise SetupError(f"JWT bearer tokens need both an issuer and its key set: set {missing}")
    verifier = JwtVerifier(jwt_issuer, Jwks(jwt_jwks), audience=jwt_audience) if jwt_issuer and jwt_jwks else None
    return Authenticator(PrincipalStore(connect, database).by_key_hash, refresh_seconds=refresh_seconds, jwt=verifier)
