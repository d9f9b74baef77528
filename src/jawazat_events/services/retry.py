"""When a failed delivery is tried again: exponential back-off with jitter, and when to give up."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jawazat_events.domain.delivery import AttemptOutcome
from jawazat_events.services.channels import DeliveryResult

MAX_AGE = timedelta(days=3)
# The longest `Retry-After` a provider can impose on one alert's next attempt.
MAX_RETRY_AFTER_SECONDS = 3600.0


@dataclass
class RetryPolicy:
    """Back-off from `base_seconds`, doubling per attempt, ±25 % jitter; dead-lettered after `max_attempts`
    attempts or `max_age`. A provider's `Retry-After` (up to an hour) is honoured: the next attempt is never
    sooner. The jitter comes from `rng`: seed it to make a test's delays repeatable."""

    base_seconds: float
    max_attempts: int
    max_age: timedelta = MAX_AGE
    rng: random.Random = field(default_factory=random.Random)

    def decide(
        self, result: DeliveryResult, *, attempts_so_far: int, created_at: datetime, now: datetime
    ) -> tuple[AttemptOutcome, str, datetime | None]:
        """The outcome to record for this result, its detail, and when to try again (None: never)."""
        if result.outcome != AttemptOutcome.RETRY:
            return result.outcome, result.detail or result.outcome, None
        attempt = attempts_so_far + 1
        age = now - created_at
        if attempt >= self.max_attempts:
            return (
                AttemptOutcome.DEAD_LETTER,
                f"gave up after {attempt} attempts; last: {result.detail}",
                None,
            )
        if age > self.max_age:
            return AttemptOutcome.DEAD_LETTER, f"gave up after {age.days} days; last: {result.detail}", None
        delay = self.base_seconds * (2 ** (attempt - 1)) * self.rng.uniform(0.75, 1.25)
        detail = result.detail
        if result.retry_after is not None and result.retry_after > delay:
            delay = min(result.retry_after, MAX_RETRY_AFTER_SECONDS)
            detail = f"{detail}; next attempt after {delay:g} s, as Retry-After asks"
        return AttemptOutcome.RETRY, detail, now + timedelta(seconds=delay)
