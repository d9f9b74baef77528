"""Twilio status callbacks: signatures are checked, and MessageStatus values map onto alert statuses."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from jawazat_events.subscribers.twilio_callback import (
    StatusChange,
    map_message_status,
    status_change_from_callback,
    verify_twilio_signature,
)

TOKEN = "0123456789abcdef0123456789abcdef"
URL = "https://notify.jawazat.example/v1/twilio/status?alert=6f1c2d3e"
PARAMS = {
    "MessageSid": "SM0123456789abcdef0123456789abcdef",
    "MessageStatus": "undelivered",
    "ErrorCode": "30006",
    "To": "+966501234567",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
}


def signed() -> str:
    return str(RequestValidator(TOKEN).compute_signature(URL, PARAMS))


def test_a_correctly_signed_callback_is_accepted() -> None:
    assert verify_twilio_signature(TOKEN, URL, PARAMS, signed()) is True


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        (TOKEN, URL, PARAMS | {"MessageStatus": "delivered"}, None),  # a parameter changed
        (TOKEN, URL, PARAMS | {"Extra": "1"}, None),  # a parameter added
        (TOKEN, URL.replace("alert=6f1c2d3e", "alert=00000000"), PARAMS, None),  # another URL
        ("f" * 32, URL, PARAMS, None),  # signed with another account's token
        (TOKEN, URL, PARAMS, ""),  # no signature header
        (TOKEN, URL, PARAMS, "bm90IGEgc2lnbmF0dXJl"),  # a made-up signature
    ],
    ids=["param-changed", "param-added", "other-url", "other-token", "missing", "made-up"],
)
def test_a_tampered_callback_is_refused(
    token: str, url: str, params: dict[str, str], signature: str | None
) -> None:
    assert verify_twilio_signature(token, url, params, signed() if signature is None else signature) is False


@pytest.mark.parametrize(
    ("status", "error_code", "expected"),
    [
        ("delivered", None, StatusChange("delivered")),
        ("DELIVERED", None, StatusChange("delivered")),
        (
            "undelivered",
            "30006",
            StatusChange(
                "failed", "Twilio reported undelivered, error 30006: landline or unreachable carrier"
            ),
        ),
        ("failed", "30008", StatusChange("failed", "Twilio reported failed, error 30008: unknown error")),
        ("failed", "39999", StatusChange("failed", "Twilio reported failed, error 39999")),
        ("undelivered", None, StatusChange("failed", "Twilio reported undelivered without an error code")),
        ("queued", None, None),
        ("sending", None, None),
        ("sent", None, None),
        ("read", None, None),
        ("accepted", None, None),
    ],
)
def test_message_status_maps_onto_alert_statuses(
    status: str, error_code: str | None, expected: StatusChange | None
) -> None:
    assert map_message_status(status, error_code) == expected


def test_a_callback_form_yields_the_message_sid_and_the_change() -> None:
    sid, change = status_change_from_callback(PARAMS)
    assert sid == "SM0123456789abcdef0123456789abcdef"
    assert change is not None and change.status == "failed" and change.reason and "30006" in change.reason
    assert status_change_from_callback({"MessageSid": "SM1", "MessageStatus": "sent"}) == ("SM1", None)
