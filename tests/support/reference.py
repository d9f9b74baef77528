"""The alert rule as a plain reference model, with the helpers the fan-out tests share (feeding, draining,
rebuilding, digests). `tests/integration/test_fanout_reference.py` pins the model itself down on
hand-worked cases, since the property and fault tests trust it as their oracle.

The model walks operations in recording order and knows nothing of positions, versions or projections:
who sponsored the person when the event occurred (as recorded so far), and what that establishment's
subscription says at the moment the event is recorded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.domain import Aggregate

from jawazat_events.bootstrap import Container
from jawazat_events.domain.errors import DomainError
from jawazat_events.domain.identifiers import person_id
from jawazat_events.domain.person import Person
from jawazat_events.projections.queries import list_alerts
from jawazat_events.services.ingest import parse_lines
from tests.support import registration, work_once

# Written out again from docs/events.md ("Notification types"), not imported: the model must not share the
# product's tables.
FIRES = {
    "border_crossing": "entry_exit",
    "passport_expiry_approaching": "passport_expiry",
    "passport_expired": "passport_expiry",
    "passport_renewed": "passport_renewal",
    "visa_issued": "visa",
    "visa_status_changed": "visa",
}
NOTIFICATION_TYPES = ("entry_exit", "passport_expiry", "passport_renewal", "visa")
ENGINE_MADE = ("passport_expiry_approaching", "passport_expired")

Alert = tuple[str, str, str, str]  # (event_id, establishment, channel, recipient)


@dataclass
class RefSubscription:
    """One establishment's subscription for one ID number, as the contract describes it."""

    types: frozenset[str]
    mobile: str | None
    email: str | None
    state: str = "active"  # "active" | "unsubscribed" | "transferred"
    transferred_at: datetime | None = None


@dataclass
class ReferenceModel:
    """Who gets an alert (docs/architecture.md, "Fan-out"), computed by walking operations in recording
    order."""

    defaults: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # mobile, email
    # Sponsorship periods per ID number: (start, order recorded, sponsor); the first starts at None.
    periods: dict[str, list[tuple[datetime | None, int, str]]] = field(default_factory=dict)
    subscriptions: dict[tuple[str, str], RefSubscription] = field(default_factory=dict)
    alerts: set[Alert] = field(default_factory=set)
    recorded: int = 0

    # --- establishments and people ------------------------------------------------------------

    def register_establishment(self, unified: str, *, mobile: str | None, email: str | None) -> None:
        self.defaults[unified] = (mobile, email)

    def update_defaults(self, unified: str, *, mobile: str | None, email: str | None) -> None:
        old_mobile, old_email = self.defaults[unified]
        self.defaults[unified] = (mobile or old_mobile, email or old_email)

    def register_person(self, id_number: str, sponsor: str) -> None:
        self.periods[id_number] = [(None, self._next(), sponsor)]

    def _next(self) -> int:
        self.recorded += 1
        return self.recorded

    def sponsor_at(self, id_number: str, when: datetime) -> str:
        """The sponsor whose period holds `when`: the latest start not after it (later-recorded on ties)."""
        started = [p for p in self.periods[id_number] if p[0] is None or p[0] <= when]
        return max(started, key=lambda p: (p[0] is not None, p[0] or when, p[1]))[2]

    def current_sponsor(self, id_number: str) -> str:
        periods = self.periods[id_number]
        return max(periods, key=lambda p: (p[0] is not None, p[0] or datetime.min.replace(tzinfo=UTC), p[1]))[
            2
        ]

    # --- subscriptions (return the refusal's exception name, or None when it is accepted) ------

    def subscribe(
        self, unified: str, id_number: str, *, types: Iterable[str], mobile: str | None, email: str | None
    ) -> str | None:
        if id_number not in self.periods or self.current_sponsor(id_number) != unified:
            return "NotSponsored"
        if not mobile and not email and not any(self.defaults[unified]):
            return "NoContact"
        existing = self.subscriptions.get((unified, id_number))
        if existing is not None and existing.state == "active":
            return "AlreadySubscribed"
        self.subscriptions[(unified, id_number)] = RefSubscription(frozenset(types), mobile, email)
        return None

    def change(
        self,
        unified: str,
        id_number: str,
        *,
        types: Iterable[str] | None,
        mobile: str | None,
        email: str | None,
    ) -> str | None:
        current = self.subscriptions.get((unified, id_number))
        if current is None or current.state != "active":
            return "NotSubscribed"
        self.subscriptions[(unified, id_number)] = RefSubscription(
            frozenset(types) if types is not None else current.types,
            mobile or current.mobile,
            email or current.email,
        )
        return None

    def unsubscribe(self, unified: str, id_number: str) -> str | None:
        current = self.subscriptions.get((unified, id_number))
        if current is None or current.state != "active":
            return "NotSubscribed"
        current.state = "unsubscribed"
        return None

    # --- events -----------------------------------------------------------------------------------

    def transfer(self, id_number: str, when: datetime, to_sponsor: str) -> str | None:
        """A sponsorship transfer; the old current sponsor's subscription ends by itself."""
        if self.sponsor_at(id_number, when) == to_sponsor:
            return "SponsorUnchanged"
        before = self.current_sponsor(id_number)
        self.periods[id_number].append((when, self._next(), to_sponsor))
        after = self.current_sponsor(id_number)
        old = self.subscriptions.get((before, id_number))
        if after != before and old is not None and old.state == "active":
            old.state = "transferred"
            old.transferred_at = when
        return None

    def event(self, event_id: str, event_type: str, id_number: str, when: datetime) -> set[Alert]:
        """An alerting event recorded now: the alerts it must produce (also added to `alerts`)."""
        sponsor = self.sponsor_at(id_number, when)
        subscription = self.subscriptions.get((sponsor, id_number))
        if subscription is None or FIRES[event_type] not in subscription.types:
            return set()
        if subscription.state == "unsubscribed":
            return set()
        if subscription.state == "transferred":
            assert subscription.transferred_at is not None
            if not when < subscription.transferred_at:
                return set()
        mobile, email = subscription.mobile, subscription.email
        if not mobile and not email:
            mobile, email = self.defaults[sponsor]
        made = {(event_id, sponsor, "sms", mobile)} if mobile else set()
        if email:
            made.add((event_id, sponsor, "email", email))
        self.alerts |= made
        return made


# ------------------------------------------------------------------------------------------ the product


def at(moment: datetime, offset_hours: float = 3) -> str:
    """An ISO 8601 business time with the given UTC offset (the same instant, written as a source would)."""
    return moment.astimezone(timezone_of(offset_hours)).isoformat()


def timezone_of(offset_hours: float) -> Any:
    from datetime import timezone

    return timezone(timedelta(hours=offset_hours))


def registration_item(
    event_id: str, id_number: str, sponsor: str, *, passport: str = "P0000001"
) -> dict[str, Any]:
    return registration(event_id, id_number=id_number, sponsor=sponsor, passport_number=passport)


def event_item(
    event_id: str, event_type: str, id_number: str, occurred_at: str, serial: int
) -> dict[str, Any]:
    """A valid feed item of an alerting type from a source system (`serial` keeps numbers unique)."""
    item: dict[str, Any] = {
        "event_id": event_id,
        "type": event_type,
        "id_number": id_number,
        "occurred_at": occurred_at,
    }
    day = datetime.fromisoformat(occurred_at).date()
    if event_type == "border_crossing":
        item.update(direction="entry" if serial % 2 else "exit", port="RUH")
    elif event_type == "passport_renewed":
        item.update(
            passport_number=f"R{serial:07d}",
            issue_date=day.isoformat(),
            expiry_date=(day + timedelta(days=3650)).isoformat(),
        )
    elif event_type == "visa_issued":
        item.update(
            visa_number=f"V{serial:07d}",
            visa_type="work",
            valid_from=day.isoformat(),
            valid_until=(day + timedelta(days=90)).isoformat(),
        )
    elif event_type == "visa_status_changed":
        item.update(visa_number=f"V{serial:07d}", status="used")
    else:
        raise ValueError(f"{event_type} is not a feed type with alerts")
    return item


def transfer_item(event_id: str, id_number: str, occurred_at: str, to_sponsor: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "sponsorship_transferred",
        "id_number": id_number,
        "occurred_at": occurred_at,
        "to_sponsor": to_sponsor,
    }


def expect_events(ref: ReferenceModel, items: Iterable[dict[str, Any]]) -> None:
    """Tell the model about accepted feed items of alerting types, in recording order."""
    for item in items:
        ref.event(
            item["event_id"], item["type"], item["id_number"], datetime.fromisoformat(item["occurred_at"])
        )


def feed(container: Container, *items: dict[str, Any]) -> list[str]:
    """Ingest items as feed lines; each line's status, with the reason when rejected."""
    lines = [json.dumps(item, ensure_ascii=False) for item in items]
    return [
        result.status if result.reason is None else f"{result.status}: {result.reason}"
        for result, _ in container.ingestor.ingest(parse_lines(lines))
    ]


def record_expiry(
    container: Container, event_id: str, event_type: str, id_number: str, when: datetime
) -> None:
    """Record an engine-made expiry event the way the scheduler does (keyed save on the Person)."""
    app = container.app
    key = person_id(id_number)
    person = app.load_many([key])[key]
    assert isinstance(person, Person)
    if event_type == "passport_expiry_approaching":
        person.warn_passport_expiry(
            event_id=event_id, occurred_at=when, days_left=30, passport_number=person.passport_number
        )
    else:
        person.expire_passport(event_id=event_id, occurred_at=when, passport_number=person.passport_number)
    touched: list[Aggregate] = [person]
    app.save_keyed(touched, [(event_id, person.id, person.version)])


def outcome(call: Any, *args: Any, **kwargs: Any) -> str | None:
    """Run a service command; None when accepted, else the domain refusal's class name."""
    try:
        call(*args, **kwargs)
    except DomainError as error:
        return type(error).__name__
    return None


def drain(container: Container) -> None:
    """One worker pass without delivery."""
    work_once(container, deliver=False)


def alert_set(container: Container) -> list[Alert]:
    """Every alert as (event_id, establishment, channel, recipient), duplicates kept."""
    return sorted(
        (a["event_id"], a["establishment"], a["channel"], a["recipient"])
        for a in list_alerts(container.read_models.db)
    )


# Columns the fan-out and the index write; delivery columns (status, attempts, leases) are left out.
DIGESTS = {
    "alerts": (
        "alert_id, position, event_id, event_type, notification_type, id_number, establishment, channel, "
        "recipient, language, occurred_at, created_at, payload",
        "alert_id",
    ),
    "subscription_versions": ("*", "unified_number, id_number, from_position"),
    "establishment_versions": ("*", "unified_number, from_position"),
    "people": ("*", "id_number"),
}


def table_rows(container: Container, table: str) -> list[tuple[Any, ...]]:
    columns, order = DIGESTS[table]
    with container.read_models.db.reading() as sql:
        rows = sql.execute(f"SELECT {columns} FROM {table} ORDER BY {order}").fetchall()
    return [tuple(str(v) if v is not None else None for v in row.values()) for row in rows]


def digests(container: Container) -> dict[str, tuple[int, str]]:
    """(row count, sha256) of each read model, comparable across backends' row types."""
    found: dict[str, tuple[int, str]] = {}
    for table in DIGESTS:
        rows = table_rows(container, table)
        found[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return found


def drop_read_models(container: Container) -> None:
    """Forget every projection's rows and tracking positions, as `jawazat projections rebuild` would."""
    db = container.read_models.db
    for projection in container.read_models.all():
        db.drop(projection.tables, projection.tracking_names())


def rebuild(container: Container) -> None:
    """Drop the read models, make them again and replay the whole store through one worker."""
    drop_read_models(container)
    for projection in container.read_models.all():
        projection.create_tables()
    drain(container)
