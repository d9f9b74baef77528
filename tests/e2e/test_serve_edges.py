"""`jawazat serve` at its edges, over raw sockets: a request that declares a body and stalls is answered
408 and its connection closed (instead of being held forever), while other clients are served."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.serve import Served, serving

BODY_TIMEOUT_SECONDS = 1.0
# Generous: the server answers at the deadline; the margin only absorbs a busy machine.
ANSWER_WITHIN_SECONDS = BODY_TIMEOUT_SECONDS + 4.0


@pytest.fixture
def served(sqlite_database_url: str, tmp_path: Path) -> Iterator[Served]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env |= {
        "JAWAZAT_DATABASE_URL": sqlite_database_url,
        "JAWAZAT_OUTBOX_DIR": str(tmp_path / "outbox"),
        "JAWAZAT_API_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_SECONDS),
    }
    with serving(env, tmp_path / "serve.log") as served:
        yield served


def _connect(served: Served) -> socket.socket:
    address = urlsplit(served.url)
    sock = socket.create_connection((address.hostname, address.port), timeout=ANSWER_WITHIN_SECONDS)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while True:
        chunk = sock.recv(65536)  # raises TimeoutError if the server neither answers nor closes
        if not chunk:
            return received
        received += chunk


STALLED = {
    "declared length": (
        b"POST /v1/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"events": ['
    ),
    "chunked": (
        b"POST /v1/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b'Transfer-Encoding: chunked\r\n\r\n5\r\n{"eve\r\n'
    ),
}


@pytest.mark.parametrize("kind", list(STALLED))
def test_a_stalled_body_gets_408_and_the_connection_closed(served: Served, kind: str) -> None:
    with _connect(served) as sock:
        sock.sendall(STALLED[kind])
        started = time.monotonic()
        # Another client is served meanwhile.
        assert httpx.get(f"{served.url}/healthz", timeout=5).status_code == 200
        try:
            answer = _read_until_closed(sock)
        except TimeoutError:
            pytest.fail(f"no answer and no close within {ANSWER_WITHIN_SECONDS} s of a stalled body")
        waited = time.monotonic() - started

    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert b"did not arrive within 1 s" in answer
    assert BODY_TIMEOUT_SECONDS * 0.8 <= waited < ANSWER_WITHIN_SECONDS


def test_a_slow_but_steady_body_within_the_deadline_is_answered(served: Served) -> None:
    body = b'{"events": []}'
    with _connect(served) as sock:
        sock.sendall(
            b"POST /v1/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:5]
        )
        time.sleep(BODY_TIMEOUT_SECONDS / 3)
        sock.sendall(body[5:])
        answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]  # read whole, then refused for no credentials
