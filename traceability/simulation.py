"""Deterministic synthetic supply chains (raw lots → components → finished goods → shipments).

The same seed and shape give the same events. Beyond the defaults (which stay as they were, so
recorded figures and tests keep their meaning), a shape can ask for the features of real chains
that stress a traceability system: splits (one production making several lots), hub lots (a
skewed choice of inputs, so one resin lot ends up in thousands of products), depth up to
``tiers + 1``, and shipments to many recipients in many countries.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from traceability.events import (
    Event,
    InputLot,
    Lab,
    LabResult,
    Measurement,
    OutputLot,
    Production,
    Shipment,
    Verdict,
)

COUNTRIES = ("DE", "FR", "US", "GB", "NL", "JP", "AU", "CA", "IT", "ES", "PL", "SE",
             "BE", "AT", "CH", "DK", "FI", "NO", "IE", "PT", "CZ", "HU", "RO", "GR", "KR", "SG", "MY", "TH",
             "VN", "ID", "PH", "IN", "AE", "SA", "IL", "TR", "ZA", "BR", "MX", "CL", "AR", "NZ")
_ANALYTES = (("Pb (soluble)", "mg/kg", 90.0), ("DEHP+DBP+BBP", "%", 0.1), ("Cd (soluble)", "mg/kg", 75.0))


@dataclass(frozen=True)
class ChainShape:
    raw_lots: int = 20
    components: int = 40
    products: int = 60
    shipments_per_product: int = 2
    tested_fraction: float = 0.5
    failure_rate: float = 0.05
    #: Component tiers between raw lots and products: the chain is ``tiers + 1`` edges deep.
    #: A tier may also draw on any earlier tier, so paths of different lengths merge.
    tiers: int = 1
    #: Of the failing reports, the fraction later corrected (version 2 passes) ...
    correction_rate: float = 0.0
    #: ... and the fraction later withdrawn instead.
    withdrawal_rate: float = 0.0
    #: A production makes 1 to ``max_outputs`` lots (splits); 1 keeps one lot per production.
    max_outputs: int = 1
    #: Skew of the choice of inputs: 0 is uniform; s > 0 weights the k-th lot of a tier by
    #: 1 / k**s, so the first lots become hubs with fan-outs in the thousands (s ≈ 1.2 is steep).
    hub_skew: float = 0.0
    #: Shipments go to this many countries (of ``COUNTRIES``) and recipients.
    countries: int = 12
    recipients: int = 30


def supply_chain(seed: int, shape: ChainShape, start: datetime) -> Iterator[Event]:
    """Yield a chain's events in causal order (callers shuffle when they want disorder)."""
    rng = random.Random(seed)
    clock = _Clock(start)
    yield Lab(f"lab-ev-{seed}", f"LAB-{seed}", "Yiwu Product Testing Centre", "CNAS", f"L{seed:05d}",
              ("GB 6675.4-2014", "GB/T 22048-2015"), "CN-ZJ", start - timedelta(days=365),
              start + timedelta(days=3 * 365), (), clock.tick())
    raw = [f"RAW-{seed}-{i:05d}" for i in range(shape.raw_lots)]
    components = [f"CMP-{seed}-{i:05d}" for i in range(shape.components)]
    products = [f"TOY-{seed}-{i:05d}" for i in range(shape.products)]
    tiers = _split(components, shape.tiers)
    earlier = raw
    for t, tier in enumerate(tiers):
        inputs = earlier if t == 0 else _mostly_latest(rng, earlier, tiers[t - 1])
        yield from _productions(rng, clock, seed, "CMP" if t == 0 else f"CMP{t + 1}", inputs, tier, shape)
        earlier = earlier + tier
    yield from _productions(rng, clock, seed, "TOY", tiers[-1] if tiers and tiers[-1] else raw, products, shape)
    failed: list[LabResult] = []
    for batch in raw + components + products:
        if rng.random() < shape.tested_fraction:
            result = _lab_result(rng, clock, seed, batch, fail=rng.random() < shape.failure_rate)
            failed += [result] if result.verdict == "fail" else []
            yield result
    if shape.correction_rate or shape.withdrawal_rate:
        for result in failed:
            draw = rng.random()
            if draw < shape.correction_rate:
                yield _revision(result, "pass", clock)
            elif draw < shape.correction_rate + shape.withdrawal_rate:
                yield _revision(result, "withdrawn", clock)
    countries = COUNTRIES[:max(1, min(shape.countries, len(COUNTRIES)))]
    for n, batch in enumerate(products):
        for k in range(shape.shipments_per_product):
            yield Shipment(f"shp-ev-{seed}-{n}-{k}", f"SHP-{seed}-{n}-{k}", batch, float(rng.randint(10, 500)),
                           "ea", f"ORG-{seed}-TOYS", f"ORG-RETAIL-{rng.randint(1, shape.recipients)}",
                           f"Warehouse {rng.randint(1, 99)}", rng.choice(countries), clock.tick())


def _split(lots: list[str], tiers: int) -> list[list[str]]:
    """Consecutive slices of ``lots``, one per tier (one tier keeps them all)."""
    tiers = max(1, min(tiers, len(lots) or 1))
    size, extra = divmod(len(lots), tiers)
    bounds = [t * size + min(t, extra) for t in range(tiers + 1)]
    return [lots[bounds[t]:bounds[t + 1]] for t in range(tiers)]


def _mostly_latest(rng: random.Random, earlier: list[str], latest: list[str]) -> list[str]:
    """Inputs of a tier: the previous tier, plus a few lots from any earlier one."""
    extra = rng.sample(earlier, k=min(len(earlier), max(1, len(latest) // 10)))
    return latest + [lot for lot in extra if lot not in latest] if latest else earlier


def _productions(rng: random.Random, clock: _Clock, seed: int, tag: str, inputs: list[str],
                 outputs: list[str], shape: ChainShape) -> Iterator[Production]:
    choose = _skewed_chooser(inputs, shape.hub_skew) if shape.hub_skew > 0 else None
    i = 0
    while i < len(outputs):
        made = outputs[i:i + (rng.randint(1, shape.max_outputs) if shape.max_outputs > 1 else 1)]
        k = min(len(inputs), rng.randint(1, 3))
        picked = choose(rng, k) if choose else rng.sample(inputs, k=k)
        yield Production(
            f"prd-ev-{seed}-{tag}-{i}", f"ORG-{seed}-{tag}", f"Yiwu plant {tag}", clock.tick(),
            tuple(InputLot(b, round(rng.uniform(1, 500), 1), "kg") for b in picked),
            tuple(OutputLot(out, f"{tag}-SKU-{(i + j) % 7}", float(rng.randint(100, 5000)), "ea")
                  for j, out in enumerate(made)),
        )
        i += len(made)


def _skewed_chooser(lots: list[str], skew: float) -> Callable[[random.Random, int], list[str]]:
    """Draws k distinct lots, the k-th lot of ``lots`` weighted 1 / k**skew."""
    weights = list(itertools.accumulate(1.0 / (rank ** skew) for rank in range(1, len(lots) + 1)))

    def choose(rng: random.Random, k: int) -> list[str]:
        picked: dict[str, None] = {}
        while len(picked) < k:
            picked.update(dict.fromkeys(rng.choices(lots, cum_weights=weights, k=k - len(picked))))
        return list(picked)

    return choose


def _lab_result(rng: random.Random, clock: _Clock, seed: int, batch: str, fail: bool) -> LabResult:
    analyte, unit, limit = rng.choice(_ANALYTES)
    value = round(limit * (rng.uniform(1.1, 2.0) if fail else rng.uniform(0.05, 0.8)), 3)
    verdict: Verdict = "fail" if fail else "pass"
    tested = clock.tick()
    return LabResult(
        f"res-ev-{seed}-{batch}", f"RPT-{seed}-{batch}", 1, f"LAB-{seed}", batch, f"S-{batch}",
        "GB 6675.4-2014", verdict, tested, tested + timedelta(hours=2),
        (Measurement(analyte, value, unit, limit, verdict),),
    )


def _revision(result: LabResult, verdict: Verdict, clock: _Clock) -> LabResult:
    """Version 2 of a report: a corrected verdict, or its withdrawal."""
    issued = clock.tick()
    measurements = tuple(
        Measurement(m.analyte, round(m.limit * 0.5, 3) if m.limit else m.value, m.unit, m.limit, verdict)
        for m in result.measurements
    ) if verdict == "pass" else result.measurements
    return LabResult(
        f"{result.event_id}-v2", result.report_id, 2, result.lab_id, result.batch_id, result.sample_id,
        result.method, verdict, result.tested_at, issued, measurements,
    )


class _Clock:
    def __init__(self, start: datetime) -> None:
        self._now = start

    def tick(self) -> datetime:
        self._now += timedelta(seconds=1)
        return self._now
