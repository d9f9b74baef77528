"""The AlertDelivery aggregate: the record of every attempt to deliver one alert, and its final status.

One aggregate per alert (its id is the alert id). Attempts are events, so an alert's history survives a
rebuild of the read models, and the auditors' timeline shows each attempt from the store itself.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class AttemptOutcome(StrEnum):
    """What one delivery attempt came to. `unknown` records a send a crashed worker may have completed;
    `held` an SMS kept back by the establishment's quiet hours (nothing was sent; the alert stays pending)."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    DEAD_LETTER = "dead_letter"
    UNKNOWN = "unknown"
    HELD = "held"


class AlertStatus(StrEnum):
    """Where an alert stands (docs/api.md, "Alerts"); statuses only move forward."""

    PENDING = "pending"
    RETRYING = "retrying"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD_LETTER = "dead_letter"


# Alerts in these statuses are sent when their next attempt is due.
DUE = (AlertStatus.PENDING, AlertStatus.RETRYING)
FINAL = (AlertStatus.DELIVERED, AlertStatus.FAILED, AlertStatus.DEAD_LETTER)
RANK: dict[str, int] = {
    AlertStatus.PENDING: 0,
    AlertStatus.RETRYING: 1,
    AlertStatus.SENT: 2,
    AlertStatus.DELIVERED: 3,
    AlertStatus.FAILED: 3,
    AlertStatus.DEAD_LETTER: 3,
}
# The status an attempt's outcome leaves an alert at; a provider's report (`delivered`, `failed`) names
# the status itself.
STATUS_AFTER: dict[str, AlertStatus] = {
    AttemptOutcome.SENT: AlertStatus.SENT,
    AttemptOutcome.RETRY: AlertStatus.RETRYING,
    AttemptOutcome.UNKNOWN: AlertStatus.RETRYING,
    AttemptOutcome.FAILED: AlertStatus.FAILED,
    AttemptOutcome.DEAD_LETTER: AlertStatus.DEAD_LETTER,
    AttemptOutcome.HELD: AlertStatus.PENDING,
    AlertStatus.DELIVERED: AlertStatus.DELIVERED,
}


def status_after(outcome: str) -> AlertStatus:
    """The alert's status after an attempt with this outcome."""
    return STATUS_AFTER[AttemptOutcome(outcome)]


class AlertDelivery(Aggregate):
    """Delivery attempts of one alert (one channel, one recipient)."""

    @staticmethod
    def create_id(alert_id: str, **_: Any) -> UUID:
        return UUID(alert_id)

    class Event(Aggregate.Event):
        """Every delivery event names its alert and person, so partitions and timelines need no look-up."""

        alert_id: str
        id_number: str

    class Started(Event, Aggregate.Created):
        establishment: str
        channel: str

    @event(Started)
    def __init__(self, *, alert_id: str, id_number: str, establishment: str, channel: str) -> None:
        self.alert_id = alert_id
        self.id_number = id_number
        self.establishment = establishment
        self.channel = channel
        self.attempts = 0
        self.holds = 0  # attempts that only held the message back (quiet hours): not failures
        self.status: str = AlertStatus.PENDING.value
        self.provider_id: str | None = None

    class Attempted(Event):
        attempt: int
        outcome: str
        detail: str
        provider_id: str | None
        at: datetime
        next_attempt_at: datetime | None

    def record_attempt(
        self,
        *,
        outcome: str,
        detail: str,
        provider_id: str | None,
        at: datetime,
        next_attempt_at: datetime | None,
    ) -> None:
        """Record one attempt's outcome (never after the alert reached a final status)."""
        if outcome not in AttemptOutcome.__members__.values():
            raise ValueError(f"unknown delivery outcome '{outcome}'")
        if self.status in FINAL:
            return
        self._attempted(
            alert_id=self.alert_id,
            id_number=self.id_number,
            attempt=self.attempts + 1,
            outcome=str(outcome),
            detail=detail,
            provider_id=provider_id,
            at=at,
            next_attempt_at=next_attempt_at,
        )

    @event(Attempted)
    def _attempted(
        self,
        *,
        alert_id: str,
        id_number: str,
        attempt: int,
        outcome: str,
        detail: str,
        provider_id: str | None,
        at: datetime,
        next_attempt_at: datetime | None,
    ) -> None:
        self.attempts = attempt
        self.holds += outcome == "held"
        self.status = status_after(outcome)
        if provider_id:
            self.provider_id = provider_id

    class Confirmed(Event):
        status: str
        detail: str
        at: datetime

    def confirm(self, *, status: str, detail: str, at: datetime) -> bool:
        """A provider's status callback (delivered or failed); statuses only move forward."""
        if RANK.get(status, 0) <= RANK.get(self.status, 0):
            return False
        self._confirmed(
            alert_id=self.alert_id, id_number=self.id_number, status=str(status), detail=detail, at=at
        )
        return True

    @event(Confirmed)
    def _confirmed(self, *, alert_id: str, id_number: str, status: str, detail: str, at: datetime) -> None:
        self.status = status
