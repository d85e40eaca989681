"""Lotline's Kafka clients over mutual TLS to a real Kafka-protocol broker.

Tansu 0.6.0 cannot serve TLS itself (its ``--cert`` and ``--key`` options refuse each other) and
cannot hold SASL users in memory (``tansu user create`` is refused once ``--authentication`` is on),
so SASL is not tested here. TLS is: a TLS-terminating proxy that demands a client certificate
sits in front of a Tansu that advertises the proxy's address, so every connection the clients
make, bootstrap and after, is TLS, with the broker's certificate checked against the test CA and
its host name, and the client's certificate presented.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from deploy.kafka_admin import ensure_topics, partition_count
from deploy.processes import ProcessRecord, free_port, spawn, stop, wait_for_port
from deploy.services import tansu_binary
from streams.offsets import OffsetReader
from streams.producer import CheckedProducer
from streams.security import KafkaSecurity
from tests.tls_certs import Pki, make_pki
from traceability.errors import MissingDependency

pytestmark = pytest.mark.integration


class TlsProxy:
    """Terminates TLS (client certificate required) on ``port`` and forwards the bytes to ``origin``."""

    def __init__(self, port: int, origin: int, context: ssl.SSLContext) -> None:
        self.port, self._origin, self._context = port, origin, context
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(asyncio.start_server(self._forward, "127.0.0.1", self.port, ssl=self._context))
        self._ready.set()
        self._loop.run_forever()

    async def _forward(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        broker_in, broker_out = await asyncio.open_connection("127.0.0.1", self._origin)
        await asyncio.gather(_pump(client_in, broker_out), _pump(broker_in, client_out))


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        sink.close()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Pki) -> Iterator[str]:
    """``host:port`` of a Tansu reachable only through mutual TLS."""
    try:
        binary = tansu_binary()
    except MissingDependency as exc:
        pytest.skip(f"needs Tansu: {exc}")
    plain, tls = free_port(), free_port()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(pki.ca)
    proxy = TlsProxy(tls, plain, context)
    record: ProcessRecord = spawn(
        "tls-broker", [binary, "broker", "--listener-url", f"tcp://127.0.0.1:{plain}",
                       "--advertised-listener-url", f"tcp://127.0.0.1:{tls}", "--storage-engine", "memory://tansu/"],
        log=tmp_path / "broker.log", marker=f"tcp://127.0.0.1:{plain}", stop_signal=2,
    )
    try:
        wait_for_port(plain, 30, record)
        yield f"127.0.0.1:{tls}"
    finally:
        stop(record)
        proxy.close()


def mutual_tls(pki: Pki) -> KafkaSecurity:
    return KafkaSecurity(protocol="SSL", ca_file=pki.ca, cert_file=pki.client_cert, key_file=pki.client_key)


def test_topic_set_up_publishing_and_offsets_work_over_mutual_tls(tls_broker: str, pki: Pki):
    security = mutual_tls(pki)
    topic = f"tls-{uuid.uuid4().hex[:8]}"
    ensure_topics(tls_broker, [topic], 2, security=security)
    assert partition_count(tls_broker, topic, security=security) == 2
    with CheckedProducer(tls_broker, security=security) as producer:
        for n in range(5):
            producer.send(topic, f"event {n}".encode(), key=f"batch-{n}".encode())
        producer.flush(30)
    reader = OffsetReader(tls_broker, f"group-{topic}", security=security)
    try:
        lags = reader.lags([topic])
    finally:
        reader.close()
    assert sum(lag.end for lag in lags) == 5
    assert all(lag.committed == 0 for lag in lags)


def test_the_workers_aiokafka_clients_read_over_mutual_tls_with_fausts_credentials(tls_broker: str, pki: Pki):
    security = mutual_tls(pki)
    topic = f"tls-{uuid.uuid4().hex[:8]}"
    ensure_topics(tls_broker, [topic], 1, security=security)
    with CheckedProducer(tls_broker, security=security) as producer:
        producer.send(topic, b"over tls")
        producer.flush(30)
    assert asyncio.run(_read_one(tls_broker, topic, security)) == b"over tls"


async def _read_one(bootstrap: str, topic: str, security: KafkaSecurity) -> bytes | None:
    # The arguments Faust gives its own aiokafka consumers and producer (and ClosureLog its consumer).
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                **credentials_to_aiokafka_auth(security.faust_credentials()))
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        for _ in range(20):
            records = (await consumer.getmany(tp, timeout_ms=500)).get(tp, [])
            if records:
                return records[0].value
        return None
    finally:
        await consumer.stop()
