"""The passport-expiry job: warnings and expiries read off the people view's calendar, each recorded once.

The job reads the people view (one row per person with the current passport, indexed by expiry date) over
the window [today - catch-up days, today + the largest lead], page by page, never the event store. For each
passport at most one event is due on a given day:

* `passport_expiry_approaching` for the threshold whose window holds today: the smallest lead `t` with
  `t >= days_left > 0`. On the threshold's own day `days_left == t`; after a gap (scheduler down, person
  registered late) it is the most recent threshold crossed, with the true `days_left`, never a burst of
  stale ones;
* `passport_expired` on the expiry day, or later when it was missed, up to `catch_up_days` after it.

Event ids are deterministic (`expiry:{id}:{passport}:{threshold}`, `expired:{id}:{passport}`) and saved
through the store's source-event-id table, whose primary key refuses a second writer: re-runs, concurrent
schedulers and crashes mid-run can never record one twice. Before recording, the Person aggregate must
still hold the passport the view showed, so a renewal recorded before a threshold cancels the old
passport's pending warnings (the view then lists the new passport, which gets its own).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from psycopg.rows import tuple_row

from jawazat_events.domain.identifiers import person_id
from jawazat_events.domain.person import Person
from jawazat_events.projections.base import ReadModelDatabase
from jawazat_events.projections.people import PEOPLE, PeopleView
from jawazat_events.projections.runner import Follower
from jawazat_events.services.application import JawazatApplication
from jawazat_events.store import EventKey

if TYPE_CHECKING:
    from jawazat_events.bootstrap import Container
    from jawazat_events.settings import Settings

log = logging.getLogger(__name__)

Kind = Literal["passport_expiry_approaching", "passport_expired"]
APPROACHING: Kind = "passport_expiry_approaching"
EXPIRED: Kind = "passport_expired"
MAX_SAVE_ATTEMPTS = 20
MAX_DRAIN_ATTEMPTS = 5
new_tuple = tuple.__new__


# --- the rules (pure) --------------------------------------------------------------------------------


def warning_event_id(id_number: str, passport_number: str, threshold: int) -> str:
    """The one id the warning for this passport at this threshold is ever recorded under."""
    return f"expiry:{id_number}:{passport_number}:{threshold}"


def expired_event_id(id_number: str, passport_number: str) -> str:
    """The one id this passport's expiry is ever recorded under."""
    return f"expired:{id_number}:{passport_number}"


def window_threshold(days_left: int, lead_days: Sequence[int]) -> int | None:
    """The threshold whose window holds `days_left` (smallest lead ≥ days_left), or None outside all."""
    if days_left <= 0:
        return None
    holding = [lead for lead in lead_days if lead >= days_left]
    return min(holding) if holding else None


class Due(NamedTuple):
    """One event the job owes a passport today (a tuple: the scan may make a million)."""

    id_number: str
    passport_number: str
    expiry_date: date
    kind: Kind
    days_left: int
    threshold: int | None = None  # None for passport_expired

    @property
    def event_id(self) -> str:
        if self.kind == EXPIRED:
            return expired_event_id(self.id_number, self.passport_number)
        assert self.threshold is not None
        return warning_event_id(self.id_number, self.passport_number, self.threshold)


@dataclass(frozen=True)
class ExpiryRules:
    """The thresholds, the catch-up bound and when (business time) the job's events occur."""

    lead_days: tuple[int, ...] = (90, 60, 30, 7)
    catch_up_days: int = 30
    job_time: time = time(6, 0)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Riyadh"))

    @classmethod
    def from_settings(cls, settings: Settings) -> ExpiryRules:
        return cls(
            lead_days=settings.lead_days,
            catch_up_days=settings.expiry_catch_up_days,
            job_time=settings.expiry_time,
            zone=settings.zone,
        )

    def window(self, today: date) -> tuple[date, date]:
        """Expiry dates that can owe anything today: [today - catch-up days, today + largest lead]."""
        furthest = max(self.lead_days, default=0)
        return today - timedelta(days=self.catch_up_days), today + timedelta(days=furthest)

    def occurred_at(self, today: date) -> datetime:
        """The business time of the job's events: today at the job's time in the business time zone."""
        return datetime.combine(today, self.job_time, tzinfo=self.zone)

    def due(self, *, id_number: str, passport_number: str, expiry_date: date, today: date) -> Due | None:
        """The event this passport is owed today, if any (see the module's rules)."""
        days_left = (expiry_date - today).days
        if -self.catch_up_days <= days_left <= 0:
            return Due(id_number, passport_number, expiry_date, EXPIRED, days_left)
        threshold = window_threshold(days_left, self.lead_days)
        if threshold is None:
            return None
        return Due(id_number, passport_number, expiry_date, APPROACHING, days_left, threshold)

    def owed_by_date(self, today: date) -> dict[str, Owed]:
        """What a passport expiring on each date of today's window is owed, by ISO date (the view's text).

        The window holds a few hundred dates, so the scan looks each row up instead of reasoning per row.
        """
        first, last = self.window(today)
        owed: dict[str, Owed] = {}
        for offset in range((last - first).days + 1):
            expiry = first + timedelta(days=offset)
            due = self.due(id_number="", passport_number="", expiry_date=expiry, today=today)
            if due is not None:
                owed[expiry.isoformat()] = Owed(expiry, due.kind, due.days_left, due.threshold)
        return owed


class Owed(NamedTuple):
    """What any passport expiring on one date is owed today: a `Due` without the person's fields."""

    expiry_date: date
    kind: Kind
    days_left: int
    threshold: int | None


# --- reading the calendar ----------------------------------------------------------------------------


CalendarRow = tuple[str, str, str]  # (id_number, passport_number, passport_expiry_date as ISO text)
READ_PAGE = 10_000
# Ids per "already stored?" probe: small enough that PostgreSQL keeps to index look-ups (at ~5,000 ids its
# planner starts to prefer scanning the whole event-id table), large enough to save round trips.
PROBE_CHUNK = 2_000


def scan_calendar(
    db: ReadModelDatabase, *, first: date, last: date, page_size: int = READ_PAGE
) -> Iterator[list[CalendarRow]]:
    """Pages of people whose passport expires in [first, last], by (expiry date, ID number).

    Keyset paging on the people view's calendar index (passport_expiry_date, id_number, passport_number),
    read alone (index-only on PostgreSQL): each page is one short read, so nothing is held open between
    pages and memory stays at one page whatever the view's size.
    """
    after = (first.isoformat(), "")
    statement = (
        f"SELECT id_number, passport_number, passport_expiry_date FROM {PEOPLE} "
        "WHERE (passport_expiry_date, id_number) > (?, ?) AND passport_expiry_date <= ? "
        "ORDER BY passport_expiry_date, id_number LIMIT ?"
    )
    while True:
        with db.reading() as sql:
            if sql.postgres:
                sql.cursor.row_factory = tuple_row  # this transaction's cursor only; plain tuples are cheap
            sql.execute(statement, (*after, last.isoformat(), page_size))
            rows: list[CalendarRow] = sql.cursor.fetchall()  # tuples, or sqlite3.Row (unpacks alike)
        if not rows:
            return
        yield rows
        if len(rows) < page_size:
            return
        after = (rows[-1][2], rows[-1][0])


# --- the job -----------------------------------------------------------------------------------------


@dataclass
class ExpiryReport:
    """What one run of the job did."""

    today: date
    scanned: int = 0
    emitted: dict[str, int] = field(default_factory=lambda: {APPROACHING: 0, EXPIRED: 0})
    duplicates: int = 0
    superseded: int = 0
    interrupted: bool = False

    @property
    def emitted_total(self) -> int:
        return sum(self.emitted.values())

    def add(self, other: ExpiryReport) -> None:
        self.scanned += other.scanned
        for kind, count in other.emitted.items():
            self.emitted[kind] = self.emitted.get(kind, 0) + count
        self.duplicates += other.duplicates
        self.superseded += other.superseded

    def summary(self) -> str:
        """One line for operators: people scanned, events emitted per type, duplicates refused."""
        line = (
            f"passport_expiry {self.today.isoformat()}: {self.scanned:,} people scanned; emitted "
            f"{APPROACHING} {self.emitted[APPROACHING]:,}, {EXPIRED} {self.emitted[EXPIRED]:,}; "
            f"duplicates refused {self.duplicates:,}; skipped (passport renewed) {self.superseded:,}"
        )
        return line + ("; interrupted, the next run continues" if self.interrupted else "")


class ExpiryJob:
    """Runs the passport-expiry rules over the people view and records what is due, exactly once."""

    def __init__(
        self,
        app: JawazatApplication,
        people: PeopleView,
        *,
        rules: ExpiryRules,
        batch_size: int = 1000,
        projection_batch_size: int = 1000,
    ) -> None:
        self.app = app
        self.people = people
        self.rules = rules
        self.batch_size = batch_size
        self.projection_batch_size = projection_batch_size
        # Reads come in larger pages than saves: a page read costs a round trip, a save a transaction.
        self.read_page = max(batch_size, READ_PAGE)

    @classmethod
    def from_container(cls, container: Container) -> ExpiryJob:
        settings = container.settings
        return cls(
            container.app,
            container.read_models.people,
            rules=ExpiryRules.from_settings(settings),
            batch_size=settings.expiry_batch_size,
            projection_batch_size=settings.projection_batch_size,
        )

    def run(self, *, today: date, stop: threading.Event | None = None) -> ExpiryReport:
        """Catch the people view up, then record every event due today; safe to repeat at will."""
        self.catch_up_view()
        report = ExpiryReport(today=today)
        occurred_at = self.rules.occurred_at(today)
        for page in self.plan(today=today):
            report.scanned += page.scanned
            fresh = self.not_yet_recorded(page.due, report)
            for start in range(0, len(fresh), self.batch_size):
                report.add(self.emit(fresh[start : start + self.batch_size], occurred_at=occurred_at))
            if stop is not None and stop.is_set():
                report.interrupted = True
                break
        log.info("%s", report.summary())
        return report

    def catch_up_view(self) -> None:
        """Bring the people view up to the store's head (another process may be draining it too)."""
        follower = Follower(self.app, self.people, batch_size=self.projection_batch_size)
        for attempt in range(MAX_DRAIN_ATTEMPTS):
            try:
                follower.drain()
                return
            except IntegrityError:
                # A worker recorded the same batch first; its rows stand and ours rolled back.
                if attempt == MAX_DRAIN_ATTEMPTS - 1:
                    raise

    def plan(self, *, today: date) -> Iterator[Page]:
        """Pages of the calendar window with what each page's passports are owed today (reads only)."""
        owed = self.rules.owed_by_date(today)
        first, last = self.rules.window(today)
        for rows in scan_calendar(self.people.db, first=first, last=last, page_size=self.read_page):
            # `Owed` is the tail of a `Due`; tuple.__new__ skips NamedTuple's Python-level constructor,
            # which would be half the scan's own CPU when a million passports are owed something.
            due = [
                new_tuple(Due, (id_number, passport_number, *o))
                for id_number, passport_number, expiry in rows
                if (o := owed.get(expiry)) is not None
            ]
            yield Page(scanned=len(rows), due=due)

    def not_yet_recorded(self, due: list[Due], report: ExpiryReport) -> list[Due]:
        """Drop what the store already holds (counted as duplicates), probing a page in a few queries.

        Only a head start: `emit` probes again inside its retry loop, where it counts.
        """
        ids = [d.event_id for d in due]
        stored: set[str] = set()
        for start in range(0, len(ids), PROBE_CHUNK):
            stored |= self.app.store.existing_event_ids(ids[start : start + PROBE_CHUNK])
        report.duplicates += len(stored)
        return [d for d in due if d.event_id not in stored] if stored else due

    def emit(self, due: Sequence[Due], *, occurred_at: datetime) -> ExpiryReport:
        """Record a batch of due events in one transaction; worked out again if another writer won."""
        for attempt in range(MAX_SAVE_ATTEMPTS):
            try:
                # Cached aggregates are shared with this process's other batch writers: take turns.
                with self.app.batch_lock:
                    return self._try_emit(due, occurred_at=occurred_at)
            except IntegrityError:
                # Another scheduler saved some of these (or changed one of these people) first: the
                # store refused the whole batch, so nothing is half-written; look again.
                if attempt == MAX_SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _try_emit(self, due: Sequence[Due], *, occurred_at: datetime) -> ExpiryReport:
        outcome = ExpiryReport(today=occurred_at.date())
        stored = self.app.store.existing_event_ids([d.event_id for d in due])
        outcome.duplicates = len(stored)
        fresh = [d for d in due if d.event_id not in stored]
        people = self.app.load_many(person_id(d.id_number) for d in fresh) if fresh else {}
        touched: list[Aggregate] = []
        keys: list[EventKey] = []
        for item in fresh:
            person = people.get(person_id(item.id_number))
            if not holds_passport(person, item):
                outcome.superseded += 1
                continue
            assert isinstance(person, Person)
            record(person, item, occurred_at=occurred_at)
            touched.append(person)
            keys.append((item.event_id, person.id, person.version))
            outcome.emitted[item.kind] += 1
        if touched:
            self.app.save_keyed(touched, keys)
        return outcome


@dataclass(frozen=True)
class Page:
    """One page of the calendar window: how many people it read and the events they are owed."""

    scanned: int
    due: list[Due]


def holds_passport(person: Any, item: Due) -> bool:
    """Whether the person's record still holds the passport the view showed (not renewed since)."""
    return (
        isinstance(person, Person)
        and person.passport_number == item.passport_number
        and person.passport_expiry_date == item.expiry_date
    )


def record(person: Person, item: Due, *, occurred_at: datetime) -> None:
    """Apply the due event to the person (the domain's command for its kind)."""
    if item.kind == EXPIRED:
        person.expire_passport(
            event_id=item.event_id, occurred_at=occurred_at, passport_number=item.passport_number
        )
    else:
        person.warn_passport_expiry(
            event_id=item.event_id,
            occurred_at=occurred_at,
            days_left=item.days_left,
            passport_number=item.passport_number,
        )
