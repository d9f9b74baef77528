"""Twilio's status callbacks: checking their signature, and what a reported MessageStatus means for us."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from twilio.request_validator import RequestValidator

# Codes Twilio reports in callbacks for undelivered messages (https://www.twilio.com/docs/api/errors).
DELIVERY_ERROR_CODES: dict[str, str] = {
    "30003": "unreachable destination handset",
    "30004": "message blocked",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "message filtered by the carrier",
    "30008": "unknown error",
}


@dataclass(frozen=True)
class StatusChange:
    """The alert status a Twilio callback calls for, with the reason for a failure."""

    status: Literal["delivered", "failed"]
    reason: str | None = None


def verify_twilio_signature(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """True when `X-Twilio-Signature` matches the full callback URL and the POSTed form parameters."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def map_message_status(message_status: str, error_code: str | None = None) -> StatusChange | None:
    """Our status for a Twilio MessageStatus: delivered, failed (with the error code), or None (no change)."""
    status = message_status.strip().lower()
    if status == "delivered":
        return StatusChange("delivered")
    if status in ("undelivered", "failed"):
        if error_code:
            meaning = DELIVERY_ERROR_CODES.get(error_code)
            reason = f"Twilio reported {status}, error {error_code}" + (f": {meaning}" if meaning else "")
        else:
            reason = f"Twilio reported {status} without an error code"
        return StatusChange("failed", reason)
    return None  # queued, accepted, sending, sent, read, scheduled ...: nothing our statuses track


def status_change_from_callback(params: Mapping[str, str]) -> tuple[str, StatusChange | None]:
    """The message SID and the status change in a callback's form parameters."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    return sid, map_message_status(status, params.get("ErrorCode") or None)
