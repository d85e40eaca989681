"""One audit record per HTTP request (DESIGN §5), written by a middleware around the whole app.

The middleware sees every request, including those refused before any endpoint ran (a body too
large, a bad credential, an unknown path). What the endpoints learn on the way (who the caller
is, which ids a publish named) they leave in the request's state: ``principal`` and ``objects``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from traceability.access import Principal
from traceability.audit import AuditRecord, outcome_of

#: Query parameters whose values name objects (the rest are options such as ``format``).
_NAMING = ("batch_id", "lab_id", "report_id", "event_id", "index", "jurisdiction")
#: The most object ids one record keeps (a publish of 10,000 events keeps its first ids).
MAX_OBJECTS = 1_000


class AuditTrail:
    """ASGI middleware handing ``record`` an ``AuditRecord`` when each request ends.

    Args:
        app: The application.
        record: Takes the record; it must not block (``sinks.audit.AuditWriter.append``).
        clock: The wall clock of the records' times.
    """

    def __init__(self, app: ASGIApp, record: Callable[[AuditRecord], None],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._app = app
        self._record = record
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started, at = time.perf_counter(), self._clock()
        state = scope.setdefault("state", {})
        status = 500

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sent)
        finally:
            self._record(_record(scope, state, status, at, (time.perf_counter() - started) * 1000))


def _record(scope: Scope, state: dict[str, Any], status: int, at: datetime, duration_ms: float) -> AuditRecord:
    principal: Principal | None = state.get("principal")
    route = scope.get("route")
    objects = [str(v) for v in (scope.get("path_params") or {}).values()]
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    objects += [value for name, value in query if name in _NAMING]
    objects += [str(o) for o in state.get("objects", ())]
    client = scope.get("client")
    return AuditRecord(
        at=at, request_id=state.get("request_id") or uuid.uuid4().hex,
        principal_id=principal.principal_id if principal else "",
        role=principal.role if principal else ("unauthenticated" if state.get("unauthenticated") else "public"),
        method=scope.get("method", ""), endpoint=getattr(route, "path", None) or scope.get("path", ""),
        path=scope.get("path", ""), objects=tuple(objects[:MAX_OBJECTS]), status=status, outcome=outcome_of(status),
        client=client[0] if client else "", duration_ms=duration_ms,
    )

