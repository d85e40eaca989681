"""Property tests: the message-passing closure agrees with a whole-graph oracle in any order."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traceability import oracle
from traceability.lineage import (
    AncestryUpdate,
    BatchState,
    ClosureRow,
    CycleRejected,
    Edge,
    Message,
    ResultSeen,
    RiskRegister,
    StatusChange,
    Verdict,
    handle,
    merge_updates,
    status_of,
)
from traceability.lineage_driver import Run, run_to_quiescence

pytestmark = pytest.mark.unit

VERDICTS: tuple[Verdict, ...] = ("pass", "fail", "withdrawn")
SLOW = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Scenario:
    """A DAG over named batches and the lab results seen on them."""

    batches: tuple[str, ...]
    edges: frozenset[tuple[str, str]]
    results: tuple[tuple[str, str, int, Verdict], ...]

    def events(self) -> list[Message]:
        edges: list[Message] = [Edge(p, c, f"{p}->{c}") for p, c in sorted(self.edges)]
        results: list[Message] = [ResultSeen(*result) for result in self.results]
        return edges + results


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """DAGs of up to 60 batches: a chain of depth up to 30, a merge, a split, random edges.

    Edges only go from a lower to a higher rank, so the graph is acyclic; names are shuffled so
    that the sort order of names says nothing about the topological order.
    """
    n = draw(st.integers(1, 60))
    names = draw(st.permutations([f"lot-{i:02d}" for i in range(n)]))
    rank = st.integers(0, n - 1)
    longest = min(30, n - 1)
    edges = {(i, i + 1) for i in range(draw(st.integers(0, longest) | st.just(longest)))}
    pairs = draw(st.lists(st.tuples(rank, rank), max_size=2 * n))
    edges |= {(min(a, b), max(a, b)) for a, b in pairs}
    hub = draw(rank)
    edges |= {(i, hub) for i in draw(st.sets(st.integers(0, max(hub - 1, 0)), max_size=6))}
    edges |= {(hub, j) for j in draw(st.sets(st.integers(min(hub + 1, n - 1), n - 1), max_size=6))}
    result = st.tuples(rank, st.sampled_from(["r1", "r2"]), st.integers(0, 3), st.sampled_from(VERDICTS))
    results = draw(st.lists(result, max_size=n))
    corrected = draw(st.sets(rank, max_size=5))
    results += [(b, "r1", 4, "fail") for b in corrected] + [(b, "r1", 5, "pass") for b in corrected]
    return Scenario(
        batches=tuple(names),
        edges=frozenset((names[p], names[c]) for p, c in edges if p != c),
        results=tuple((names[b], r, v, d) for b, r, v, d in results),
    )


def deliveries(data: st.DataObject, events: list[Message]) -> tuple[list[Message], Callable[[int], int]]:
    """Draws a permutation of the events with duplicates, and an order of message delivery."""
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=10)) if events else []
    shuffled = data.draw(st.permutations(events + duplicates))
    rng: random.Random = data.draw(st.randoms(use_true_random=False))
    fifo = data.draw(st.booleans())
    return shuffled, (lambda pending: 0) if fifo else rng.randrange


def final_state(run: Run, batch: str) -> BatchState:
    return run.states.get(batch, BatchState(batch))


@SLOW
@given(scenario=scenarios(), data=st.data())
def test_any_delivery_order_converges_to_the_oracle_closure_and_statuses(
    scenario: Scenario, data: st.DataObject
) -> None:
    events, pick = deliveries(data, scenario.events())
    run = run_to_quiescence(events, pick=pick)
    expected_closure = oracle.closure(scenario.batches, scenario.edges)
    expected_status = oracle.statuses(scenario.batches, scenario.edges, scenario.results)
    for batch in scenario.batches:
        assert dict(final_state(run, batch).ancestors) == expected_closure[batch], batch
        status = status_of(final_state(run, batch))
        assert (status.status, status.risk_sources) == expected_status[batch], batch
    assert not [fact for fact in run.facts if isinstance(fact, CycleRejected)]


@SLOW
@given(scenario=scenarios(), data=st.data())
def test_emitted_facts_reduce_to_the_oracle_closure_and_the_final_statuses(
    scenario: Scenario, data: st.DataObject
) -> None:
    events, pick = deliveries(data, scenario.events())
    run = run_to_quiescence(events, pick=pick)
    shortest: dict[tuple[str, str], int] = {}
    last_status: dict[str, tuple[str, tuple[str, ...]]] = {}
    for fact in run.facts:
        if isinstance(fact, ClosureRow):
            pair = (fact.ancestor, fact.descendant)
            shortest[pair] = min(fact.depth, shortest.get(pair, fact.depth))
        elif isinstance(fact, StatusChange):
            last_status[fact.batch] = (fact.status, fact.risk_sources)
    expected = oracle.closure(scenario.batches, scenario.edges)
    assert shortest == {(a, b): d for b, anc in expected.items() for a, d in anc.items()}
    for batch in scenario.batches:
        status = status_of(final_state(run, batch))
        assert last_status.get(batch, ("untested", ())) == (status.status, status.risk_sources)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), data=st.data())
def test_two_permutations_of_the_same_events_give_identical_final_states(
    scenario: Scenario, data: st.DataObject
) -> None:
    first_events, first_pick = deliveries(data, scenario.events())
    second_events, second_pick = deliveries(data, scenario.events())
    first = run_to_quiescence(first_events, pick=first_pick)
    second = run_to_quiescence(second_events, pick=second_pick)
    assert first.states == second.states


SOURCES = st.sampled_from("abcde")
REGISTERS = st.builds(RiskRegister, SOURCES, st.integers(0, 4), st.booleans())
UPDATES = st.builds(
    AncestryUpdate,
    st.just("t"),
    st.dictionaries(SOURCES, st.integers(1, 5), max_size=5),
    st.lists(REGISTERS, max_size=5).map(lambda registers: {r.source: r for r in registers}),
)


@given(UPDATES, UPDATES, UPDATES)
def test_merging_updates_is_associative_commutative_and_idempotent(
    a: AncestryUpdate, b: AncestryUpdate, c: AncestryUpdate
) -> None:
    assert merge_updates(merge_updates(a, b), c) == merge_updates(a, merge_updates(b, c))
    assert merge_updates(a, b) == merge_updates(b, a)
    assert merge_updates(a, a) == a


@given(UPDATES, UPDATES)
def test_applying_a_merged_update_equals_applying_both_in_turn(a: AncestryUpdate, b: AncestryUpdate) -> None:
    start = BatchState("t", children=frozenset({"u"}))
    in_turn = handle(handle(start, a).state, b).state
    assert handle(start, merge_updates(a, b)).state == in_turn
