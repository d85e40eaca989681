"""A JSON-lines file of valid events from the simulator with invalid lines mixed in."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from traceability.json_form import event_to_json
from traceability.simulation import ChainShape, supply_chain

START = datetime(2026, 10, 1, tzinfo=UTC)


def _breakers() -> list:
    """Ways to break a valid JSON event: schema errors and semantic errors."""

    def set_(key, value):
        return lambda e: {**e, key: value}

    def drop(key):
        return lambda e: {k: v for k, v in e.items() if k != key}

    return [
        drop("event_id"),
        set_("event_id", ""),
        set_("type", "invoice"),
        set_("occurred_at", "9999-01-01T00:00:00Z"),
        set_("occurred_at", "2026-10-01T00:00:00"),
        set_("quantity", -5),
        set_("quantity", "lots"),
        set_("to_country", "Germany"),
        set_("unit", "bushels"),
    ]


def mixed_file(total: int, invalid: int, seed: int = 7) -> tuple[bytes, int]:
    """``total`` lines of which ``invalid`` are broken; returns (file bytes, valid count)."""
    rng = random.Random(seed)
    shape = ChainShape(raw_lots=1000, components=2000, products=3000, shipments_per_product=1)
    events = [event_to_json(e) for e in supply_chain(seed, shape, START)]
    assert len(events) >= total - invalid
    valid = events[: total - invalid]
    shipments = [e for e in events[total - invalid :] if e["type"] == "shipment"]
    broken: list[bytes] = []
    breakers = _breakers()
    for i in range(invalid):
        if i % 10 == 0:
            broken.append(b"{not json at all " + str(i).encode())
            continue
        base = dict(shipments[i % len(shipments)])
        base["event_id"] = f"broken-{seed}-{i}"
        broken.append(json.dumps(breakers[i % len(breakers)](base)).encode())
    lines = [json.dumps(e).encode() for e in valid] + broken
    rng.shuffle(lines)
    return b"\n".join(lines) + b"\n", len(valid)
