"""End to end over HTTP: a real `jawazat serve` on PostgreSQL, driven as establishments and sources would.

An establishment registered with the CLI subscribes over HTTP; a source system (token from the CLI) posts
events; `jawazat worker --once` fans out and delivers to a loopback SMTP server (aiosmtpd) and a loopback
endpoint speaking Twilio's Messages API; Twilio's signed status callback reaches the API; the
establishment sees its alerts delivered. PostgreSQL is required: without it these tests fail.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from aiosmtpd.controller import Controller
from twilio.request_validator import RequestValidator

from tests.support import (
    CITIZEN,
    RESIDENT,
    SPONSOR_A,
    SPONSOR_B,
    crossing,
    registration,
)
from tests.support.serve import Served, serving

pytestmark = [pytest.mark.postgres, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ACCOUNT_SID = "AC" + "e2" * 16
TWILIO_TOKEN = "e2e-twilio-auth-token"
TWILIO_FROM = "+15005550006"


# --- loopback servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What the loopback SMTP server accepted."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}", mailbox
    finally:
        controller.stop()


@dataclass
class FakeTwilio:
    """A loopback endpoint answering Twilio's Messages API: records each message, gives it a SID."""

    url: str
    sent: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def twilio_server() -> Iterator[FakeTwilio]:
    port = free_port()
    state = FakeTwilio(url=f"http://127.0.0.1:{port}")

    class MessagesApi(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8")).items()}
            sid = "SM" + uuid.uuid4().hex
            state.sent.append(form | {"Sid": sid})
            body = json.dumps(
                {"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"), "body": ""}
            ).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), MessagesApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- the server under test -----------------------------------------------------------------------------


@pytest.fixture
def served(
    pg_database_url: str,
    tmp_path: Path,
    smtp_server: tuple[str, Mailbox],
    twilio_server: FakeTwilio,
) -> Iterator[Served]:
    env = {
        **os.environ,
        "JAWAZAT_DATABASE_URL": pg_database_url,
        "JAWAZAT_OUTBOX_DIR": str(tmp_path / "outbox"),
        "JAWAZAT_SMTP_URL": smtp_server[0],
        "JAWAZAT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "JAWAZAT_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "JAWAZAT_TWILIO_FROM": TWILIO_FROM,
        "JAWAZAT_TWILIO_API_BASE": twilio_server.url,
    }
    with serving(env, tmp_path / "serve.log") as served:
        # Twilio calls back (and signs) the URL the worker gives it: this server's.
        served.env["JAWAZAT_TWILIO_STATUS_CALLBACK_URL"] = f"{served.url}/v1/callbacks/twilio"
        yield served


def _bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


# --- the scenarios ---------------------------------------------------------------------------------------


def test_subscribe_post_events_deliver_and_see_alerts_delivered(
    served: Served, smtp_server: tuple[str, Mailbox], twilio_server: FakeTwilio
) -> None:
    _, mailbox = smtp_server
    key = served.cli(
        "establishments",
        "add",
        SPONSOR_A,
        "--name",
        "Al Noor",
        "--mobile",
        "0501234567",
        "--email",
        "hr@noor.sa",
    ).stdout.strip()
    other_key = served.cli("establishments", "add", SPONSOR_B, "--name", "Other").stdout.strip()
    source = served.cli("tokens", "issue", "--role", "source", "--name", "border system").stdout.strip()
    auditor = served.cli("tokens", "issue", "--role", "auditor", "--name", "audit office").stdout.strip()
    establishment = _bearer(key)

    with httpx.Client(base_url=served.url, timeout=30) as http:
        registered = http.post(
            "/v1/events",
            json={
                "events": [
                    registration("reg-1", id_number=RESIDENT),
                    registration("reg-2", id_number=CITIZEN),
                ]
            },
            headers=_bearer(source),
        )
        subscribed = http.post(
            "/v1/subscriptions",
            json={"id_number": RESIDENT, "notification_types": ["entry_exit"]},
            headers=establishment,
        )
        crossed = http.post(
            "/v1/events",
            json={"events": [crossing("x-1", "2026-06-30T10:00:00+03:00", direction="exit", port="KFIA")]},
            headers=_bearer(source),
        )
        served.cli("worker", "--once")
        pending = http.get("/v1/alerts", headers=establishment).json()["items"]

        # Twilio reports the SMS delivered, signed over the URL it was given.
        assert len(twilio_server.sent) == 1, twilio_server.sent
        sms = twilio_server.sent[0]
        callback_url = sms["StatusCallback"]
        params = {"MessageSid": sms["Sid"], "MessageStatus": "delivered", "To": sms["To"]}
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(callback_url, params)
        called_back = http.post(callback_url, data=params, headers={"X-Twilio-Signature": signature})
        alerts = http.get("/v1/alerts", headers=establishment).json()["items"]

        others_view = http.get("/v1/alerts", headers=_bearer(other_key)).json()["items"]
        audit = http.get("/v1/audit/events", params={"limit": 1000}, headers=_bearer(auditor)).json()
        timeline = http.get(f"/v1/audit/people/{RESIDENT}/timeline", headers=_bearer(auditor))
        metrics = http.get("/metrics").text

    assert registered.status_code == 200 and registered.json()["accepted"] == 2, registered.text
    assert subscribed.status_code == 201, subscribed.text
    assert subscribed.json()["notification_types"] == ["entry_exit"]
    assert crossed.json()["results"] == [{"index": 0, "status": "accepted", "event_id": "x-1"}]
    assert {a["status"] for a in pending} <= {"pending", "sent"} and len(pending) == 2
    assert called_back.status_code == 204, called_back.text
    by_channel = {a["channel"]: a for a in alerts}
    assert set(by_channel) == {"sms", "email"}
    assert by_channel["sms"]["status"] == "delivered"
    assert by_channel["sms"]["recipient"] == "+966501234567"
    assert by_channel["email"]["status"] == "sent"
    assert by_channel["email"]["recipient"] == "hr@noor.sa"
    for alert in alerts:
        assert alert["event_id"] == "x-1" and alert["establishment"] == SPONSOR_A
        assert alert["attempts"], "every delivery attempt is kept"
    assert [rcpt for _, rcpt, _ in mailbox.messages] == [["hr@noor.sa"]]
    assert others_view == []
    assert "border_crossing" in {e["type"] for e in audit["items"]}
    assert timeline.status_code == 200 and timeline.json()["id_number"] == RESIDENT
    assert 'jawazat_events_ingested_total{status="accepted",type="border_crossing"} 1.0' in metrics
    server_log = "".join(served.log_lines)
    assert "POST /v1/subscriptions 201" in server_log
    assert RESIDENT not in server_log and key not in server_log and source not in server_log


def test_roles_other_establishments_and_revocation_over_http(served: Served) -> None:
    key_a = served.cli(
        "establishments", "add", SPONSOR_A, "--name", "A", "--mobile", "0501234567"
    ).stdout.strip()
    key_b = served.cli(
        "establishments", "add", SPONSOR_B, "--name", "B", "--mobile", "0551234567"
    ).stdout.strip()
    source = served.cli("tokens", "issue", "--role", "source", "--name", "feed").stdout.strip()
    token_id = source.split("_")[1]

    with httpx.Client(base_url=served.url, timeout=30) as http:
        http.post("/v1/events", json={"events": [registration("reg-1")]}, headers=_bearer(source))
        assert (
            http.post(
                "/v1/subscriptions",
                json={"id_number": RESIDENT, "notification_types": ["visa"]},
                headers=_bearer(key_a),
            ).status_code
            == 201
        )
        b_reads = http.get(f"/v1/subscriptions/{RESIDENT}", headers=_bearer(key_b))
        b_subscribes = http.post(
            "/v1/subscriptions",
            json={"id_number": RESIDENT, "notification_types": ["visa"]},
            headers=_bearer(key_b),
        )
        b_posts_events = http.post("/v1/events", json={"events": []}, headers=_bearer(key_b))
        source_lists = http.get("/v1/subscriptions", headers=_bearer(source))
        nobody = http.get("/v1/subscriptions")
        served.cli("tokens", "revoke", token_id)
        revoked = http.post("/v1/events", json={"events": []}, headers=_bearer(source))
        too_big = http.post(
            "/v1/events",
            content=b'{"events": [' + b'"x",' * 300_000 + b'"x"]}',
            headers=_bearer(key_a) | {"Content-Type": "application/json"},
        )

    assert (b_reads.status_code, b_subscribes.status_code) == (404, 404)
    assert (b_posts_events.status_code, source_lists.status_code, nobody.status_code) == (403, 403, 401)
    assert revoked.status_code == 401
    assert too_big.status_code == 413
