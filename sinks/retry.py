"""When to try a failing write again: capped exponential backoff, and an optional give-up budget."""

from __future__ import annotations

from dataclasses import dataclass

from traceability.errors import Unavailable

#: What a broken network or a restarting server raises (a sink translates its driver's errors
#: into it with ``sinks.drivers``); anything else is a bug and propagates.
TRANSIENT: tuple[type[BaseException], ...] = (Unavailable,)


@dataclass(frozen=True)
class Backoff:
    """Waits of ``first`` seconds, doubling after every failure, never longer than ``cap``.

    Attributes:
        budget: Seconds of failures after which to give up; ``None`` keeps trying until the
            write succeeds (the worker stops consuming meanwhile, so nothing piles up).
    """

    first: float = 0.1
    cap: float = 5.0
    budget: float | None = None

    def delay(self, attempt: int) -> float:
        """The wait after the ``attempt``-th failure in a row (1-based)."""
        return min(self.first * 2 ** min(attempt - 1, 32), self.cap)

    def spent(self, failing_for: float, attempt: int) -> bool:
        """Whether another wait would take the failures past the budget."""
        return self.budget is not None and failing_for + self.delay(attempt) > self.budget
