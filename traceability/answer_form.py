"""The JSON objects of an answer's rows, in one place: the API's answers (``query.answers``) build
them from answer rows, and the serving store (``sinks.serving``) renders the same objects when it
stores a batch, so a large recall is written by joining rows rendered beforehand.

Keys follow the rows' fields; times are ISO 8601 in UTC with a trailing ``Z``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from traceability.json_form import utc_text
from traceability.scope import Affected, Production, Shipped


def time_text(moment: datetime | None) -> str | None:
    return None if moment is None else utc_text(moment)


def production_object(p: Production) -> dict[str, Any]:
    return {
        "event_id": p.event_id, "batch_id": p.batch_id, "product_id": p.product_id, "quantity": p.quantity,
        "unit": p.unit, "org_id": p.org_id, "site": p.site, "occurred_at": time_text(p.occurred_at),
        "inputs": [{"batch_id": i.batch_id, "quantity": i.quantity, "unit": i.unit} for i in p.inputs],
    }


def shipped_object(s: Shipped) -> dict[str, Any]:
    return {
        "shipment_id": s.shipment_id, "event_id": s.event_id, "batch_id": s.batch_id, "quantity": s.quantity,
        "unit": s.unit, "from_org": s.from_org, "to_org": s.to_org, "to_location": s.to_location,
        "to_country": s.to_country, "occurred_at": time_text(s.occurred_at),
    }


def affected_object(a: Affected) -> dict[str, Any]:
    return dict(zip(Affected._fields, a, strict=True))  # batch_id, depth, status, product_id, quantity, unit


#: The keys of an affected batch after its depth, which only the recall asked knows.
AFFECTED_AFTER_DEPTH = Affected._fields[2:]
