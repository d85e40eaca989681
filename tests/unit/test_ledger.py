"""The trust ledger: every arrival order of reports and lab snapshots ends in the same judgements,
effects and lineage states as the registry arriving first; and the judging rules, one by one."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traceability.ledger import LabSnapshot, ReportFacts, TrustLedger
from traceability.lineage import BatchState, handle
from traceability.registry import Accreditation, SigningKey, StatusChange
from traceability.trust import FORGED, LabRecord, Signed, acceptance, authenticity, judge

pytestmark = pytest.mark.unit
T0 = datetime(2026, 6, 1, tzinfo=UTC)
METHODS = ("GB 6675.4-2014", "GB/T 22048-2015", "EN 71-3:2019")


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def holds(facts: ReportFacts, key: SigningKey) -> bool:
    """A stand-in for Ed25519: a token ``sig:<kid>:<jwk>`` verifies with that key only."""
    return facts.token == f"sig:{key.kid}:{key.jwk}"


def key(kid: str, jwk: str = "jwk-1", not_before: int = -100, not_after: int | None = None,
        revoked: int | None = None) -> SigningKey:
    return SigningKey(kid, jwk, at(not_before), at(not_after) if not_after is not None else None,
                      at(revoked) if revoked is not None else None, "compromised" if revoked is not None else "")


def accreditation(methods: tuple[str, ...] = METHODS[:2], start: int = -100, end: int = 300,
                  statuses: tuple[StatusChange, ...] = ()) -> Accreditation:
    return Accreditation("CNAS", "CNAS L1234", at(start), at(end), statuses, methods, (), ())


def report(event: str, version: int = 1, verdict: str = "pass", *, lab: str = "LAB-1", batch: str = "LOT-1",
           method: str = METHODS[0], issued: int = 0, kid: str | None = "k1", jwk: str = "jwk-1",
           differs: tuple[str, ...] = ()) -> ReportFacts:
    signed = None if kid is None else Signed(kid, "", differs)
    token = "" if kid is None else f"sig:{kid}:{jwk}"
    return ReportFacts(batch, lab, "RPT-1", version, verdict, event, method, at(issued), signed, token)  # type: ignore[arg-type]


def snapshot(event: str, registered: int, *keys: SigningKey, accreditations: tuple[Accreditation, ...] | None = None,
             lab: str = "LAB-1") -> tuple[str, LabSnapshot]:
    record = LabRecord(lab, (accreditation(),) if accreditations is None else accreditations, keys)
    return lab, LabSnapshot(event, at(registered), record)


# -- the rules, one outcome at a time ------------------------------------------------------------

LAB = LabRecord("LAB-1", (accreditation(),), (key("k1"), key("k2", revoked=5), key("k3", not_before=10)))


@pytest.mark.parametrize(("facts", "lab", "expected"), [
    (report("e", kid=None), LAB, "unsigned"),
    (report("e"), LAB, "authentic"),
    (report("e", differs=("batch_id",)), LAB, "altered"),
    (report("e", jwk="another key"), LAB, "signature_invalid"),
    (report("e", kid="k9"), LAB, "key_unknown"),
    (report("e"), None, "key_unknown"),
    (report("e", kid="k2", issued=6), LAB, "key_revoked"),
    (report("e", kid="k2", issued=4), LAB, "authentic"),  # signed before the revocation
    (report("e", kid="k3", issued=4), LAB, "key_not_valid_at_issue"),
])
def test_each_authenticity_outcome_follows_from_the_credential_and_the_lab_keys(facts, lab, expected):
    assert authenticity(facts.issued_at, lab, facts.signed, lambda k: holds(facts, k)) == expected


def test_an_unreadable_credential_is_a_signature_that_does_not_hold():
    assert authenticity(T0, LAB, Signed("", "", (), unreadable="not a JWS"), lambda k: True) == "signature_invalid"


def test_acceptance_needs_a_known_lab_an_active_accreditation_and_the_method_with_its_year():
    suspended = accreditation(statuses=(StatusChange("suspended", at(5)), StatusChange("granted", at(9))))
    lab = LabRecord("LAB-1", (suspended,), ())
    assert acceptance(METHODS[0], at(0), None) == "lab_unknown"
    assert acceptance(METHODS[0], at(0), lab) == "accredited"
    assert acceptance(METHODS[0], at(6), lab) == "accreditation_inactive"
    assert acceptance(METHODS[0], at(9), lab) == "accredited"
    assert acceptance(METHODS[0], at(301), lab) == "accreditation_inactive"
    assert acceptance("GB 6675.4", at(0), lab) == "method_out_of_scope"
    assert acceptance(METHODS[2], at(0), lab) == "method_out_of_scope"
    assert acceptance(METHODS[0], at(0), lab, claimed="CNAS L9999") == "accreditation_inactive"


def test_what_counts_is_the_safe_reading():
    assert judge("pass", "authentic", "accredited", require_signatures=False).counts_as == "pass"
    assert judge("pass", "unsigned", "accredited", require_signatures=False).counts_as == "pass"
    assert judge("pass", "unsigned", "accredited", require_signatures=True).counts_as is None
    assert judge("pass", "authentic", "method_out_of_scope", require_signatures=False).counts_as is None
    assert judge("withdrawn", "authentic", "lab_unknown", require_signatures=False).counts_as is None
    assert judge("fail", "authentic", "accreditation_inactive", require_signatures=False).counts_as == "fail"
    for outcome in FORGED:
        assert judge("fail", outcome, "accredited", require_signatures=False).counts_as is None


def test_a_forged_correction_does_not_retract_a_fail_and_a_late_key_makes_a_report_count():
    ledger = TrustLedger()
    ledger.lab(*snapshot("lab-a", 0, key("k1"))[::-1], holds)
    assert [r.verdict for r in ledger.report(report("v1", 1, "fail"), holds).results] == ["fail"]
    assert not ledger.report(report("v2", 2, "pass", jwk="forged"), holds).results  # effect unchanged
    assert ledger.judgement("v2").outcome == "signature_invalid"
    late = ledger.report(report("v3", 3, "pass", kid="k2"), holds)
    assert not late.results and ledger.judgement("v3").outcome == "key_unknown"
    rotated = ledger.lab(*snapshot("lab-b", 1, key("k1"), key("k2"))[::-1], holds)
    assert [(r.report_id, r.verdict) for r in rotated.results] == [("LAB-1 RPT-1", "pass")]
    assert ledger.judgement("v1").outcome == "authentic" and ledger.judgement("v3").outcome == "authentic"


def test_a_revocation_published_later_re_judges_what_was_signed_after_it():
    ledger = TrustLedger()
    ledger.lab(*snapshot("lab-a", 0, key("k1"))[::-1], holds)
    ledger.report(report("before", 1, "fail", issued=2), holds)
    step = ledger.report(report("after", 2, "pass", issued=8), holds)
    assert [r.verdict for r in step.results] == ["pass"]
    revoked = ledger.lab(*snapshot("lab-b", 1, key("k1", revoked=5))[::-1], holds)
    assert [r.verdict for r in revoked.results] == ["fail"]  # the pass after the revocation no longer counts
    assert {j.facts.event_id: j.judgement.outcome for j in revoked.judged} == {"after": "key_revoked"}


# -- any order, duplicates included: the same end ------------------------------------------------

def _world(rng: random.Random) -> tuple[list[tuple[str, LabSnapshot]], list[ReportFacts]]:
    labs = []
    for lab in ("LAB-1", "LAB-2"):
        for n in range(rng.randint(0, 3)):
            keys = tuple(key(f"k{i}", f"jwk-{i}", rng.randint(-50, 5), rng.choice([None, 40]),
                             rng.choice([None, None, rng.randint(-5, 30)])) for i in range(rng.randint(0, 3)))
            statuses = tuple(StatusChange(rng.choice(("granted", "suspended", "withdrawn")), at(rng.randint(-10, 30)))
                             for _ in range(rng.randint(0, 2)))
            accreditations = (accreditation(tuple(rng.sample(METHODS, 2)), rng.randint(-60, 0), rng.randint(10, 60),
                                            statuses),)
            labs.append(snapshot(f"{lab}-ev-{n}", rng.randint(0, 5), *keys, accreditations=accreditations, lab=lab))
    reports = []
    for n in range(rng.randint(1, 12)):
        kid = rng.choice([None, "k0", "k1", "k2", "k7"])
        reports.append(report(
            f"r{n}", rng.randint(1, 3), rng.choice(("pass", "fail", "withdrawn")), lab=rng.choice(("LAB-1", "LAB-2")),
            batch=rng.choice(("LOT-1", "LOT-2")), method=rng.choice(METHODS), issued=rng.randint(-10, 45), kid=kid,
            jwk=rng.choice([f"jwk-{kid[1:]}" if kid else "", "forged"]), differs=rng.choice([(), (), ("verdict",)]),
        ))
    return labs, reports


def _run(labs: list[tuple[str, LabSnapshot]], reports: list[ReportFacts], order: list[int], *, require: bool
         ) -> tuple[dict[str, object], dict[str, BatchState]]:
    ledger, states = TrustLedger(require_signatures=require), {}
    items: list[object] = [*labs, *reports]
    for i in order:
        item = items[i]
        step = ledger.lab(item[1], item[0], holds) if isinstance(item, tuple) else ledger.report(item, holds)
        for result in step.results:
            states[result.batch_id] = handle(states.get(result.batch_id) or BatchState(result.batch_id), result).state
    judgements = {r.event_id: ledger.judgement(r.event_id) for r in reports}
    # The stamps (versions) the core holds depend on the order; what each report does does not.
    effects = {b: {r: v.verdict for r, v in s.reports.items() if v.verdict != "withdrawn"} for b, s in states.items()}
    return judgements, {b: e for b, e in effects.items() if e}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), require=st.booleans())
def test_every_arrival_order_with_duplicates_ends_as_if_the_registry_came_first(seed, require):
    """Same judgement of every version, same effect of every report on its batch."""
    rng = random.Random(seed)
    labs, reports = _world(rng)
    registry_first = list(range(len(labs) + len(reports)))
    want = _run(labs, reports, registry_first, require=require)
    shuffled = registry_first + rng.choices(registry_first, k=len(registry_first) // 3)
    rng.shuffle(shuffled)
    assert _run(labs, reports, shuffled, require=require) == want


def test_only_forged_reports_and_unsigned_ones_where_signatures_are_required_are_refused():
    assert not judge("pass", "unsigned", "lab_unknown", require_signatures=False).refused  # does not count, kept
    assert judge("pass", "unsigned", "accredited", require_signatures=True).refused
    assert judge("pass", "altered", "accredited", require_signatures=False).refused
    assert not judge("pass", "authentic", "method_out_of_scope", require_signatures=False).refused
    held = judge("pass", "key_unknown", "lab_unknown", require_signatures=False)  # the registry may be late
    assert not held.refused and not held.accepted and held.counts_as is None
    assert judge("pass", "key_unknown", "accredited", require_signatures=False).refused  # a known lab, no such key
