"""Per-channel retry policies: the webhook schedule (with Retry-After), and e-mail/SMS back-off as before."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from jawazat_events.services.retry import (
    ExponentialBackoff,
    FixedSchedule,
    RetryPolicies,
    parse_duration,
    parse_schedule,
)

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


class NoJitter(random.Random):
    """A random source whose jitter is always the middle of its range (a factor of exactly 1)."""

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2


STANDARD = "5s,5m,30m,2h,5h,10h,14h,20h,24h"


@pytest.mark.parametrize(
    ("text", "seconds"), [("5s", 5), ("5m", 300), ("2h", 7200), ("1d", 86400), ("0.5s", 0.5), (" 30M ", 1800)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5x", "-5s", "five seconds", "5s5m"])
def test_bad_durations_are_named(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_the_published_schedule_in_order_then_dead_letter() -> None:
    policy = FixedSchedule(parse_schedule(STANDARD))
    delays = []
    for failures in range(1, 10):
        decision = policy.decide(failures=failures, age=timedelta(0), now=NOW, reason="503", retry_after=None)
        assert decision.outcome == "retry"
        assert decision.next_at is not None
        delays.append((decision.next_at - NOW).total_seconds())

    last = policy.decide(failures=10, age=timedelta(days=3), now=NOW, reason="HTTP 503", retry_after=None)

    assert delays == [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert last.outcome == "dead_letter" and last.next_at is None
    assert last.detail == "gave up after 10 attempts over 3.1 days; last: HTTP 503"


@pytest.mark.parametrize(("retry_after", "delay"), [(120.0, 120.0), (0.0, 0.0), (10**7, 86400.0)])
def test_retry_after_replaces_the_step_capped_at_the_longest_delay(retry_after: float, delay: float) -> None:
    decision = FixedSchedule(parse_schedule(STANDARD)).decide(
        failures=1, age=timedelta(0), now=NOW, reason="HTTP 429", retry_after=retry_after
    )

    assert decision.next_at == NOW + timedelta(seconds=delay)
    assert "as Retry-After asks" in decision.detail


def test_email_and_sms_keep_the_exponential_back_off() -> None:
    policy = ExponentialBackoff(base_seconds=30, max_attempts=8, rng=NoJitter())
    policies = RetryPolicies(default=policy, by_channel={"webhook": FixedSchedule((5.0,))})

    first = policies.for_channel("email").decide(
        failures=1, age=timedelta(0), now=NOW, reason="421", retry_after=None
    )
    # A Retry-After below the step does not shorten it (a longer one would lengthen it: test_failures).
    third = policies.for_channel("sms").decide(
        failures=3, age=timedelta(0), now=NOW, reason="503", retry_after=60
    )
    eighth = policy.decide(failures=8, age=timedelta(0), now=NOW, reason="503", retry_after=None)
    old = policy.decide(failures=2, age=timedelta(days=3, seconds=1), now=NOW, reason="x", retry_after=None)

    assert first.next_at == NOW + timedelta(seconds=30)
    assert third.next_at == NOW + timedelta(seconds=120)
    assert (eighth.outcome, old.outcome) == ("dead_letter", "dead_letter")
    assert policies.for_channel("webhook") == FixedSchedule((5.0,))


def test_an_empty_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one delay"):
        parse_schedule(" , ")
