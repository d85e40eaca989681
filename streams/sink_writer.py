"""Async face of a blocking sink: one writer thread, bounded retries, then stop the worker.

Why stop instead of raising: a Faust agent that raises is restarted in-process and carries on
with later events, and the failed batch is never redelivered in that process (DESIGN §6). Exiting
leaves the batch uncommitted, so the restarted worker reads it again.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn

import structlog

from sinks.port import Sink
from sinks.retry import TRANSIENT, retrying
from sinks.rows import RowBatch
from traceability.errors import DeliveryError

log = structlog.get_logger(__name__)
EXIT_SINK_UNAVAILABLE = 75  # EX_TEMPFAIL: a supervisor may restart the worker


def exit_worker(exc: BaseException) -> NoReturn:
    """Stop the process at once: no shutdown hook may commit offsets past unwritten rows."""
    log.critical("stopping worker: data could not be stored", error=str(exc))
    os._exit(EXIT_SINK_UNAVAILABLE)


class SinkWriter:
    """Writes row batches through ``sink`` from a dedicated thread."""

    def __init__(
        self,
        sink: Sink,
        *,
        retry_seconds: float,
        transient: tuple[type[BaseException], ...] = TRANSIENT,
        give_up: Callable[[BaseException], NoReturn] = exit_worker,
    ) -> None:
        self._sink = sink
        self._retry_seconds = retry_seconds
        self._transient = transient
        self._give_up = give_up
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sink")

    async def write(self, batch: RowBatch) -> None:
        """Return once every row is stored; never return having stored less."""
        if not any(batch.values()):
            return
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._thread, self._write_with_retries, batch)
        except DeliveryError as exc:
            self._give_up(exc)

    def _write_with_retries(self, batch: RowBatch) -> None:
        retrying(
            lambda: self._sink.write(batch),
            what="clickhouse insert",
            budget_seconds=self._retry_seconds,
            transient=self._transient,
        )
