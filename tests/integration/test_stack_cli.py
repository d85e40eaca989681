"""`lotline stack up | status | down` as a user runs it, on its own state directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from deploy.local_stack import StackState
from deploy.processes import ProcessRecord, is_ours
from tests.conftest import NOW, jsonl
from traceability.simulation import ChainShape, supply_chain

pytestmark = pytest.mark.integration


def lotline(state: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOTLINE_")}
    return subprocess.run([sys.executable, "-m", "lotline", "--state-dir", str(state), *args],
                          env={**clean, **(env or {})}, capture_output=True, text=True, timeout=180)


def test_the_stack_starts_once_serves_publish_and_sync_and_stops_only_its_own_processes(tmp_path):
    state = tmp_path / "state"
    bystander = subprocess.Popen(["sleep", "120"])
    try:
        first = lotline(state, "stack", "up")
        assert first.returncode == 0, first.stderr
        assert "starting broker" in first.stdout and "starting worker-0" in first.stdout
        again = lotline(state, "stack", "up")
        assert again.returncode == 0 and "starting" not in again.stdout  # idempotent

        records = StackState.load(state).processes
        assert set(records) == {"broker", "clickhouse", "worker-0", "api"}
        assert all(is_ours(r) for r in records.values())

        events = list(supply_chain(8, ChainShape(raw_lots=3, components=4, products=5), NOW))
        sample = tmp_path / "sample.jsonl"
        sample.write_bytes(jsonl(events))
        assert lotline(state, "publish", str(sample)).returncode == 0
        assert lotline(state, "sync", "--timeout", "60").returncode == 0
        shown = lotline(state, "history")
        assert f"{len(events)} accepted events" in shown.stdout
        api = StackState.load(state).ports["api"]
        added = lotline(state, "principals", "add", "--role", "admin", "--json")
        assert added.returncode == 0, added.stderr
        asked = urllib.request.Request(f"http://127.0.0.1:{api}/v1/batches/TOY-8-00001/trace",
                                       headers={"Authorization": f"Bearer {json.loads(added.stdout)['api_key']}"})
        with urllib.request.urlopen(asked, timeout=10) as answer:
            assert json.load(answer)["batch_id"] == "TOY-8-00001"  # the API `stack up` started answers
        assert f"http://127.0.0.1:{api}" in lotline(state, "stack", "status").stdout
        assert f"web pages: http://127.0.0.1:{api}/" in first.stdout
        with urllib.request.urlopen(f"http://127.0.0.1:{api}/sign-in", timeout=10) as page:
            assert 'name="key"' in page.read().decode()  # the pages are served by the same API

        # a recorded pid that now belongs to someone else is left alone
        saved = StackState.load(state)
        saved.processes["impostor"] = ProcessRecord("impostor", bystander.pid, "not-its-marker", "-")
        saved.save(state)
        stopped = lotline(state, "stack", "down")
        assert stopped.returncode == 0
        assert "impostor: was not running" in stopped.stdout
        assert bystander.poll() is None
        assert not any(is_ours(r) for r in records.values())
        assert not StackState.load(state).processes  # down forgets what it stopped
    finally:
        lotline(state, "stack", "down")
        bystander.kill()


def test_stack_up_explains_a_missing_clickhouse_and_starts_nothing(tmp_path):
    state = tmp_path / "state"
    python_only = str(Path(sys.executable).parent)
    done = lotline(state, "stack", "up", env={"PATH": python_only})
    assert done.returncode == 3
    assert "apt-get install -y clickhouse-server" in done.stderr
    assert not StackState.load(state).processes


def test_commands_without_a_stack_say_how_to_start_one(tmp_path):
    done = lotline(tmp_path / "none", "sync")
    assert done.returncode == 3
    assert "run `lotline stack up`" in done.stderr
