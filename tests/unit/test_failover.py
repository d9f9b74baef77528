"""The failover channel's rules with scripted providers (the real servers are in the integration tests):
priority order, the circuit breaker's cool-down, no failover on a permanent failure, provider names."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from jawazat_events.services.channels import DeliveryResult, OutgoingMessage
from jawazat_events.subscribers.failover import FailoverChannel, Provider, address_words, split_urls

MESSAGE = OutgoingMessage("a1", "sms", "+966501234567", None, "text", None, "en")


@dataclass
class Scripted:
    """A provider answering from a script (then `sent`), counting calls."""

    script: list[DeliveryResult] = field(default_factory=list)
    calls: int = 0
    name: ClassVar[str] = "scripted"
    max_length: ClassVar[int | None] = None
    max_per_second: float = 10.0

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        self.calls += 1
        return self.script.pop(0) if self.script else DeliveryResult.sent("SM1", "accepted")

    async def aclose(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def channel(*providers: Scripted, clock: Clock, hide: tuple[str, ...] = ()) -> FailoverChannel:
    return FailoverChannel(
        [Provider(f"twilio#{n}", p, hide) for n, p in enumerate(providers, start=1)],
        cooldown_seconds=30,
        clock=clock,
    )


def test_a_transient_failure_fails_over_within_the_attempt_and_opens_the_breaker() -> None:
    clock = Clock()
    first = Scripted([DeliveryResult.retry("Twilio HTTP 503 from 127.0.0.1:8443")])
    second = Scripted()
    failover = channel(first, second, clock=clock, hide=("127.0.0.1:8443",))

    result = asyncio.run(failover.send(MESSAGE))
    again = asyncio.run(failover.send(MESSAGE))
    clock.now += 31
    later = asyncio.run(failover.send(MESSAGE))

    assert result.outcome == "sent" and result.provider_id == "SM1"
    assert result.detail == "twilio#1: Twilio HTTP 503 from twilio#1 (skipped for 30 s); twilio#2: accepted"
    assert again.detail == "twilio#2: accepted"  # the first is cooling down
    assert later.detail == "twilio#1: accepted"  # and tried first again after it
    assert (first.calls, second.calls) == (2, 2)


def test_a_permanent_failure_of_the_recipient_does_not_fail_over() -> None:
    first = Scripted([DeliveryResult.failed("Twilio HTTP 400 error 21211: invalid 'To' phone number")])
    second = Scripted()

    result = asyncio.run(channel(first, second, clock=Clock()).send(MESSAGE))

    assert result.outcome == "failed"
    assert result.detail.startswith("twilio#1: Twilio HTTP 400 error 21211")
    assert second.calls == 0


def test_when_all_fail_the_attempt_is_a_retry_naming_each_and_all_cool_down() -> None:
    clock = Clock()
    first, second = Scripted([DeliveryResult.retry("down")]), Scripted([DeliveryResult.retry("503")])
    failover = channel(first, second, clock=clock)

    result = asyncio.run(failover.send(MESSAGE))
    clock.now += 1
    probe = asyncio.run(failover.send(MESSAGE))

    assert result.outcome == "retry"
    assert result.detail == "twilio#1: down (skipped for 30 s); twilio#2: 503 (skipped for 30 s)"
    # Both cooling down: the one that recovers first is still tried (half-open), never nothing.
    assert probe.detail == "twilio#1: accepted"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (
            "smtp://user:pw@mail.example:2525",
            {"mail.example:2525", "('mail.example', 2525)", "mail.example on port 2525", "mail.example"},
        ),
        ("http://127.0.0.1:8080", {"127.0.0.1:8080", "('127.0.0.1', 8080)", "127.0.0.1"}),
    ],
)
def test_address_words_cover_the_forms_errors_use(url: str, words: set[str]) -> None:
    assert words <= set(address_words(url))


def test_settings_list_providers_in_order() -> None:
    assert split_urls(" smtp://a:25 , smtp://b:25,, ") == ["smtp://a:25", "smtp://b:25"]


def test_a_failover_needs_a_provider() -> None:
    with pytest.raises(ValueError, match="at least one provider"):
        FailoverChannel([])
