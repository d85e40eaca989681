"""A kafka-python producer that remembers failed sends and raises on flush."""

from __future__ import annotations

from types import TracebackType

from kafka import KafkaProducer

from sinks.drivers import driver_errors
from streams.security import PLAINTEXT, KafkaSecurity
from traceability.errors import BrokerUnavailable, DeliveryError


class CheckedProducer:
    """``send`` never loses a failure silently: ``flush`` raises the first one.

    Args:
        bootstrap: ``host:port`` of the broker.
        security: How to authenticate and encrypt (default: ``PLAINTEXT``, no credentials).

    Raises:
        BrokerUnavailable: the broker cannot be reached (on creation, a send or a flush).
        DeliveryError: some messages were not delivered (``flush``).
    """

    def __init__(self, bootstrap: str, *, security: KafkaSecurity = PLAINTEXT) -> None:
        # No idempotence: Tansu has no InitProducerId (DESIGN §6); duplicates dedup by event_id.
        with driver_errors(BrokerUnavailable):
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=512 * 1024,
                enable_idempotence=False, retries=5, max_block_ms=30_000, **security.kafka_python(),
            )
        self.bootstrap = bootstrap
        self._failures: list[BaseException] = []

    def send(self, topic: str, value: bytes, key: bytes | None = None,
             headers: list[tuple[str, bytes]] | None = None) -> object:
        with driver_errors(BrokerUnavailable):
            future = self._producer.send(topic, value=value, key=key, headers=headers)
        future.add_errback(self._failures.append)
        return future

    def flush(self, timeout: float | None = None) -> None:
        with driver_errors(BrokerUnavailable):
            self._producer.flush(timeout)
        if self._failures:
            raise DeliveryError(f"{len(self._failures)} messages were not delivered to {self.bootstrap}: "
                                f"{self._failures[0]}", service="the broker")

    def __enter__(self) -> CheckedProducer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._producer.close()
