"""The answer to "is this report real, and does it count here?" (DESIGN §5), assembled from facts.

Anyone may ask, by lab and report id (``lotline verify``, ``/v1/labs/{lab}/reports/{report}/verify``,
the QR page) or with a credential they hold (``--credential``, ``POST /v1/verify``). The answer
names the outcome in the one vocabulary of ``traceability.trust``, the lab and the accreditation
that covers the report, whether the method is in scope, the batch, the verdict, the version (and
whether a later one supersedes it or withdrew it), where it is in the transparency log, and, for
a regulator's jurisdiction, whether that regulator's policy recognises it and why not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from traceability.events import Lab, LabResult, lab_accreditations
from traceability.registry import Accreditation, AccreditationBody, Regulator
from traceability.scope import Standing
from traceability.trust import FORGED, recognised


@dataclass(frozen=True, slots=True)
class Recognition:
    regulator_id: str
    name: str
    jurisdiction: tuple[str, ...]
    recognised: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Logged:
    """Where a report version is in the transparency log, and whether its inclusion proof verified."""

    index: int
    size: int
    root: bytes
    proof: tuple[bytes, ...]
    verified: bool


@dataclass(frozen=True, slots=True)
class Verification:
    """One report version verified. ``published``: the event is in Lotline's history (a held
    credential may not be); ``matches_published``: the held credential states the stored event."""

    version: LabResult
    standing: Standing
    lab: Lab | None
    accreditation: Accreditation | None
    method_in_scope: bool
    body: AccreditationBody | None
    latest_version: int
    superseded_by: int | None
    withdrawn: bool
    refused_versions: tuple[int, ...]
    published: bool
    matches_published: bool | None
    recognition: Recognition | None
    logged: Logged | None

    @property
    def authentic(self) -> bool:
        return self.standing.outcome == "authentic"


def covering_accreditation(lab: Lab | None, method: str, issued_at: datetime,
                           claimed: str = "") -> Accreditation | None:
    """The lab's accreditation that covers a report: active at the issue time with the method in
    scope (the claimed one when named), else the claimed one, else any active one."""
    if lab is None:
        return None
    accreditations = lab_accreditations(lab)
    named = [a for a in accreditations if not claimed or a.number == claimed]
    active = [a for a in named if a.active_at(issued_at)]
    return next((a for a in active if method in a.methods), None) or (named[0] if claimed and named else None) or (
        active[0] if active else None)


def verification(version: LabResult, standing: Standing, versions: Sequence[tuple[LabResult, Standing]], *,
                 lab: Lab | None,
                 bodies: Mapping[str, AccreditationBody], regulator: Regulator | None, published: bool,
                 matches_published: bool | None = None, logged: Logged | None = None,
                 claimed_accreditation: str = "") -> Verification:
    """Assemble the answer for ``version`` among the report's ``versions`` (every known version with
    its judgement): only a later version that counts supersedes it or withdraws it; later versions
    refused as forged are named, not obeyed."""
    accreditation = covering_accreditation(lab, version.method, version.issued_at, claimed_accreditation)
    later = [v for v, s in versions if v.report_version > version.report_version and s.counts]
    refused = sorted({v.report_version for v, s in versions if s.outcome in FORGED and v is not version})
    latest = max([version.report_version, *(v.report_version for v, _ in versions)])
    return Verification(
        version=version, standing=standing, lab=lab, accreditation=accreditation,
        method_in_scope=accreditation is not None and version.method in accreditation.methods,
        body=bodies.get(accreditation.body_id) if accreditation else None, latest_version=latest,
        superseded_by=min((v.report_version for v in later), default=None),
        withdrawn=any(v.verdict == "withdrawn" for v in later) or version.verdict == "withdrawn",
        refused_versions=tuple(refused),
        published=published, matches_published=matches_published,
        recognition=_recognition(regulator, standing, accreditation, version, lab, bodies) if regulator else None,
        logged=logged,
    )


def _recognition(regulator: Regulator, standing: Standing, accreditation: Accreditation | None, version: LabResult,
                 lab: Lab | None, bodies: Mapping[str, AccreditationBody]) -> Recognition:
    if standing.outcome in FORGED:
        return Recognition(regulator.regulator_id, regulator.name, regulator.jurisdiction, False,
                           (f"the report is not authentic ({standing.outcome})",))
    covering = accreditation if accreditation is not None and accreditation.active_at(version.issued_at) else None
    ok, reasons = recognised(
        regulator, covering if covering and version.method in covering.methods else None, version.issued_at,
        mra_signatory=lambda body, moment: body in bodies and bodies[body].mra_signatory_at(moment),
        qualified=lambda kind, moment: lab is not None and any(
            q.kind == kind and q.holds_at(moment) for q in lab.qualifications),
    )
    return Recognition(regulator.regulator_id, regulator.name, regulator.jurisdiction, ok, reasons)


def regulator_for(jurisdiction: str, regulators: Mapping[str, Regulator]) -> Regulator | None:
    """The regulator of a jurisdiction (``DE``, ``CN-ZJ``) or named by id; a region falls back to
    its country's regulator when it has none of its own."""
    if jurisdiction in regulators:
        return regulators[jurisdiction]
    for code in (jurisdiction, jurisdiction.split("-")[0]):
        found = sorted((r for r in regulators.values() if code in r.jurisdiction), key=lambda r: r.regulator_id)
        if found:
            return found[0]
    return None
