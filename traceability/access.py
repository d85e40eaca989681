"""Who may do what (DESIGN §5, access by role): one pure function per decision.

Competitors and their regulators share one deployment, so every answer is cut to its caller:

- a **lab** publishes lab results only as itself and reads its own reports in full;
- an **org** (brand, manufacturer, distributor) publishes production only as itself and shipments
  only from itself; it reads the trace and recall of batches it made, shipped or received, where
  other parties' batches appear only as id, depth and status, and what is left out is counted;
- a **regulator** reads, with full chains, every batch whose goods were made in or shipped into its
  jurisdiction (the batch itself or any batch made from it: a recall starts upstream);
- an **admin** is the operator over HTTP, with the operator's CLI's reach: it publishes the registry
  (and any event, e.g. a bulk import a party hands over) and reads every answer;
- the **public** (no credential) verifies reports and reads the transparency log.

What a caller may not read answers exactly as the unknown does (the read side raises the same
``NotFound``), so a refusal never tells that an object exists. A write as someone else is refused
with its reason (``Forbidden``). The facts a decision needs (who made, shipped and received a
batch, where) are read by the query side and passed in; nothing here reads a database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias

from traceability.scope import Affected, Completeness, Recall, Related, Report, Trace, totals

Role: TypeAlias = Literal["lab", "org", "regulator", "admin", "public"]
#: The roles a principal can be given (the public is nobody's role: it is the absence of a credential).
ROLES: tuple[Role, ...] = ("lab", "org", "regulator", "admin")
#: The party field each role is bound to.
BINDING: Mapping[Role, str] = {"lab": "lab_id", "org": "org_id", "regulator": "regulator_id"}

#: Registry event kinds: only an admin publishes them.
REGISTRY_KINDS = frozenset({"lab", "accreditation_body", "regulator", "organisation"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: an API key's holder or a token's subject, with one role.

    ``lab_id``, ``org_id`` or ``regulator_id`` names the party a lab, org or regulator acts as;
    the other two are empty.
    """

    principal_id: str
    role: Role
    lab_id: str = ""
    org_id: str = ""
    regulator_id: str = ""
    name: str = ""

    @property
    def party(self) -> str:
        """The lab, org or regulator this principal acts as ("" for an admin or the public)."""
        return {"lab": self.lab_id, "org": self.org_id, "regulator": self.regulator_id}.get(self.role, "")


#: The caller without a credential.
PUBLIC = Principal("", "public")


def principal_problem(principal: Principal) -> str | None:
    """What is wrong with a principal's binding (``None`` when it is well formed): a lab, org or
    regulator names exactly its own party; an admin names none."""
    if principal.role not in ROLES:
        return f"role {principal.role!r} is not one of {', '.join(ROLES)}"
    bound = {name for name in ("lab_id", "org_id", "regulator_id") if getattr(principal, name)}
    wanted = {BINDING[principal.role]} if principal.role in BINDING else set()
    if bound != wanted:
        needs = f"names its {wanted.pop().removesuffix('_id')}" if wanted else "names no lab, org or regulator"
        return f"{_a(principal.role)} principal {needs}"
    return None


# -- writes -------------------------------------------------------------------------------------


def write_refusal(principal: Principal, item: Any) -> str | None:
    """Why ``principal`` may not publish the event ``item`` (its JSON form), or ``None`` if it may.

    Only the fields that say who the event speaks for are looked at: an event malformed in any
    other way is the validator's to reject (and dead-letter), as for anybody.
    """
    kind = item.get("type") if isinstance(item, dict) else None
    if not isinstance(kind, str):
        kind = None  # not an event kind: the validator rejects the item
    if principal.role == "admin":
        return None  # the operator, over HTTP: the registry, and any event a party hands over for publishing
    if principal.role == "public":
        return "publishing needs a credential"
    if kind == "lab_result":
        return _as_itself(principal, "lab", item.get("lab_id"), "lab results only as itself")
    if kind == "production":
        return _as_itself(principal, "org", item.get("org_id"), "production only as itself")
    if kind == "shipment":
        return _as_itself(principal, "org", item.get("from_org"), "shipments only from itself")
    if kind == "receiving":
        return _as_itself(principal, "org", item.get("to_org"), "receivings only as the receiver")
    if kind in REGISTRY_KINDS:
        return "registry entries are published by an admin"
    return None  # not an event kind at all: the validator rejects it with its reason


def _as_itself(principal: Principal, role: Role, claimed: Any, what: str) -> str | None:
    if principal.role != role:
        return f"{_a(principal.role)} does not publish {what.split(' only')[0]}"
    if isinstance(claimed, str) and claimed != principal.party:
        return f"{principal.party} publishes {what}, not as {claimed!r}"
    return None


def _a(role: str) -> str:
    return f"an {role}" if role[:1] in "aeiou" else f"a {role}"


# -- reads --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parties:
    """Who had a hand in a batch, and where its goods went (as the query side knows them)."""

    made_by: frozenset[str] = frozenset()  # orgs whose production made it
    shipped_by: frozenset[str] = frozenset()
    received_by: frozenset[str] = frozenset()
    made_in: frozenset[str] = frozenset()  # places of its makers: country and subdivision (CN, CN-ZJ)
    shipped_to: frozenset[str] = frozenset()  # countries of its shipments' destinations

    def involve(self, org_id: str) -> bool:
        return org_id in self.made_by or org_id in self.shipped_by or org_id in self.received_by


def within(place: str, jurisdiction: Iterable[str]) -> bool:
    """Whether ``place`` (``CN``, ``CN-ZJ``) lies in one of the jurisdiction's areas: an area holds
    itself and its subdivisions (``CN`` holds ``CN-ZJ``; ``CN-ZJ`` does not hold ``CN``)."""
    return any(place == area or place.startswith(area + "-") for area in jurisdiction if area)


def may_read_batch(principal: Principal, parties: Parties, jurisdiction: Iterable[str] = ()) -> bool:
    """Whether ``principal`` may read the trace and recall of a batch.

    Args:
        parties: The batch's parties; for a regulator, those of the batch and of every batch made
            from it taken together (its reach follows the goods).
        jurisdiction: A regulator's areas, from its registry record.
    """
    if principal.role == "admin":
        return True
    if principal.role == "org":
        return parties.involve(principal.org_id)
    if principal.role == "regulator":
        areas = tuple(jurisdiction)
        return any(within(place, areas) for place in parties.made_in | parties.shipped_to)
    return False


def may_read_report(principal: Principal, lab_id: str, batch_readable: bool) -> bool:
    """Whether ``principal`` may read a report in full: its own lab, or whoever may read its batch."""
    if principal.role == "lab":
        return principal.lab_id == lab_id
    return batch_readable


def verification_jurisdiction(principal: Principal, asked: str | None) -> str | None:
    """The jurisdiction a verification answers for: the one asked, else a regulator's own."""
    if asked is not None:
        return asked
    return principal.regulator_id or None


# -- cutting an answer to an org's share --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Withheld:
    """What an answer left out because it belongs to other parties: counted, never silently."""

    batches: int = 0  # batches shown only as id, depth and status
    productions: int = 0  # production events (or lineage links) of other parties' batches
    shipments: int = 0  # shipments the caller neither sent nor received
    reports: int = 0  # reports on other parties' batches

    @property
    def anything(self) -> bool:
        return bool(self.batches or self.productions or self.shipments or self.reports)


def org_trace(trace: Trace, org_id: str, involved: Callable[[str], bool]) -> tuple[Trace, Withheld]:
    """The trace as the org ``org_id`` may read it; ``involved(batch)`` says whether it had a hand in a batch.

    Batches of other parties keep only id, depth and status; their production links and reports
    are left out; of the batch's own shipments only those the org sent or received stay.
    """
    upstream, hidden_up = _related(trace.upstream, involved)
    downstream, hidden_down = _related(trace.downstream, involved)
    links = tuple(link for link in trace.links if involved(link.child))
    reports = tuple(r for r in trace.reports if involved(r.current.batch_id))
    shipments = tuple(s for s in trace.shipments if org_id in (s.from_org, s.to_org))
    production = trace.production if trace.production is None or involved(trace.production.batch_id) else None
    withheld = Withheld(
        batches=hidden_up + hidden_down,
        productions=len(trace.links) - len(links) + (trace.production is not None and production is None),
        shipments=len(trace.shipments) - len(shipments),
        reports=len(trace.reports) - len(reports),
    )
    return replace(trace, production=production, upstream=upstream, downstream=downstream, links=links,
                   reports=reports, shipments=shipments,
                   completeness=_completeness(trace.completeness, reports, involved)), withheld


def org_recall(recall: Recall, org_id: str, involved: Callable[[str], bool]) -> tuple[Recall, Withheld]:
    """The recall as the org ``org_id`` may read it (see ``org_trace``); totals count only the
    shipments it keeps, so no left-out quantity shows through a sum."""
    affected = tuple(a if involved(a.batch_id) else _bare(a) for a in recall.affected)
    productions = tuple(p for p in recall.productions if involved(p.batch_id))
    shipments = tuple(s for s in recall.shipments if org_id in (s.from_org, s.to_org))
    reports = tuple(r for r in recall.reports if involved(r.current.batch_id))
    by_country, by_recipient = totals(shipments)
    withheld = Withheld(
        batches=sum(1 for a in recall.affected if not involved(a.batch_id)),
        productions=len(recall.productions) - len(productions),
        shipments=len(recall.shipments) - len(shipments),
        reports=len(recall.reports) - len(reports),
    )
    return replace(recall, affected=affected, productions=productions, shipments=shipments, by_country=by_country,
                   by_recipient=by_recipient, reports=reports,
                   completeness=_completeness(recall.completeness, reports, involved)), withheld


def _completeness(found: Completeness, reports: tuple[Report, ...], involved: Callable[[str], bool]) -> Completeness:
    """The gaps an org may be told of: which labs tested other parties' batches, and what other parties
    shipped, are theirs; a batch with no production record is a gap in the chain whoever made it."""
    labs = {r.current.lab_id for r in reports}
    return replace(found, unregistered_labs=tuple(lab for lab in found.unregistered_labs if lab in labs),
                   shipped_without_production=tuple(b for b in found.shipped_without_production if involved(b)))


def _related(batches: tuple[Related, ...], involved: Callable[[str], bool]) -> tuple[tuple[Related, ...], int]:
    kept = tuple(b if involved(b.batch_id) else b._replace(product_id="") for b in batches)
    return kept, sum(1 for b in batches if not involved(b.batch_id))


def _bare(batch: Affected) -> Affected:
    return batch._replace(product_id="", quantity=None, unit="")
