"""Quiet hours through the worker on each backend, across midnight: a non-urgent SMS is held (pending,
"held until …" in its history) and goes when the window ends; urgent types, e-mails and webhooks are not
held. Twilio's real client talks to a loopback Messages API; the worker's clock is moved by the test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.projections.fanout import alert_id
from jawazat_events.projections.queries import list_alerts
from jawazat_events.services.ingest import parse_items
from tests.support import RESIDENT, SPONSOR_A, crossing, registration, work_once
from tests.support.servers import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
    FakeTwilio,
    LoopbackSmtp,
    running_receiver,
    running_smtp,
    running_twilio,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
RIYADH = ZoneInfo("Asia/Riyadh")


class Clock:
    """The worker's clock, moved by the test (always after the real time: alerts are made at it)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    container: Container
    clock: Clock
    twilio: FakeTwilio
    smtp: LoopbackSmtp

    def post(self, *items: dict[str, Any]) -> None:
        assert [r.status for r, _ in self.container.ingestor.ingest(parse_items(items))] == [
            "accepted"
        ] * len(items)

    def work(self) -> None:
        work_once(self.container)

    def alert(self, event_id: str, channel: str) -> dict[str, Any]:
        key = alert_id(event_id, SPONSOR_A, channel)
        [found] = [a for a in list_alerts(self.container.read_models.db) if a["alert_id"] == key]
        return found


def visa(event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "visa_issued",
        "id_number": RESIDENT,
        "occurred_at": "2026-06-29T13:30:00+03:00",
        "visa_number": f"V{event_id}",
        "visa_type": "work",
        "valid_from": "2026-07-01",
        "valid_until": "2027-06-30",
    }


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    tomorrow = datetime.now(RIYADH).date() + timedelta(days=1)
    clock = Clock(datetime.combine(tomorrow, datetime.min.time(), RIYADH).replace(hour=23, minute=30))
    with running_twilio() as twilio, running_smtp() as smtp, running_receiver() as receiver:
        container = bootstrap(
            database_url=database_url,
            outbox_dir=tmp_path / "outbox",
            smtp_url=smtp.url,
            twilio_account_sid=TWILIO_ACCOUNT_SID,
            twilio_auth_token=TWILIO_AUTH_TOKEN,
            twilio_from=TWILIO_FROM,
            twilio_api_base=twilio.url,
            webhook_allow_hosts="127.0.0.1",
        )
        container.clock = clock
        services = container.establishments
        services.register(
            unified_number=SPONSOR_A,
            name="Al Amal",
            email="hr@amal.example",
            mobile="0501234567",
            language="en",
        )
        change = container.channel_service.prepare(
            webhook_url=receiver.url, quiet_hours="22:00-07:00", urgent_types=["entry_exit"]
        )
        services.update_defaults(SPONSOR_A, channels=change)
        world = World(container, clock, twilio, smtp)
        world.post(registration("reg", id_number=RESIDENT, sponsor=SPONSOR_A))
        services.subscribe(SPONSOR_A, RESIDENT, notification_types=["entry_exit", "visa"])
        try:
            yield world
        finally:
            container.close()


def test_a_non_urgent_sms_waits_past_midnight_for_the_end_of_the_quiet_hours(world: World) -> None:
    night = world.clock.now
    morning = (night + timedelta(days=1)).replace(hour=7, minute=0)

    world.post(visa("v1"), crossing("x1", "2026-06-30T23:10:00+03:00", id_number=RESIDENT))
    world.work()
    held = world.alert("v1", "sms")
    world.clock.now = night.replace(hour=3) + timedelta(days=1)  # after midnight, still quiet
    world.work()
    still = world.alert("v1", "sms")
    world.clock.now = morning
    world.work()
    sent = world.alert("v1", "sms")

    assert held["status"] == "pending"
    [attempt] = held["attempts"]
    assert attempt["outcome"] == "held"
    assert attempt["detail"].startswith(
        f"held until {morning.isoformat()} (quiet hours 22:00-07:00, Asia/Riyadh"
    )
    assert still["attempts"] == held["attempts"]
    assert [a["outcome"] for a in sent["attempts"]] == ["held", "sent"]
    assert sent["status"] == "sent"
    # The urgent type's SMS, the e-mails and the webhooks went at once, at night.
    assert world.alert("x1", "sms")["attempts"][0]["outcome"] == "sent"
    for channel in ("email", "webhook"):
        assert world.alert("v1", channel)["attempts"][0]["outcome"] == "sent"
    bodies = [r.form["Body"] for r in world.twilio.sent()]
    assert len(bodies) == 2 and "visa" in bodies[1].lower()


def test_an_sms_made_after_midnight_waits_for_the_same_morning(world: World) -> None:
    world.clock.now = world.clock.now.replace(hour=3) + timedelta(days=1)

    world.post(visa("v2"))
    world.work()

    [attempt] = world.alert("v2", "sms")["attempts"]
    assert attempt["detail"].startswith(f"held until {world.clock.now.replace(hour=7, minute=0).isoformat()}")
    assert world.twilio.sent() == []


def test_without_quiet_hours_nothing_is_held(world: World) -> None:
    change = world.container.channel_service.prepare(quiet_hours=None)
    world.container.establishments.update_defaults(SPONSOR_A, channels=change)

    world.post(visa("v3"))
    world.work()

    assert world.alert("v3", "sms")["status"] == "sent"
