"""The demo on one real deployment, served by a real HTTP server, for the browser tests.

What ``deploy/demo.sh`` publishes (the Yiwu toy chain and its registry, the Yiwu lab's reports
signed with a key it registered, an impostor's forged correction) plus a 30-deep chain of 1,200
lots ending in ``DEEP-TOP``, so a trace of more than 1,000 batches is on the page. The API runs
under uvicorn (``query.limits.uvicorn_config``, as ``lotline api`` runs it) on a free port, and
the browser is Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import json
import os
import random
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

TOY = "TOY-CAR-2611-01"
PIGMENT = "PIG-RED-2610-07"  # fails for lead; went into TOY via a moulded body
FAILED_REPORT = ("LAB-CTI-YW", "RPT-CTI-0002")
DEEP_TOP = "DEEP-TOP"
DEEP_TIERS, DEEP_WIDTH = 30, 40
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
        unsigned.writelines(json.dumps(e) + "\n" for e in _deep_chain())
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


def _deep_chain() -> list[dict[str, Any]]:
    """30 tiers of 40 lots, each made of 3 lots of the tier below, and one top lot of the last tier:
    a trace of 1,200 batches. One lot of tier 5 fails."""
    rng = random.Random(30)
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    tiers = [[f"DEEP-{t:02d}-{i:02d}" for i in range(DEEP_WIDTH)] for t in range(DEEP_TIERS)]
    events = [_made(f"prd-{lot}", rng.sample(tiers[t - 1], 3), lot, t0 + timedelta(hours=t))
              for t in range(1, DEEP_TIERS) for lot in tiers[t]]
    events.append(_made("prd-deep-top", tiers[-1], DEEP_TOP, t0 + timedelta(hours=DEEP_TIERS + 1)))
    failing = tiers[5][7]
    events.append({
        "type": "lab_result", "event_id": f"res-{failing}", "report_id": f"RPT-{failing}", "report_version": 1,
        "lab_id": "LAB-CTI-YW", "batch_id": failing, "sample_id": f"S-{failing}", "method": "GB 6675.4-2014",
        "verdict": "fail", "tested_at": _t(t0), "issued_at": _t(t0 + timedelta(hours=2)),
        "measurements": [{"analyte": "Pb (soluble)", "value": 130.0, "unit": "mg/kg", "limit": 90.0,
                          "verdict": "fail"}],
    })
    return events


def _made(event_id: str, inputs: list[str], output: str, at: datetime) -> dict[str, Any]:
    return {"type": "production", "event_id": event_id, "org_id": "ORG-DEEP", "site": "Deep works",
            "occurred_at": _t(at), "inputs": [{"batch_id": b, "quantity": 12.5, "unit": "kg"} for b in inputs],
            "outputs": [{"batch_id": output, "product_id": f"SKU-{output}", "quantity": 1000.0, "unit": "ea"}]}


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ok(done: Any) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
