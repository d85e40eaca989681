"""Verification for anyone: a report by lab and id, or a credential a reader holds (DESIGN §5).

The stored report's judgement is the stream's (``report_judgements``); a held credential is judged
here, now, against the registry by the same rules (``traceability.trust``), so it needs no stored
event. The transparency log says whether, and where, the version was logged; its inclusion proof is
verified before the answer says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from clickhouse_driver import Client

from query import registry
from query.scope import ScopeReader
from query.transparency import LogReader
from schemas import credential
from streams.trust import signed_facts, token_holds
from traceability.errors import BadParameter, InvalidEvent, NotFound, UnknownRegulator, UnknownReport
from traceability.events import LabResult, lab_record
from traceability.registry import Regulator
from traceability.scope import Report, Standing
from traceability.transparency import leaf_hash, verify_inclusion
from traceability.trust import judge_report
from traceability.verification import Logged, Verification, regulator_for, verification


class Verifier:
    """Answers verification questions from one deployment's ClickHouse (and its log, if served)."""

    def __init__(self, reader: ScopeReader, connect: Callable[[], Client], database: str, *,
                 log: LogReader | None = None, require_signatures: bool = False) -> None:
        self._reader = reader
        self._connect = connect
        self._db = database
        self._log = log
        self._require_signatures = require_signatures

    def report(self, lab_id: str, report_id: str, *, version: int | None = None, jurisdiction: str | None = None,
               as_of: datetime | None = None) -> Verification:
        """The stored report at the version that counts (or ``version``), as the stream judged it.

        Raises:
            UnknownReport: the lab issued no such report (version), as of ``as_of``.
            UnknownRegulator: ``jurisdiction`` names no regulator.
        """
        return self.report_and_versions(lab_id, report_id, version=version, jurisdiction=jurisdiction,
                                        as_of=as_of)[0]

    def report_and_versions(self, lab_id: str, report_id: str, *, version: int | None = None,
                            jurisdiction: str | None = None, as_of: datetime | None = None
                            ) -> tuple[Verification, Report]:
        """``report``, with the stored report it was read from (every version and its standing), for a
        page that shows the version history without reading the report again."""
        found = self._reader.report(report_id, as_of, lab_id=lab_id)
        versions = [found.current, *found.superseded]
        asked = found.current if version is None else _version(versions, version, f"{lab_id}/{report_id}")
        client = self._connect()
        lab, bodies = registry.lab(client, self._db, lab_id, as_of), registry.bodies(client, self._db, as_of)
        regulator = self._regulator(client, jurisdiction, as_of)
        signed = signed_facts(asked)
        return verification(
            asked, found.standing(asked), [(v, found.standing(v)) for v in versions], lab=lab, bodies=bodies,
            regulator=regulator, published=True, logged=self._logged(asked.event_id),
            claimed_accreditation=signed.claimed_accreditation if signed else "",
        ), found

    def credential(self, token: str, *, jurisdiction: str | None = None) -> Verification:
        """A credential held by the reader, judged now against the registry.

        Raises:
            BadParameter: the token is not a credential of a report (the reason named).
        """
        try:
            held = credential.read(token)
        except InvalidEvent as exc:
            raise BadParameter("credential", exc.reason) from None
        stated = credential.claimed_result(held)
        if stated is None:
            raise BadParameter("credential", "it does not state one lab result consistently")
        client = self._connect()
        lab = registry.lab(client, self._db, stated.lab_id)
        signed = signed_facts(stated)
        judged = judge_report(stated.verdict, stated.method, stated.issued_at, lab_record(lab) if lab else None,
                              signed, lambda key: token_holds(token, key),
                              require_signatures=self._require_signatures)
        standing = Standing(judged.outcome, judged.acceptance, judged.counts_as or "")
        stored = self._stored(stated)
        versions = [(v, stored.standing(v)) for v in (stored.current, *stored.superseded)] if stored else []
        published = next((v for v, _ in versions if v.event_id == stated.event_id), None)
        return verification(
            stated, standing, versions, lab=lab, bodies=registry.bodies(client, self._db),
            regulator=self._regulator(client, jurisdiction, None), published=published is not None,
            matches_published=None if published is None else not credential.claims_differ(published, held),
            logged=self._logged(stated.event_id),
            claimed_accreditation=signed.claimed_accreditation if signed else "",
        )

    def _stored(self, stated: LabResult) -> Report | None:
        try:
            return self._reader.report(stated.report_id, lab_id=stated.lab_id)
        except (UnknownReport, BadParameter):
            return None

    def _regulator(self, client: Client, jurisdiction: str | None, as_of: datetime | None) -> Regulator | None:
        if not jurisdiction:
            return None
        found = regulator_for(jurisdiction, registry.regulators(client, self._db, as_of))
        if found is None:
            raise UnknownRegulator(f"no regulator of {jurisdiction!r} is in the registry")
        return found

    def _logged(self, event_id: str) -> Logged | None:
        """Where the version is in the log; its stored entry is hashed again and its path checked."""
        if self._log is None:
            return None
        try:
            index = self._log.leaf_of_event(event_id)
            path = self._log.inclusion(index)
            stored = self._log.entry(index)
        except NotFound:
            return None
        ok = verify_inclusion(leaf_hash(stored.entry), index, path.size, list(path.proof), path.root)
        return Logged(index, path.size, path.root, path.proof, ok)


def _version(versions: list[LabResult], wanted: int, name: str) -> LabResult:
    for v in versions:
        if v.report_version == wanted:
            return v
    raise UnknownReport(f"report {name} has no version {wanted}")
