"""Property tests: the message-passing closure agrees with a whole-graph oracle in any order."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.lineage_scenarios import Scenario, scenarios
from traceability.lineage import (
    AncestryUpdate,
    BatchState,
    ClosureRow,
    CycleRejected,
    Message,
    RiskRegister,
    StatusChange,
    handle,
    merge_updates,
    status_of,
)
from traceability.testing import oracle
from traceability.testing.lineage_driver import Run, run_to_quiescence

pytestmark = pytest.mark.unit

SLOW = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


SCENARIOS = scenarios(max_batches=60, longest_chain=30, hub_degree=6, corrections=5)


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
@given(scenario=SCENARIOS, data=st.data())
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
@given(scenario=SCENARIOS, data=st.data())
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
@given(scenario=SCENARIOS, data=st.data())
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
