"""The audit log's record (DESIGN §5): one per API request, whoever made it and however it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

Outcome: TypeAlias = Literal["ok", "bad_request", "unauthenticated", "refused", "not_found", "too_large",
                             "throttled", "unavailable", "error"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What one request was and how it ended.

    ``endpoint`` is the route's template (``/v1/batches/{batch_id}/trace``), or the path when no
    route matched; ``objects`` are the ids the request named (path parameters, id-like query
    parameters, the event ids of a publish). A request without a credential has principal ``""``
    and role ``public``; one with a credential that failed has the role ``unauthenticated``.
    """

    at: datetime
    request_id: str
    principal_id: str
    role: str
    method: str
    endpoint: str
    path: str
    objects: tuple[str, ...]
    status: int
    outcome: Outcome
    client: str
    duration_ms: float


def outcome_of(status: int) -> Outcome:
    """The outcome a response status stands for."""
    if status < 400:
        return "ok"
    named: dict[int, Outcome] = {401: "unauthenticated", 403: "refused", 404: "not_found", 413: "too_large",
                                 414: "too_large", 431: "too_large", 429: "throttled", 503: "unavailable"}
    return named.get(status, "bad_request" if status < 500 else "error")
