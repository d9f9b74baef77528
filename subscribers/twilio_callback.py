"""Twilio's status callbacks: checking their signature, and what a reported MessageStatus means for us."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from twilio.request_validator import RequestValidator

from jawazat_events.domain.delivery import AlertStatus

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

    status: AlertStatus  # delivered or failed
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
        return StatusChange(AlertStatus.DELIVERED)
    if status in ("undelivered", "failed"):
        if error_code:
            meaning = DELIVERY_ERROR_CODES.get(error_code)
            reason = f"Twilio reported {status}, error {error_code}" + (f": {meaning}" if meaning else "")
        else:
            reason = f"Twilio reported {status} without an error code"
        return StatusChange(AlertStatus.FAILED, reason)
    return None  # queued, accepted, sending, sent, read, scheduled ...: nothing our statuses track


def status_change_from_callback(params: Mapping[str, str]) -> tuple[str, StatusChange | None]:
    """The message SID and the status change in a callback's form parameters."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    return sid, map_message_status(status, params.get("ErrorCode") or None)


class ConfirmDelivery(Protocol):
    """Records a provider's delivery report (`services.dispatch.Dispatcher.confirm`)."""

    def __call__(self, *, provider_id: str, status: AlertStatus, detail: str) -> bool: ...


class TwilioStatusCallbacks:
    """Twilio's status callbacks: checked by signature, then the status change recorded for the SMS."""

    def __init__(self, *, auth_token: str | None, confirm: ConfirmDelivery) -> None:
        self.auth_token = auth_token
        self.confirm = confirm

    def handle(self, params: Mapping[str, str], url: str, signature: str) -> bool:
        """False when the signature is wrong (the caller answers 403); a status that changes nothing
        (queued, sent, a repeat) or an unknown message is accepted and ignored."""
        if not self.auth_token or not verify_twilio_signature(self.auth_token, url, params, signature):
            return False
        sid, change = status_change_from_callback(params)
        if change is not None and sid:
            self.confirm(provider_id=sid, status=change.status, detail=change.reason or change.status)
        return True
