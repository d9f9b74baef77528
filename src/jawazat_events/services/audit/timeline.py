"""A person's audit timeline: every event (business-time order), the alerts they caused, sponsorships.

With `at`, the timeline is what the record said at that recorded time: only events the store had recorded
by then (a late event recorded afterwards is absent even when its business time is earlier), alerts
created by then with the attempts made by then, and the sponsorship periods as known then.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from jawazat_events.domain.delivery import STATUS_AFTER, AlertStatus
from jawazat_events.domain.errors import NotRegistered
from jawazat_events.domain.event_fields import PERSON_FACTS_BESIDES, own_fields
from jawazat_events.domain.identifiers import parse_id_number, person_id
from jawazat_events.domain.moments import utc_moment
from jawazat_events.domain.person import Person, PersonEvent
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.audit.requests import request_entries
from jawazat_events.services.ports import AlertLedger, RequestIndex


def recorded_events(app: JawazatApplication, id_number: str, at: datetime | None) -> list[PersonEvent]:
    """The person's stored events in recording order, up to recorded time `at` (all when None)."""
    events = [e for e in app.events.get(person_id(id_number)) if isinstance(e, PersonEvent)]
    if at is not None:
        events = [e for e in events if e.timestamp <= at]
    if not events:
        when = f" at {at.isoformat()}" if at is not None else ""
        raise NotRegistered(f"id_number {id_number} was not registered{when}")
    return events


def _event_entry(event: PersonEvent) -> dict[str, Any]:
    fields = own_fields(event, besides=PERSON_FACTS_BESIDES)
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
    status = AlertStatus.PENDING
    for attempt in attempts:
        status = STATUS_AFTER.get(attempt["outcome"], status)
    return {**alert, "attempts": attempts, "status": status}


def _alerts(ledger: AlertLedger, id_number: str, at: datetime | None) -> list[dict[str, Any]]:
    alerts = ledger.alerts(id_number=id_number)
    if at is not None:
        alerts = [a for a in alerts if datetime.fromisoformat(a["created_at"]) <= at]
    return [alert_as_of(a, at) for a in alerts]


def person_timeline(
    app: JawazatApplication,
    alerts: AlertLedger,
    id_number: str,
    at: datetime | None = None,
    *,
    requests: RequestIndex,
    zone: tzinfo,
) -> dict[str, Any]:
    """The audit timeline of one person (raises `NotRegistered` for an unknown ID number): their events and
    those of the e-service requests about them, in business-time order; a time without offset is read in
    the business time zone `zone`."""
    number = parse_id_number(id_number)
    moment = utc_moment(at, zone) if at is not None else None
    events = recorded_events(app, number, moment)
    entries = [((e.occurred_at, e.timestamp, e.originator_version), _event_entry(e)) for e in events]
    entries += request_entries(app, requests, number, moment)  # e-service requests about the person
    return {
        "id_number": number,
        "at": moment.isoformat() if moment is not None else None,
        "events": [entry for _, entry in sorted(entries, key=lambda item: item[0])],
        "alerts": _alerts(alerts, number, moment),
        "sponsorships": _sponsorships(events),
    }
