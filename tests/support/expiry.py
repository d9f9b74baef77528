"""Helpers of the passport-expiry tests: people with passports, runs of the job, what it recorded."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic

from jawazat_events.bootstrap import Container
from jawazat_events.domain.person import Person
from jawazat_events.generate import luhn_complete
from jawazat_events.services.expiry import ExpiryReport
from tests.support import ingest, line, registration

RIYADH = ZoneInfo("Asia/Riyadh")
SPONSOR = "7001234567"
OTHER_SPONSOR = "7007654321"
EXPIRY = date(2026, 9, 1)
EXPIRY_TOPICS = [get_topic(Person.PassportExpiryApproaching), get_topic(Person.PassportExpired)]


def resident(serial: int) -> str:
    """A resident's ID number with a valid check digit."""
    return str(luhn_complete(f"2{serial:08d}"))


def registered(id_number: str, passport: str, expiry: date, *, sponsor: str = SPONSOR) -> str:
    """A person_registered feed line with this passport."""
    item = registration(f"reg-{id_number}", id_number=id_number, sponsor=sponsor, passport_number=passport)
    dates = {
        "passport_issue_date": (expiry - timedelta(days=3652)).isoformat(),
        "passport_expiry_date": expiry.isoformat(),
    }
    return line(item | dates)


def register(container: Container, people: Iterable[tuple[str, str, date]]) -> None:
    _, report = ingest(container, [registered(*person) for person in people])
    assert report.rejected == 0, report.rejections


def on_day(container: Container, day: date) -> None:
    """Move the container's clock to 09:00 Riyadh on this day (ingest rules use it as today)."""
    moment = datetime.combine(day, time(9), tzinfo=RIYADH)
    container.clock = lambda: moment


@dataclass(frozen=True)
class Recorded:
    """An expiry event as the store holds it."""

    event_id: str
    type: str
    id_number: str
    passport_number: str
    days_left: int | None
    occurred_at: datetime


def recorded(container: Container) -> list[Recorded]:
    """Every expiry event in the store, in recording order."""
    app = container.app
    rows = app.recorder.select_notifications(start=1, limit=100_000, topics=EXPIRY_TOPICS)
    found: list[Recorded] = []
    for row in rows:
        event = app.mapper.to_domain_event(row)
        found.append(
            Recorded(
                event_id=event.event_id,
                type=event.contract_type,
                id_number=event.id_number,
                passport_number=event.passport_number,
                days_left=getattr(event, "days_left", None),
                occurred_at=event.occurred_at,
            )
        )
    return found


def run(container: Container, day: date) -> ExpiryReport:
    on_day(container, day)
    return container.expiry.run(today=day)


def walk(container: Container, first: date, last: date) -> dict[date, list[str]]:
    """Run the job once a day from `first` to `last`; the event ids recorded on each day."""
    by_day: dict[date, list[str]] = {}
    seen = len(recorded(container))
    day = first
    while day <= last:
        report = run(container, day)
        events = recorded(container)
        by_day[day] = [e.event_id for e in events[seen:]]
        assert report.emitted_total == len(events) - seen
        seen = len(events)
        day += timedelta(days=1)
    return by_day


def cli_environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a `jawazat` command on this store, with no other JAWAZAT_ setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env["JAWAZAT_DATABASE_URL"] = database_url
    env["JAWAZAT_OUTBOX_DIR"] = str(tmp_path / "outbox")
    return env


def people_feed(tmp_path: Path, count: int) -> tuple[Path, list[tuple[str, str, date]]]:
    """A feed file registering `count` people whose passports expire over a few days from EXPIRY."""
    people = [(resident(n), f"P{n:05d}", EXPIRY + timedelta(days=n % 4)) for n in range(1, count + 1)]
    path = tmp_path / "people.jsonl"
    path.write_text("".join(registered(*p) + "\n" for p in people), encoding="utf-8")
    return path, people
