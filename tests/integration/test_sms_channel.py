"""The SMS channel: twilio's real async client against a loopback endpoint speaking Twilio's Messages API."""

from __future__ import annotations

import asyncio
import base64
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from jawazat_events.services.channels import DeliveryResult, OutgoingMessage
from jawazat_events.subscribers.ratelimit import RateLimiter
from jawazat_events.subscribers.sms import SmsChannel
from tests.support.servers import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
    FakeTwilio,
    Reply,
    messages_path,
    running_twilio,
)

ACCOUNT_SID = TWILIO_ACCOUNT_SID
AUTH_TOKEN = TWILIO_AUTH_TOKEN
FROM = TWILIO_FROM
TO = "+966501234567"
CALLBACK = "https://notify.jawazat.example/v1/twilio/status"
BODY = "الجوازات: مغادرة راجيش كومار (هوية ******6543) من المملكة عبر منفذ KFIA في 2026-07-01 12:05."
MESSAGES_PATH = messages_path(ACCOUNT_SID)

# twilio 9.13's async client still hands aiohttp a BasicAuth object: the library's to change, not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning"
)


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilio]:
    with running_twilio(ACCOUNT_SID) as state:
        yield state


def sms(text: str = BODY) -> OutgoingMessage:
    return OutgoingMessage("9a1b2c3d-0000-4000-8000-00000000000a", "sms", TO, None, text, None, "ar")


def channel(api_base: str, **options: Any) -> SmsChannel:
    return SmsChannel(ACCOUNT_SID, AUTH_TOKEN, FROM, api_base=api_base, **options)


def send_all(sms_channel: SmsChannel, *messages: OutgoingMessage) -> list[DeliveryResult]:
    async def go() -> list[DeliveryResult]:
        try:
            return [await sms_channel.send(message) for message in messages]
        finally:
            await sms_channel.aclose()

    return asyncio.run(go())


def test_the_real_client_posts_to_the_loopback_api_and_reports_the_sid(twilio_api: FakeTwilio) -> None:
    [result] = send_all(channel(twilio_api.url, status_callback=CALLBACK), sms())

    [request] = twilio_api.received
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.authorization == f"Basic {expected_auth}"
    assert request.content_type.startswith("application/x-www-form-urlencoded")
    assert request.form == {"To": TO, "From": FROM, "Body": BODY, "StatusCallback": CALLBACK}
    assert result.outcome == "sent"
    assert (
        result.provider_id is not None
        and result.provider_id.startswith("SM")
        and len(result.provider_id) == 34
    )
    assert "queued" in result.detail


def test_without_a_status_callback_none_is_sent(twilio_api: FakeTwilio) -> None:
    [result] = send_all(channel(twilio_api.url), sms("Passports: test"))
    assert result.outcome == "sent"
    assert twilio_api.received[0].form == {"To": TO, "From": FROM, "Body": "Passports: test"}


def test_a_server_error_is_a_retry_and_the_next_attempt_goes_through(twilio_api: FakeTwilio) -> None:
    twilio_api.script = [Reply(500, {"code": 20500, "message": "Internal Server Error", "status": 500})]
    first, second = send_all(channel(twilio_api.url), sms(), sms())
    assert first.outcome == "retry" and "HTTP 500" in first.detail and first.provider_id is None
    assert second.outcome == "sent" and second.provider_id and second.provider_id.startswith("SM")
    assert len(twilio_api.received) == 2


@pytest.mark.parametrize(
    ("status", "body", "outcome", "fragments"),
    [
        (
            429,
            {"code": 20429, "message": "Too Many Requests", "status": 429},
            "retry",
            ("429", "rate limited"),
        ),
        (503, {"code": 20503, "message": "Service Unavailable", "status": 503}, "retry", ("503",)),
        (
            400,
            {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400},
            "failed",
            ("21211", "The 'To' number is not a valid phone number."),
        ),
        (
            400,
            {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
            "failed",
            ("21610", "unsubscribed"),
        ),
        (
            400,
            {"code": 21614, "message": "'To' number is not a valid mobile number", "status": 400},
            "failed",
            ("21614", "not a mobile"),
        ),
        (
            400,
            {"code": 30006, "message": "Landline or unreachable carrier", "status": 400},
            "failed",
            ("30006",),
        ),
        (
            400,
            {"code": 21408, "message": "Permission to send an SMS has not been enabled", "status": 400},
            "failed",
            ("21408",),
        ),
        (400, {"code": 21602, "message": "Message body is required.", "status": 400}, "failed", ("21602",)),
        (401, {"code": 20003, "message": "Authenticate", "status": 401}, "retry", ("20003", "credentials")),
    ],
    ids=["429", "503", "21211", "21610", "21614", "30006", "21408", "other-4xx", "bad-credentials"],
)
def test_twilio_errors_map_to_retry_or_failed_with_the_code(
    twilio_api: FakeTwilio, status: int, body: dict[str, Any], outcome: str, fragments: tuple[str, ...]
) -> None:
    twilio_api.script = [Reply(status, body)]
    [result] = send_all(channel(twilio_api.url), sms())
    assert result.outcome == outcome
    assert result.provider_id is None
    for fragment in fragments:
        assert fragment in result.detail
    assert len(twilio_api.received) == 1


def test_a_closed_port_is_a_retry() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    [result] = send_all(channel(closed), sms())
    assert result.outcome == "retry" and "cannot reach Twilio" in result.detail


def test_a_hanging_api_is_a_retry_after_the_timeout(twilio_api: FakeTwilio) -> None:
    twilio_api.script = [Reply(delay=2.0)]
    started = time.monotonic()
    [result] = send_all(channel(twilio_api.url, timeout=0.3), sms())
    assert result.outcome == "retry" and "did not answer within 0.3 s" in result.detail
    assert time.monotonic() - started < 1.5


def test_an_email_message_is_refused_as_a_result(twilio_api: FakeTwilio) -> None:
    mail = OutgoingMessage("a1", "email", "hr@example.com", "s", "t", "<p>t</p>", "en")
    [result] = send_all(channel(twilio_api.url), mail)
    assert result.outcome == "failed" and twilio_api.received == []


@pytest.mark.parametrize("api_base", ["127.0.0.1:8080", "ftp://127.0.0.1", "http://"])
def test_a_malformed_api_base_is_refused_at_construction(api_base: str) -> None:
    with pytest.raises(ValueError, match="Twilio API base"):
        channel(api_base)


def test_the_channel_paces_its_calls_to_twilio(twilio_api: FakeTwilio) -> None:
    started = time.monotonic()
    results = send_all(channel(twilio_api.url, max_per_second=20.0), *[sms()] * 6)
    elapsed = time.monotonic() - started
    assert [r.outcome for r in results] == ["sent"] * 6
    # A tenth of a second's worth (2 at 20/s) at once, then one every 1/20 s.
    assert elapsed >= 4 / 20 * 0.9


@pytest.mark.parametrize(("rate", "burst"), [(0.5, 1), (10.0, 1), (20.0, 2), (250.0, 25)])
def test_a_channel_may_send_a_tenth_of_a_seconds_worth_at_once(rate: float, burst: int) -> None:
    assert RateLimiter.for_channel(rate).burst == burst


@pytest.mark.parametrize(("count", "rate", "burst"), [(6, 20.0, 1), (9, 40.0, 3)])
def test_rate_limiter_spaces_acquires_at_the_rate(count: int, rate: float, burst: int) -> None:
    async def measure() -> float:
        limiter = RateLimiter(rate, burst)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(limiter.acquire() for _ in range(count)))
        return loop.time() - started

    elapsed = asyncio.run(measure())
    expected = (count - burst) / rate  # the first `burst` go at once, then one every 1/rate seconds
    assert expected * 0.9 <= elapsed <= expected + 0.25


def test_rate_limiter_refuses_a_meaningless_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(5, burst=0)
