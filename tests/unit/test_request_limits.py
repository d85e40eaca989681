"""``RequestLimits``: oversized bodies and query strings refused before the app reads them.

Most tests drive the middleware as the server does, with scripted ``receive`` messages, so they
can see exactly what the app was given; the FastAPI ones check it behind a real app's handlers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from uvicorn.protocols.http.h11_impl import H11Protocol

from query.limits import KIB, MIB, RequestLimits, ServerLimits, uvicorn_config

pytestmark = pytest.mark.unit

LIMIT = 1000


class Recorder:
    """An ASGI app reading the whole body, then answering 200 with its length."""

    def __init__(self) -> None:
        self.called = False
        self.body = b""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.called = True
        more = True
        while more:
            message = await receive()
            self.body += message.get("body", b"")
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(self.body)).encode()})


def limited(app: Any, body: int = LIMIT, query: int = 100, params: int = 4) -> RequestLimits:
    return RequestLimits(app, max_body_bytes=body, max_query_bytes=query, max_query_params=params)


def http_scope(headers: list[tuple[bytes, bytes]] | None = None, query: bytes = b"") -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "query_string": query, "headers": headers or []}


def serve(app: Any, scope: dict[str, Any], chunks: list[bytes]) -> tuple[int, dict[bytes, bytes], bytes, int]:
    """Run ``app`` on a body sent as ``chunks``: the status, headers and body sent, and the chunks read."""
    sent: list[dict[str, Any]] = []
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        if read > len(chunks):
            raise AssertionError("read past the end of the body")
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, *bodies = sent
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in bodies), read


def test_a_body_declared_over_the_limit_is_a_413_and_the_app_is_never_called_nor_the_body_read():
    app = Recorder()
    status, headers, body, read = serve(limited(app), http_scope([(b"content-length", b"50000000")]), [b"x" * 10])
    assert (status, json.loads(body)) == (413, {"detail": f"request body of 50000000 bytes; at most {LIMIT}"})
    assert headers[b"connection"] == b"close" and headers[b"content-type"] == b"application/json"
    assert not app.called and read == 0


def test_a_chunked_body_over_the_limit_is_a_413_and_the_app_never_gets_more_than_the_limit():
    app = Recorder()
    status, headers, body, read = serve(limited(app), http_scope(), [b"x" * 300] * 10)
    assert (status, json.loads(body)) == (413, {"detail": f"request body of at least 1200 bytes; at most {LIMIT}"})
    assert app.called and len(app.body) == 900 and read == 4  # the crossing chunk never reached the app
    assert headers[b"connection"] == b"close"


@pytest.mark.parametrize("chunks", [[b"a" * LIMIT], [b"b" * 250] * 4, [b"c" * 999, b"d"], [b""]])
def test_bodies_up_to_the_limit_pass_intact(chunks):
    app = Recorder()
    whole = b"".join(chunks)
    status, _, body, _ = serve(limited(app), http_scope([(b"content-length", str(len(whole)).encode())]), chunks)
    assert (status, body, app.body) == (200, str(len(whole)).encode(), whole)
    status, _, _, _ = serve(limited(Recorder()), http_scope(), chunks)  # the same, chunked
    assert status == 200


@pytest.mark.parametrize("values", [[b"abc"], [b"-1"], [b"1e3"], [b"12, 13"], [b"12", b"13"], [b""], [b"9" * 5000]])
def test_a_malformed_content_length_is_a_400_without_calling_the_app(values):
    app = Recorder()
    status, _, body, read = serve(limited(app), http_scope([(b"content-length", v) for v in values]), [b"x"])
    assert (status, json.loads(body)) == (400, {"detail": "malformed Content-Length header"})
    assert not app.called and read == 0


def test_repeated_equal_content_lengths_are_one_length():
    status, _, _, _ = serve(limited(Recorder()), http_scope([(b"content-length", b"3"), (b"content-length", b"3")]),
                            [b"abc"])
    assert status == 200


def test_a_response_already_started_cannot_become_a_413_and_the_server_is_left_to_close_the_connection():
    async def streams_then_reads(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive())["more_body"]:
            pass

    with pytest.raises(Exception) as raised:  # noqa: B017 (the class is private; its name is checked)
        serve(limited(streams_then_reads), http_scope(), [b"x" * 600] * 3)
    assert type(raised.value).__name__ == "_BodyOverLimit"


def test_a_query_string_over_the_limit_is_a_414():
    app = Recorder()
    status, _, body, _ = serve(limited(app, query=100), http_scope(query=b"q=" + b"x" * 99), [b""])
    assert (status, json.loads(body)) == (414, {"detail": "query string of 101 bytes; at most 100"})
    assert not app.called


def test_more_query_parameters_than_allowed_is_a_422_in_the_api_error_shape():
    app = Recorder()
    status, _, body, _ = serve(limited(app, params=4), http_scope(query=b"a=1&b=2&&c=3&d=4&e"), [b""])
    assert status == 422 and not app.called
    assert json.loads(body) == {"detail": [{"loc": ["query"], "msg": "5 query parameters; at most 4",
                                            "type": "value_error"}]}


def test_a_query_at_the_limits_passes():
    query = b"a=1&b=2&c=3&d=" + b"x" * 86
    assert len(query) == 100
    status, _, _, _ = serve(limited(Recorder(), query=100, params=4), http_scope(query=query), [b""])
    assert status == 200


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
def test_scopes_other_than_http_pass_through_untouched(kind):
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.extend([scope, receive, send])

    scope, receive, send = {"type": kind, "query_string": b"&" * 10_000}, object(), object()
    asyncio.run(limited(app, query=1, params=1)(scope, receive, send))
    assert seen[0] is scope and seen[1] is receive and seen[2] is send


def fastapi_app(ran: list[str]) -> FastAPI:
    """Two endpoints reading a body: through FastAPI's body parameter, and as a raw stream."""
    api = FastAPI()

    @api.exception_handler(Exception)  # as query.api does: a catch-all that logs and answers 500
    def _bug(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "internal error (logged)"}, status_code=500)

    @api.post("/events")
    def events(body: Annotated[Any, Body()]) -> Any:
        ran.append("events")
        return {"count": len(body)}

    @api.post("/raw")
    async def raw(request: Request) -> Any:
        ran.append("raw")
        digest = hashlib.sha256()
        async for chunk in request.stream():
            digest.update(chunk)
        return {"sha256": digest.hexdigest()}

    return api


@pytest.fixture
def client_and_ran() -> Iterator[tuple[TestClient, list[str]]]:
    ran: list[str] = []
    with TestClient(limited(fastapi_app(ran), body=64 * KIB), raise_server_exceptions=False) as client:
        yield client, ran


def test_behind_fastapi_a_body_declared_too_large_is_a_413_and_the_endpoint_never_runs(client_and_ran):
    client, ran = client_and_ran
    body = json.dumps(["x" * 70_000])
    answer = client.post("/events", content=body)
    assert answer.status_code == 413
    assert answer.json() == {"detail": f"request body of {len(body)} bytes; at most 65536"}
    assert ran == []


@pytest.mark.parametrize("path", ["/events", "/raw"])
def test_behind_fastapi_a_chunked_body_too_large_is_a_413_whatever_the_app_makes_of_the_error(client_and_ran, path):
    client, ran = client_and_ran
    answer = client.post(path, content=iter([b"[" + b"1," * 40_000 + b"1]"]))  # an iterator: sent chunked
    assert answer.status_code == 413 and answer.json()["detail"].endswith("at most 65536")
    assert ran == ([] if path == "/events" else ["raw"])  # FastAPI parses before the endpoint; a stream reads inside


def test_behind_fastapi_bodies_under_the_limit_are_read_intact(client_and_ran):
    client, ran = client_and_ran
    payload = bytes(range(256)) * 200
    assert client.post("/raw", content=payload).json() == {"sha256": hashlib.sha256(payload).hexdigest()}
    assert client.post("/raw", content=iter([payload[:100], payload[100:]])).json()["sha256"] == hashlib.sha256(
        payload).hexdigest()
    assert client.post("/events", json=list(range(1000))).json() == {"count": 1000}


def test_server_limits_default_to_the_proposed_bounds_and_refuse_nonsense():
    limits = ServerLimits()
    assert (limits.max_body_bytes, limits.max_query_bytes, limits.max_query_params, limits.max_header_bytes,
            limits.header_timeout_seconds, limits.keep_alive_seconds) == (16 * MIB, 4 * KIB, 32, 16 * KIB, 10.0, 5)
    for bad in ({"max_body_bytes": 0}, {"header_timeout_seconds": -1.0}, {"max_connections": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ServerLimits(**bad)


def test_the_uvicorn_config_carries_every_bound_and_pins_the_bounded_h11_protocol():
    app = Recorder()
    limits = ServerLimits(max_body_bytes=5, max_header_bytes=8 * KIB, header_timeout_seconds=2.5,
                          keep_alive_seconds=3, max_connections=7)
    config = uvicorn_config(app, "127.0.0.1", 8400, limits)
    assert (config.host, config.port, config.h11_max_incomplete_event_size, config.timeout_keep_alive,
            config.limit_concurrency) == ("127.0.0.1", 8400, 8 * KIB, 3, 7)
    assert isinstance(config.http, type) and issubclass(config.http, H11Protocol)
    assert (config.http.head_timeout, config.http.head_bytes) == (2.5, 8 * KIB)  # type: ignore[attr-defined]
    assert config.app is app  # the request bounds are the app's own (create_api adds RequestLimits)
