"""The webhook message without a network: body, signatures (checked by `standardwebhooks`), what an HTTP
status means, `Retry-After`; and sealing the secrets the engine signs with."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from jawazat_events.services.channels import ENDPOINT_GONE
from jawazat_events.services.secretbox import SecretBox, UnsealError, new_key, new_webhook_secret
from jawazat_events.subscribers.webhook import classify, parse_retry_after, payload, signature_header

ROW = {
    "alert_id": "0f673518-03c8-5f14-bd81-34ac0c96c74a",
    "event_id": "src-1",
    "event_type": "border_crossing",
    "notification_type": "entry_exit",
    "id_number": "2000000006",
    "establishment": "7001234567",
    "occurred_at": "2026-06-30T07:00:00+00:00",
    "created_at": "2026-06-30T07:00:01+00:00",
    "payload": json.dumps({"direction": "exit", "port": "Batha"}),
}


def test_the_body_is_thin_and_masks_the_id_number_unless_asked() -> None:
    masked = json.loads(payload(ROW, full_id_number=False))
    full = json.loads(payload(ROW, full_id_number=True))

    assert masked == {
        "type": "jawazat.alert",
        "timestamp": "2026-06-30T07:00:00+00:00",
        "data": {
            "alert_id": ROW["alert_id"],
            "event_id": "src-1",
            "event_type": "border_crossing",
            "notification_type": "entry_exit",
            "id_number": "******0006",
            "establishment": "7001234567",
            "channel": "webhook",
            "occurred_at": "2026-06-30T07:00:00+00:00",
            "created_at": "2026-06-30T07:00:01+00:00",
            "event": {"direction": "exit", "port": "Batha"},
        },
    }
    assert full["data"]["id_number"] == "2000000006"
    assert payload(ROW, full_id_number=False) == payload(dict(ROW), full_id_number=False)  # same on retries


def test_each_secret_signs_and_the_package_verifies_either() -> None:
    old, new = new_webhook_secret(), new_webhook_secret()
    body = payload(ROW, full_id_number=False)
    now = int(time.time())
    header = signature_header((new, old), ROW["alert_id"], datetime.fromtimestamp(now, UTC), body)
    headers = {"webhook-id": ROW["alert_id"], "webhook-timestamp": str(now), "webhook-signature": header}

    assert len(header.split(" ")) == 2 and all(part.startswith("v1,") for part in header.split(" "))
    assert Webhook(old).verify(body, headers) == Webhook(new).verify(body, headers) == json.loads(body)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "sent"),
        (204, "sent"),
        (410, "failed"),
        (301, "retry"),
        (400, "retry"),
        (429, "retry"),
        (504, "retry"),
    ],
)
def test_what_a_status_means(status: int, outcome: str) -> None:
    result = classify(status, retry_after=7.0)

    assert result.outcome == outcome
    assert (result.signal == ENDPOINT_GONE) == (status == 410)
    assert result.retry_after == (7.0 if status in (429, 502, 503, 504) else None)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), (None, None), ("", None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0)],
)
def test_retry_after_in_seconds_or_as_a_date(value: str | None, seconds: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)

    assert parse_retry_after(value, now=now) == seconds


def test_a_sealed_secret_opens_only_with_its_key_and_owner() -> None:
    box = SecretBox(new_key())
    secret = new_webhook_secret()
    sealed = box.seal(secret, owner="7001234567")

    assert secret not in sealed and sealed.startswith("v1.")
    assert box.open(sealed, owner="7001234567") == secret
    with pytest.raises(UnsealError, match="rotate the secret"):
        box.open(sealed, owner="7007654321")
    with pytest.raises(UnsealError):
        SecretBox(new_key()).open(sealed, owner="7001234567")
