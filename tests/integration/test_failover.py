"""Provider failover through the worker on each backend: two SMTP servers (aiosmtpd) with the first down,
two Twilio Messages APIs on loopback with the first answering 503, twilio's real client. A permanent
failure of the recipient does not fail over; every attempt names its provider (`smtp#N`, `twilio#N`) and
never its address."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.projections.fanout import alert_id
from jawazat_events.projections.queries import list_alerts
from jawazat_events.services.ingest import parse_items
from tests.support import RESIDENT, SPONSOR_A, crossing, registration, work_once
from tests.support.servers import (
    LOOPBACK,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
    FakeTwilio,
    LoopbackSmtp,
    RecordingHandler,
    free_port,
    running_smtp,
    running_twilio,
    twilio_error,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning"
)


@dataclass
class World:
    container: Container
    smtp: LoopbackSmtp
    twilio: tuple[FakeTwilio, FakeTwilio]
    down_port: int

    def cross(self, event_id: str, minute: int) -> dict[str, dict[str, Any]]:
        item = crossing(event_id, f"2026-06-30T10:{minute:02d}:00+03:00", id_number=RESIDENT)
        assert [r.status for r, _ in self.container.ingestor.ingest(parse_items([item]))] == ["accepted"]
        work_once(self.container)
        found = list_alerts(self.container.read_models.db, establishment=SPONSOR_A)
        return {
            a["channel"]: a
            for a in found
            if a["alert_id"] in {alert_id(event_id, SPONSOR_A, c) for c in ("sms", "email")}
        }

    def assert_no_address(self, alert: dict[str, Any]) -> None:
        text = " ".join(attempt["detail"] for attempt in alert["attempts"])
        for word in (LOOPBACK, str(self.down_port), str(self.smtp.port), *(t.url for t in self.twilio)):
            assert word not in text, (word, text)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with running_smtp(RecordingHandler()) as smtp, running_twilio() as first, running_twilio() as second:
        down = free_port()  # nothing listens there: the first SMTP server is down
        container = bootstrap(
            database_url=database_url,
            outbox_dir=tmp_path / "outbox",
            smtp_url=f"smtp://{LOOPBACK}:{down},{smtp.url}",
            twilio_account_sid=TWILIO_ACCOUNT_SID,
            twilio_auth_token=TWILIO_AUTH_TOKEN,
            twilio_from=TWILIO_FROM,
            twilio_api_base=f"{first.url},{second.url}",
            provider_cooldown_seconds=60,
        )
        container.establishments.register(
            unified_number=SPONSOR_A,
            name="Al Amal",
            email="hr@amal.example",
            mobile="0501234567",
            language="en",
        )
        registered = parse_items([registration("reg", id_number=RESIDENT, sponsor=SPONSOR_A)])
        assert [r.status for r, _ in container.ingestor.ingest(registered)] == ["accepted"]
        container.establishments.subscribe(SPONSOR_A, RESIDENT, notification_types=["entry_exit"])
        try:
            yield World(container, smtp, (first, second), down)
        finally:
            container.close()


def test_the_next_provider_takes_over_within_the_same_attempt(world: World) -> None:
    first, second = world.twilio
    first.script = [twilio_error(503, 20500, "Service unavailable")]

    alerts = world.cross("x1", 0)

    email, sms = alerts["email"], alerts["sms"]
    assert (email["status"], sms["status"]) == ("sent", "sent")
    [attempt] = email["attempts"]
    assert attempt["detail"].startswith("smtp#1: SMTP connection problem")
    assert "(skipped for 60 s); smtp#2: SMTP server accepted it" in attempt["detail"]
    [attempt] = sms["attempts"]
    assert attempt["detail"].startswith("twilio#1: Twilio HTTP 503 error 20500: ")
    assert attempt["detail"].endswith("(skipped for 60 s); twilio#2: Twilio accepted: status queued")
    assert [len(first.received), len(second.sent())] == [1, 1]
    assert len(world.smtp.handler.messages()) == 1
    world.assert_no_address(email)
    world.assert_no_address(sms)


def test_a_provider_that_failed_is_skipped_during_its_cool_down(world: World) -> None:
    first, second = world.twilio
    first.script = [twilio_error(503, 20500, "Service unavailable")]
    world.cross("x1", 0)

    alerts = world.cross("x2", 1)

    assert alerts["email"]["attempts"][0]["detail"].startswith("smtp#2: SMTP server accepted it")
    assert alerts["sms"]["attempts"][0]["detail"] == "twilio#2: Twilio accepted: status queued"
    assert [len(first.received), len(second.sent())] == [1, 2]


def test_a_permanent_failure_of_the_recipient_does_not_fail_over(world: World) -> None:
    first, second = world.twilio
    first.script = [twilio_error(400, 21211, "The 'To' number +966501234567 is not a valid phone number.")]
    world.smtp.handler.rcpt_reply = "550 5.1.1 mailbox unavailable"

    alerts = world.cross("x1", 0)

    sms, email = alerts["sms"], alerts["email"]
    assert (sms["status"], email["status"]) == ("failed", "failed")
    assert sms["attempts"][0]["detail"].startswith("twilio#1: Twilio HTTP 400 error 21211")
    assert second.received == []
    # The e-mail reached smtp#2 (smtp#1 is down: that is the provider's fault), which refused the mailbox.
    assert "smtp#2: SMTP 550 at RCPT" in email["attempts"][0]["detail"]
    world.assert_no_address(sms)
    world.assert_no_address(email)
