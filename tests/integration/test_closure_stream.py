"""Chains in the stream, on the real broker and ClickHouse: closure and statuses equal the oracle
whatever the arrival order, with one worker, two, and a worker killed and restarted midway."""

from __future__ import annotations

import time

import pytest

from query import history, lineage
from tests.integration.chains import (
    LAB_1,
    assert_matches_oracle,
    disordered,
    expected,
    production,
    report,
    tick,
    write_jsonl,
)

pytestmark = pytest.mark.integration


def publish(dep, path) -> None:
    done = dep.lotline("publish", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_shuffled_chain_with_duplicates_gives_the_oracles_closure_and_statuses(deployment, tmp_path):
    events = disordered(seed=11)
    want = expected(events)
    assert len(want.batches) > 2_000 and max(len(a) for a in want.closure.values()) > 50
    deployment.start_worker()

    publish(deployment, write_jsonl(tmp_path / "chain.jsonl", events))
    deployment.sync(timeout=240)

    assert_matches_oracle(deployment, want)


def test_two_workers_with_one_killed_and_restarted_midway_give_the_same_answers(deployment, tmp_path):
    events = disordered(seed=12)
    want = expected(events)
    half = len(events) // 2
    first, steady = deployment.start_worker(), deployment.start_worker()
    publish(deployment, write_jsonl(tmp_path / "first.jsonl", events[:half]))
    _wait_for_rows(deployment, "closure", at_least=5_000)

    first.kill()  # SIGKILL: no shutdown hook, uncommitted work is redone by someone else
    first.wait()
    publish(deployment, write_jsonl(tmp_path / "second.jsonl", events[half:]))
    deployment.start_worker()
    deployment.sync(timeout=240)

    assert steady.poll() is None, deployment.worker_logs()
    assert_matches_oracle(deployment, want)


def test_an_edge_that_closes_a_cycle_is_dead_lettered_with_the_cycle_named(deployment, tmp_path):
    deployment.start_worker()
    publish(deployment, write_jsonl(tmp_path / "chain.jsonl", [production("ev-1", ["A"], "B"),
                                                              production("ev-2", ["B"], "C")]))
    deployment.sync()
    publish(deployment, write_jsonl(tmp_path / "cycle.jsonl", [production("ev-3", ["C", "X"], "A")]))
    deployment.sync()

    client, db = deployment.client(), deployment.settings.database
    [reject] = history.rejects(client, db)
    assert reject["reason"] == "lineage cycle: A -> ... -> C -> A (edge ev-3 rejected)"
    assert reject["event_id"] == "ev-3" and b'"ev-3"' not in reject["original"]  # Avro bytes, not JSON
    assert lineage.ancestry(client, db) == {"A": {"X": 1}, "B": {"A": 1, "X": 2}, "C": {"A": 2, "B": 1, "X": 3}}


def test_as_of_shows_what_was_known_before_a_failing_report_and_after_its_correction(deployment, tmp_path):
    deployment.start_worker()
    publish(deployment, write_jsonl(tmp_path / "chain.jsonl", [LAB_1, production("ev-1", ["RESIN-1"], "PART-1"),
                                                              production("ev-2", ["PART-1"], "TOY-1")]))
    deployment.sync()
    before_report = tick()
    publish(deployment, write_jsonl(tmp_path / "fail.jsonl", [report("RESIN-1", 1, "fail")]))
    deployment.sync()
    after_report = tick()
    publish(deployment, write_jsonl(tmp_path / "fix.jsonl", [report("RESIN-1", 2, "pass")]))
    deployment.sync()

    client, db = deployment.client(), deployment.settings.database
    assert lineage.statuses(client, db, as_of=before_report) == {}
    assert lineage.statuses(client, db, as_of=after_report) == {
        "RESIN-1": ("failed", ("RESIN-1",)), "PART-1": ("at_risk", ("RESIN-1",)), "TOY-1": ("at_risk", ("RESIN-1",)),
    }
    assert lineage.statuses(client, db) == {
        "RESIN-1": ("clear", ()), "PART-1": ("untested", ()), "TOY-1": ("untested", ()),
    }
    assert lineage.descent(client, db, "RESIN-1", as_of=before_report) == {"PART-1": 1, "TOY-1": 2}


def _wait_for_rows(dep, table: str, at_least: int = 1, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dep.client().execute(f"SELECT count() FROM {dep.settings.database}.{table}")[0][0] >= at_least:
            return
        time.sleep(0.2)
    raise AssertionError(f"no rows in {table} after {timeout} s\n{dep.worker_logs()}")
