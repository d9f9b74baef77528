"""When a failed delivery is tried again, per channel, and when to give up (pure: no I/O).

E-mail and SMS keep the product's exponential back-off (`JAWAZAT_RETRY_BASE_SECONDS`, doubling, ±25 %
jitter drawn from an injectable `random.Random`, dead letter after `JAWAZAT_MAX_ATTEMPTS` or three days),
never sooner than a provider's `Retry-After` (Twilio's 429/503; at most an hour). Webhooks follow a
published schedule (`JAWAZAT_WEBHOOK_RETRY_SCHEDULE`, after the Standard Webhooks guidance: 5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), a receiver's `Retry-After` replacing the step's delay (at most
the longest delay), and dead-letter after the last delay. `RetryPolicies` holds each channel's policy;
delivery asks it for the alert's channel.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from jawazat_events.domain.delivery import AttemptOutcome

MAX_AGE = timedelta(days=3)
# The longest `Retry-After` a provider can impose on one e-mail's or SMS's next attempt.
MAX_RETRY_AFTER_SECONDS = 3600.0
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")


def parse_duration(text: str) -> float:
    """`5s`, `5m`, `2h`, `1d` (or `0.5s`) as seconds; anything else raises ValueError naming it."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not found:
        raise ValueError(f"'{text.strip()}' is not a duration like 5s, 5m, 2h or 1d")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_schedule(text: str) -> tuple[float, ...]:
    """A comma-separated list of durations (at least one), in seconds."""
    delays = tuple(parse_duration(part) for part in text.split(",") if part.strip())
    if not delays:
        raise ValueError("the retry schedule must list at least one delay, e.g. 5s,5m,30m")
    return delays


def describe(seconds: float) -> str:
    """A delay as people say it: `5 s`, `30 min`, `2 h`."""
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        return f"{seconds / 60:g} min"
    if seconds < 86400:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 86400:.1f} days"


class Decision(NamedTuple):
    """What becomes of a transient failure: `retry` at `next_at`, or `dead_letter` (next_at None)."""

    outcome: AttemptOutcome
    detail: str
    next_at: datetime | None


class RetryPolicy(Protocol):
    """Decides the next attempt after a transient failure."""

    def decide(
        self, *, failures: int, age: timedelta, now: datetime, reason: str, retry_after: float | None
    ) -> Decision:
        """`failures`: failed attempts so far, this one included; `age`: since the alert was made."""
        ...


@dataclass
class ExponentialBackoff:
    """Back-off from `base_seconds`, doubling per failure, ±25 % jitter; dead-lettered after `max_attempts`
    attempts or `max_age`. A provider's `Retry-After` (up to an hour) is honoured: the next attempt is never
    sooner. The jitter comes from `rng`: seed it to make a test's delays repeatable."""

    base_seconds: float
    max_attempts: int
    max_age: timedelta = MAX_AGE
    rng: random.Random = field(default_factory=random.Random)

    def decide(
        self, *, failures: int, age: timedelta, now: datetime, reason: str, retry_after: float | None
    ) -> Decision:
        if failures >= self.max_attempts:
            return Decision(
                AttemptOutcome.DEAD_LETTER, f"gave up after {failures} attempts; last: {reason}", None
            )
        if age > self.max_age:
            return Decision(
                AttemptOutcome.DEAD_LETTER, f"gave up after {age.days} days; last: {reason}", None
            )
        delay = self.base_seconds * (2 ** (failures - 1)) * self.rng.uniform(0.75, 1.25)
        if retry_after is not None and retry_after > delay:
            delay = min(retry_after, MAX_RETRY_AFTER_SECONDS)
            reason = f"{reason}; next attempt after {delay:g} s, as Retry-After asks"
        return Decision(AttemptOutcome.RETRY, reason, now + timedelta(seconds=delay))


@dataclass(frozen=True)
class FixedSchedule:
    """Delays from a published schedule; a `Retry-After` (capped at the longest delay) replaces the step's."""

    delays: tuple[float, ...]

    def decide(
        self, *, failures: int, age: timedelta, now: datetime, reason: str, retry_after: float | None
    ) -> Decision:
        if failures > len(self.delays):
            return Decision(
                AttemptOutcome.DEAD_LETTER,
                f"gave up after {failures} attempts over {describe(sum(self.delays))}; last: {reason}",
                None,
            )
        delay = self.delays[failures - 1]
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), max(self.delays))
            reason = f"{reason}; retrying after {describe(delay)} as Retry-After asks"
        return Decision(AttemptOutcome.RETRY, reason, now + timedelta(seconds=delay))


@dataclass(frozen=True)
class RetryPolicies:
    """The policy of each channel; channels not named use `default`."""

    default: RetryPolicy
    by_channel: Mapping[str, RetryPolicy] = field(default_factory=dict)

    def for_channel(self, channel: str) -> RetryPolicy:
        return self.by_channel.get(channel, self.default)
