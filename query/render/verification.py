"""A verification answer as text: the verdict of the check first, then what it rests on."""

from __future__ import annotations

from typing import TextIO

from query.render.answers import date_text
from traceability.verification import Verification

_OUTCOME = {
    "authentic": "AUTHENTIC: the signature verifies with the lab's registered key and the report is as signed",
    "unsigned": "UNSIGNED: the report carries no signature; its content cannot be checked",
    "altered": "ALTERED: the report differs from what the lab signed",
    "signature_invalid": "FORGED: the signature does not verify",
    "key_unknown": "UNVERIFIED: signed with a key the registry does not know for this lab",
    "key_revoked": "FORGED OR COMPROMISED: signed with a key revoked before the issue time",
    "key_not_valid_at_issue": "UNVERIFIED: signed with a key outside its validity at the issue time",
    "pending": "NOT JUDGED YET: the report was stored moments ago",
}


def verification_text(v: Verification, out: TextIO) -> None:
    r = v.version
    said = _OUTCOME.get(v.standing.outcome, v.standing.outcome)
    print(f"report {r.lab_id}/{r.report_id} v{r.report_version}: {said}", file=out)
    accepted = "accredited" if v.standing.acceptance == "accredited" else v.standing.acceptance.replace("_", " ")
    counted = "counts towards the batch's status" if v.standing.counts else "does not count towards the batch's status"
    print(f"acceptance: {accepted}; {counted}", file=out)
    print(f"batch {r.batch_id}: {r.verdict} by {r.method}, tested {date_text(r.tested_at)}, "
          f"issued {date_text(r.issued_at)}", file=out)
    lab = v.lab
    print(f"lab: {lab.name} ({lab.lab_id})" if lab else f"lab: {r.lab_id} is not in the registry", file=out)
    a = v.accreditation
    if a is not None:
        body = f"{v.body.name} ({a.body_id})" if v.body else a.body_id
        mra = "" if v.body is None else (", ILAC MRA signatory for testing then" if v.body.mra_signatory_at(r.issued_at)
                                         else ", not an ILAC MRA signatory then")
        scope = "in scope" if v.method_in_scope else "NOT in scope"
        print(f"accreditation: {a.number} by {body}{mra}; {a.status_at(r.issued_at)} at issue, valid "
              f"{date_text(a.valid_from)} to {date_text(a.valid_until)}; method {scope}", file=out)
    else:
        print("accreditation: none covers this report", file=out)
    if v.superseded_by is not None:
        print(f"superseded: version {v.superseded_by} followed (latest is v{v.latest_version})"
              + (", and the report was withdrawn" if v.withdrawn else ""), file=out)
    elif v.withdrawn:
        print("withdrawn by the lab", file=out)
    if v.refused_versions:
        listed = ", ".join(f"v{n}" for n in v.refused_versions)
        print(f"refused: {listed} of this report did not verify and change nothing (see `lotline rejects`)",
              file=out)
    if not v.published:
        print("not published: Lotline has no record of this report version", file=out)
    elif v.matches_published is False:
        print("the published version differs from this credential", file=out)
    if v.recognition is not None:
        rec = v.recognition
        said = "RECOGNISED" if rec.recognised else "NOT RECOGNISED"
        print(f"{rec.regulator_id} ({', '.join(rec.jurisdiction)}): {said}"
              + "".join(f"\n  - {reason}" for reason in rec.reasons), file=out)
    if v.logged is not None:
        state = "inclusion proof verified" if v.logged.verified else "INCLUSION PROOF FAILED"
        print(f"transparency log: entry {v.logged.index} of {v.logged.size}, root {v.logged.root.hex()[:16]}…, "
              f"{state}", file=out)
    else:
        print("transparency log: not logged (only accepted reports are)", file=out)
