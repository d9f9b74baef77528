"""The outbox channel: writes what an unconfigured channel would send to a folder, clearly marked NOT SENT.

One file per alert and channel (`{alert_id}.email.eml`, `{alert_id}.sms.txt`), replaced atomically, so a
repeated delivery of the same alert rewrites the same file instead of adding another.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import ClassVar

from jawazat_events.services.channels import ChannelName, DeliveryResult, OutgoingMessage, message_id_for
from jawazat_events.subscribers.email import build_email_message
from jawazat_events.subscribers.gsm import GSM7_LIMIT, is_gsm7, segments, sms_length

log = logging.getLogger(__name__)

_SAFE_ALERT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_NOT_SENT = {
    "email": "NOT SENT - outbox only: no SMTP server is configured (JAWAZAT_SMTP_URL); nothing was e-mailed.",
    "sms": "NOT SENT - outbox only: Twilio is not configured (JAWAZAT_TWILIO_*); no SMS was sent.",
}


class OutboxChannel:
    """Stands in for the e-mail or SMS channel when it is not configured; `channel_name` picks which."""

    name: ClassVar[str]
    max_length: ClassVar[int | None]
    max_per_second: float = 1000.0
    extension: ClassVar[str]
    # What the attempt's detail says (establishments read it): what happened, never a server path.
    sent_detail: ClassVar[str]

    def __new__(cls, folder: Path, channel_name: ChannelName, *, sender: str | None = None) -> OutboxChannel:
        kind = _KINDS.get(channel_name) if cls is OutboxChannel else cls
        if kind is None:
            raise ValueError(f"an outbox stands in for 'email' or 'sms', not '{channel_name}'")
        return super().__new__(kind)

    def __init__(self, folder: Path, channel_name: ChannelName, *, sender: str | None = None) -> None:
        self.folder = Path(folder)
        self.sender = sender

    def path_for(self, alert_id: str) -> Path:
        """The file that holds this alert's message."""
        return self.folder / f"{alert_id}.{self.name}.{self.extension}"

    def _content(self, message: OutgoingMessage) -> bytes:
        raise NotImplementedError

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Write the message to its file; the result is sent with provider id `outbox:<filename>`."""
        if message.channel != self.name:
            return DeliveryResult.failed(f"the {self.name} outbox cannot take a {message.channel} message")
        if not _SAFE_ALERT_ID.fullmatch(message.alert_id):
            return DeliveryResult.failed(f"alert id '{message.alert_id}' cannot name an outbox file")
        try:
            content = self._content(message)
        except ValueError as error:
            return DeliveryResult.failed(f"cannot build the message: {error}")
        target = self.path_for(message.alert_id)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomically(target, content)
        except OSError as error:  # a full disk or a permission problem may pass; the message is fine
            # Establishments read attempt details: they learn what happened, operators (the log) where.
            log.warning("outbox: cannot write %s: %s", target, error)
            reason = error.strerror or type(error).__name__
            return DeliveryResult.retry(f"cannot write the outbox file ({reason}); will try again")
        log.info("outbox: alert %s written to %s (not sent)", message.alert_id, target)
        return DeliveryResult.sent(f"outbox:{target.name}", detail=self.sent_detail)

    async def aclose(self) -> None:
        """Nothing to release."""


class _EmailOutbox(OutboxChannel):
    name = "email"
    max_length = None
    extension = "eml"
    sent_detail = "written to the outbox folder (not sent): no SMTP server configured"

    def _content(self, message: OutgoingMessage) -> bytes:
        mime = build_email_message(message, self.sender or "", readable=True)
        if not self.sender:
            del mime["From"]
        notice = f"X-Jawazat-Outbox: {_NOT_SENT['email']}\r\n".encode()
        return notice + mime.as_bytes()


class _SmsOutbox(OutboxChannel):
    name = "sms"
    max_length = GSM7_LIMIT
    extension = "txt"
    sent_detail = "written to the outbox folder (not sent): no SMS provider configured"

    def _content(self, message: OutgoingMessage) -> bytes:
        encoding = "GSM-7" if is_gsm7(message.text) else "UCS-2"
        lines = [
            _NOT_SENT["sms"],
            f"To: {message.recipient}",
            f"Message-ID: {message_id_for(message.alert_id)}",
            f"Alert-ID: {message.alert_id}",
            f"Language: {message.language}",
            f"Length: {sms_length(message.text)} {encoding} units, {segments(message.text)} segment(s)",
            "",
            message.text,
            "",
        ]
        return "\n".join(lines).encode("utf-8")


_KINDS: dict[str, type[OutboxChannel]] = {"email": _EmailOutbox, "sms": _SmsOutbox}


def _write_atomically(target: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
