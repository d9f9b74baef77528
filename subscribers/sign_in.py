"""Sign-in codes of the web portal, sent through the delivery channels (SMTP, Twilio or the outbox folder).

The message is bilingual like the alerts' e-mails (the user's language first) and names nothing but the
code and how long it lasts. Each code gets its own message id (`sign-in-<uuid>`): the outbox folder keeps
it as `sign-in-<uuid>.email.eml` or `.sms.txt`. A fresh set of channels is made for every code, so codes
sent at the same moment never share a connection.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from jawazat_events.services.channels import Language, OutgoingMessage

log = logging.getLogger(__name__)

SUBJECT: dict[Language, str] = {
    "ar": "رمز الدخول إلى بوابة الجوازات",
    "en": "Your Jawazat portal sign-in code",
}
BODY: dict[Language, str] = {
    "ar": "رمز الدخول إلى بوابة الجوازات: {code}\nصالح لمدة 10 دقائق. لا تشاركه مع أحد.",  # noqa: RUF001
    "en": "Your Jawazat portal sign-in code: {code}\nIt is valid for 10 minutes. Do not share it.",
}
SMS: dict[Language, str] = {
    "ar": "الجوازات: رمز الدخول {code} صالح 10 دقائق",
    "en": "Passports: sign-in code {code}, valid 10 minutes",
}


def code_message(*, channel: str, recipient: str, code: str, language: str) -> OutgoingMessage:
    """The message carrying one sign-in code."""
    first: Language = "en" if language == "en" else "ar"
    second: Language = "ar" if first == "en" else "en"
    if channel == "sms":
        text = SMS[first].format(code=code)
        subject = None
    else:
        text = BODY[first].format(code=code) + "\n\n" + BODY[second].format(code=code) + "\n"
        subject = f"{SUBJECT[first]} / {SUBJECT[second]}"
    return OutgoingMessage(
        alert_id=f"sign-in-{uuid.uuid4()}",
        channel="sms" if channel == "sms" else "email",
        recipient=recipient,
        subject=subject,
        text=text,
        html=None,
        language=first,
    )


class ChannelCodeSender:
    """Sends portal sign-in codes through freshly made channels (`make_channels()` per code)."""

    def __init__(self, make_channels: Callable[[], Mapping[str, Any]]) -> None:
        self.make_channels = make_channels

    async def send_code(self, pending: Any) -> bool:
        """Send one code; a refusal or failure is logged (never the code) and reported as False."""
        message = code_message(
            channel=pending.channel, recipient=pending.recipient, code=pending.code, language=pending.language
        )
        channel = self.make_channels()[message.channel]
        try:
            result = await channel.send(message)
        finally:
            await channel.aclose()
        if not result.ok:
            log.warning(
                "sign-in code %s not sent by %s: %s", message.alert_id, message.channel, result.detail
            )
        return bool(result.ok)
