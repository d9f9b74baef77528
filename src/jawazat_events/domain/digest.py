"""The Digest aggregate: one e-mail per (establishment, business day, notification type) listing the day's
warnings, recorded once under a deterministic id, so re-runs and restarts can never make a second one."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from jawazat_events.domain.identifiers import NAMESPACE

# The alert row of a digest carries this event type; rendering and the API know it by this name.
DIGEST_EVENT_TYPE = "daily_digest"
# A digest lists at most this many people; the rest wait for the next day's digest.
MAX_ITEMS = 2000


def digest_id(unified_number: str, day: date, notification_type: str) -> UUID:
    """The one id the digest of this establishment, day and type is ever recorded under."""
    return uuid5(NAMESPACE, f"digest:{unified_number}:{day.isoformat()}:{notification_type}")


class Digest(Aggregate):
    """A day's warnings for one establishment, folded into one e-mail."""

    @staticmethod
    def create_id(unified_number: str, day: date, notification_type: str, **_: Any) -> UUID:
        return digest_id(unified_number, day, notification_type)

    class Prepared(Aggregate.Created):
        unified_number: str
        day: date
        notification_type: str
        recipient: str
        language: str
        # Each item: event_id, event_type, id_number, name_ar, name_en and the event's own fields.
        items: list[dict[str, Any]]

    @event(Prepared)
    def __init__(
        self,
        *,
        unified_number: str,
        day: date,
        notification_type: str,
        recipient: str,
        language: str,
        items: list[dict[str, Any]],
    ) -> None:
        if not items:
            raise ValueError("a digest lists at least one warning")
        self.unified_number = unified_number
        self.day = day
        self.notification_type = notification_type
        self.recipient = recipient
        self.language = language
        self.items = list(items)
