"""Example-based tests of the lineage closure and risk propagation (pure core)."""

from __future__ import annotations

import pytest

from traceability.errors import InvalidEvent
from traceability.lineage import (
    AncestryUpdate,
    BatchState,
    BatchStatus,
    ClosureRow,
    CycleRejected,
    Edge,
    ResultSeen,
    RiskRegister,
    StatusChange,
    coalesce_updates,
    handle,
    merge_updates,
    own_register,
    status_of,
)
from traceability.testing.lineage_driver import Run, run_to_quiescence

pytestmark = pytest.mark.unit


def edge(parent: str, child: str) -> Edge:
    return Edge(parent, child, f"{parent}->{child}")


def fail(batch: str, version: int = 1, report: str = "r1") -> ResultSeen:
    return ResultSeen(batch, report, version, "fail")


def passed(batch: str, version: int = 1, report: str = "r1") -> ResultSeen:
    return ResultSeen(batch, report, version, "pass")


def ancestors(run: Run, batch: str) -> dict[str, int]:
    return dict(run.states[batch].ancestors)


def status(run: Run, batch: str) -> BatchStatus:
    return status_of(run.states.get(batch, BatchState(batch)))


def test_a_child_edge_arriving_before_its_parent_edge_still_yields_the_grandparent() -> None:
    run = run_to_quiescence([edge("b", "c"), edge("a", "b")])
    assert ancestors(run, "c") == {"b": 1, "a": 2}


def test_a_shorter_path_found_later_replaces_the_depth_and_emits_a_closure_row() -> None:
    chain = run_to_quiescence([edge("a", "b"), edge("b", "c"), edge("c", "d")])
    run = run_to_quiescence([edge("a", "d")], chain.states)
    assert ancestors(run, "d") == {"a": 1, "b": 2, "c": 1}
    assert run.facts == (ClosureRow("a", "d", 1),)


def test_a_merge_gives_the_output_every_input_and_their_ancestors() -> None:
    run = run_to_quiescence([edge("x", "a"), edge("a", "m"), edge("b", "m")])
    assert ancestors(run, "m") == {"a": 1, "b": 1, "x": 2}


def test_a_duplicate_edge_changes_nothing_and_emits_no_new_rows() -> None:
    first = run_to_quiescence([edge("a", "b"), edge("b", "c")])
    again = run_to_quiescence([edge("a", "b"), edge("b", "c")], first.states)
    assert again.states == first.states
    assert again.facts == ()


def test_an_update_that_teaches_nothing_sends_nothing() -> None:
    state = BatchState("c", ancestors={"a": 1}, children=frozenset({"d"}))
    step = handle(state, AncestryUpdate("c", {"a": 3}))
    assert step.state == state
    assert step.messages == () and step.facts == ()


def test_an_update_forwards_only_its_delta_to_the_children() -> None:
    state = BatchState("c", ancestors={"a": 1}, children=frozenset({"d", "e"}))
    step = handle(state, AncestryUpdate("c", {"a": 1, "z": 2}))
    assert step.messages == (AncestryUpdate("d", {"z": 3}), AncestryUpdate("e", {"z": 3}))


def test_a_self_edge_is_rejected_and_changes_nothing() -> None:
    state = BatchState("a")
    step = handle(state, edge("a", "a"))
    assert step.state == state and step.messages == ()
    reason = "lineage cycle: a -> a (edge a->a rejected)"
    assert step.facts == (CycleRejected("a", reason, edge("a", "a")),)


def test_an_edge_back_to_a_known_ancestor_is_rejected_naming_the_cycle() -> None:
    run = run_to_quiescence([edge("a", "b"), edge("b", "c")])
    rejected = run_to_quiescence([edge("c", "a")], run.states)
    assert rejected.states == run.states
    [fact] = rejected.facts
    assert isinstance(fact, CycleRejected) and fact.edge == edge("c", "a")
    assert fact.reason.startswith("lineage cycle: a -> ... -> c -> a")


def test_a_cycle_hidden_by_arrival_order_is_reported_later_and_the_run_terminates() -> None:
    run = run_to_quiescence([edge("a", "b"), edge("b", "a")])
    found_at = {fact.batch for fact in run.facts if isinstance(fact, CycleRejected)}
    assert found_at <= {"a", "b"} and found_at
    assert "a" not in run.states["a"].ancestors and "b" not in run.states["b"].ancestors


def test_a_failed_result_puts_every_descendant_at_risk_naming_the_source() -> None:
    run = run_to_quiescence([edge("a", "b"), edge("b", "c"), fail("a")])
    assert status(run, "a") == BatchStatus("failed", ("a",))
    assert status(run, "c") == BatchStatus("at_risk", ("a",))
    assert StatusChange("c", "at_risk", ("a",)) in run.facts


def test_a_result_arriving_before_the_edges_still_reaches_the_descendants() -> None:
    run = run_to_quiescence([fail("a"), edge("b", "c"), edge("a", "b")])
    assert status(run, "c") == BatchStatus("at_risk", ("a",))


def test_a_higher_passing_version_retracts_the_risk_downstream() -> None:
    run = run_to_quiescence([edge("a", "b"), edge("b", "c"), fail("a", 1), passed("a", 2)])
    assert status(run, "a") == BatchStatus("clear")
    assert status(run, "c") == BatchStatus("untested")
    assert [f for f in run.facts if isinstance(f, StatusChange) and f.batch == "c"] == [
        StatusChange("c", "at_risk", ("a",)),
        StatusChange("c", "untested", ()),
    ]


def test_an_older_version_arriving_after_a_newer_one_is_ignored() -> None:
    run = run_to_quiescence([edge("a", "b"), passed("a", 2), fail("a", 1)])
    assert status(run, "a") == BatchStatus("clear")
    assert status(run, "b") == BatchStatus("untested")


def test_a_withdrawn_latest_version_neither_fails_nor_clears_the_batch() -> None:
    run = run_to_quiescence([fail("a", 1), ResultSeen("a", "r1", 2, "withdrawn")])
    assert status(run, "a") == BatchStatus("untested")


def test_a_batch_is_clear_only_when_every_tested_latest_report_passes() -> None:
    withdrawn = ResultSeen("a", "r2", 1, "withdrawn")
    run = run_to_quiescence([passed("a"), withdrawn])
    assert status(run, "a") == BatchStatus("clear")


def test_a_failed_batch_lists_itself_and_its_failing_ancestors_as_risk_sources() -> None:
    run = run_to_quiescence([edge("z", "m"), edge("a", "m"), fail("z"), fail("a"), fail("m")])
    assert status(run, "m") == BatchStatus("failed", ("a", "m", "z"))


def test_a_second_failing_ancestor_is_announced_though_the_status_stays_at_risk() -> None:
    run = run_to_quiescence([edge("a", "m"), edge("b", "m"), fail("a")])
    later = run_to_quiescence([fail("b")], run.states)
    assert StatusChange("m", "at_risk", ("a", "b")) in later.facts


def test_conflicting_verdicts_at_one_version_resolve_to_fail_in_either_order() -> None:
    both = [passed("a", 3), fail("a", 3)]
    forward = run_to_quiescence([edge("a", "b"), *both])
    backward = run_to_quiescence([edge("a", "b"), *reversed(both)])
    assert forward.states == backward.states
    assert status(forward, "b") == BatchStatus("at_risk", ("a",))


def test_the_own_register_version_grows_with_every_new_report_even_at_version_zero() -> None:
    first = handle(BatchState("a"), passed("a", 0)).state
    second = handle(first, passed("a", 0, report="r2")).state
    assert 0 < own_register(first).version < own_register(second).version


def test_a_result_with_an_unknown_verdict_is_an_invalid_event() -> None:
    with pytest.raises(InvalidEvent):
        ResultSeen("a", "r1", 1, "maybe")  # type: ignore[arg-type]


def test_a_message_delivered_to_the_wrong_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="delivered to"):
        handle(BatchState("b"), edge("a", "b"))


def test_merging_updates_keeps_the_min_depth_and_the_newer_register() -> None:
    old, new = RiskRegister("s", 4, True), RiskRegister("s", 7, False)
    first = AncestryUpdate("t", {"a": 3, "b": 1}, {"s": new})
    second = AncestryUpdate("t", {"a": 2}, {"s": old})
    assert merge_updates(first, second) == AncestryUpdate("t", {"a": 2, "b": 1}, {"s": new})


def test_coalescing_a_batch_of_updates_leaves_one_per_target() -> None:
    t2, u1, t1 = AncestryUpdate("t", {"a": 2}), AncestryUpdate("u", {"a": 1}), AncestryUpdate("t", {"a": 1})
    assert coalesce_updates([t2, u1, t1]) == (t1, u1)


def test_updates_for_different_targets_cannot_be_merged() -> None:
    with pytest.raises(ValueError):
        merge_updates(AncestryUpdate("t"), AncestryUpdate("u"))
