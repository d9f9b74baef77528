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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from jawazat_events.domain.identifiers import person_id
from jawazat_events.domain.person import Person
from jawazat_events.services.application import EventKey, JawazatApplication
from jawazat_events.services.ports import PassportCalendar

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


class ExpirySettings(Protocol):
    """The settings the rules are read from (`settings.Settings` has them)."""

    @property
    def lead_days(self) -> tuple[int, ...]: ...
    @property
    def expiry_catch_up_days(self) -> int: ...
    @property
    def expiry_time(self) -> time: ...
    @property
    def zone(self) -> ZoneInfo: ...


@dataclass(frozen=True)
class ExpiryRules:
    """The thresholds, the catch-up bound and when (business time) the job's events occur."""

    lead_days: tuple[int, ...] = (90, 60, 30, 7)
    catch_up_days: int = 30
    job_time: time = time(6, 0)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Riyadh"))

    @classmethod
    def from_settings(cls, settings: ExpirySettings) -> ExpiryRules:
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


READ_PAGE = 10_000
# Ids per "already stored?" probe: small enough that PostgreSQL keeps to index look-ups (at ~5,000 ids its
# planner starts to prefer scanning the whole event-id table), large enough to save round trips.
PROBE_CHUNK = 2_000


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
        *,
        calendar: PassportCalendar,
        catch_up: Callable[[], object],
        rules: ExpiryRules,
        batch_size: int = 1000,
    ) -> None:
        self.app = app
        self.calendar = calendar
        self.catch_up = catch_up  # brings the people view (the calendar) up to the store's head
        self.rules = rules
        self.batch_size = batch_size
        # Reads come in larger pages than saves: a page read costs a round trip, a save a transaction.
        self.read_page = max(batch_size, READ_PAGE)

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
        for attempt in range(MAX_DRAIN_ATTEMPTS):
            try:
                self.catch_up()
                return
            except IntegrityError:
                # A worker recorded the same batch first; its rows stand and ours rolled back.
                if attempt == MAX_DRAIN_ATTEMPTS - 1:
                    raise

    def plan(self, *, today: date) -> Iterator[Page]:
        """Pages of the calendar window with what each page's passports are owed today (reads only)."""
        owed = self.rules.owed_by_date(today)
        first, last = self.rules.window(today)
        for rows in self.calendar.pages(first=first, last=last, page_size=self.read_page):
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


def holds_passport(person: Aggregate | None, item: Due) -> bool:
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
