"""E-service requests meet the channel settings: an establishment's own requests reach its webhook (signed,
verified with `standardwebhooks`) and its quiet hours hold their SMS; an individual's requests have no
establishment, so never a webhook and never a hold."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from jawazat_events.bootstrap import Container
from jawazat_events.projections.queries import list_alerts
from tests.support.api import ApiWorld, api_world
from tests.support.eservices import GUARDIAN, GUARDIAN_MOBILE, SPONSOR, Family
from tests.support.servers import WebhookReceiver, running_receiver

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
TICKET = {"problem_type": "transaction_failed", "procedure": "exit_reentry_visa", "description": "fee taken"}
# The clock reads 12:00 in Riyadh (tomorrow, so that alerts made now are due): these hours hold SMS.
QUIET_NOW = "11:00-13:00"
NOON_TOMORROW = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(9, 0), UTC)


@dataclass
class World:
    api: ApiWorld
    family: Family
    receiver: WebhookReceiver
    establishment: dict[str, str]

    @property
    def container(self) -> Container:
        return self.api.container

    def webhook_and_quiet_hours(self) -> str:
        """The establishment's webhook to the receiver and quiet hours holding now; its signing secret."""
        answer = self.api.client.put(
            "/v1/contacts",
            json={"webhook_url": self.receiver.url, "quiet_hours": QUIET_NOW},
            headers=self.establishment,
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["webhook_secret"])

    def alerts(self, establishment: str) -> list[dict[str, Any]]:
        found = list_alerts(self.container.read_models.db, establishment=establishment)
        return [a for a in found if a["notification_type"] == "request_status"]


@pytest.fixture
def world(container: Container, tmp_path: Path) -> Iterator[World]:
    with (
        running_receiver() as receiver,
        api_world(
            container, attachments_dir=tmp_path / "attachments", webhook_allow_hosts="127.0.0.1"
        ) as api,
    ):
        container.clock = lambda: NOON_TOMORROW
        family = Family(container)
        family.register()
        establishment = api.establishment(SPONSOR, mobile="0509998877", email="it@establishment.example")
        yield World(api, family, receiver, establishment)


def test_an_establishments_request_reaches_its_webhook_and_its_quiet_hours_hold_the_sms(world: World) -> None:
    secret = world.webhook_and_quiet_hours()

    opened = world.api.client.post("/v1/tickets", data=TICKET, headers=world.establishment)
    assert opened.status_code == 201, opened.text
    world.api.work()

    by_channel = {a["channel"]: a for a in world.alerts(SPONSOR)}
    assert set(by_channel) == {"sms", "email", "webhook"}
    assert by_channel["webhook"]["recipient"] == world.receiver.url
    assert by_channel["webhook"]["status"] == "sent"
    [request] = world.receiver.accepted()
    body = Webhook(secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == by_channel["webhook"]["alert_id"]
    assert body["data"]["notification_type"] == "request_status"
    assert body["data"]["event_type"] == "ticket_received"
    assert body["data"]["event"]["reference"] == opened.json()["tracking_number"]
    held = by_channel["sms"]
    assert held["status"] == "pending"
    assert [a["outcome"] for a in held["attempts"]] == ["held"]
    assert "quiet hours 11:00-13:00" in held["attempts"][0]["detail"]
    assert by_channel["email"]["status"] == "sent"  # e-mail is never held


def test_an_individuals_request_has_no_webhook_and_is_never_held(world: World) -> None:
    world.webhook_and_quiet_hours()

    opened = world.api.client.post("/v1/tickets", data=TICKET, headers=world.family.token(GUARDIAN))
    assert opened.status_code == 201, opened.text
    world.api.work()

    mine = [a for a in world.alerts("") if a["id_number"] == GUARDIAN]
    assert sorted(a["channel"] for a in mine) == ["email", "sms"]
    [sms] = [a for a in mine if a["channel"] == "sms"]
    assert sms["recipient"] == GUARDIAN_MOBILE
    assert sms["status"] == "sent" and [a["outcome"] for a in sms["attempts"]] == ["sent"]
    assert world.receiver.requests() == []
    assert world.alerts(SPONSOR) == []
