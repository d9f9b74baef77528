"""Request notifications: every status change of a request becomes alerts to its requester.

Each request event carries the contacts to tell at that moment (the person's or guardian's, or the
establishment's defaults), so the rows are a function of the event alone: one alert per (event, channel),
with the same deterministic id as the fan-out's (`alert_id(event_id, requester, channel)`), inserted
through the alerts table's shared insert. An establishment's requests also go to its webhook endpoint as
it stood at the event's position (the channel settings versions, so this model reads after the
subscription index); an individual (establishment `""`) has no webhook. Delivery, attempts, retries and
quiet hours are the same as for any alert. The owner's own messages on a ticket are not status changes and
alert nobody.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from eventsourcing.utils import get_topic

from jawazat_events.domain.makkah_permit import MakkahPermit
from jawazat_events.domain.moments import utc_iso
from jawazat_events.domain.requests import REQUEST_STATUS, RequestEvent
from jawazat_events.domain.ticket import Ticket
from jawazat_events.domain.travel_permit import TravelPermit
from jawazat_events.projections.alert_status import AlertRow, alerts_indexes, alerts_schema, insert_alerts
from jawazat_events.projections.base import Index, Positioned, ReadModel, Sql
from jawazat_events.projections.channel_settings import ChannelVersions
from jawazat_events.projections.fanout import alert_id
from jawazat_events.projections.requests import REQUEST_EVENTS
from jawazat_events.projections.tables import ALERTS

# Every request event but the owner's own replies on a ticket (they are not status changes).
NOTIFYING_EVENTS = tuple(kind for kind in REQUEST_EVENTS if kind is not Ticket.Replied)
_KINDS = {TravelPermit: "travel_permit", MakkahPermit: "makkah_permit", Ticket: "ticket"}


def request_kind(event: RequestEvent) -> str:
    """`travel_permit`, `makkah_permit` or `ticket`."""
    owner = type(event).__qualname__.split(".")[0]
    return {cls.__name__: kind for cls, kind in _KINDS.items()}[owner]


def reference(event: RequestEvent) -> str:
    """How a message names the request: a ticket's tracking number, a permit's first eight symbols."""
    if request_kind(event) == "ticket":
        return event.request_id
    return event.request_id[:8].upper()


def payload(event: Any) -> dict[str, Any]:
    """What the message says: which request, its reference, the new status and the officer's words."""
    fields: dict[str, Any] = {
        "request": request_kind(event),
        "reference": reference(event),
        "status": event.status,
        "message": getattr(event, "reason", None) or getattr(event, "message", None) or "",
    }
    for name in ("season", "valid_from", "valid_until"):
        value = getattr(event, name, None)
        if value is not None:
            fields[name] = value.isoformat() if isinstance(value, date) else value
    return fields


class RequestNotifications(ReadModel):
    """Alerts of notification type `request_status` to the requesters of e-service requests."""

    name = "request_notifications"
    # The alerts table is shared with the fan-out: rebuilding either rebuilds both (`audit.rebuild`).
    tables = (ALERTS,)
    topics = tuple(get_topic(cls) for cls in NOTIFYING_EVENTS)
    # Establishments' webhook endpoints are read as they stood at each event's position.
    reads_from = ("subscription_index",)

    def schema(self) -> list[str]:
        return alerts_schema(postgres=self.db.postgres)

    def indexes(self) -> list[Index]:
        return alerts_indexes()

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        """The batch's alert rows in one insert; returns how many."""
        versions = ChannelVersions.load(sql, {_establishment(item.event) for item in items} - {""})
        rows = [row for item in items for row in self.rows(item, versions)]
        insert_alerts(sql, rows)
        return len(rows)

    def apply(self, sql: Sql, item: Positioned) -> None:
        self.apply_batch(sql, [item])

    def rows(self, item: Positioned, versions: ChannelVersions) -> list[AlertRow]:
        """The alert rows of one request event (none for events that notify nobody)."""
        event = item.event
        if not isinstance(event, NOTIFYING_EVENTS):
            return []
        text = json.dumps(payload(event), ensure_ascii=False, sort_keys=True)
        requester = _establishment(event)
        webhook = versions.webhook_for(requester, None, item.position) if requester else None
        created_at = utc_iso(event.timestamp)
        rows: list[AlertRow] = []
        recipients = (("sms", event.notify_mobile), ("email", event.notify_email), ("webhook", webhook))
        for channel, recipient in recipients:
            if not recipient:
                continue
            rows.append(
                AlertRow(
                    alert_id(event.event_id, requester, channel),
                    item.position,
                    event.event_id,
                    event.contract_type,
                    REQUEST_STATUS,
                    event.id_number,
                    requester,
                    channel,
                    recipient,
                    event.language,
                    utc_iso(event.occurred_at),
                    created_at,
                    text,
                    created_at,
                )
            )
        return rows


def _establishment(event: Any) -> str:
    """The establishment that made the request; `""` for an individual (no establishment, no webhook)."""
    return str(event.requester) if getattr(event, "requester_kind", None) == "establishment" else ""
