"""The chain generator: reproducible, valid, and shaped as asked (splits, hubs, depth, countries)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from traceability.events import Production, Shipment
from traceability.simulation import COUNTRIES, ChainShape, supply_chain
from traceability.testing import oracle
from traceability.validation import validate

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 1, tzinfo=UTC)
START = NOW - timedelta(days=30)
WIDE = ChainShape(raw_lots=40, components=300, products=400, tiers=9, max_outputs=3, hub_skew=1.2,
                  countries=len(COUNTRIES), recipients=200, shipments_per_product=3, correction_rate=0.3)


def edges(events):
    return {(i.batch_id, o.batch_id) for e in events if isinstance(e, Production) for i in e.inputs for o in e.outputs}


def test_the_same_seed_and_shape_give_the_same_events_and_another_seed_does_not():
    assert list(supply_chain(5, WIDE, START)) == list(supply_chain(5, WIDE, START))
    assert list(supply_chain(5, WIDE, START)) != list(supply_chain(6, WIDE, START))


def test_every_generated_event_passes_validation_and_every_lot_is_made_once():
    events = list(supply_chain(5, WIDE, START))
    for event in events:
        validate(event, NOW)
    made = Counter(o.batch_id for e in events if isinstance(e, Production) for o in e.outputs)
    assert made and max(made.values()) == 1
    assert len({e.event_id for e in events}) == len(events)


def test_splits_make_several_lots_in_one_production_only_when_asked():
    def outputs(shape):
        return Counter(len(e.outputs) for e in supply_chain(5, shape, START) if isinstance(e, Production))

    assert set(outputs(WIDE)) == {1, 2, 3}
    assert set(outputs(ChainShape(raw_lots=40, components=300, products=400))) == {1}


def test_hub_skew_puts_one_raw_lot_into_far_more_products_than_a_uniform_choice():
    def widest_fan_out(shape):
        events = list(supply_chain(5, shape, START))
        batches = {b for pair in edges(events) for b in pair}
        closure = oracle.closure(batches, edges(events))
        return max(Counter(a for b, anc in closure.items() if b.startswith("TOY") for a in anc).values())

    flat = ChainShape(raw_lots=400, components=400, products=2000, tiers=1)
    skewed = ChainShape(raw_lots=400, components=400, products=2000, tiers=1, hub_skew=1.2)
    assert widest_fan_out(skewed) >= 1000 > 5 * widest_fan_out(flat)


def test_tiers_set_the_depth_and_shipments_reach_the_countries_asked_for():
    events = list(supply_chain(5, WIDE, START))
    batches = {b for pair in edges(events) for b in pair}
    deepest = max(max(anc.values(), default=0) for anc in oracle.closure(batches, edges(events)).values())
    assert WIDE.tiers - 2 <= deepest <= WIDE.tiers + 1
    shipped = {e.to_country for e in events if isinstance(e, Shipment)}
    assert len(shipped) > 30 and shipped <= set(COUNTRIES)
    few = {e.to_country for e in supply_chain(5, ChainShape(countries=3), START) if isinstance(e, Shipment)}
    assert few <= set(COUNTRIES[:3])
