"""The seam between the delivery service and per-channel rules: what to send instead of rendering, how to
retry, what to do once an attempt is recorded.

The delivery service calls a `DeliveryRules` at three points of a group of claimed alerts: `prepare`
(before rendering: an alert held by quiet hours, a webhook's signed JSON, a digest e-mail), `retry_policy`
(the channel's schedule after a transient failure) and `after_record` (e.g. disable a webhook endpoint
that answered 410). `BasicRules` is the behaviour without channel extensions: exponential back-off for
every channel, nothing prepared, nothing after.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from jawazat_events.retry_policy import RetryPolicy
from jawazat_events.subscribers.base import DeliveryResult, OutgoingMessage


@dataclass(frozen=True)
class Settled:
    """One recorded attempt: the alert row as claimed, the outcome recorded, the channel's result."""

    row: Mapping[str, Any]
    outcome: str
    result: DeliveryResult


class DeliveryRules(Protocol):
    """Per-channel rules the delivery service applies around sending."""

    def prepare(
        self, rows: Sequence[Mapping[str, Any]], *, now: datetime
    ) -> dict[str, OutgoingMessage | DeliveryResult]:
        """For some alerts (by id): the message to send instead of the rendered one, or a result at once."""
        ...

    def retry_policy(self, channel: str) -> RetryPolicy:
        """The retry policy of a channel."""
        ...

    def after_record(self, settled: Sequence[Settled]) -> None:
        """Act on recorded attempts (never raises for one alert's sake)."""
        ...


@dataclass(frozen=True)
class BasicRules:
    """No channel extensions: one retry policy for every channel."""

    policy: RetryPolicy

    def prepare(
        self, rows: Sequence[Mapping[str, Any]], *, now: datetime
    ) -> dict[str, OutgoingMessage | DeliveryResult]:
        return {}

    def retry_policy(self, channel: str) -> RetryPolicy:
        return self.policy

    def after_record(self, settled: Sequence[Settled]) -> None:
        return None
