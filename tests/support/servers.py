"""Loopback test servers: an aiosmtpd SMTP server, an HTTP endpoint speaking Twilio's Messages API, and a
webhook receiver (all HTTP ones through the one `serving` helper).

All listen on 127.0.0.1 only and can be told how to answer: the SMTP handler refuses at MAIL, RCPT or
DATA (always, or for the next few messages), or holds its DATA reply back after storing a message; the
Twilio endpoint gives scripted replies (status, body, delay) and then Twilio's 201; the webhook receiver
scripted replies (status, headers, delay) and then 200s. They are context managers (`running_smtp()`,
`running_twilio()`, `running_receiver()`), so a test module wraps them in a fixture of its own (an
imported fixture would shadow its parameters, which ruff rightly flags) and a benchmark uses them directly.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------------------------- SMTP


@dataclass
class RecordingHandler:
    """An SMTP server's handler that records what it accepts and can be told to refuse.

    `mail_reply`/`rcpt_reply`/`data_reply` refuse every message at that stage; `data_script` gives the
    replies to the next DATA commands one by one (the message is not stored), then messages are accepted;
    `data_delay` holds the reply back (in seconds) after an accepted message was stored, as a slow relay does,
    except for the next `fast_replies` messages, which are answered at once.
    """

    mail_reply: str | None = None
    rcpt_reply: str | None = None
    data_reply: str | None = None
    data_script: list[str] = field(default_factory=list)
    data_delay: float = 0.0
    fast_replies: int = 0
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)  # time.time() when each message was stored
    refused: list[str] = field(default_factory=list)  # the scripted DATA refusals given, in order
    answered: int = 0  # accepted messages whose 250 reply has been sent
    peers: set[Any] = field(default_factory=set)  # the client connections that sent a message
    in_flight: int = 0  # messages stored whose reply is held back (data_delay) right now
    most_in_flight: int = 0

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        if self.data_script:
            reply = self.data_script.pop(0)
            self.refused.append(reply)
            return reply
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.received_at.append(time.time())
        self.peers.add(session.peer)
        if self.fast_replies > 0:
            self.fast_replies -= 1
        elif self.data_delay > 0:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            await asyncio.sleep(self.data_delay)
            self.in_flight -= 1
        self.answered += 1
        return "250 2.0.0 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        """Every stored message, parsed."""
        parsed: list[email.message.EmailMessage] = []
        for _, _, raw in list(self.received):
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, email.message.EmailMessage)
            parsed.append(message)
        return parsed

    def message_ids(self) -> list[str]:
        """The Message-ID header of every stored message, in arrival order."""
        return [str(message["Message-ID"]) for message in self.messages()]


@dataclass
class LoopbackSmtp:
    """A running SMTP server on loopback."""

    handler: RecordingHandler
    port: int

    @property
    def url(self) -> str:
        """The product's `JAWAZAT_SMTP_URL` for this server."""
        return f"smtp://{LOOPBACK}:{self.port}"


@contextmanager
def running_smtp(
    handler: RecordingHandler | None = None, *, port: int | None = None
) -> Iterator[LoopbackSmtp]:
    """An aiosmtpd server on 127.0.0.1 with this handler (a fresh RecordingHandler by default), on `port`
    (a free one by default: a test that starts the server late gives the port it announced)."""
    handler = handler if handler is not None else RecordingHandler()
    port = port if port is not None else free_port()
    controller = Controller(handler, hostname=LOOPBACK, port=port)
    controller.start()
    try:
        yield LoopbackSmtp(handler, port)
    finally:
        controller.stop()


# ------------------------------------------------------------------------------------------- Twilio

TWILIO_ACCOUNT_SID = "AC" + "0f" * 16
TWILIO_AUTH_TOKEN = "test-auth-token-9c1d"
TWILIO_FROM = "+15005550006"


def messages_path(account_sid: str = TWILIO_ACCOUNT_SID) -> str:
    """The Messages API path the twilio client posts to for this account."""
    return f"/2010-04-01/Accounts/{account_sid}/Messages.json"


@dataclass
class Reply:
    """One scripted answer of the fake Twilio; `delay` holds it back, `body` None means Twilio's 201;
    `headers` are sent with it (e.g. `Retry-After`)."""

    status: int = 201
    body: dict[str, Any] | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def twilio_error(status: int, code: int, message: str) -> Reply:
    """A Twilio error reply, shaped as Twilio sends it."""
    return Reply(status, {"code": code, "message": message, "status": status})


@dataclass
class Received:
    """One request the fake Twilio received; `sid` is the message SID it answered with (201 only)."""

    method: str
    path: str
    authorization: str
    content_type: str
    form: dict[str, str]
    at: float = 0.0  # time.time() on arrival
    sid: str | None = None


@dataclass
class FakeTwilio:
    """What the endpoint received, and the replies it will give next (then 201s)."""

    url: str
    script: list[Reply] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    account_sid: str = TWILIO_ACCOUNT_SID

    def sent(self) -> list[Received]:
        """The requests answered with a 201 (a message Twilio would send)."""
        with self.lock:
            return [r for r in self.received if r.sid is not None]


def created_message(form: dict[str, str], account_sid: str = TWILIO_ACCOUNT_SID) -> dict[str, Any]:
    """A 201 body shaped like Twilio's Message resource."""
    sid = "SM" + uuid.uuid4().hex
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": "Wed, 01 Jul 2026 09:05:00 +0000",
        "date_sent": None,
        "date_updated": "Wed, 01 Jul 2026 09:05:00 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "2",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"},
        "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }


def make_handler(state: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    """The request handler class of a fake Twilio Messages API over `state`."""

    class MessagesApi(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8")).items()}
            request = Received(
                "POST",
                self.path,
                self.headers.get("Authorization", ""),
                self.headers.get("Content-Type", ""),
                form,
                at=time.time(),
            )
            with state.lock:
                state.received.append(request)
                reply = state.script.pop(0) if state.script else Reply()
            time.sleep(reply.delay)
            if self.path != messages_path(state.account_sid):
                reply = twilio_error(404, 20404, "The requested resource was not found")
            body = reply.body if reply.body is not None else created_message(form, state.account_sid)
            if reply.body is None and reply.status == 201:
                request.sid = body["sid"]
            payload = json.dumps(body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up waiting (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return MessagesApi


@contextmanager
def running_twilio(account_sid: str = TWILIO_ACCOUNT_SID) -> Iterator[FakeTwilio]:
    """A fake Twilio Messages API on 127.0.0.1; its base URL is `.url` (the product's twilio_api_base)."""
    state = FakeTwilio(url="", account_sid=account_sid)
    with serving(make_handler(state)) as base:
        state.url = base
        yield state


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 with this handler; yields its base URL."""
    server = ThreadingHTTPServer((LOOPBACK, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def loopback_env(database_url: str, smtp: LoopbackSmtp, twilio: FakeTwilio, folder: Path) -> dict[str, str]:
    """The environment of `jawazat` processes on this store that deliver to these loopback servers (and
    nothing else of the caller's environment but PATH and HOME)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(folder)),
        "JAWAZAT_DATABASE_URL": database_url,
        "JAWAZAT_SMTP_URL": smtp.url,
        "JAWAZAT_TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
        "JAWAZAT_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "JAWAZAT_TWILIO_FROM": TWILIO_FROM,
        "JAWAZAT_TWILIO_API_BASE": twilio.url,
        "JAWAZAT_OUTBOX_DIR": str(folder / "outbox"),
    }


# ------------------------------------------------------------------------------------- webhook receiver


@dataclass
class HookReply:
    """One scripted answer of the webhook receiver: status, extra headers, and a delay before answering."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class HookRequest:
    """One POST the receiver got: path, headers (lower-case names), raw body, arrival time."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int = 0  # what it answered


@dataclass
class WebhookReceiver:
    """A receiver of webhooks on loopback: what it got, and the replies it gives next (then 200s)."""

    url: str
    script: list[HookReply] = field(default_factory=list)
    received: list[HookRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    default: HookReply = field(default_factory=HookReply)

    def requests(self) -> list[HookRequest]:
        with self.lock:
            return list(self.received)

    def accepted(self) -> list[HookRequest]:
        """The requests answered with a 2xx."""
        return [r for r in self.requests() if 200 <= r.status <= 299]


def make_hook_handler(state: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            request = HookRequest(
                self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()
            )
            with state.lock:
                state.received.append(request)
                reply = state.script.pop(0) if state.script else state.default
            request.status = reply.status
            time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Receiver


@contextmanager
def running_receiver(path: str = "/hooks/jawazat") -> Iterator[WebhookReceiver]:
    """A webhook receiver on 127.0.0.1; `.url` is its endpoint (plain http: allow 127.0.0.1 for it)."""
    state = WebhookReceiver(url="")
    with serving(make_hook_handler(state)) as base:
        state.url = base + path
        yield state
