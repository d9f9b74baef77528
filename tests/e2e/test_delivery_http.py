"""Delivery as users see it (PostgreSQL, real processes): events posted to `jawazat serve`, delivered by
`jawazat worker --once` to aiosmtpd and to the loopback Twilio, every attempt shown by `GET /v1/alerts`
and `jawazat alerts list --json`, and Twilio's signed status callback posted to the API."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from twilio.request_validator import RequestValidator

from jawazat_events.bootstrap import bootstrap
from jawazat_events.domain.delivery import AlertDelivery
from tests.support import crossing, ingest, jawazat_command, line, registration, run_jawazat
from tests.support.servers import (
    TWILIO_AUTH_TOKEN,
    FakeTwilio,
    LoopbackSmtp,
    loopback_env,
    twilio_error,
)

pytestmark = pytest.mark.postgres

SPONSOR = "7001234567"
PERSON = "2000000006"


@pytest.fixture
def env(pg_database_url: str, servers: tuple[LoopbackSmtp, FakeTwilio], tmp_path: Path) -> dict[str, str]:
    return loopback_env(pg_database_url, *servers, tmp_path) | {"JAWAZAT_RETRY_BASE_SECONDS": "0.05"}


@pytest.fixture
def keys(pg_database_url: str) -> Iterator[tuple[str, str]]:
    """(establishment API key, source token): an establishment subscribed to one person's crossings."""
    container = bootstrap(database_url=pg_database_url)
    try:
        _ = container.read_models
        _, report = ingest(container, [line(registration("reg", id_number=PERSON, sponsor=SPONSOR))])
        assert report.accepted == 1
        api_key = container.establishments.register(
            unified_number=SPONSOR, name="Al Amal Contracting", email="hr@amal.example", language="en"
        )
        # Its own mobile and the establishment's e-mail: one SMS and one e-mail per crossing.
        container.establishments.subscribe(
            SPONSOR, PERSON, notification_types=["entry_exit"], mobile="0501234567", email="hr@amal.example"
        )
        token = container.tokens.issue(role="source", name="e2e").token
        yield api_key, token
    finally:
        container.close()


@pytest.fixture
def api(env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """`jawazat serve` on a free loopback port; its base URL."""
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as output:
        process = subprocess.Popen(
            [*jawazat_command(), "serve", "--host", "127.0.0.1", "--port", "0"],
            env=env,
            stdout=output,
            stderr=output,
        )
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"serving on (http://127\.0\.0\.1:\d+)", log_path.read_text())):
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=15)


def worker_once(env: dict[str, str]) -> str:
    done = run_jawazat("worker", "--once", env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_attempts_show_in_the_api_and_the_cli_and_callbacks_move_the_sms_forward(
    api: str, keys: tuple[str, str], env: dict[str, str], servers: tuple[LoopbackSmtp, FakeTwilio]
) -> None:
    smtp, twilio = servers
    api_key, token = keys
    smtp.handler.data_script = ["451 4.3.0 Try again later"]
    twilio.script = [twilio_error(503, 20503, "Service Unavailable")]
    event = crossing("x1", "2026-06-30T10:00:00+03:00", id_number=PERSON, direction="exit", port="KFIA")
    with httpx.Client(base_url=api, timeout=30) as client:
        posted = client.post(
            "/v1/events", json={"events": [event]}, headers={"Authorization": f"Bearer {token}"}
        )
        assert posted.status_code == 200 and posted.json()["accepted"] == 1

        assert "retry 2" in worker_once(env)
        time.sleep(0.3)
        assert "sent 2" in worker_once(env)

        answer = client.get("/v1/alerts", headers={"Authorization": f"Bearer {api_key}"})
        assert answer.status_code == 200
        by_channel = {a["channel"]: a for a in answer.json()["items"]}
        assert set(by_channel) == {"email", "sms"}
        for alert in by_channel.values():
            assert alert["status"] == "sent" and alert["event_id"] == "x1"
            assert [a["outcome"] for a in alert["attempts"]] == ["retry", "sent"]
        assert "SMTP 451" in by_channel["email"]["attempts"][0]["detail"]
        assert "Twilio HTTP 503" in by_channel["sms"]["attempts"][0]["detail"]

        listed = run_jawazat("alerts", "list", SPONSOR, "--json", env=env)
        assert listed.returncode == 0, listed.stderr
        from_cli = {a["channel"]: a for a in map(json.loads, listed.stdout.splitlines())}
        for channel, alert in by_channel.items():
            assert [(a["at"], a["outcome"], a["detail"]) for a in from_cli[channel]["attempts"]] == [
                (a["at"], a["outcome"], a["detail"]) for a in alert["attempts"]
            ]
        assert len(smtp.handler.received) == 1 and len(twilio.sent()) == 1

        # Twilio reports the SMS delivered, signed over the URL it calls.
        url = f"{api}/v1/callbacks/twilio"
        form = {"MessageSid": twilio.sent()[0].sid or "", "MessageStatus": "delivered", "To": "+966501234567"}
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(url, form)
        forged = client.post(url, data=form, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})
        assert forged.status_code == 403
        for _ in range(2):  # a repeat is harmless
            accepted = client.post(url, data=form, headers={"X-Twilio-Signature": signature})
            assert accepted.status_code == 204

        after = client.get(
            "/v1/alerts", params={"status": "delivered"}, headers={"Authorization": f"Bearer {api_key}"}
        )
        [delivered] = after.json()["items"]
        assert delivered["channel"] == "sms"
        assert [a["outcome"] for a in delivered["attempts"]] == ["retry", "sent", "delivered"]
    assert_store_has_every_attempt(env["JAWAZAT_DATABASE_URL"], list(by_channel.values()))


def assert_store_has_every_attempt(url: str, alerts: list[dict[str, Any]]) -> None:
    container = bootstrap(database_url=url)
    try:
        for alert in alerts:
            events = list(container.app.events.get(UUID(alert["alert_id"])))
            attempted = [e for e in events if isinstance(e, AlertDelivery.Attempted)]
            assert [(e.outcome, e.detail) for e in attempted] == [
                (a["outcome"], a["detail"]) for a in alert["attempts"]
            ]
    finally:
        container.close()
