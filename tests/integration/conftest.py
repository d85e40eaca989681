"""Real infrastructure for integration tests: Tansu and ClickHouse, started once per session.

With LOTLINE_KAFKA_BOOTSTRAP and LOTLINE_CLICKHOUSE_URL set, those services are used instead.
Every test gets its own topics, consumer group and database, so tests never see each other.
A test that kills or restarts a server gets one of its own (``own_broker``, ``own_clickhouse``)
and never touches the shared ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from clickhouse_driver import Client
from fastapi.testclient import TestClient

from deploy.kafka_admin import ensure_topics
from deploy.processes import ProcessRecord, exited, free_port, stop
from deploy.services import start_broker, start_clickhouse
from lotline.settings import Settings
from query.api import create_api
from query.principals import PrincipalStore
from query.services import StackServices
from query.serving import ServingReader, ServingSource
from query.transparency import LogReader
from sinks.clickhouse import ClickHouseAddress, migrate
from streams.offsets import OffsetReader
from streams.topics import TopicNames
from traceability.errors import MissingDependency

pytestmark = pytest.mark.integration


@dataclass
class Infra:
    kafka_bootstrap: str
    clickhouse_url: str
    records: list[ProcessRecord] = field(default_factory=list)


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    kafka = os.environ.get("LOTLINE_KAFKA_BOOTSTRAP")
    clickhouse = os.environ.get("LOTLINE_CLICKHOUSE_URL")
    state = tmp_path_factory.mktemp("stack")
    found = Infra(kafka or "", clickhouse or "")
    if not kafka:
        port = free_port()
        found.records.append(start_broker(state, port))
        found.kafka_bootstrap = f"127.0.0.1:{port}"
    if not clickhouse:
        tcp, http = free_port(), free_port()
        found.records.append(start_clickhouse(state, tcp, http))
        found.clickhouse_url = f"clickhouse://127.0.0.1:{tcp}"
    yield found
    for record in found.records:
        stop(record)


class OwnServer:
    """A broker or ClickHouse server of one test's own: it may be killed and started again on the
    same port with the same data directory (Tansu's data is in memory: a restart empties it)."""

    def __init__(self, address: str, start: Callable[[], ProcessRecord]) -> None:
        self.address = address
        self._start = start
        try:
            self.record = start()
        except MissingDependency as exc:
            pytest.skip(f"needs a local server of its own: {exc}")
        self.restarts = 0

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown at all."""
        os.kill(self.record.pid, signal.SIGKILL)
        while not exited(self.record.pid):
            time.sleep(0.02)
        try:
            os.waitpid(self.record.pid, 0)  # our child: reap it
        except ChildProcessError:
            pass

    def stop(self) -> None:
        """The server's own stop signal (SIGINT for Tansu, SIGTERM for ClickHouse), then SIGKILL."""
        stop(self.record)

    def start(self) -> None:
        self.record = self._start()
        self.restarts += 1


@pytest.fixture
def own_clickhouse(tmp_path: Path) -> Iterator[OwnServer]:
    tcp, http = free_port(), free_port()
    server = OwnServer(f"clickhouse://127.0.0.1:{tcp}",
                       lambda: start_clickhouse(tmp_path / "own-clickhouse", tcp, http))
    yield server
    server.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnServer]:
    port = free_port()
    server = OwnServer(f"127.0.0.1:{port}", lambda: start_broker(tmp_path / "own-broker", port))
    yield server
    server.stop()


@dataclass
class Deployment:
    """One isolated Lotline deployment on the shared infrastructure."""

    settings: Settings
    infra: Infra
    root: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    closing: list[Callable[[], object]] = field(default_factory=list)

    @property
    def topics(self) -> TopicNames:
        return TopicNames(self.settings.topic_prefix)

    @property
    def address(self) -> ClickHouseAddress:
        return ClickHouseAddress.parse(self.infra.clickhouse_url, self.settings.database)

    def env(self, **extra: str) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "LOTLINE_KAFKA_BOOTSTRAP": self.infra.kafka_bootstrap,
            "LOTLINE_CLICKHOUSE_URL": self.infra.clickhouse_url,
            "LOTLINE_TOPIC_PREFIX": s.topic_prefix,
            "LOTLINE_DATABASE": s.database,
            "LOTLINE_APP_ID": s.app_id,
            "LOTLINE_STATE_DIR": str(self.root / "state"),
            **extra,
        }

    def lotline(self, *args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lotline", *args], env=self.env(**env), capture_output=True,
            text=True, timeout=timeout,
        )

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        log = (self.root / f"worker-{len(self.workers)}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "-m", "lotline", "worker"], env=self.env(**env),
                                stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def sync(self, timeout: float = 120) -> None:
        """``lotline sync``, failing at once (with the worker logs) if every worker has died."""
        proc = subprocess.Popen([sys.executable, "-m", "lotline", "sync", "--timeout", str(timeout)],
                                env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while proc.poll() is None:
            if self.workers and all(w.poll() is not None for w in self.workers):
                proc.kill()
                raise AssertionError("every worker has exited\n" + self.worker_logs())
            try:
                proc.wait(1)
            except subprocess.TimeoutExpired:
                continue
        _, err = proc.communicate()
        assert proc.returncode == 0, err + self.worker_logs()

    def worker_logs(self, tail: int | None = 3000) -> str:
        """The end of every worker's log (all of it with ``tail=None``)."""
        texts = (p.read_text(errors="replace") for p in sorted(self.root.glob("worker-*.log")))
        return "".join(text if tail is None else text[-tail:] for text in texts)

    def client(self) -> Client:
        return self.address.client()

    def services(self, **options: Any) -> StackServices:
        """The API's services on this deployment, as ``lotline api`` wires them (closed with the deployment):
        current answers from the workers' serving store once they have built it."""
        log = LogReader(self.address.client, self.settings.database)
        options.setdefault("serving", ServingSource(self.settings.serving_path()))
        made = StackServices(self.infra.kafka_bootstrap, self.address, self.topics, self.settings.app_id, log=log,
                             **options)
        self.closing.append(made.close)
        return made

    def key(self, role: str = "admin", **party: str) -> str:
        """A new API key of a principal with ``role`` (``lab_id=``, ``org_id=`` or ``regulator_id=`` its party)."""
        _, key = PrincipalStore(self.address.client, self.settings.database).add(role, now=datetime.now(UTC),
                                                                                 **party)
        return key

    def api(self, key: str | None = None, *, services: StackServices | None = None, **options: Any) -> TestClient:
        """A client of the API on this deployment, calling as the holder of ``key`` (default: a new admin's)."""
        client = TestClient(create_api(services or self.services(), **options), raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {key or self.key()}"
        return client

    def serving(self) -> ServingReader:
        """A reader of the workers' serving store (which must be complete by now)."""
        source = ServingSource(self.settings.serving_path())
        self.closing.append(source.close)
        reader = source.reader()
        assert reader is not None, "the serving store is not built"
        return reader

    def committed(self, topics: Sequence[str] | None = None) -> dict[tuple[str, int], int]:
        """The workers' committed offset of every partition of ``topics`` (default: all they read)."""
        reader = OffsetReader(self.infra.kafka_bootstrap, self.settings.app_id)
        try:
            return {(lag.topic, lag.partition): lag.committed
                    for lag in reader.lags(topics or self.topics.consumed, exact=False)}
        finally:
            reader.close()

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _deploy(infra: Infra, tmp_path: Path) -> Deployment:
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        kafka_bootstrap=infra.kafka_bootstrap, clickhouse_url=infra.clickhouse_url,
        topic_prefix=f"t{tag}", database=f"t{tag}", app_id=f"g{tag}", partitions=4,
        state_dir=tmp_path / "state",
    )
    dep = Deployment(settings, infra, tmp_path)
    ensure_topics(infra.kafka_bootstrap, dep.topics.consumed, settings.partitions)
    migrate(dep.address)
    return dep


def _dismantle(dep: Deployment) -> None:
    for close in dep.closing:
        close()
    dep.stop_workers()
    dep.client().execute(f"DROP DATABASE IF EXISTS {dep.settings.database}")


@pytest.fixture
def deployment(infra: Infra, tmp_path: Path) -> Iterator[Deployment]:
    dep = _deploy(infra, tmp_path)
    yield dep
    _dismantle(dep)


@pytest.fixture(scope="module", name="world")
def access_world(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``world``: the access tests' competitors and regulators (``tests.integration.access_world``), one per module."""
    from tests.integration.access_world import build_world  # it imports this module

    built = build_world(infra, tmp_path_factory.mktemp("access"))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def deployments(infra: Infra, tmp_path: Path) -> Iterator[Callable[[str], Deployment]]:
    """Make several isolated deployments on the shared infrastructure, each in ``tmp_path / name``."""
    made: list[Deployment] = []

    def make(name: str) -> Deployment:
        root = tmp_path / name
        root.mkdir()
        made.append(_deploy(infra, root))
        return made[-1]

    yield make
    for dep in made:
        _dismantle(dep)


@pytest.fixture
def deployment_on_own_clickhouse(infra: Infra, own_clickhouse: OwnServer, tmp_path: Path) -> Iterator[Deployment]:
    """A deployment on the shared broker and a ClickHouse server the test may kill."""
    dep = _deploy(Infra(infra.kafka_bootstrap, own_clickhouse.address), tmp_path)
    yield dep
    dep.stop_workers()  # the server and its data go with `own_clickhouse`


@pytest.fixture
def deployment_on_own_broker(infra: Infra, own_broker: OwnServer, tmp_path: Path) -> Iterator[Deployment]:
    """A deployment on the shared ClickHouse and a broker the test may stop."""
    dep = _deploy(Infra(own_broker.address, infra.clickhouse_url), tmp_path)
    yield dep
    _dismantle(dep)

