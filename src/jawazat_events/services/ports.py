"""What the application services need from the adapters, as Protocols: the services never import an adapter.

The projections implement the read-model ports (`AlertQueue`, `NameDirectory`, `ChannelLedger`,
`AlertLedger`, `RequestIndex`, `SubscriptionLedger`, `PassportCalendar`), the subscribers implement
`MessageRenderer` and `WebhookRenderer` (and the channels `services.channels.Channel`), and the
composition root (`bootstrap.py`) hands each service its adapters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from jawazat_events.domain.delivery import AlertDelivery
from jawazat_events.services.channels import OutgoingMessage

# --- delivery ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedAlert:
    """An alert row as delivery reads it: who gets what about which event, and how far delivery got."""

    alert_id: str
    position: int  # of the event that made the alert (settings are read as they stood there)
    event_id: str
    event_type: str
    notification_type: str
    id_number: str
    establishment: str
    channel: str
    recipient: str
    language: str
    occurred_at: str  # UTC ISO 8601
    created_at: str  # UTC ISO 8601
    payload: str  # the event's own fields, JSON
    attempt_count: int


@dataclass(frozen=True)
class ClaimedAlert:
    """An alert this worker holds the lease on; `stale_holder` names a worker that died holding it."""

    alert: QueuedAlert
    stale_holder: str | None = None

    @property
    def stale(self) -> bool:
        """A previous holder died with it claimed: its send may have happened."""
        return self.stale_holder is not None


class AlertQueue(Protocol):
    """The alerts read model as delivery's work queue: claims with a lease, and status updates."""

    def claim(self, *, worker_id: str, now: datetime, until: datetime, limit: int) -> list[ClaimedAlert]:
        """Lease up to `limit` due alerts to `worker_id` until `until` (nobody else gets them meanwhile)."""
        ...

    def renew(self, *, worker_id: str, alert_ids: Sequence[str], until: datetime) -> set[str]:
        """Extend this worker's leases on these alerts to `until`; the ids it still holds."""
        ...

    def release(self, *, worker_id: str, alert_ids: Sequence[str]) -> None:
        """Give back claims that will not be sent now."""
        ...

    def next_due(self, *, now: datetime) -> datetime | None:
        """When the earliest alert that is not due yet falls due (None: nothing waits)."""
        ...

    def apply(
        self, events: Sequence[AlertDelivery.Event], *, latencies: Sequence[tuple[str, float]] = ()
    ) -> None:
        """Apply recorded delivery events to their alert rows, in one transaction (idempotent), and add the
        (channel, seconds) delivery latencies observed with them to the histogram."""
        ...

    def alert_sent_as(self, provider_id: str) -> str | None:
        """The id of the alert a provider knows by `provider_id`, if any."""
        ...


class NameDirectory(Protocol):
    """Names for messages, from the read models."""

    def person_names(self, id_numbers: Sequence[str]) -> dict[str, tuple[str, str]]:
        """(Arabic, English) names by ID number, for those the people view holds."""
        ...

    def establishment_names(self, unified_numbers: Sequence[str]) -> dict[str, str]:
        """Current names by unified number."""
        ...


class MessageRenderer(Protocol):
    """Turns an alert into the words of one message (templates live with the channels)."""

    def render(
        self, alert: QueuedAlert, *, person_names: tuple[str, str], establishment_name: str
    ) -> OutgoingMessage:
        """The message for this alert's channel, recipient and language; raises when it cannot be made."""
        ...


class WebhookRenderer(Protocol):
    """Turns an alert into a webhook's JSON body (the format lives with the webhook channel)."""

    def webhook_body(self, alert: QueuedAlert, *, full_id_number: bool) -> str:
        """The body, the same on every retry; the ID number masked unless `full_id_number`."""
        ...


# --- channel settings (webhooks, quiet hours, digests) -------------------------------------------------


@dataclass(frozen=True)
class EstablishmentChannels:
    """An establishment's channel settings as they stood at one position in the store."""

    webhook_url: str | None = None
    disabled_urls: frozenset[str] = frozenset()
    quiet_hours: str | None = None
    urgent_types: frozenset[str] = frozenset()
    full_id_number: bool = False
    digest_types: frozenset[str] = frozenset()


class ChannelSettingsAt(Protocol):
    """Versions of some establishments' channel settings, looked up by position."""

    def establishment(self, unified: str, position: int | None) -> EstablishmentChannels:
        """Establishment-wide settings just before `position` (None: the current ones)."""
        ...


class ChannelLedger(Protocol):
    """What delivery reads about channels: settings by position, and webhook deliveries (read models)."""

    def settings(self, unified_numbers: Iterable[str]) -> ChannelSettingsAt:
        """Every version of these establishments' channel settings."""
        ...

    def webhook_delivered_since(self, *, establishment: str, url: str, since: str) -> bool:
        """Whether any alert reached this endpoint (sent or delivered) at or after `since` (UTC ISO)."""
        ...


# --- auditors' views -----------------------------------------------------------------------------------


class AlertLedger(Protocol):
    """Alerts with their attempts, in the contract's JSON shape."""

    def alerts(self, *, id_number: str) -> list[dict[str, Any]]:
        """Every alert about this person, oldest first."""
        ...


class RequestIndex(Protocol):
    """The e-service requests about a person (the requests view)."""

    def aggregate_ids_about(self, id_number: str) -> list[UUID]:
        """The ids of the request aggregates about this person, in recording order."""
        ...


class SubscriptionLedger(Protocol):
    """An establishment's subscriptions as the subscription index's versions record them."""

    def subscriptions_at(self, unified_number: str, at: datetime | None) -> list[dict[str, Any]]:
        """Active subscriptions at recorded time `at` (UTC; the current ones when None)."""
        ...


# --- passport expiry -----------------------------------------------------------------------------------

CalendarRow = tuple[str, str, str]  # (id_number, passport_number, passport_expiry_date as ISO text)


class PassportCalendar(Protocol):
    """Current passports by expiry date (the people view)."""

    def pages(self, *, first: date, last: date, page_size: int) -> Iterator[list[CalendarRow]]:
        """Pages of people whose passport expires in [first, last], by (expiry date, ID number)."""
        ...
