"""The API server's bounds against hostile clients, on a real uvicorn server and raw sockets.

A tiny app runs behind ``uvicorn_config`` in a thread, on a free port, with small limits. What is
asserted: the answer or the closed connection, and that it came before a generous deadline; never
how fast.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
import uvicorn
from fastapi import Body, FastAPI

from deploy.processes import free_port
from query.limits import KIB, RequestLimits, ServerLimits, uvicorn_config

pytestmark = pytest.mark.integration

DEADLINE = 15.0  # seconds: generous; a bound that holds answers long before
LIMITS = ServerLimits(max_body_bytes=64 * KIB, max_header_bytes=8 * KIB, header_timeout_seconds=1.0)


def tiny_app(ran: list[str]) -> FastAPI:
    api = FastAPI()

    @api.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @api.post("/echo")
    def echo(body: Annotated[Any, Body()]) -> dict[str, int]:
        ran.append("echo")
        return {"items": len(body)}

    return api


@pytest.fixture
def server() -> Iterator[tuple[int, list[str]]]:
    """A uvicorn server on the tiny app: its port and the endpoints that ran."""
    ran: list[str] = []
    port = free_port()
    app = RequestLimits(tiny_app(ran), max_body_bytes=LIMITS.max_body_bytes, max_query_bytes=LIMITS.max_query_bytes,
                        max_query_params=LIMITS.max_query_params)  # as create_api adds it
    served = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, LIMITS))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    give_up = time.monotonic() + DEADLINE
    while not served.started:
        assert thread.is_alive() and time.monotonic() < give_up, "the server did not start"
        time.sleep(0.05)
    yield port, ran
    served.should_exit = True
    thread.join(DEADLINE)


class Connection:
    """A raw connection to the server: bytes out, responses in (buffered: pipelined answers are kept)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self._in = self.sock.makefile("rb")

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self._in.close()
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        """One response: status, headers (lower-case names) and the body its Content-Length frames."""
        status_line = self._in.readline()
        assert status_line, "connection closed before a response"
        headers = {}
        while (line := self._in.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.lower()] = value.strip()
        return int(status_line.split()[1]), headers, self._in.read(int(headers.get("content-length", "0")))

    def closed(self) -> bool:
        """Whether the server closed the connection (EOF or reset) before the deadline."""
        try:
            return self._in.read(1) == b""
        except ConnectionResetError:
            return True

    def spoke(self, wait: float) -> bool:
        """Whether the server answered or closed within ``wait`` seconds (nothing read yet)."""
        return bool(select.select([self.sock], [], [], wait)[0])

    def trickle(self, data: bytes, every: float) -> int:
        """Send ``data`` a byte per ``every`` seconds until the server speaks or closes; the bytes sent."""
        sent = 0
        give_up = time.monotonic() + DEADLINE
        while sent < len(data) and time.monotonic() < give_up:
            self.send(data[sent:sent + 1])
            sent += 1
            if self.spoke(every):
                break
        return sent


REQUEST = b"GET /ping HTTP/1.1\r\nHost: test\r\nUser-Agent: " + b"slow" * 100 + b"\r\n\r\n"
POST = b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"


def test_a_50_mb_body_claim_is_a_413_at_once_and_the_body_is_never_read(server):
    port, ran = server
    with Connection(port) as conn:
        conn.send(POST + b"Content-Length: 50000000\r\n\r\n[1, 2, 3")  # and no more: the answer may not wait
        status, headers, body = conn.response()
        assert (status, json.loads(body)) == (413, {"detail": "request body of 50000000 bytes; at most 65536"})
        assert headers["connection"] == "close" and conn.closed()
    assert ran == []


def test_a_chunked_body_over_the_limit_is_a_413_before_it_is_all_sent(server):
    port, ran = server
    chunk = b"1," * 2048
    with Connection(port) as conn:
        conn.send(POST + b"Transfer-Encoding: chunked\r\n\r\n1\r\n[\r\n")
        sent = 0
        while sent < 200 and not conn.spoke(0.02):  # 800 KiB at most, 64 KiB allowed
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += 1
        status, _, body = conn.response()
        assert status == 413 and json.loads(body)["detail"].endswith("at most 65536") and sent < 200
    assert ran == []


def test_a_body_under_the_limit_is_served(server):
    port, ran = server
    body = json.dumps(list(range(1000))).encode()
    with Connection(port) as conn:
        conn.send(POST + b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        status, _, answer = conn.response()
    assert (status, json.loads(answer), ran) == (200, {"items": 1000}, ["echo"])


def test_a_head_over_the_header_limit_is_a_431_and_the_connection_is_closed(server):
    port, _ = server
    with Connection(port) as conn:  # under the limit: served
        conn.send(b"GET /ping HTTP/1.1\r\nHost: test\r\nX-Pad: " + b"p" * 6 * KIB + b"\r\n\r\n")
        assert conn.response()[0] == 200
    with Connection(port) as conn:
        conn.send(b"GET /ping HTTP/1.1\r\nHost: test\r\nX-Pad: " + b"p" * 12 * KIB + b"\r\n\r\n")
        status, headers, body = conn.response()
        assert (status, json.loads(body), headers["connection"]) == (
            431, {"detail": "request head of more than 8192 bytes"}, "close")
        assert conn.closed()


def test_a_head_over_the_limit_is_a_431_when_it_arrives_in_pieces_or_behind_a_pipelined_request(server):
    port, _ = server  # h11 alone lets both through: no piece is an incomplete head over its bound
    pad = b"X-Pad: " + b"p" * 6 * KIB + b"\r\n"
    with Connection(port) as conn:
        conn.send(b"GET /ping HTTP/1.1\r\nHost: test\r\n" + pad)
        time.sleep(0.2)  # not a timing assertion: only so that the head arrives in two reads
        conn.send(pad + b"\r\n")
        assert conn.response()[0] == 431 and conn.closed()
    with Connection(port) as conn:
        conn.send(b"GET /ping HTTP/1.1\r\nHost: test\r\n\r\nGET /ping HTTP/1.1\r\nHost: test\r\n" + pad * 2 + b"\r\n")
        assert conn.response()[0] == 200
        assert conn.response()[0] == 431 and conn.closed()


def test_a_malformed_head_under_the_limit_is_still_uvicorns_400(server):
    port, _ = server
    with Connection(port) as conn:
        conn.send(b"GET /ping HTTP/1.1\r\nHost: test\r\nBad Header: x\r\n\r\n")
        assert conn.response()[0] == 400


def test_a_head_sent_a_byte_a_second_is_cut_off_with_a_408_after_the_header_timeout(server):
    port, _ = server
    with Connection(port) as conn:
        sent = conn.trickle(REQUEST, every=1.0)
        status, headers, body = conn.response()
        assert (status, headers["connection"], json.loads(body)) == (
            408, "close", {"detail": "request head not complete within 1 s"})
        assert conn.closed() and sent < len(REQUEST)


def test_after_a_response_the_next_head_has_the_same_deadline(server):
    port, _ = server
    with Connection(port) as conn:
        conn.send(b"GET /ping HTTP/1.1\r\nHost: test\r\n\r\n")
        assert conn.response()[0] == 200
        sent = conn.trickle(REQUEST, every=0.5)  # each byte stops uvicorn's keep-alive timer; not this deadline
        assert conn.response()[0] == 408 and conn.closed() and sent < len(REQUEST)


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(server):
    port, _ = server
    with Connection(port) as conn:
        assert conn.spoke(DEADLINE) and conn.closed()
