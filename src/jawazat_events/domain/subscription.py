"""The Subscription aggregate: one establishment's choice of notifications for one ID number."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from jawazat_events.domain.errors import AlreadySubscribed, InvalidValue, NotSubscribed
from jawazat_events.domain.identifiers import subscription_id

REASON_ESTABLISHMENT = "unsubscribed_by_establishment"
REASON_TRANSFER = "sponsorship_transferred"


class Subscription(Aggregate):
    """Which notification types an establishment wants for one ID number, and where to send them.

    A subscription is one aggregate per (establishment, ID number) with a deterministic id, so it can
    end and start again without losing its history.
    """

    @staticmethod
    def create_id(unified_number: str, id_number: str, **_: Any) -> UUID:
        return subscription_id(unified_number, id_number)

    class Subscribed(Aggregate.Created):
        unified_number: str
        id_number: str
        notification_types: tuple[str, ...]
        mobile: str | None
        email: str | None

    @event(Subscribed)
    def __init__(
        self,
        *,
        unified_number: str,
        id_number: str,
        notification_types: tuple[str, ...],
        mobile: str | None,
        email: str | None,
    ) -> None:
        self.unified_number = unified_number
        self.id_number = id_number
        self.webhook_url: str | None = None  # its own webhook endpoint: WebhookChanged sets it
        self._start(notification_types, mobile, email)

    def _start(self, notification_types: tuple[str, ...], mobile: str | None, email: str | None) -> None:
        self.notification_types = tuple(notification_types)
        self.mobile = mobile
        self.email = email
        self.active = True
        self.ended_reason: str | None = None
        self.since: datetime = self.modified_on

    class Event(Aggregate.Event):
        """Every subscription event names its establishment and ID number, so read models need no look-up."""

        unified_number: str
        id_number: str

    class Resubscribed(Event):
        notification_types: tuple[str, ...]
        mobile: str | None
        email: str | None

    def resubscribe(
        self, *, notification_types: tuple[str, ...], mobile: str | None, email: str | None
    ) -> None:
        """Start again after the subscription ended."""
        if self.active:
            raise AlreadySubscribed(f"already subscribed to {self.id_number}")
        self._resubscribed(
            unified_number=self.unified_number,
            id_number=self.id_number,
            notification_types=notification_types,
            mobile=mobile,
            email=email,
        )

    @event(Resubscribed)
    def _resubscribed(
        self,
        *,
        unified_number: str,
        id_number: str,
        notification_types: tuple[str, ...],
        mobile: str | None,
        email: str | None,
    ) -> None:
        self._start(notification_types, mobile, email)

    class Changed(Event):
        notification_types: tuple[str, ...]
        mobile: str | None
        email: str | None

    def change(
        self,
        *,
        notification_types: tuple[str, ...] | None = None,
        mobile: str | None = None,
        email: str | None = None,
        clear_mobile: bool = False,
        clear_email: bool = False,
    ) -> None:
        """Change types and/or contacts; what is not given stays as it was."""
        self._require_active()
        new_mobile = None if clear_mobile else (mobile if mobile is not None else self.mobile)
        new_email = None if clear_email else (email if email is not None else self.email)
        new_types = notification_types if notification_types is not None else self.notification_types
        if not new_types:
            raise InvalidValue("notification_types must name at least one notification type")
        self._changed(
            unified_number=self.unified_number,
            id_number=self.id_number,
            notification_types=tuple(new_types),
            mobile=new_mobile,
            email=new_email,
        )

    @event(Changed)
    def _changed(
        self,
        *,
        unified_number: str,
        id_number: str,
        notification_types: tuple[str, ...],
        mobile: str | None,
        email: str | None,
    ) -> None:
        self.notification_types = tuple(notification_types)
        self.mobile = mobile
        self.email = email

    class Ended(Event):
        reason: str
        effective_at: datetime | None
        cause_event_id: str | None

    def unsubscribe(self) -> None:
        """The establishment cancels the subscription (the person no longer belongs to it)."""
        self._require_active()
        self._ended(
            unified_number=self.unified_number,
            id_number=self.id_number,
            reason=REASON_ESTABLISHMENT,
            effective_at=None,
            cause_event_id=None,
        )

    def end_by_transfer(self, *, effective_at: datetime, cause_event_id: str) -> None:
        """The person's sponsorship moved away from this establishment at `effective_at`."""
        self._require_active()
        self._ended(
            unified_number=self.unified_number,
            id_number=self.id_number,
            reason=REASON_TRANSFER,
            effective_at=effective_at,
            cause_event_id=cause_event_id,
        )

    @event(Ended)
    def _ended(
        self,
        *,
        unified_number: str,
        id_number: str,
        reason: str,
        effective_at: datetime | None,
        cause_event_id: str | None,
    ) -> None:
        self.active = False
        self.ended_reason = reason

    class WebhookChanged(Event):
        webhook_url: str | None

    def set_webhook(self, webhook_url: str | None) -> bool:
        """This subscription's own webhook endpoint (None: the establishment's); False when unchanged."""
        self._require_active()
        if webhook_url == self.webhook_url:
            return False
        self._webhook_changed(
            unified_number=self.unified_number, id_number=self.id_number, webhook_url=webhook_url
        )
        return True

    @event(WebhookChanged)
    def _webhook_changed(self, *, unified_number: str, id_number: str, webhook_url: str | None) -> None:
        self.webhook_url = webhook_url

    def _require_active(self) -> None:
        if not self.active:
            raise NotSubscribed(f"no active subscription for {self.id_number}")
