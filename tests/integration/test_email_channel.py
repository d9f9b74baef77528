"""The e-mail channel against a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, how refusals map."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest

from jawazat_events.services.channels import DeliveryResult, OutgoingMessage
from jawazat_events.subscribers.email import EmailChannel, SmtpSettings, parse_smtp_url
from jawazat_events.subscribers.rendering import AlertView, render
from tests.support.servers import RecordingHandler, free_port, running_smtp

T = TypeVar("T")
ALERT_ID = "3d8f6a52-9b1e-4c07-a5d2-7e6f10c2b9aa"
SENDER = "notifications@jawazat.example"


@pytest.fixture
def smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    with running_smtp() as server:
        yield server.handler, server.port


def run(make: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await make()

    return asyncio.run(main())


def alert_message(recipient: str = "hr@establishment.example", alert_id: str = ALERT_ID) -> OutgoingMessage:
    view = AlertView(
        alert_id=alert_id,
        event_type="border_crossing",
        notification_type="entry_exit",
        id_number="2109876543",
        person_name_ar="راجيش كومار",
        person_name_en="Rajesh Kumar",
        establishment_name="Al Amal Contracting",
        occurred_at=datetime(2026, 7, 1, 9, 5, tzinfo=UTC),
        fields={"direction": "exit", "port": "KFIA"},
    )
    return render(view, channel="email", recipient=recipient, language="en", tz=ZoneInfo("Asia/Riyadh"))


def send(port: int, message: OutgoingMessage, *, timeout: float = 5.0) -> DeliveryResult:
    channel = EmailChannel(f"smtp://127.0.0.1:{port}", SENDER, timeout=timeout)

    async def go() -> DeliveryResult:
        try:
            return await channel.send(message)
        finally:
            await channel.aclose()

    return run(go)


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_an_accepted_message_arrives_whole_with_both_languages(
    smtp_server: tuple[RecordingHandler, int],
) -> None:
    handler, port = smtp_server
    message = alert_message()
    result = send(port, message)

    assert result.outcome == "sent"
    assert result.provider_id == f"<{ALERT_ID}@jawazat.example>"
    assert result.detail == "SMTP server accepted it: 2.0.0 Message accepted for delivery"
    [(mail_from, rcpt_tos, raw)] = handler.received
    assert (mail_from, rcpt_tos) == (SENDER, ["hr@establishment.example"])
    mime = parsed(raw)
    assert mime["To"] == "hr@establishment.example"
    assert mime["From"] == SENDER
    assert mime["Subject"] == message.subject
    assert "إشعار الجوازات" in mime["Subject"] and "Passports notification" in mime["Subject"]
    assert mime["Message-ID"] == f"<{ALERT_ID}@jawazat.example>"
    assert mime.get_content_type() == "multipart/alternative"
    plain, html = mime.iter_parts()
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    text_body, html_body = plain.get_content(), html.get_content()
    assert "مغادرة راجيش كومار" in text_body and "Rajesh Kumar (ID ******6543) left the Kingdom" in text_body
    assert text_body.index("مغادرة راجيش") < text_body.index("Rajesh Kumar (ID")
    assert html_body.index('dir="rtl" lang="ar"') < html_body.index('dir="ltr" lang="en"')
    assert "2109876543" not in raw.decode("ascii", "replace") and "2109876543" not in text_body + html_body


def test_a_resend_of_the_same_alert_carries_the_same_message_id(
    smtp_server: tuple[RecordingHandler, int],
) -> None:
    handler, port = smtp_server
    first, second = send(port, alert_message()), send(port, alert_message())
    assert first.provider_id == second.provider_id
    ids = [parsed(raw)["Message-ID"] for _, _, raw in handler.received]
    assert ids == [f"<{ALERT_ID}@jawazat.example>"] * 2


@pytest.mark.parametrize(
    ("stage", "reply", "outcome"),
    [
        ("rcpt_reply", "451 4.3.0 Mailbox temporarily unavailable", "retry"),
        ("data_reply", "451 4.3.0 Try again later", "retry"),
        ("mail_reply", "421 4.7.0 Too many connections", "retry"),
        ("rcpt_reply", "550 5.1.1 No such user here", "failed"),
        ("data_reply", "550 5.7.1 Message rejected as spam", "failed"),
        ("mail_reply", "553 5.7.1 Sender address rejected", "failed"),
    ],
)
def test_smtp_refusals_map_4xx_to_retry_and_5xx_to_failed(
    smtp_server: tuple[RecordingHandler, int], stage: str, reply: str, outcome: str
) -> None:
    handler, port = smtp_server
    setattr(handler, stage, reply)
    result = send(port, alert_message())
    code, _, text = reply.partition(" ")
    assert result.outcome == outcome
    assert f"SMTP {code}" in result.detail and text in result.detail
    assert result.provider_id is None
    assert handler.received == []


def test_a_closed_port_is_a_retry() -> None:
    result = send(free_port(), alert_message(), timeout=2.0)
    assert result.outcome == "retry"
    assert "connection" in result.detail.lower()


@pytest.mark.parametrize(
    ("greeting", "outcome"),
    [
        (b"421 4.3.2 Service not available, closing channel\r\n", "retry"),
        (b"554 5.3.2 No service\r\n", "failed"),
    ],
)
def test_a_refusing_greeting_maps_by_its_code(greeting: bytes, outcome: str) -> None:
    async def scenario() -> DeliveryResult:
        async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(greeting)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(greet, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await EmailChannel(f"smtp://127.0.0.1:{port}", SENDER, timeout=2.0).send(alert_message())

    result = run(scenario)
    assert result.outcome == outcome
    assert f"SMTP {greeting[:3].decode()} at connect" in result.detail


def test_a_server_that_never_answers_is_a_retry_after_the_timeout() -> None:
    async def scenario() -> tuple[DeliveryResult, float]:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # says nothing until the client hangs up

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            started = asyncio.get_running_loop().time()
            result = await EmailChannel(f"smtp://127.0.0.1:{port}", SENDER, timeout=0.5).send(alert_message())
            return result, asyncio.get_running_loop().time() - started

    result, elapsed = run(scenario)
    assert result.outcome == "retry" and "timeout" in result.detail.lower()
    assert elapsed < 3.0


@pytest.mark.parametrize(
    "recipient",
    [
        "hr@establishment.example\r\nBcc: all@example.com",
        "hr establishment@example.com",
        "",
        "hr",
        "<hr@x.example>",
    ],
)
def test_a_recipient_that_is_not_a_plain_address_fails_without_reaching_the_server(
    smtp_server: tuple[RecordingHandler, int], recipient: str
) -> None:
    handler, port = smtp_server
    result = send(port, alert_message(recipient=recipient))
    assert result.outcome == "failed" and "not a plain e-mail address" in result.detail
    assert handler.received == []


def test_an_sms_message_is_refused_as_a_result(smtp_server: tuple[RecordingHandler, int]) -> None:
    handler, port = smtp_server
    sms = OutgoingMessage(ALERT_ID, "sms", "+966501234567", None, "text", None, "ar")
    assert send(port, sms).outcome == "failed"
    assert handler.received == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com:587?starttls=true", SmtpSettings("mail.example.com", 587, starttls=True)),
        ("smtp://127.0.0.1:2525", SmtpSettings("127.0.0.1", 2525)),
        ("smtp://relay.example.com", SmtpSettings("relay.example.com", 25)),
        (
            "smtp://alerts%40jawazat.example:p%40ss%3Aword@mail.example.com:587?starttls=TRUE",
            SmtpSettings("mail.example.com", 587, "alerts@jawazat.example", "p@ss:word", starttls=True),
        ),
        (
            "smtp://user:secret@mail.example.com:25?starttls=false",
            SmtpSettings("mail.example.com", 25, "user", "secret"),
        ),
        (
            "smtps://user:secret@mail.example.com",
            SmtpSettings("mail.example.com", 465, "user", "secret", use_tls=True),
        ),
    ],
)
def test_smtp_urls_parse_host_port_login_and_starttls(url: str, expected: SmtpSettings) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.com:25", "must start with smtp://"),
        ("smtp://:25", "names no host"),
        ("smtp://mail.example.com:99999", "invalid port"),
        ("smtp://mail.example.com:25?tls=1", "unknown option 'tls'"),
        ("smtp://mail.example.com:25?starttls=maybe", "true or false"),
        ("smtps://mail.example.com?starttls=true", "choose one"),
        ("smtp://user@mail.example.com:25", "both user and password"),
        ("smtp://mail.example.com:25/inbox", "must not have a path"),
    ],
)
def test_bad_smtp_urls_are_refused_in_one_clear_sentence(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_smtp_url(url)


def test_the_password_never_shows_in_reprs_or_errors() -> None:
    assert "s3cret" not in repr(parse_smtp_url("smtp://user:s3cret@mail.example.com:25"))
    with pytest.raises(ValueError) as refused:
        parse_smtp_url("smtp://user:s3cret@mail.example.com:25/x")
    assert "s3cret" not in str(refused.value) and "***" in str(refused.value)


def test_messages_go_over_several_connections_at_once_and_one_when_light() -> None:
    # The server holds each reply back 0.2 s, as a slow relay does: with four connections, eight messages
    # overlap four at a time; one after another, they keep to one warm connection.
    handler = RecordingHandler(data_delay=0.2)
    with running_smtp(handler) as server:
        channel = EmailChannel(server.url, SENDER, connections=4, max_per_second=1000)

        async def burst() -> list[DeliveryResult]:
            try:
                messages = [
                    alert_message(alert_id=f"3d8f6a52-9b1e-4c07-a5d2-7e6f10c2b9{n:02d}") for n in range(8)
                ]
                return list(await asyncio.gather(*(channel.send(m) for m in messages)))
            finally:
                await channel.aclose()

        results = run(burst)
        assert [r.outcome for r in results] == ["sent"] * 8
        assert len(handler.received) == 8
        assert handler.most_in_flight == 4
        assert len(handler.peers) == 4

        handler.peers.clear()

        async def one_by_one() -> None:
            try:
                for n in range(3):
                    await channel.send(alert_message(alert_id=f"3d8f6a52-9b1e-4c07-a5d2-7e6f10c2b8{n:02d}"))
            finally:
                await channel.aclose()

        run(one_by_one)
        assert len(handler.received) == 11
        assert len(handler.peers) == 1


def test_a_pool_needs_a_connection() -> None:
    with pytest.raises(ValueError, match="at least one connection"):
        EmailChannel("smtp://127.0.0.1:2525", SENDER, connections=0)
