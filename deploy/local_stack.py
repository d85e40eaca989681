"""``lotline stack up | down | status``: the local stack under one state directory.

The state file (``stack.json``) records the endpoints and every process the stack started, so
other commands find the services and ``down`` stops exactly those processes, nothing else.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.config import StackConfig
from deploy.kafka_admin import ensure_topics
from deploy.processes import ProcessRecord, exited, free_port, is_ours, port_is_free, spawn, stop, wait_for_port
from deploy.services import clickhouse_binary, start_broker, start_clickhouse, tansu_binary
from sinks.clickhouse import ClickHouseAddress, migrate
from streams.topics import TopicNames
from traceability.errors import StackNotRunning

STATE_FILE = "stack.json"


@dataclass
class StackState:
    kafka_bootstrap: str = ""
    clickhouse_url: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, ProcessRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, state_dir: Path) -> StackState:
        path = state_dir / STATE_FILE
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        procs = {k: ProcessRecord.from_json(v) for k, v in data.pop("processes", {}).items()}
        return cls(**data, processes=procs)

    def save(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {
            "kafka_bootstrap": self.kafka_bootstrap,
            "clickhouse_url": self.clickhouse_url,
            "ports": self.ports,
            "processes": {k: v.to_json() for k, v in self.processes.items()},
        }
        tmp = state_dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(state_dir / STATE_FILE)

    def alive(self, name: str) -> bool:
        record = self.processes.get(name)
        return record is not None and is_ours(record)


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    clickhouse: ClickHouseAddress


def resolve_endpoints(stack: StackConfig) -> Endpoints:
    """Endpoints configured (``LOTLINE_*`` settings) first, then those of the running local stack."""
    state = StackState.load(stack.state_dir)
    kafka = stack.kafka_bootstrap or state.kafka_bootstrap
    clickhouse = stack.clickhouse_url or state.clickhouse_url
    if not kafka or not clickhouse:
        raise StackNotRunning(
            f"no local stack in {stack.state_dir}: run `lotline stack up`, "
            "or set LOTLINE_KAFKA_BOOTSTRAP and LOTLINE_CLICKHOUSE_URL"
        )
    return Endpoints(kafka, ClickHouseAddress.parse(clickhouse, stack.database))


def up(stack: StackConfig, say: Any = print) -> StackState:
    """Start whatever is not running yet; safe to call again (idempotent)."""
    state_dir = stack.state_dir
    state = StackState.load(state_dir)
    if not stack.kafka_bootstrap:
        tansu_binary()  # explain what is missing before anything is started
    if not stack.clickhouse_url:
        clickhouse_binary()
    if stack.kafka_bootstrap:
        state.kafka_bootstrap = stack.kafka_bootstrap
    elif not state.alive("broker"):
        port = state.ports.setdefault("kafka", free_port())
        say(f"starting broker (Tansu) on 127.0.0.1:{port} …")
        state.processes["broker"] = start_broker(state_dir, port)
        state.kafka_bootstrap = f"127.0.0.1:{port}"
    if stack.clickhouse_url:
        state.clickhouse_url = stack.clickhouse_url
    elif not state.alive("clickhouse"):
        tcp = state.ports.setdefault("clickhouse", free_port())
        http = state.ports.setdefault("clickhouse_http", free_port())
        say(f"starting ClickHouse on 127.0.0.1:{tcp} (data in {state_dir / 'clickhouse'}) …")
        state.processes["clickhouse"] = start_clickhouse(state_dir, tcp, http)
        state.clickhouse_url = f"clickhouse://127.0.0.1:{tcp}"
    state.save(state_dir)
    ensure_topics(state.kafka_bootstrap, TopicNames(stack.topic_prefix).consumed, stack.partitions,
                  security=stack.kafka_security)
    migrate(ClickHouseAddress.parse(state.clickhouse_url, stack.database))
    for index in range(stack.workers):
        name = f"worker-{index}"
        if not state.alive(name):
            say(f"starting {name} …")
            state.processes[name] = start_worker(state_dir, index)
    if not state.alive("api"):
        port = state.ports.get("api") or (stack.api_port if port_is_free(stack.api_port) else free_port())
        state.ports["api"] = port
        say(f"starting the HTTP API on http://{stack.api_host}:{port} (docs at /docs) …")
        state.processes["api"] = start_api(state_dir, stack.api_host, port)
        wait_for_port(port, 30, state.processes["api"])
    say(f"web pages: http://{stack.api_host}:{state.ports['api']}/  (sign in with a key from "
        "'lotline principals add'; API docs at /docs)")
    state.save(state_dir)
    return state


def start_api(state_dir: Path, host: str, port: int) -> ProcessRecord:
    """Start ``lotline api`` as a detached process reading this stack's state."""
    marker = f"--state-dir={state_dir}"
    argv = [sys.executable, "-m", "lotline", marker, "api", "--host", host, "--port", str(port)]
    return spawn("api", argv, log=state_dir / "logs" / "api.log", marker=marker, stop_signal=signal.SIGINT)


def start_worker(state_dir: Path, index: int, env: dict[str, str] | None = None) -> ProcessRecord:
    """Start ``lotline worker`` as a detached process reading this stack's state."""
    marker = f"--state-dir={state_dir}"
    argv = [sys.executable, "-m", "lotline", marker, "worker"]
    record = spawn(
        f"worker-{index}", argv, log=state_dir / "logs" / f"worker-{index}.log", marker=marker,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 5  # until exec has replaced the command line we check
    while not is_ours(record) and not exited(record.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return record


def down(stack: StackConfig, say: Any = print) -> None:
    """Stop every process this stack started (workers first), by pid; nothing else."""
    state = StackState.load(stack.state_dir)
    order = sorted(state.processes, key=lambda n: (not n.startswith("worker"), n == "clickhouse"))
    for name in order:
        record = state.processes[name]
        say(f"{name}: {'stopped' if stop(record) else 'was not running'} (pid {record.pid})")
    state.processes.clear()
    state.save(stack.state_dir)


def status(stack: StackConfig) -> list[tuple[str, str, str]]:
    """(component, state, detail) rows for display."""
    state = StackState.load(stack.state_dir)
    rows = [
        ("kafka", "external" if stack.kafka_bootstrap else "", stack.kafka_bootstrap or state.kafka_bootstrap),
        ("clickhouse", "external" if stack.clickhouse_url else "", stack.clickhouse_url or state.clickhouse_url),
    ]
    rows = [(n, s, d or "-") for n, s, d in rows if s]
    for name, record in sorted(state.processes.items()):
        rows.append((name, "running" if is_ours(record) else "stopped", f"pid {record.pid}, log {record.log}"))
    endpoints = [
        ("endpoint kafka", "", state.kafka_bootstrap or "-"),
        ("endpoint clickhouse", "", state.clickhouse_url or "-"),
        ("endpoint api", "", f"http://{stack.api_host}:{state.ports['api']}" if "api" in state.ports else "-"),
    ]
    return rows + endpoints
