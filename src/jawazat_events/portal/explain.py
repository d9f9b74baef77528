"""Alert statuses in plain words, with what to do next, as the establishment's staff need them.

A failed alert's last attempt says why (a Twilio error code, an SMTP reply, a webhook receiver's answer);
the reason picks the advice: an invalid mobile is corrected in Contacts or on the subscription, a refused
e-mail address likewise, a disabled webhook endpoint is set again in Contacts. A pending alert whose last
attempt was held by the establishment's quiet hours says until when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jawazat_events.domain.delivery import AttemptOutcome
from jawazat_events.services.delivery_rules import held_until

# Words in a failure's detail that mean the contact itself is wrong, by channel.
_BAD_MOBILE = ("21211", "21614", "30006", "phone number", "not a mobile", "landline")
_BAD_EMAIL = ("RCPT", "recipient", "e-mail address", "mailbox", "550", "553")


@dataclass(frozen=True)
class Explanation:
    """Catalogue keys: what the status means, and what to do about it; `until`: when a held alert goes."""

    meaning: str
    next_step: str
    until: datetime | None = None


def explain(alert: dict[str, Any]) -> Explanation:
    """The plain-language meaning of an alert's status and the next step, as catalogue keys."""
    status = str(alert.get("status", "pending"))
    attempts = alert.get("attempts") or []
    detail = str(attempts[-1].get("detail", "")) if attempts else ""
    if status == "failed":
        if alert.get("channel") == "sms" and any(word in detail for word in _BAD_MOBILE):
            return Explanation("status.failed.mobile", "next.fix_mobile")
        if alert.get("channel") == "email" and any(word in detail for word in _BAD_EMAIL):
            return Explanation("status.failed.email", "next.fix_email")
        if alert.get("channel") == "webhook":
            return Explanation("status.failed.webhook", "next.fix_webhook")
        return Explanation("status.failed", "next.check_contact")
    if status == "dead_letter":
        if alert.get("channel") == "webhook":
            return Explanation("status.dead_letter", "next.fix_webhook")
        return Explanation("status.dead_letter", "next.check_contact")
    last = str(attempts[-1].get("outcome", "")) if attempts else ""
    if status == "pending" and last == AttemptOutcome.HELD and (until := held_until(detail)) is not None:
        return Explanation("status.held", "next.held", until)
    if status == "retrying":
        return Explanation("status.retrying", "next.wait")
    if status == "sent" and alert.get("channel") == "webhook":
        return Explanation("status.sent.webhook", "next.nothing")
    if status in ("sent", "delivered", "pending"):
        return Explanation(f"status.{status}", "next.nothing")
    return Explanation("status.unknown", "next.nothing")
