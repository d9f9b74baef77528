"""A person's audit timeline: every event (business-time order), the alerts they caused, sponsorships.

With `at`, the timeline is what the record said at that recorded time: only events the store had recorded
by then (a late event recorded afterwards is absent even when its business time is earlier), alerts
created by then with the attempts made by then, and the sponsorship periods as known then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jawazat_events.audit.records import utc_moment
from jawazat_events.domain.errors import NotRegistered
from jawazat_events.domain.identifiers import parse_id_number, person_id
from jawazat_events.domain.person import Person, PersonEvent

# What an attempt's outcome (or a provider's confirmation) leaves the alert's status at.
_STATUS_AFTER = {
    "sent": "sent",
    "retry": "retrying",
    "unknown": "retrying",
    "failed": "failed",
    "dead_letter": "dead_letter",
    "delivered": "delivered",
}


def recorded_events(container: Any, id_number: str, at: datetime | None) -> list[PersonEvent]:
    """The person's stored events in recording order, up to recorded time `at` (all when None)."""
    events = [e for e in container.app.events.get(person_id(id_number)) if isinstance(e, PersonEvent)]
    if at is not None:
        events = [e for e in events if e.timestamp <= at]
    if not events:
        when = f" at {at.isoformat()}" if at is not None else ""
        raise NotRegistered(f"id_number {id_number} was not registered{when}")
    return events


def _event_entry(event: PersonEvent) -> dict[str, Any]:
    from jawazat_events.projections.fanout import event_fields

    fields = event_fields(event)
    fields.pop("originator_topic", None)  # the library's bookkeeping on a first event, not a field
    return {
        "event_id": event.event_id,
        "type": event.contract_type,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.timestamp.isoformat(),
        **fields,
    }


def _sponsorships(events: list[PersonEvent]) -> list[dict[str, Any]]:
    person: Any = None
    for event in events:
        person = event.mutate(person)
    assert isinstance(person, Person)
    return [
        {
            "sponsor": sponsor,
            "from": start.isoformat() if start else None,
            "until": end.isoformat() if end else None,
        }
        for sponsor, start, end in person.sponsorship_periods()
    ]


def alert_as_of(alert: dict[str, Any], at: datetime | None) -> dict[str, Any]:
    """The alert as the record stood at `at`: attempts made by then, and the status they left."""
    if at is None:
        return alert
    attempts = [a for a in alert["attempts"] if datetime.fromisoformat(a["at"]) <= at]
    status = "pending"
    for attempt in attempts:
        status = _STATUS_AFTER.get(attempt["outcome"], status)
    return {**alert, "attempts": attempts, "status": status}


def _alerts(container: Any, id_number: str, at: datetime | None) -> list[dict[str, Any]]:
    from jawazat_events.queries import list_alerts

    alerts = list_alerts(container.read_models.db, id_number=id_number)
    if at is not None:
        alerts = [a for a in alerts if datetime.fromisoformat(a["created_at"]) <= at]
    return [alert_as_of(a, at) for a in alerts]


def person_timeline(container: Any, id_number: str, at: datetime | None = None) -> dict[str, Any]:
    """The contract's audit timeline of one person (raises `NotRegistered` for an unknown ID number)."""
    number = parse_id_number(id_number)
    moment = utc_moment(at, container.settings.zone) if at is not None else None
    events = recorded_events(container, number, moment)
    from jawazat_events.audit.requests import request_entries

    entries = [((e.occurred_at, e.timestamp, e.originator_version), _event_entry(e)) for e in events]
    entries += request_entries(container, number, moment)  # e-service requests about the person
    return {
        "id_number": number,
        "at": moment.isoformat() if moment is not None else None,
        "events": [entry for _, entry in sorted(entries, key=lambda item: item[0])],
        "alerts": _alerts(container, number, moment),
        "sponsorships": _sponsorships(events),
    }
