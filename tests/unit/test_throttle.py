"""The failed-authentication throttle (``query.throttle``), on an injected clock."""

from __future__ import annotations

import pytest

from query.throttle import FailureThrottle

pytestmark = pytest.mark.unit


def test_the_first_failures_are_free_then_each_doubles_the_wait_up_to_the_cap() -> None:
    now = [0.0]
    throttle = FailureThrottle(free=2, first_delay=0.25, max_delay=1.0, clock=lambda: now[0])
    waits = []
    for _ in range(6):
        waits.append(throttle.delay("10.0.0.1"))
        throttle.failed("10.0.0.1")
    assert waits == [0.0, 0.0, 0.0, 0.25, 0.5, 1.0]
    assert throttle.delay("10.0.0.2") == 0.0  # clients are told apart


def test_failures_are_forgotten_after_the_window_or_a_success() -> None:
    now = [0.0]
    throttle = FailureThrottle(free=1, window_seconds=60, clock=lambda: now[0])
    for _ in range(3):
        throttle.failed("a")
        throttle.failed("b")
    assert throttle.delay("a") > 0 and throttle.delay("b") > 0
    throttle.succeeded("a")
    assert throttle.delay("a") == 0.0
    now[0] = 61.0
    assert throttle.delay("b") == 0.0


def test_it_remembers_a_bounded_number_of_clients() -> None:
    throttle = FailureThrottle(free=0, max_clients=2, clock=lambda: 0.0)
    for client in ("a", "b", "c"):
        throttle.failed(client)
    assert throttle.delay("a") == 0.0 and throttle.delay("c") > 0
