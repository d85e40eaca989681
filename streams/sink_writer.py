"""Async face of a blocking sink: one writer thread, retries with backoff, never a partial return.

While a write fails, the agent awaiting it takes no more events; once its buffer is full
(``stream_buffer_maxsize``) Faust stops delivering and fetching, so a sink that is down for
minutes means a worker that waits with bounded memory, not one that drops or hoards events.
Offsets are committed only for acked events, and nothing is acked before its rows are stored.

Why stop instead of raising when giving up (only with a budget, or on an error that is not
transient): a Faust agent that raises is restarted in-process and carries on with later events,
and the failed batch is never redelivered in that process (DESIGN §6). Exiting leaves the batch
uncommitted, so the restarted worker reads it again.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn

import structlog

from sinks.port import Sink
from sinks.retry import TRANSIENT, Backoff
from sinks.rows import RowBatch
from traceability.errors import DeliveryError

log = structlog.get_logger(__name__)
EXIT_SINK_UNAVAILABLE = 75  # EX_TEMPFAIL: a supervisor may restart the worker


def exit_worker(exc: BaseException) -> NoReturn:
    """Stop the process at once: no shutdown hook may commit offsets past unwritten rows."""
    log.critical("stopping worker: data could not be stored", error=str(exc))
    os._exit(EXIT_SINK_UNAVAILABLE)


class SinkWriter:
    """Writes row batches through ``sink`` from a dedicated thread.

    Only one attempt at a time runs in the thread; the waits between attempts are in the event
    loop, so stopping the worker during an outage cancels the retries at once.
    """

    def __init__(
        self,
        sink: Sink,
        *,
        backoff: Backoff,
        transient: tuple[type[BaseException], ...] = TRANSIENT,
        give_up: Callable[[BaseException], NoReturn] = exit_worker,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self._backoff = backoff
        self._transient = transient
        self._give_up = give_up
        self._sleep = sleep
        self._clock = clock
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sink")

    async def write(self, batch: RowBatch) -> None:
        """Return once every row is stored; never return having stored less.

        A transient failure is retried after a backoff wait, for as long as the backoff's budget
        allows (without one, until the sink is back); the calling agent takes no events meanwhile.

        Raises:
            Exception: Whatever non-transient error the sink raised, at once (the agent stops the
                worker, nothing is acked).
        """
        rows = ", ".join(f"{len(table_rows)} {table}" for table, table_rows in batch.items() if table_rows)
        if not rows:
            return
        loop = asyncio.get_running_loop()
        began = self._clock()
        for attempt in itertools.count(1):
            try:
                await loop.run_in_executor(self._thread, self._sink.write, batch)
            except self._transient as exc:
                await self._wait_or_give_up(exc, attempt, self._clock() - began, rows)
                continue
            if attempt > 1:
                log.info("sink write succeeded again", attempts=attempt, rows=rows,
                            failing_for=round(self._clock() - began, 1))
            return

    async def _wait_or_give_up(self, exc: BaseException, attempt: int, failing_for: float, rows: str) -> None:
        if self._backoff.spent(failing_for, attempt):
            self._give_up(DeliveryError(
                f"sink write: gave up after {attempt} attempts in {failing_for:.0f} s: {exc}"
            ))
        delay = self._backoff.delay(attempt)
        log.warning("sink write failed; not consuming until it succeeds", attempt=attempt, rows=rows,
                    failing_for=round(failing_for, 1), retry_in=delay, error=str(exc))
        await self._sleep(delay)
