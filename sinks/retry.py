"""Bounded retry of transient I/O: exponential backoff, then a loud :class:`DeliveryError`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import structlog

from traceability.errors import DeliveryError

T = TypeVar("T")
log = structlog.get_logger(__name__)

#: What a broken network or a restarting server raises; anything else is a bug and propagates.
TRANSIENT: tuple[type[BaseException], ...] = (OSError, EOFError, TimeoutError)


def retrying(
    action: Callable[[], T],
    *,
    what: str,
    budget_seconds: float,
    transient: tuple[type[BaseException], ...] = TRANSIENT,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run ``action`` until it succeeds or ``budget_seconds`` have passed.

    Raises:
        DeliveryError: the budget ran out; ``__cause__`` is the last error.
    """
    deadline = clock() + budget_seconds
    delay = 0.1
    attempt = 1
    while True:
        try:
            return action()
        except transient as exc:
            if clock() + delay > deadline:
                raise DeliveryError(f"{what}: gave up after {attempt} attempts: {exc}") from exc
            log.warning("retrying", what=what, attempt=attempt, delay=delay, error=str(exc))
            sleep(delay)
            delay = min(delay * 2, 5.0)
            attempt += 1
