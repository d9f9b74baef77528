"""The e-mail channel: SMTP URL parsing, the MIME message, and sending with aiosmtplib.

SMTP replies are classified by their code wherever they come (greeting, HELO, MAIL, RCPT, DATA):
4xx means try again later, 5xx means this message can never be delivered. Lost connections and timeouts
are transient. Rejected credentials and a server lacking STARTTLS are configuration problems, not the
message's: they are retried (and dead-lettered after the maximum attempts) so that fixing the
configuration lets the pending alerts go out.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP, SMTPUTF8
from typing import ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib

from jawazat_events.services.channels import DeliveryResult, OutgoingMessage, message_id_for
from jawazat_events.subscribers.ratelimit import RateLimiter

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP server, parsed from `JAWAZAT_SMTP_URL`."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    use_tls: bool = False


def parse_smtp_url(url: str) -> SmtpSettings:
    """Parse `smtp://[user:pass@]host:port[?starttls=true]` (or `smtps://` for TLS from the start)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"the SMTP URL must start with smtp:// or smtps://, got '{_redact(url)}'")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"the SMTP URL '{_redact(url)}' has an invalid port") from None
    if not parts.hostname:
        raise ValueError(f"the SMTP URL '{_redact(url)}' names no host")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError(f"the SMTP URL '{_redact(url)}' must not have a path; use smtp://host:port")
    starttls = False
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "starttls":
            raise ValueError(f"the SMTP URL has an unknown option '{key}'; only starttls is understood")
        if value.lower() not in _TRUE | _FALSE:
            raise ValueError(f"the SMTP URL's starttls must be true or false, not '{value}'")
        starttls = value.lower() in _TRUE
    use_tls = parts.scheme == "smtps"
    if use_tls and starttls:
        raise ValueError("the SMTP URL asks for both smtps:// and starttls; choose one")
    if (parts.username is None) != (parts.password is None):
        raise ValueError("the SMTP URL must give both user and password (user:pass@host), or neither")
    return SmtpSettings(
        host=parts.hostname,
        port=port if port is not None else (465 if use_tls else 25),
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        starttls=starttls,
        use_tls=use_tls,
    )


def _redact(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def build_email_message(message: OutgoingMessage, sender: str, *, readable: bool = False) -> EmailMessage:
    """The MIME message: multipart/alternative (text, then HTML) with the alert's deterministic Message-ID.

    `readable` keeps the bodies as 8-bit UTF-8 instead of base64, for files a person opens (the outbox).
    """
    mime = EmailMessage(policy=SMTPUTF8 if readable else SMTP)
    mime["From"] = sender
    mime["To"] = message.recipient
    mime["Subject"] = message.subject or ""
    mime["Message-ID"] = message_id_for(message.alert_id)
    mime["Date"] = email.utils.format_datetime(datetime.now(UTC))
    mime["Content-Language"] = "ar, en"
    mime["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to notifications
    mime["X-Jawazat-Alert-Id"] = message.alert_id
    cte = "8bit" if readable else None
    mime.set_content(message.text, subtype="plain", charset="utf-8", cte=cte)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html", charset="utf-8", cte=cte)
    return mime


def wire_message(message: OutgoingMessage, sender: str) -> bytes:
    """The same message as `build_email_message` gives (headers, parts, Message-ID), as the 7-bit bytes
    SMTP carries, built with the `email` package's compat32 classes: the policy-based `EmailMessage`
    parses and refolds every header, which cost most of a delivery worker's time (measured: ~23 ms a
    message against ~6 ms, on a loaded 2-core machine). Refuses line breaks in headers as that does.
    """
    subject = message.subject or ""
    for name, value in (("From", sender), ("To", message.recipient), ("Subject", subject)):
        if "\r" in value or "\n" in value:
            raise ValueError(f"{name} header may not contain line breaks")
    text = MIMEText(_lines(message.text), "plain", "utf-8")
    mime: Message = text
    if message.html is not None:
        html = MIMEText(_lines(message.html), "html", "utf-8")
        mime = MIMEMultipart("alternative", _subparts=[text, html])
    mime["From"] = _ascii_address(sender)
    mime["To"] = _ascii_address(message.recipient)
    mime["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]
    mime["Message-ID"] = message_id_for(message.alert_id)
    mime["Date"] = email.utils.format_datetime(datetime.now(UTC))
    mime["Content-Language"] = "ar, en"
    mime["Auto-Submitted"] = "auto-generated"
    mime["X-Jawazat-Alert-Id"] = message.alert_id
    return mime.as_bytes()


def _lines(body: str) -> str:
    # As `set_content` under the SMTP policy: CRLF line ends, and a last one.
    return b"\r\n".join(body.encode("utf-8").splitlines()).decode("utf-8") + "\r\n"


def _ascii_address(value: str) -> str:
    if value.isascii():
        return value
    name, address = email.utils.parseaddr(value)
    return email.utils.formataddr((name, address), charset="utf-8")


def _plain_address(recipient: str) -> bool:
    _, address = email.utils.parseaddr(recipient)
    local, at, domain = address.rpartition("@")
    return address == recipient and bool(local and at and domain) and not any(c.isspace() for c in address)


def classify_smtp_error(error: Exception) -> DeliveryResult:
    """Map an aiosmtplib or socket error to retry (transient or configuration) or failed (permanent)."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        error = error.recipients[0]
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return DeliveryResult.retry(
            f"SMTP {error.code} at AUTH: the server rejected the credentials in JAWAZAT_SMTP_URL "
            f"(configuration): {error.message}"
        )
    if isinstance(error, aiosmtplib.SMTPResponseException):
        detail = f"SMTP {error.code} at {_stage(error)}: {error.message}"
        if 500 <= error.code <= 599:
            return DeliveryResult.failed(detail)
        return DeliveryResult.retry(detail)
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return DeliveryResult.retry(f"SMTP server does not support what JAWAZAT_SMTP_URL asks: {error}")
    if isinstance(error, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return DeliveryResult.retry(f"SMTP timeout: {error or type(error).__name__}")
    return DeliveryResult.retry(f"SMTP connection problem: {type(error).__name__}: {error}")


def _stage(error: aiosmtplib.SMTPResponseException) -> str:
    if isinstance(error, aiosmtplib.SMTPRecipientRefused):
        return f"RCPT <{error.recipient}>"
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        return f"MAIL <{error.sender}>"
    if isinstance(error, aiosmtplib.SMTPDataError):
        return "DATA"
    if isinstance(error, aiosmtplib.SMTPConnectResponseError):
        return "connect"
    if isinstance(error, aiosmtplib.SMTPHeloError):
        return "HELO"
    return "reply"


class EmailChannel:
    """Sends alerts by SMTP with aiosmtplib over one connection, kept open while messages flow.

    Messages go one after another on the connection (SMTP has one transaction at a time); any error
    closes it, so the next message starts on a fresh connection and a failure never leaks into it.
    """

    name: ClassVar[str] = "email"
    max_length: ClassVar[int | None] = None
    max_per_second: float = 10.0

    def __init__(
        self,
        smtp_url: str,
        sender: str,
        *,
        timeout: float = 10.0,
        max_per_second: float | None = None,
    ) -> None:
        self.settings = parse_smtp_url(smtp_url)
        self.sender = sender
        self.timeout = timeout
        if max_per_second is not None:
            self.max_per_second = max_per_second
        self._limiter = RateLimiter(self.max_per_second)
        self._client: aiosmtplib.SMTP | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Hand the message to the SMTP server; the result says sent, retry or failed."""
        if message.channel != "email":
            return DeliveryResult.failed(f"the e-mail channel cannot send a {message.channel} message")
        if not _plain_address(message.recipient):
            # aiosmtplib would send RCPT TO the first word of it: refuse rather than mail someone else
            return DeliveryResult.failed(f"recipient '{message.recipient}' is not a plain e-mail address")
        try:
            mime: EmailMessage | bytes = (
                wire_message(message, self.sender)
                if self.sender.isascii() and message.recipient.isascii()
                else build_email_message(message, self.sender)  # SMTPUTF8 addresses: the library's way
            )
        except ValueError as error:  # e.g. a recipient with line breaks: header injection refused
            return DeliveryResult.failed(f"cannot build the e-mail: {error}")
        await self._limiter.acquire()
        async with self._connection_lock():
            reused = self._client is not None and self._client.is_connected
            try:
                reply = await self._send_on_connection(mime, message.recipient)
            except aiosmtplib.SMTPServerDisconnected as error:
                await self._drop()
                if not reused:
                    return classify_smtp_error(error)
                # The server closed an idle connection between messages: once more on a fresh one.
                try:
                    reply = await self._send_on_connection(mime, message.recipient)
                except (aiosmtplib.SMTPException, OSError) as again:
                    await self._drop()
                    return classify_smtp_error(again)
            except (aiosmtplib.SMTPException, OSError) as error:
                await self._drop()
                return classify_smtp_error(error)
        accepted = f"SMTP server accepted it: {reply}"
        return DeliveryResult.sent(message_id_for(message.alert_id), detail=accepted)

    async def _send_on_connection(self, mime: EmailMessage | bytes, recipient: str) -> str:
        if self._client is None or not self._client.is_connected:
            s = self.settings
            client = aiosmtplib.SMTP(
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.use_tls,
                start_tls=s.starttls,
                timeout=self.timeout,
            )
            self._client = client
            await client.connect()
        if isinstance(mime, bytes):
            _, reply = await self._client.sendmail(self.sender, [recipient], mime)
        else:
            _, reply = await self._client.send_message(mime, sender=self.sender, recipients=[recipient])
        return reply

    def _connection_lock(self) -> asyncio.Lock:
        # One lock per event loop: delivery runs each pass in its own loop.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._client = asyncio.Lock(), loop, None
        return self._lock

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                client.close()

    async def aclose(self) -> None:
        """Say goodbye to the server and close the connection, if one is open."""
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
