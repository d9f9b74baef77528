"""The e-service requests about a person, as entries of the auditors' timeline: every event of every
travel permit, Makkah permit and ticket about them, with its type, times and own fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jawazat_events.domain.event_fields import IDENTITY_FIELDS, own_fields
from jawazat_events.domain.requests import RequestEvent
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.ports import RequestIndex

TimelineEntry = tuple[tuple[datetime, datetime, int], dict[str, Any]]


def request_entries(
    app: JawazatApplication, requests: RequestIndex, id_number: str, at: datetime | None
) -> list[TimelineEntry]:
    """(sort key, entry) of each request event about the person, recorded by `at` (all when None)."""
    entries: list[TimelineEntry] = []
    for aggregate_id in requests.aggregate_ids_about(id_number):
        for event in app.events.get(aggregate_id):
            if not isinstance(event, RequestEvent) or (at is not None and event.timestamp > at):
                continue
            entry = {
                "event_id": event.event_id,
                "type": event.contract_type,
                "occurred_at": event.occurred_at.isoformat(),
                "recorded_at": event.timestamp.isoformat(),
                **own_fields(event, besides=IDENTITY_FIELDS),
            }
            entries.append(((event.occurred_at, event.timestamp, event.originator_version), entry))
    return entries
