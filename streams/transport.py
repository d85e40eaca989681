"""Faust's aiokafka transport with a short fetch wait, so a lineage hop is not a long poll.

Faust builds its consumer with ``fetch_max_wait_ms=1500`` and no setting to change it. A
broker that holds a fetch for the whole wait before answering (Tansu does, measured: about one
second per hop of a lineage update) then makes every hop of a chain cost that much. Here the
wait is a setting (``LOTLINE_FETCH_MAX_WAIT_MS``); an idle worker then sends a few more fetches
per second, which costs nothing worth measuring.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = self.app.fetch_max_wait_ms  # read by the fetcher made in start()
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> Any:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class LotlineApp(faust.App):
    """A Faust app whose consumer waits at most ``fetch_max_wait_ms`` per fetch."""

    def __init__(self, *args: Any, fetch_max_wait_ms: int = 500, **kwargs: Any) -> None:
        self.fetch_max_wait_ms = fetch_max_wait_ms
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)
