"""The trust ledger of one closure partition: its reports, judged against the labs it knows.

Every lab registry snapshot is sent to every closure partition, and every report version to its
batch's partition, so a partition can judge its reports alone (``traceability.trust``) and judge
them again when a lab's record changes. What a report does to its batch is its *effect* (its
highest counting version's verdict); the ledger hands the lineage core a ``ResultSeen`` whenever an
effect changes, and the sink a ``Judged`` fact whenever a version's judgement does.

Order independence. A judgement depends only on the report and the lab's current record (the
snapshot with the latest ``registered_at``), so once everything has arrived every order gives the
same judgements and effects. The lineage core keeps the newest ``ResultSeen`` per report by its
``report_version``; the ledger sends as that "version" a *knowledge stamp* of the report: the sum
of ``version + 1`` over the distinct events of the report it holds, plus the number of snapshots
of its lab it holds. Knowledge only grows, so the stamp strictly increases with every change of
effect, and it is the same in every order once everything has arrived.

Like ``streams.closure.ClosureStore``, the ledger is mutable (it holds a whole partition); it does
no I/O and takes the signature check as a function, so the core stays free of cryptography.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeAlias

from traceability.lineage import Message, ResultSeen
from traceability.registry import SigningKey
from traceability.trust import (
    JudgedVersion,
    Judgement,
    LabRecord,
    Signed,
    Verdict,
    effect,
    judge_report,
)


@dataclass(frozen=True, slots=True)
class ReportArrived:
    """Closure message: a lab result on a batch, as the event's original bytes (credential included)."""

    batch_id: str
    origin: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class LabArrived:
    """Closure message, sent to every partition: a lab registry snapshot, as the event's bytes."""

    lab_id: str
    origin: bytes = field(repr=False)


#: Everything the closure topic carries.
ClosureMessage: TypeAlias = Message | ReportArrived | LabArrived


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """One version of a report as the closure step knows it.

    Attributes:
        signed: What the credential says without the key; ``None`` for an unsigned report.
        token: The credential, for the signature check (not part of equality).
        origin: The event's original bytes, for a dead letter (not part of equality).
    """

    batch_id: str
    lab_id: str
    report_id: str
    report_version: int
    verdict: Verdict
    event_id: str
    method: str
    issued_at: datetime
    signed: Signed | None
    token: str = field(default="", compare=False, repr=False)
    origin: bytes = field(default=b"", compare=False, repr=False)

    @property
    def key(self) -> ReportKey:
        return ReportKey(self.lab_id, self.report_id, self.batch_id)


@dataclass(frozen=True, slots=True, order=True)
class ReportKey:
    """A report on one batch: report ids are unique only within their lab."""

    lab_id: str
    report_id: str
    batch_id: str

    @property
    def lineage_id(self) -> str:
        """The report's id in the lineage core (a space never occurs in an id)."""
        return f"{self.lab_id} {self.report_id}"


@dataclass(frozen=True, slots=True)
class LabSnapshot:
    """One registry snapshot of a lab, reduced to what judging needs."""

    event_id: str
    registered_at: datetime
    record: LabRecord


@dataclass(frozen=True, slots=True)
class Judged:
    """Sink fact: a report version's judgement is new or changed."""

    facts: ReportFacts
    judgement: Judgement
    before: Judgement | None


@dataclass
class LedgerStep:
    """What one report or lab snapshot changed: results for the lineage core, facts for the sink."""

    results: list[ResultSeen] = field(default_factory=list)
    judged: list[Judged] = field(default_factory=list)


#: Whether a report's credential verifies with a key (the caller does the cryptography).
SignatureCheck = Callable[[ReportFacts, SigningKey], bool]


class TrustLedger:
    """Reports and lab snapshots of one closure partition; see the module docstring."""

    def __init__(self, *, require_signatures: bool = False) -> None:
        self._require_signatures = require_signatures
        self._labs: dict[str, dict[str, LabSnapshot]] = {}
        self._versions: dict[ReportKey, dict[str, ReportFacts]] = {}
        self._judgements: dict[str, Judgement] = {}
        self._effects: dict[ReportKey, Verdict | None] = {}
        self._by_lab: dict[str, set[ReportKey]] = {}

    def reports(self) -> int:
        return sum(len(versions) for versions in self._versions.values())

    def judgement(self, event_id: str) -> Judgement | None:
        return self._judgements.get(event_id)

    def report(self, facts: ReportFacts, holds: SignatureCheck) -> LedgerStep:
        """A report version arrives (again, maybe): judge it and update its report's effect."""
        versions = self._versions.setdefault(facts.key, {})
        if facts.event_id in versions:
            return LedgerStep()
        versions[facts.event_id] = facts
        self._by_lab.setdefault(facts.lab_id, set()).add(facts.key)
        step = LedgerStep()
        self._judge(facts, holds, step)
        self._settle(facts.key, step)
        return step

    def lab(self, snapshot: LabSnapshot, lab_id: str, holds: SignatureCheck) -> LedgerStep:
        """A lab snapshot arrives (again, maybe): if the lab's current record changed, judge its
        reports again; either way the knowledge of its reports grew."""
        snapshots = self._labs.setdefault(lab_id, {})
        if snapshot.event_id in snapshots:
            return LedgerStep()
        before = self.record(lab_id)
        snapshots[snapshot.event_id] = snapshot
        step = LedgerStep()
        if self.record(lab_id) != before:
            for key in sorted(self._by_lab.get(lab_id, ())):
                for facts in sorted(self._versions[key].values(), key=lambda f: f.event_id):
                    self._judge(facts, holds, step)
                self._settle(key, step)
        return step

    def record(self, lab_id: str) -> LabRecord | None:
        """The lab's current record: its snapshot registered last (ties: the greatest event id)."""
        snapshots = self._labs.get(lab_id)
        if not snapshots:
            return None
        return max(snapshots.values(), key=lambda s: (s.registered_at, s.event_id)).record

    def _judge(self, facts: ReportFacts, holds: SignatureCheck, step: LedgerStep) -> None:
        judgement = judge_report(facts.verdict, facts.method, facts.issued_at, self.record(facts.lab_id), facts.signed,
                                 lambda key: holds(facts, key), require_signatures=self._require_signatures)
        before = self._judgements.get(facts.event_id)
        if judgement != before:
            self._judgements[facts.event_id] = judgement
            step.judged.append(Judged(facts, judgement, before))

    def _settle(self, key: ReportKey, step: LedgerStep) -> None:
        """Hand the lineage core the report's effect if it changed (see the module docstring)."""
        versions = self._versions[key].values()
        now = effect(JudgedVersion(f.report_version, self._judgements[f.event_id]) for f in versions)
        if self._effects.get(key) == now:
            return
        self._effects[key] = now
        stamp = sum(f.report_version + 1 for f in versions) + len(self._labs.get(key.lab_id, ()))
        step.results.append(ResultSeen(key.batch_id, key.lineage_id, stamp, now or "withdrawn"))
