"""The webhook channel end to end on each backend: `PUT /v1/contacts` through the HTTP API, the worker, and
a real HTTP receiver on loopback that checks every signature with the `standardwebhooks` package itself.

Covers the secret shown once, signatures (and two of them during a rotation), the masked ID number and the
opt-in, retries with `Retry-After`, 410 and days of failure disabling the endpoint (an event, and an
e-mail to the establishment at a loopback SMTP server), redirects not followed, per-subscription
endpoints, and the SSRF guard at registration and at sending (names resolved through the seam).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from jawazat_events.api import create_app
from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.domain.establishment import Establishment
from jawazat_events.domain.identifiers import establishment_id
from jawazat_events.projections.fanout import alert_id
from jawazat_events.projections.queries import list_alerts
from jawazat_events.services.ingest import parse_items
from tests.support import RESIDENT, SPONSOR_A, crossing, registration, work_once
from tests.support.api import bearer, problems
from tests.support.servers import (
    HookReply,
    HookRequest,
    LoopbackSmtp,
    WebhookReceiver,
    running_receiver,
    running_smtp,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HR_EMAIL = "hr@amal.example"
# Made-up names for the guard's resolver seam: no DNS, no /etc/hosts.
NAMES: dict[str, list[str]] = {"internal.test": ["10.1.2.3"], "rebinding.test": ["93.184.216.34"]}


async def seam(host: str, port: int) -> list[str]:
    if host in NAMES:
        return NAMES[host]
    if host in ("127.0.0.1", "localhost"):
        return ["127.0.0.1"]
    raise OSError(f"{host}: not known")


@dataclass
class World:
    container: Container
    client: TestClient
    headers: dict[str, str]
    receiver: WebhookReceiver
    smtp: LoopbackSmtp

    def put(self, **body: Any) -> Any:
        return self.client.put("/v1/contacts", json=body, headers=self.headers)

    def crossing(self, event_id: str, minute: int = 0) -> str:
        item = crossing(event_id, f"2026-06-30T10:{minute:02d}:00+03:00", id_number=RESIDENT)
        statuses = [r.status for r, _ in self.container.ingestor.ingest(parse_items([item]))]
        assert statuses == ["accepted"]
        return alert_id(event_id, SPONSOR_A, "webhook")

    def work(self) -> None:
        work_once(self.container)

    def work_until(self, done: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.work()
            if done():
                return
            assert time.monotonic() < deadline, self.alerts()
            time.sleep(0.05)

    def alerts(self, channel: str | None = None) -> list[dict[str, Any]]:
        found = list_alerts(self.container.read_models.db, establishment=SPONSOR_A)
        return [a for a in found if channel is None or a["channel"] == channel]

    def alert(self, key: str) -> dict[str, Any]:
        [found] = [a for a in self.alerts() if a["alert_id"] == key]
        return found

    def establishment_events(self) -> list[Any]:
        return list(self.container.app.events.get(establishment_id(SPONSOR_A)))


def verify(secret: str, request: HookRequest) -> dict[str, Any]:
    """The receiver's side: the standardwebhooks package checks the signature and the timestamp."""
    parsed: dict[str, Any] = Webhook(secret).verify(request.body, request.headers)
    return parsed


@pytest.fixture
def make_world(database_url: str, tmp_path: Path) -> Iterator[Callable[..., World]]:
    opened: list[tuple[Container, Any]] = []
    with running_receiver() as receiver, running_smtp() as smtp:

        def make(**settings: Any) -> World:
            options: dict[str, Any] = {
                "database_url": database_url,
                "outbox_dir": tmp_path / "outbox",
                "smtp_url": smtp.url,
                "webhook_allow_hosts": "127.0.0.1",
                "webhook_retry_schedule": "0.05s,0.05s,0.05s",
                "retry_base_seconds": 0.01,
            }
            container = bootstrap(**(options | settings))
            container.webhook_resolver = seam
            client = TestClient(create_app(container))
            client.__enter__()
            opened.append((container, client))
            key = container.establishments.register(
                unified_number=SPONSOR_A, name="Al Amal", email=HR_EMAIL, language="en"
            )
            headers = bearer(key)
            registered = parse_items([registration("reg", id_number=RESIDENT, sponsor=SPONSOR_A)])
            statuses = [r.status for r, _ in container.ingestor.ingest(registered)]
            assert statuses == ["accepted"]
            answer = client.post(
                "/v1/subscriptions",
                json={"id_number": RESIDENT, "notification_types": ["entry_exit"]},
                headers=headers,
            )
            assert answer.status_code == 201, answer.text
            return World(container, client, headers, receiver, smtp)

        try:
            yield make
        finally:
            for container, client in opened:
                client.__exit__(None, None, None)
                container.close()


# --- registration and the signed message -------------------------------------------------------------


def test_the_secret_is_shown_once_and_every_alert_arrives_signed(make_world: Callable[..., World]) -> None:
    world = make_world()

    first = world.put(webhook_url=world.receiver.url)
    again = world.put(webhook_url=world.receiver.url, quiet_hours=None)
    key = world.crossing("x1")
    world.work_until(lambda: world.alert(key)["status"] == "sent")

    assert first.status_code == 200, first.text
    secret = first.json()["webhook_secret"]
    assert secret.startswith("whsec_")
    assert first.json()["channels"]["webhook_url"] == world.receiver.url
    assert "webhook_secret" not in again.json()
    [request] = world.receiver.requests()
    body = verify(secret, request)
    assert request.headers["webhook-id"] == key
    assert request.headers["content-type"] == "application/json"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert body["type"] == "jawazat.alert"
    assert body["timestamp"] == body["data"]["occurred_at"]
    data = body["data"]
    assert data["alert_id"] == key and data["event_id"] == "x1"
    assert data["id_number"] == "******" + RESIDENT[-4:]
    assert RESIDENT not in request.body.decode()
    assert (data["channel"], data["notification_type"], data["establishment"]) == (
        "webhook",
        "entry_exit",
        SPONSOR_A,
    )
    assert data["event"] == {"direction": "entry", "port": "RUH"}
    # One alert per channel: the e-mail as before, and the webhook.
    assert sorted(a["channel"] for a in world.alerts()) == ["email", "webhook"]
    assert world.alert(key)["recipient"] == world.receiver.url
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)
    # The secret is in the store only sealed.
    stored = json.dumps([vars(e) for e in world.establishment_events()], default=str)
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    metrics = world.client.get("/metrics").text
    assert 'jawazat_alerts{channel="webhook",status="sent"} 1.0' in metrics


def test_full_id_numbers_only_when_the_establishment_opted_in(make_world: Callable[..., World]) -> None:
    world = make_world()
    secret = world.put(webhook_url=world.receiver.url, webhook_full_id_number=True).json()["webhook_secret"]

    key = world.crossing("x1")
    world.work_until(lambda: world.alert(key)["status"] == "sent")

    assert verify(secret, world.receiver.requests()[0])["data"]["id_number"] == RESIDENT


def test_a_rotated_secret_signs_beside_the_new_one(make_world: Callable[..., World]) -> None:
    world = make_world()
    old = world.put(webhook_url=world.receiver.url).json()["webhook_secret"]

    rotated = world.client.post("/v1/contacts/webhook-secret", headers=world.headers)
    key = world.crossing("x1")
    world.work_until(lambda: world.alert(key)["status"] == "sent")

    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["webhook_secret"]
    assert new.startswith("whsec_") and new != old
    [request] = world.receiver.requests()
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verify(old, request) == verify(new, request)


def test_rotating_without_a_webhook_is_refused(make_world: Callable[..., World]) -> None:
    world = make_world()

    answer = world.client.post("/v1/contacts/webhook-secret", headers=world.headers)

    assert problems(answer)["webhook_url"] == (
        "webhook_url: the establishment has no webhook secret to rotate; set a webhook_url first"
    )


# --- retries and retiring an endpoint ----------------------------------------------------------------


def test_retries_honour_retry_after_then_the_alert_is_delivered(make_world: Callable[..., World]) -> None:
    # Retry-After is capped at the schedule's longest delay (24 h by default; 1 s here).
    world = make_world(webhook_retry_schedule="0.05s,0.05s,1s")
    secret = world.put(webhook_url=world.receiver.url).json()["webhook_secret"]
    world.receiver.script = [HookReply(503, {"Retry-After": "1"}), HookReply(500)]

    key = world.crossing("x1")
    world.work_until(lambda: world.alert(key)["status"] == "sent")

    requests = world.receiver.requests()
    assert [r.status for r in requests] == [503, 500, 200]
    assert {r.headers["webhook-id"] for r in requests} == {key}  # the receiver's idempotency key
    assert requests[1].at - requests[0].at >= 0.9  # Retry-After: 1 was honoured
    for request in requests:
        verify(secret, request)
    outcomes = [(a["outcome"], a["detail"]) for a in world.alert(key)["attempts"]]
    assert outcomes == [
        ("retry", "the receiver answered HTTP 503; retrying after 1 s as Retry-After asks"),
        ("retry", "the receiver answered HTTP 500"),
        ("sent", "the receiver answered HTTP 200"),
    ]


def test_410_disables_the_endpoint_records_it_and_emails_the_establishment(
    make_world: Callable[..., World],
) -> None:
    world = make_world()
    world.put(webhook_url=world.receiver.url)
    world.receiver.script = [HookReply(410)]

    key = world.crossing("x1")
    world.work_until(lambda: world.alert(key)["status"] == "failed")
    world.work_until(lambda: len(world.smtp.handler.messages()) == 2)  # the crossing's e-mail and the notice
    world.crossing("x2", minute=5)
    world.work()

    [disabled] = [
        e for e in world.establishment_events() if isinstance(e, Establishment.WebhookEndpointDisabled)
    ]
    assert (disabled.url, disabled.cause_alert_id) == (world.receiver.url, key)
    assert disabled.reason == "the endpoint answered HTTP 410 Gone"
    assert (
        world.alert(key)["attempts"][-1]["detail"]
        == "the receiver answered HTTP 410 Gone: the endpoint is disabled"
    )
    [notice] = [m for m in world.smtp.handler.messages() if "webhook" in str(m["Subject"]).lower()]
    assert notice["To"] == HR_EMAIL
    assert world.receiver.url in notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert [a["event_id"] for a in world.alerts("webhook")] == ["x1"]  # nothing more for the disabled one
    assert len(world.receiver.requests()) == 1
    # Setting the URL again enables it.
    assert world.put(webhook_url=world.receiver.url).json()["channels"]["webhook_enabled"] is True


def test_an_endpoint_failing_through_the_whole_schedule_is_disabled(make_world: Callable[..., World]) -> None:
    world = make_world()
    world.put(webhook_url=world.receiver.url)
    world.receiver.default = HookReply(502)

    key = world.crossing("x1")
    world.work_until(lambda: world.alert(key)["status"] == "dead_letter")
    world.work_until(lambda: len(world.smtp.handler.messages()) == 2)

    attempts = world.alert(key)["attempts"]
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "retry", "dead_letter"]
    assert attempts[-1]["detail"].startswith("gave up after 4 attempts over 0.15 s")
    [disabled] = [
        e for e in world.establishment_events() if isinstance(e, Establishment.WebhookEndpointDisabled)
    ]
    assert disabled.reason.startswith("no delivery to it succeeded since")


def test_redirects_are_not_followed(make_world: Callable[..., World]) -> None:
    with running_receiver() as elsewhere:
        world = make_world()
        world.put(webhook_url=world.receiver.url)
        world.receiver.script = [HookReply(307, {"Location": elsewhere.url})]

        key = world.crossing("x1")
        world.work_until(lambda: len(world.alert(key)["attempts"]) >= 1)

        assert world.alert(key)["attempts"][0]["detail"] == (
            "the receiver answered HTTP 307 (a redirect): redirects are not followed"
        )
        assert elsewhere.requests() == []


# --- per subscription --------------------------------------------------------------------------------


def test_a_subscription_may_have_its_own_endpoint(make_world: Callable[..., World]) -> None:
    with running_receiver("/own") as own:
        world = make_world()
        default_secret = world.put(webhook_url=world.receiver.url).json()["webhook_secret"]

        changed = world.client.patch(
            f"/v1/subscriptions/{RESIDENT}", json={"webhook_url": own.url}, headers=world.headers
        )
        key = world.crossing("x1")
        world.work_until(lambda: world.alert(key)["status"] == "sent")

        assert changed.status_code == 200, changed.text
        assert changed.json()["webhook_url"] == own.url
        assert "webhook_secret" not in changed.json()  # the establishment's secret signs it, made before
        assert world.receiver.requests() == []
        verify(default_secret, own.requests()[0])
        assert world.alert(key)["recipient"] == own.url


def test_a_subscription_endpoint_makes_the_secret_when_none_exists(make_world: Callable[..., World]) -> None:
    with running_receiver("/own") as own:
        world = make_world()
        world.client.delete(f"/v1/subscriptions/{RESIDENT}", headers=world.headers)

        made = world.client.post(
            "/v1/subscriptions",
            json={"id_number": RESIDENT, "notification_types": ["entry_exit"], "webhook_url": own.url},
            headers=world.headers,
        )
        key = world.crossing("x1")
        world.work_until(lambda: world.alert(key)["status"] == "sent")

        assert made.status_code == 201, made.text
        verify(made.json()["webhook_secret"], own.requests()[0])


# --- the SSRF guard ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://10.0.0.7/hooks", "10.0.0.7 is a private address"),
        ("https://169.254.169.254/latest", "169.254.169.254 is a link-local address"),
        ("https://internal.test/hooks", "internal.test (10.1.2.3) is a private address"),
        ("https://[::1]/hooks", "::1 is a loopback address"),
        ("http://hooks.example.sa/x", "plain http is only allowed to hosts listed"),
        ("ftp://hooks.example.sa/x", "must be an https:// URL"),
    ],
)
def test_unsafe_urls_are_refused_with_422(make_world: Callable[..., World], url: str, words: str) -> None:
    world = make_world()

    refused = world.put(webhook_url=url, quiet_hours="22:00-07:00")

    assert set(problems(refused)) == {"webhook_url"}
    assert words in problems(refused)["webhook_url"]
    # Nothing was half-written: the quiet hours of the same request are not set either.
    assert world.put(language="en").json() == {
        "unified_number": SPONSOR_A,
        "name": "Al Amal",
        "mobile": None,
        "email": HR_EMAIL,
        "language": "en",
    }
    assert not [
        e
        for e in world.establishment_events()
        if "Webhook" in type(e).__name__ or "Preferences" in type(e).__name__
    ]


def test_a_name_rebinding_to_a_private_address_is_refused_when_sending(
    make_world: Callable[..., World],
) -> None:
    world = make_world(webhook_allow_hosts="")  # nothing allowed: public addresses only
    NAMES["rebinding.test"] = ["93.184.216.34"]
    assert (
        world.put(webhook_url=f"https://rebinding.test:{world.receiver.url.split(':')[2]}").status_code == 200
    )
    NAMES["rebinding.test"] = ["127.0.0.1"]  # where the receiver listens

    key = world.crossing("x1")
    world.work_until(lambda: world.alert(key)["status"] == "failed")

    assert world.alert(key)["attempts"][-1]["detail"] == (
        "refused by the SSRF guard: rebinding.test (127.0.0.1) is a loopback address; webhooks only go to "
        "public addresses (an operator may allow a host in JAWAZAT_WEBHOOK_ALLOW_HOSTS)"
    )
    assert world.receiver.requests() == []


def test_preferences_are_events_and_read_back(make_world: Callable[..., World]) -> None:
    world = make_world()

    answer = world.put(
        quiet_hours="22:00-07:00", urgent_types=["entry_exit"], digest_types=["passport_expiry"]
    )
    refused = world.put(digest_types=["entry_exit"], urgent_types=["weather"], quiet_hours="25:00-01:00")

    assert answer.status_code == 200, answer.text
    assert answer.json()["channels"] == {
        "webhook_url": None,
        "webhook_enabled": False,
        "quiet_hours": "22:00-07:00",
        "urgent_types": ["entry_exit"],
        "webhook_full_id_number": False,
        "digest_types": ["passport_expiry"],
    }
    assert set(problems(refused)) == {"quiet_hours", "urgent_types.0"}
    [changed] = [
        e for e in world.establishment_events() if isinstance(e, Establishment.DeliveryPreferencesChanged)
    ]
    assert (changed.quiet_hours, list(changed.urgent_types)) == ("22:00-07:00", ["entry_exit"])
    assert UUID(str(changed.originator_id)) == establishment_id(SPONSOR_A)
