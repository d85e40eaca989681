"""Slowing down a client that keeps presenting bad credentials (guessing keys, replaying tokens).

A client's first few failures in a window cost nothing; each further one makes its next attempts
wait twice as long, up to a cap. Waiting, not refusing: a legitimate caller that mistyped a key
is only slowed, and nothing is locked out (a lockout would let anyone lock a lab out). Clients are
told apart by their address; behind a proxy that is the proxy's, which then shares one budget.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from sinks.retry import Backoff


class FailureThrottle:
    """Counts authentication failures per client over a sliding window.

    Args:
        free: Failures in the window that cost nothing.
        window_seconds: How long a failure is remembered.
        first_delay: The wait after the first failure beyond ``free``; it doubles with each further one.
        max_delay: The longest wait.
        max_clients: Clients remembered at most (the oldest entries go first), so a flood of
            addresses cannot grow memory without bound.
    """

    def __init__(self, *, free: int = 5, window_seconds: float = 60.0, first_delay: float = 0.25,
                 max_delay: float = 4.0, max_clients: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._free, self._window = free, window_seconds
        self._waits = Backoff(first=first_delay, cap=max_delay)
        self._max_clients = max_clients
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def delay(self, client: str) -> float:
        """How long ``client``'s next attempt waits before it is looked at (0: not at all)."""
        with self._lock:
            recent = self._recent(client)
            beyond = len(recent) - self._free
        return 0.0 if beyond < 1 else self._waits.delay(beyond)

    def failed(self, client: str) -> None:
        with self._lock:
            recent = self._recent(client)
            recent.append(self._clock())
            self._failures[client] = recent
            while len(self._failures) > self._max_clients:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        recent = self._failures.pop(client, deque())  # popped and put back: the dict stays oldest-first
        horizon = self._clock() - self._window
        while recent and recent[0] < horizon:
            recent.popleft()
        if recent:
            self._failures[client] = recent
        return recent
