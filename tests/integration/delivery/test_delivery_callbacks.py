"""Twilio status callbacks on each backend: an SMS sent through the loopback Twilio, then signed (or forged)
callbacks handed to `container.twilio_callbacks.handle`, checked in the alert and in the store."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import pytest
from twilio.request_validator import RequestValidator

from jawazat_events.domain.delivery import AlertDelivery
from tests.support import crossing
from tests.support.delivery import (
    CALLBACK_URL,
    EN_MOBILE,
    PERSON_EN,
    SPONSOR_EN,
    World,
    assert_history_is_the_record,
)
from tests.support.servers import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning"
)


@pytest.fixture
def sent_sms(make_world: Callable[..., World]) -> tuple[World, str]:
    """A world with one SMS alert sent through the loopback Twilio; its message SID."""
    world = make_world()
    world.subscribe(SPONSOR_EN, PERSON_EN, mobile=EN_MOBILE)
    world.post(crossing("x1", "2026-06-30T10:00:00+03:00", id_number=PERSON_EN))
    assert world.run().deliveries == {"sent": 1}
    [request] = world.twilio.sent()
    assert request.form["StatusCallback"] == CALLBACK_URL and request.sid
    return world, request.sid


def callback(sid: str, status: str, **extra: str) -> dict[str, str]:
    """The form Twilio posts to the status callback URL."""
    return {
        "AccountSid": TWILIO_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": TWILIO_FROM,
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "To": EN_MOBILE,
        **extra,
    }


def sign(params: dict[str, str], *, token: str = TWILIO_AUTH_TOKEN, url: str = CALLBACK_URL) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


def deliver(world: World, params: dict[str, str], signature: str | None = None) -> bool:
    """Hand a callback to delivery as the API route does (URL, form parameters, X-Twilio-Signature)."""
    return bool(
        world.container.twilio_callbacks.handle(
            params, CALLBACK_URL, sign(params) if signature is None else signature
        )
    )


def confirmations(world: World, alert_id: str) -> list[AlertDelivery.Confirmed]:
    events = world.container.app.events.get(UUID(alert_id))
    return [e for e in events if isinstance(e, AlertDelivery.Confirmed)]


def test_delivered_moves_the_sms_forward_and_repeats_or_late_failures_change_nothing(
    sent_sms: tuple[World, str],
) -> None:
    world, sid = sent_sms

    assert deliver(world, callback(sid, "sent")) is True  # an intermediate status: nothing to record
    assert world.status("x1", "sms") == "sent"
    assert deliver(world, callback(sid, "delivered")) is True
    after_delivered = world.alert("x1", "sms")
    assert after_delivered["status"] == "delivered"
    assert [a["outcome"] for a in after_delivered["attempts"]] == ["sent", "delivered"]

    assert deliver(world, callback(sid, "delivered")) is True  # Twilio repeats itself
    assert deliver(world, callback(sid, "failed", ErrorCode="30008")) is True  # late, out of order
    assert deliver(world, callback(sid, "undelivered", ErrorCode="30003")) is True

    alert = world.alert("x1", "sms")
    assert alert == after_delivered
    [confirmed] = confirmations(world, alert["alert_id"])
    assert confirmed.status == "delivered"
    assert_history_is_the_record(world, alert)


def test_undelivered_on_a_sent_sms_fails_it_with_the_reason(sent_sms: tuple[World, str]) -> None:
    world, sid = sent_sms

    assert deliver(world, callback(sid, "undelivered", ErrorCode="30003")) is True
    assert deliver(world, callback(sid, "delivered")) is True  # a final status does not move again

    alert = world.alert("x1", "sms")
    assert alert["status"] == "failed"
    assert alert["attempts"][-1]["outcome"] == "failed"
    assert "30003" in alert["attempts"][-1]["detail"] and "unreachable" in alert["attempts"][-1]["detail"]
    assert [c.status for c in confirmations(world, alert["alert_id"])] == ["failed"]
    assert_history_is_the_record(world, alert)


FORGERIES: dict[str, Callable[[dict[str, str]], tuple[dict[str, str], str]]] = {
    "param-changed": lambda p: (p, sign(p | {"MessageStatus": "sent"})),
    "param-added": lambda p: (p | {"ErrorCode": "30003"}, sign(p)),
    "other-token": lambda p: (p, sign(p, token="another-accounts-token")),
    "other-url": lambda p: (p, sign(p, url=CALLBACK_URL + "?alert=other")),
    "missing": lambda p: (p, ""),
    "made-up": lambda p: (p, "bm90IGEgc2lnbmF0dXJl"),
}


def test_a_callback_with_a_bad_signature_is_refused_and_changes_nothing(sent_sms: tuple[World, str]) -> None:
    world, sid = sent_sms
    before = world.alert("x1", "sms")

    refused = {
        name: deliver(world, *forge(callback(sid, "delivered"))) is False for name, forge in FORGERIES.items()
    }

    assert refused == dict.fromkeys(FORGERIES, True)
    assert world.alert("x1", "sms") == before and before["status"] == "sent"
    assert confirmations(world, before["alert_id"]) == []


def test_a_callback_for_an_unknown_message_is_accepted_and_ignored(sent_sms: tuple[World, str]) -> None:
    world, _ = sent_sms
    before = world.alerts()

    assert deliver(world, callback("SM" + "0" * 32, "delivered")) is True

    assert world.alerts() == before
