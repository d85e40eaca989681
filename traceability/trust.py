"""Judging a report version against the registry: is it authentic, is it accredited, does it count.

One vocabulary everywhere (DESIGN §5). Authenticity: ``authentic``, ``altered``,
``signature_invalid``, ``key_unknown``, ``key_revoked``, ``key_not_valid_at_issue``, ``unsigned``.
Acceptance: ``accredited``, ``lab_unknown``, ``accreditation_inactive``, ``method_out_of_scope``.

Everything is judged at the report's issue time against the lab's *current* record, which holds
the histories that matter (key windows and revocation times, accreditation status changes). So a
judgement depends only on the report and the final registry, never on which arrived first: a key
registered late makes an early report authentic, and a revocation published late re-judges what
was signed after the revocation time.

What counts towards a batch's status (the safe reading):

* a forged or altered version (``FORGED``) never counts, and neither does an unsigned one when
  signatures are required;
* an authentic (or unsigned) version from an accredited lab, within scope, counts as it is;
* otherwise only a fail counts: an unaccredited lab can raise an alarm, never clear one (its
  passes and withdrawals do not count).

A report's effect is its highest counting version (fail wins a tie at one version), so a forged
correction or an unaccredited pass cannot retract an earlier fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

from traceability.registry import Accreditation, Regulator, SigningKey

Outcome: TypeAlias = Literal[
    "authentic", "altered", "signature_invalid", "key_unknown", "key_revoked", "key_not_valid_at_issue", "unsigned",
]
Acceptance: TypeAlias = Literal["accredited", "lab_unknown", "accreditation_inactive", "method_out_of_scope"]
Verdict: TypeAlias = Literal["pass", "fail", "withdrawn"]

#: Outcomes of a report that must change nothing: dead-lettered with the outcome, kept for audit.
FORGED: frozenset[Outcome] = frozenset(
    {"altered", "signature_invalid", "key_unknown", "key_revoked", "key_not_valid_at_issue"}
)
_RANK: dict[str, int] = {"pass": 0, "withdrawn": 1, "fail": 2}


@dataclass(frozen=True, slots=True)
class Signed:
    """What a report's credential says, as far as it can be read without the lab's key.

    Attributes:
        kid: The key id in the protected header ("" when the token could not be read).
        claimed_accreditation: The accreditation number the credential claims ("" if none).
        differs: Event fields whose value differs from the credential's claims.
        unreadable: Why the token could not be read ("" when it could).
    """

    kid: str
    claimed_accreditation: str
    differs: tuple[str, ...]
    unreadable: str = ""


@dataclass(frozen=True, slots=True)
class LabRecord:
    """What judging needs of a lab's current record."""

    lab_id: str
    accreditations: tuple[Accreditation, ...]
    keys: tuple[SigningKey, ...]

    def key(self, kid: str) -> SigningKey | None:
        return next((key for key in self.keys if key.kid == kid), None)


@dataclass(frozen=True, slots=True)
class Judgement:
    """A report version judged: its authenticity, its acceptance, and what it counts as.

    Attributes:
        refused: Refused outright, dead-lettered with the outcome (forged, or unsigned where
            signatures are required); a version that merely does not count is not refused, and
            neither is one signed for a lab the registry does not know yet (held: see `judge`).
    """

    outcome: Outcome
    acceptance: Acceptance
    counts_as: Verdict | None
    refused: bool = False

    @property
    def accepted(self) -> bool:
        """Neither forged nor refused: a version that goes into the transparency log."""
        return self.outcome not in FORGED and not self.refused


def authenticity(issued_at: datetime, lab: LabRecord | None, signed: Signed | None,
                 signature_holds: Callable[[SigningKey], bool]) -> Outcome:
    """The outcome of checking a report's credential against its lab's keys.

    Args:
        issued_at: When the report says it was issued.
        lab: The lab's current record, if the registry knows the lab.
        signed: The credential's readable facts, or ``None`` for an unsigned report.
        signature_holds: Whether the credential's signature verifies with a key.
    """
    if signed is None:
        return "unsigned"
    if signed.unreadable:
        return "signature_invalid"
    key = lab.key(signed.kid) if lab is not None else None
    if key is None:
        return "key_unknown"
    if not signature_holds(key):
        return "signature_invalid"
    if key.revoked_by(issued_at):
        return "key_revoked"
    if not key.valid_at(issued_at):
        return "key_not_valid_at_issue"
    return "altered" if signed.differs else "authentic"


def acceptance(method: str, issued_at: datetime, lab: LabRecord | None, claimed: str = "") -> Acceptance:
    """Whether the lab was accredited for ``method`` at the issue time (for ``claimed``, when named)."""
    if lab is None:
        return "lab_unknown"
    candidates = [a for a in lab.accreditations if not claimed or a.number == claimed]
    active = [a for a in candidates if a.active_at(issued_at)]
    if not active:
        return "accreditation_inactive"
    return "accredited" if any(method in a.methods for a in active) else "method_out_of_scope"


def judge(verdict: Verdict, outcome: Outcome, accepted: Acceptance, *, require_signatures: bool) -> Judgement:
    """What a version counts as, from its verdict, authenticity and acceptance (module docstring).

    A version signed for a lab the registry does not know (``key_unknown`` and ``lab_unknown``)
    counts nothing but is held, not refused: the registry may simply be late (labs register before
    they sign), and it is judged again when the lab arrives. A known lab without the key is
    another matter: that version is refused (and judged again if the key is registered).
    """
    held = outcome == "key_unknown" and accepted == "lab_unknown"
    if outcome in FORGED or (outcome == "unsigned" and require_signatures):
        return Judgement(outcome, accepted, None, refused=not held)
    if accepted == "accredited" or verdict == "fail":
        return Judgement(outcome, accepted, verdict)
    return Judgement(outcome, accepted, None)


def judge_report(verdict: Verdict, method: str, issued_at: datetime, lab: LabRecord | None, signed: Signed | None,
                 signature_holds: Callable[[SigningKey], bool], *, require_signatures: bool) -> Judgement:
    """A report version judged against its lab's current record: authenticity, acceptance (for the
    accreditation its credential claims, if any), and what it counts as."""
    outcome = authenticity(issued_at, lab, signed, signature_holds)
    accepted = acceptance(method, issued_at, lab, signed.claimed_accreditation if signed is not None else "")
    return judge(verdict, outcome, accepted, require_signatures=require_signatures)


@dataclass(frozen=True, slots=True)
class JudgedVersion:
    report_version: int
    judgement: Judgement


def effect(versions: Iterable[JudgedVersion]) -> Verdict | None:
    """A report's effect on its batch: its highest counting version's verdict (fail wins a tie)."""
    counting = [(v.report_version, _RANK[v.judgement.counts_as], v.judgement.counts_as)
                for v in versions if v.judgement.counts_as is not None]
    return max(counting)[2] if counting else None


def recognised(regulator: Regulator, accreditation: Accreditation | None, issued_at: datetime,
               mra_signatory: Callable[[str, datetime], bool], qualified: Callable[[str, datetime], bool]
               ) -> tuple[bool, tuple[str, ...]]:
    """Whether ``regulator``'s policy recognises a report accredited under ``accreditation``, and why not.

    Args:
        regulator: The regulator asking.
        accreditation: The active accreditation covering the report, ``None`` if there is none.
        issued_at: The report's issue time.
        mra_signatory: Whether a body was an ILAC MRA signatory for testing at a moment.
        qualified: Whether the lab held a qualification of a kind (``CMA``) at a moment.
    """
    if accreditation is None:
        return False, ("the report is not covered by an active accreditation",)
    reasons = []
    body = accreditation.body_id
    by_mra = regulator.recognises_mra_signatories and mra_signatory(body, issued_at)
    if not (by_mra or body in regulator.recognised_bodies):
        reasons.append(f"{regulator.regulator_id} does not recognise accreditations by {body}"
                       + (" (not an ILAC MRA signatory for testing then)" if regulator.recognises_mra_signatories
                          else ""))
    reasons += [f"{regulator.regulator_id} requires a {kind} qualification, which the lab did not hold then"
                for kind in regulator.required_qualifications if not qualified(kind, issued_at)]
    return not reasons, tuple(reasons)
