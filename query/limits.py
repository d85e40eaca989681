"""Bounds on what a client may send the API, enforced before it is read: body, query string, head.

Two layers, because each sees what the other cannot:

* ``RequestLimits``, a pure ASGI middleware, sees the request head. A ``Content-Length`` over
  the limit is a 413 before the app is called or a byte of the body is read; a body without one
  (chunked) is counted as it streams, and the app never gets more than the limit. A query string
  too long is a 414, too many parameters a 422 in the API's error shape.
* The server (``uvicorn_config``) bounds the head: its size, the time to send it, and the open
  connections. Uvicorn's own bounds fall short on both counts. h11 refuses a head over
  ``h11_max_incomplete_event_size`` only while it is still incomplete after a read, and a
  client that sends its head a byte at a time (slowloris) stops the keep-alive timer at its first
  byte, with no other timeout. ``_BoundedHead`` measures each head before h11 parses it (over
  ``max_header_bytes``, a 431) and gives it ``header_timeout_seconds`` from the connection or the
  previous response (then a 408, or a silent close if nothing came at all).

Refusals close the connection: a client refused mid-body gets no keep-alive to send the rest on.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import ClassVar

import h11
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

KIB = 1024
MIB = 1024 * KIB
_HEAD_END = re.compile(rb"\n\r?\n")


class RequestLimits:
    """ASGI middleware refusing oversized bodies and query strings; non-HTTP scopes pass through."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_query_bytes: int, max_query_params: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_query_bytes = max_query_bytes
        self.max_query_params = max_query_params

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _refuse(send, *refusal)
        else:
            await self._metered(scope, receive, send)

    async def _metered(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app on a body counted as it streams; over the limit, the answer is a 413."""
        body = _MeteredBody(receive, send, self.max_body_bytes)
        try:
            await self.app(scope, body.receive, body.send)
        except _BodyOverLimit:
            if body.app_responded:  # too late for a 413: uvicorn closes the connection
                raise
        if body.over_limit and not body.app_responded:
            await _refuse(send, 413, f"request body of at least {body.seen} bytes; at most {self.max_body_bytes}")

    def _refusal(self, scope: Scope) -> tuple[int, object] | None:
        """The status and detail refusing this request from its head alone, or ``None``."""
        return self._query_refusal(scope.get("query_string", b"")) or self._length_refusal(scope["headers"])

    def _query_refusal(self, query: bytes) -> tuple[int, object] | None:
        if len(query) > self.max_query_bytes:
            return 414, f"query string of {len(query)} bytes; at most {self.max_query_bytes}"
        params = sum(1 for part in query.split(b"&") if part)
        if params > self.max_query_params:
            msg = f"{params} query parameters; at most {self.max_query_params}"
            return 422, [{"loc": ["query"], "msg": msg, "type": "value_error"}]
        return None

    def _length_refusal(self, headers: list[tuple[bytes, bytes]]) -> tuple[int, object] | None:
        values = {part.strip() for name, value in headers if name == b"content-length" for part in value.split(b",")}
        if not values:
            return None  # chunked, or no body: counted as it streams
        declared = values.pop()
        if values or not declared.isdigit() or len(declared) > 20:  # h11's bound too; no 4300-digit int()
            return 400, "malformed Content-Length header"
        if int(declared) > self.max_body_bytes:
            return 413, f"request body of {int(declared)} bytes; at most {self.max_body_bytes}"
        return None


class _BodyOverLimit(Exception):
    """Raised into the app by ``receive`` when the body goes over the limit; caught by ``RequestLimits``."""


class _MeteredBody:
    """The app's ``receive`` and ``send``: counts body bytes, and once over, ends the app's say."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self._limit = receive, send, limit
        self.seen = 0
        self.over_limit = False
        self.app_responded = False

    async def receive(self) -> Message:
        if self.over_limit:
            raise _BodyOverLimit
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self._limit:
                self.over_limit = True
                raise _BodyOverLimit
        return message

    async def send(self, message: Message) -> None:
        if self.over_limit and not self.app_responded:
            return  # the answer is the 413, whatever the app makes of the exception
        self.app_responded = self.app_responded or message["type"] == "http.response.start"
        await self._send(message)


async def _refuse(send: Send, status: int, detail: object) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


@dataclass(frozen=True)
class ServerLimits:
    """Every bound on a client of the API server, in one frozen, validated object.

    Attributes:
        max_body_bytes: A longer request body is a 413 (by ``Content-Length`` before it is read).
        max_query_bytes: A longer query string is a 414.
        max_query_params: More query parameters are a 422.
        max_header_bytes: A longer request head (request line and headers) is a 431.
        header_timeout_seconds: A head not complete this long after the connection or the previous
            response is a 408, and the connection is closed.
        keep_alive_seconds: An idle connection is closed after this long.
        max_connections: With this many connections open (idle ones count), requests are a 503.
    """

    max_body_bytes: int = 16 * MIB
    max_query_bytes: int = 4 * KIB
    max_query_params: int = 32
    max_header_bytes: int = 16 * KIB
    header_timeout_seconds: float = 10.0
    keep_alive_seconds: int = 5
    max_connections: int = 256

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value > 0:
                raise ValueError(f"{name} must be > 0, not {value!r}")


def uvicorn_config(app: ASGIApp, host: str, port: int, limits: ServerLimits, *,
                   log_level: str = "warning") -> uvicorn.Config:
    """A uvicorn configuration serving ``app`` with the connection bounds of ``limits`` (head size and
    time, keep-alive, connections); the request bounds are the app's own ``RequestLimits``
    (``query.api.create_api`` adds it, so they hold under any server and in tests).

    Run it with ``uvicorn.Server(config).run()``. The HTTP protocol is pinned to h11 (with the head
    deadline) so that the bounds hold whatever else is installed (``auto`` picks httptools if present).
    """

    class Protocol(_BoundedHead):
        head_timeout = limits.header_timeout_seconds
        head_bytes = limits.max_header_bytes

    return uvicorn.Config(app, host=host, port=port, log_level=log_level, http=Protocol,
                          h11_max_incomplete_event_size=limits.max_header_bytes,
                          timeout_keep_alive=limits.keep_alive_seconds, limit_concurrency=limits.max_connections)


class _BoundedHead(H11Protocol):
    """Uvicorn's h11 protocol with each request head bounded: in size (431) and in time (408)."""

    head_timeout: ClassVar[float]
    head_bytes: ClassVar[int]
    _deadline: asyncio.TimerHandle | None = None  # set while a head is awaited

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)

    def handle_events(self) -> None:
        if self._head_too_large():
            self._answer_and_close(431, f"request head of more than {self.head_bytes} bytes")
        else:
            super().handle_events()

    def _head_too_large(self) -> bool:
        """Whether the head h11 is about to parse (or still waits the end of) is over ``head_bytes``.

        h11's own bound (``h11_max_incomplete_event_size``) holds only for a head still incomplete
        after a read: a head that arrives whole in one read, or two reads under the bound, is
        parsed whatever its size (measured on uvicorn 0.54: 100 KiB in one send, 20 KiB in two
        sends of 10 KiB, both answered 200 with the default 16 KiB bound).
        """
        if self.conn.their_state is not h11.IDLE:
            return False
        pending = self.conn.trailing_data[0]
        end = _HEAD_END.search(pending)  # the blank line, as h11 finds it
        return (end.end() if end else len(pending)) > self.head_bytes

    def _watch_head(self) -> None:
        """Start the clock when h11 awaits a request head (``IDLE``), stop it once the head is in."""
        awaiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if awaiting and self._deadline is None:
            self._deadline = self.loop.call_later(self.head_timeout, self._head_late)
        elif not awaiting and self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_late(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.conn.trailing_data[0]:  # part of a head came: say why the connection ends
            self._answer_and_close(408, f"request head not complete within {self.head_timeout:g} s")
        else:  # nothing came: an idle connection, closed as uvicorn's keep-alive timer would
            self.conn.send(h11.ConnectionClosed())
            self.transport.close()

    def _answer_and_close(self, status: int, detail: str) -> None:
        """Answer in the API's error shape before any request is parsed (h11 allows it), and close."""
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        for event in (h11.Response(status_code=status, headers=headers, reason=STATUS_PHRASES[status]),
                      h11.Data(data=body), h11.EndOfMessage()):
            data = self.conn.send(event)
            if data:
                self.transport.write(data)
        self.transport.close()
