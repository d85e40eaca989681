"""Topic set-up with kafka-python's admin client (works on Tansu and on Apache Kafka)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from sinks.drivers import driver_errors
from streams.security import PLAINTEXT, KafkaSecurity
from traceability.errors import BrokerUnavailable, SetupError


def ensure_topics(bootstrap: str, names: Iterable[str], partitions: int, timeout: float = 30, *,
                  security: KafkaSecurity = PLAINTEXT) -> None:
    """Create every missing topic with ``partitions`` partitions (existing ones are kept).

    Raises:
        BrokerUnavailable: the broker did not answer within ``timeout`` seconds.
    """
    with driver_errors(BrokerUnavailable):
        _create_missing(bootstrap, names, partitions, timeout, security)


def _create_missing(bootstrap: str, names: Iterable[str], partitions: int, timeout: float,
                    security: KafkaSecurity) -> None:
    admin = _admin(bootstrap, timeout, security)
    try:
        existing = set(admin.list_topics())
        for name in names:
            if name in existing:
                continue
            try:
                admin.create_topics([NewTopic(name, partitions, 1)])
            except TopicAlreadyExistsError:
                pass  # another starter won the race
    finally:
        admin.close()


def _admin(bootstrap: str, timeout: float, security: KafkaSecurity) -> KafkaAdminClient:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000, **security.kafka_python())
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def partition_count(bootstrap: str, topic: str, timeout: float = 30, *,
                    security: KafkaSecurity = PLAINTEXT) -> int:
    """How many partitions ``topic`` has on the broker.

    Raises:
        SetupError: The topic does not exist.
        BrokerUnavailable: The broker cannot be reached.
    """
    with driver_errors(BrokerUnavailable):
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000),
                                 **security.kafka_python())
        try:
            partitions = consumer.partitions_for_topic(topic)
        finally:
            consumer.close()
    if not partitions:
        raise SetupError(f"topic {topic} does not exist: create the topics first (`lotline stack up` does)")
    return len(partitions)
