"""Probe chains for benchmarks and tests: the shapes that stress a trace and a recall.

* ``deep_chain``: 30 tiers of 40 lots, each made of 3 lots of the tier below (seeded), and a top lot
  made of the whole last tier: a trace of about 1,150 upstream batches, 30 deep. One lot of tier 5
  fails; every third tier's first lot passes; the top lot is shipped 5 times.
* ``hub_chain``: a resin lot that fails, in ``toys`` toys (each also made of one of 100 pigments),
  each toy shipped twice: a recall of ``toys + 1`` batches and ``2 * toys`` shipments.

``bench/queries.py`` measures them against PostgreSQL, ``bench/web.py`` draws them in a browser and
the web tests open the deep one.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from traceability.events import Event, InputLot, LabResult, Measurement, OutputLot, Production, Shipment, Verdict

DEEP_TOP = "DEEP-TOP"
TIERS, WIDTH, FAN_IN = 30, 40, 3
COUNTRIES = ("DE", "FR", "US", "GB", "NL", "JP", "AU", "CA", "IT", "ES")


def deep_chain(t0: datetime) -> list[Event]:
    rng = random.Random(30)
    tiers = [[f"DEEP-{t:02d}-{i:02d}" for i in range(WIDTH)] for t in range(TIERS)]
    events: list[Event] = []
    for t in range(1, TIERS):
        for lot in tiers[t]:
            events.append(made(f"prd-{lot}", rng.sample(tiers[t - 1], FAN_IN), lot, t0 + timedelta(hours=t)))
    events.append(made("prd-deep-top", tiers[-1], DEEP_TOP, t0 + timedelta(hours=TIERS + 1)))
    events += [report(tiers[5][7], "fail", t0), *(report(tiers[t][0], "pass", t0) for t in range(0, TIERS, 3))]
    events += [ship(f"SHP-DEEP-{k}", DEEP_TOP, k, t0) for k in range(5)]
    return events


def hub_chain(hub: str, toys: int, t0: datetime) -> list[Event]:
    events: list[Event] = []
    for i in range(toys):
        toy = f"HUB-TOY-{i:05d}"
        events.append(made(f"prd-{toy}", [hub, f"HUB-PIGMENT-{i % 100:03d}"], toy, t0 + timedelta(minutes=i)))
        events += [ship(f"SHP-{toy}-{k}", toy, i * 2 + k, t0) for k in range(2)]
    events.append(report(hub, "fail", t0))
    return events


def made(event_id: str, inputs: list[str], output: str, at: datetime) -> Production:
    return Production(event_id, "ORG-BENCH", "Yiwu", at, tuple(InputLot(b, 12.5, "kg") for b in inputs),
                      (OutputLot(output, f"SKU-{output[:8]}", 1000.0, "ea"),))


def report(batch: str, verdict: Verdict, t0: datetime) -> LabResult:
    """A lead report on ``batch`` by the unregistered ``LAB-BENCH`` (a fail counts; a pass does not)."""
    lead = Measurement("Pb (soluble)", 130.0 if verdict == "fail" else 20.0, "mg/kg", 90.0, verdict)
    return LabResult(f"res-{batch}", f"RPT-{batch}", 1, "LAB-BENCH", batch, f"S-{batch}", "GB 6675.4-2014",
                     verdict, t0, t0 + timedelta(hours=2), (lead,))


def ship(shipment_id: str, batch: str, n: int, t0: datetime) -> Shipment:
    return Shipment(f"ev-{shipment_id}", shipment_id, batch, 100.0, "ea", "ORG-BENCH", f"ORG-R-{n % 300}",
                    f"DC {n % 97}", COUNTRIES[n % len(COUNTRIES)], t0 + timedelta(days=1, seconds=n))
