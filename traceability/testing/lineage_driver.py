"""In-process driver: delivers lineage messages to batch states until nothing is left to send.

It stands in for the stream in tests and replays: one dict holds the state of every batch, and a
queue holds the messages in flight. By default the queue is FIFO; a `pick` function may choose
any pending message instead, to explore other arrival orders.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from traceability.lineage import BatchState, Fact, Message, handle, route


@dataclass(frozen=True)
class Run:
    """The final state of every batch touched and every fact emitted, in emission order."""

    states: Mapping[str, BatchState]
    facts: tuple[Fact, ...]


def run_to_quiescence(
    events: Iterable[Message],
    states: Mapping[str, BatchState] | None = None,
    *,
    pick: Callable[[int], int] | None = None,
) -> Run:
    """Delivers events and every message they cause until no message is pending.

    Args:
        events: Input edges and lab results (ancestry updates are accepted too).
        states: Batch states to start from; missing batches start empty.
        pick: Given the number of pending messages, returns the index of the next one to
            deliver. Defaults to FIFO.

    Returns:
        The final states and all facts emitted on the way.
    """
    current = dict(states or {})
    pending: deque[Message] = deque(events)
    facts: list[Fact] = []
    while pending:
        index = pick(len(pending)) if pick else 0
        message = pending[index]
        del pending[index]
        key = route(message)
        step = handle(current.get(key) or BatchState(key), message)
        current[key] = step.state
        pending.extend(step.messages)
        facts.extend(step.facts)
    return Run(current, tuple(facts))
