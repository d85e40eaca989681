"""The demo on one real deployment, served by a real HTTP server, for the browser tests.

What ``deploy/demo.sh`` publishes (the Yiwu toy chain and its registry, the Yiwu lab's reports
signed with a key it registered, an impostor's forged correction) plus the 30-deep probe chain
(``traceability.testing.probes``) ending in ``DEEP-TOP``, so a trace of more than 1,000 batches is
on the page. The API runs under uvicorn (``query.limits.uvicorn_config``, as ``lotline api`` runs
it) on a free port, and the browser is Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from deploy.processes import free_port
from query.api import create_api
from query.limits import ServerLimits, uvicorn_config
from tests.integration.conftest import Deployment, _deploy, _dismantle
from traceability.json_form import event_to_json
from traceability.testing.probes import deep_chain

TOY = "TOY-CAR-2611-01"
PIGMENT = "PIG-RED-2610-07"  # fails for lead; went into TOY via a moulded body
FAILED_REPORT = ("LAB-CTI-YW", "RPT-CTI-0002")
#: Chromium as the probe of this machine runs it: no sandbox (root), and no background connections
#: (this machine's network is closed, and Chromium's attempts would only slow it).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions"]
PRINCIPALS = {
    "brand": ("org", {"org_id": "ORG-YW-TOYS"}),
    "regulator": ("regulator", {"regulator_id": "DE-BAuA"}),
    "lab": ("lab", {"lab_id": "LAB-CTI-YW"}),
    "admin": ("admin", {}),
}


@dataclass
class WebWorld:
    dep: Deployment
    base: str  # http://127.0.0.1:PORT
    before_signed: str  # a moment (to the second) after the lineage was stored and before the signed reports
    keys: dict[str, str] = field(default_factory=dict)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def close(self) -> None:
        if self._server is not None:  # the tests are done with it: no connection is waited for
            self._server.should_exit = self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(15)
        _dismantle(self.dep)


def build_web_world(infra: Any, root: Path) -> WebWorld:
    dep = _deploy(infra, root)
    dep.start_worker()
    before_signed = _publish_demo(dep, root)
    dep.sync()
    port = free_port()
    world = WebWorld(dep, f"http://127.0.0.1:{port}", before_signed)
    for name, (role, party) in PRINCIPALS.items():
        world.keys[name] = dep.key(role, **party)
    server = uvicorn.Server(uvicorn_config(create_api(dep.services()), "127.0.0.1", port, ServerLimits(),
                                           log_level="warning"))
    world._server, world._thread = server, threading.Thread(target=server.run, name="web-api", daemon=True)
    world._thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and world._thread.is_alive(), "the API server did not start"
        time.sleep(0.05)
    return world


def artifacts() -> Path:
    """Where the browser tests leave their screenshots (``LOTLINE_TEST_ARTIFACTS``, default tests/artifacts)."""
    root = Path(os.environ.get("LOTLINE_TEST_ARTIFACTS", Path(__file__).parents[2] / "artifacts")) / "web"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _publish_demo(dep: Deployment, root: Path) -> str:
    """As deploy/demo.sh: the sample, the Yiwu lab's reports signed with its registered key, a forgery.
    Returns a moment after the unsigned part was stored and before the signed reports were sent."""
    sample = root / "sample.jsonl"
    _ok(dep.lotline("sample", "--out", str(sample)))
    lines = sample.read_text().splitlines()
    signed = [line for line in lines if '"type": "lab_result"' in line and '"lab_id": "LAB-CTI-YW"' in line]
    (root / "unsigned.jsonl").write_text("\n".join(line for line in lines if line not in signed) + "\n")
    (root / "cti.jsonl").write_text("\n".join(signed) + "\n")
    with (root / "unsigned.jsonl").open("a") as unsigned:  # with the deep chain: one publish, one sync
        probe = deep_chain(datetime(2026, 10, 1, tzinfo=UTC))
        unsigned.writelines(json.dumps(event_to_json(e)) + "\n" for e in probe)
    _ok(dep.lotline("publish", str(root / "unsigned.jsonl")))
    dep.sync()
    time.sleep(1.1)  # rows are stamped to the second: the moment falls strictly between the two parts
    between = _t(datetime.now(UTC))
    time.sleep(1.1)
    _ok(dep.lotline("keys", "new", "--lab", "LAB-CTI-YW", "--out", str(root / "cti"), "--force"))
    kid = json.loads((root / "cti.pub.jwk").read_text())["kid"]
    month_ago = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _ok(dep.lotline("keys", "register", str(root / "cti.pub.jwk"), "--lab", "LAB-CTI-YW", "--not-before", month_ago))
    dep.sync()
    _ok(dep.lotline("publish", "--sign-with", str(root / "cti.key.pem"), "--accreditation", "CNAS L1234",
                    str(root / "cti.jsonl")))
    _ok(dep.lotline("keys", "new", "--lab", "LAB-CTI-YW", "--out", str(root / "impostor"), "--force"))
    failed = next(json.loads(line) for line in signed if f'"report_id": "{FAILED_REPORT[1]}"' in line)
    forged = {**failed, "verdict": "pass", "report_version": 2, "event_id": failed["event_id"] + "-v2",
              "measurements": [{**m, "verdict": "pass"} for m in failed["measurements"]]}
    (root / "forged.jsonl").write_text(json.dumps(forged) + "\n")
    done = dep.lotline("publish", "--sign-with", str(root / "impostor.key.pem"), "--kid", kid, "--accreditation",
                       "CNAS L1234", str(root / "forged.jsonl"))
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: refused at the door is fine too
    return between


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ok(done: Any) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
