"""Validated, idempotent, batched ingest of source-system events into the store.

One batch is one transaction: duplicates are found by the store's event-id table, the people involved are
loaded in one query, each event goes through the domain's rules, and every accepted event is saved with
its source `event_id`. If another writer got there first (same event id, or the same person changed), the
store refuses the whole transaction and the batch is worked out again from the store's new state, so per
line results stay exact and nothing is half-written.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from jawazat_events.domain.errors import AlreadyRegistered, DomainError, NotRegistered
from jawazat_events.domain.identifiers import person_id, subscription_id
from jawazat_events.domain.person import Person
from jawazat_events.domain.subscription import Subscription
from jawazat_events.services import feed
from jawazat_events.services.application import EventKey, JawazatApplication


class LineStatus(StrEnum):
    """What became of one feed line: stored, already stored, or refused (with the reason)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


MAX_BATCH_ATTEMPTS = 20


@dataclass(frozen=True)
class LineResult:
    """What became of one feed line (or one item of a posted batch)."""

    line: int
    status: LineStatus
    event_id: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "line": self.line,
            "status": self.status.value,
            "event_id": self.event_id,
        }
        if self.reason is not None:
            result["reason"] = self.reason
        return result


@dataclass
class IngestReport:
    """Counts of a whole ingest run, with every rejected line."""

    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    rejections: list[LineResult] = field(default_factory=list)
    accepted_by_type: dict[str, int] = field(default_factory=dict)

    def add(self, result: LineResult, event_type: str | None = None) -> None:
        if result.status == LineStatus.ACCEPTED:
            self.accepted += 1
            if event_type:
                self.accepted_by_type[event_type] = self.accepted_by_type.get(event_type, 0) + 1
        elif result.status == LineStatus.DUPLICATE:
            self.duplicate += 1
        else:
            self.rejected += 1
            self.rejections.append(result)

    @property
    def total(self) -> int:
        return self.accepted + self.duplicate + self.rejected


Parsed = tuple[int, "feed.FeedEvent | str"]  # (line number, event or the reason it was rejected)


def parse_lines(lines: Iterable[str | bytes], *, first_line: int = 1) -> Iterator[Parsed]:
    """Parse JSON lines lazily; blank lines are skipped but still counted for line numbers."""
    for number, raw in enumerate(lines, start=first_line):
        text = raw.strip()
        if not text:
            continue
        try:
            yield number, feed.parse_event(text)
        except feed.FeedLineError as error:
            yield number, str(error)


def parse_items(items: Iterable[Any], *, first_line: int = 1) -> Iterator[Parsed]:
    """Parse already-decoded JSON items (the body of `POST /v1/events`)."""
    for number, item in enumerate(items, start=first_line):
        try:
            if not isinstance(item, dict):
                raise feed.FeedLineError("an event must be a JSON object with the event's fields")
            yield number, feed.parse_event(item)
        except feed.FeedLineError as error:
            yield number, str(error)


class Ingestor:
    """Feeds parsed events into the store in batches, reporting per line."""

    def __init__(
        self,
        app: JawazatApplication,
        *,
        today: Callable[[], date],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch_size: int = 1000,
    ) -> None:
        self.app = app
        self.today = today
        self.now = now
        self.batch_size = batch_size

    def ingest(self, parsed: Iterable[Parsed]) -> Iterator[tuple[LineResult, str | None]]:
        """Yield (result, event type) for every parsed line, in order, one batch at a time."""
        with _bulk_gc():
            batch: list[Parsed] = []
            for item in parsed:
                batch.append(item)
                if len(batch) >= self.batch_size:
                    yield from self.ingest_batch(batch)
                    batch = []
            if batch:
                yield from self.ingest_batch(batch)

    def ingest_batch(self, batch: list[Parsed]) -> list[tuple[LineResult, str | None]]:
        """Store one batch atomically; retried from the store's state if another writer interfered."""
        for attempt in range(MAX_BATCH_ATTEMPTS):
            try:
                with self.app.batch_lock, self.app.store.ingest_lock():
                    return self._try_batch(batch)
            except IntegrityError:
                if attempt == MAX_BATCH_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _try_batch(self, batch: list[Parsed]) -> list[tuple[LineResult, str | None]]:
        parsed = [event for _, event in batch if not isinstance(event, str)]
        stored = self.app.store.existing_event_ids([e.event_id for e in parsed])
        # Only what may be stored needs its person loaded: a re-sent feed costs one query a batch.
        events = [e for e in parsed if e.event_id not in stored]
        loaded = self.app.load_many(person_id(e.id_number) for e in events)
        if events:
            # Another writer may have stored some of these since the first look: what the loaded state
            # may already hold must count as a duplicate, never be applied (or refused) a second time.
            stored |= self.app.store.existing_event_ids([e.event_id for e in events])
            events = [e for e in events if e.event_id not in stored]
        subscriptions = self._load_subscriptions_for_transfers(events, loaded)
        today, now = self.today(), self.now()

        results: list[tuple[LineResult, str | None]] = []
        keys: list[EventKey] = []
        touched: dict[UUID, Aggregate] = {}
        seen: set[str] = set()
        for line, event in batch:
            if isinstance(event, str):
                results.append((LineResult(line, LineStatus.REJECTED, None, event), None))
                continue
            if event.event_id in stored or event.event_id in seen:
                results.append((LineResult(line, LineStatus.DUPLICATE, event.event_id), event.type))
                continue
            try:
                # Times outside their plausible window are refused before any rule compares them.
                feed.check_times(event, now=now, today=today)
                changed = apply_event(event, people=loaded, subscriptions=subscriptions, today=today)
            except DomainError as error:
                results.append(
                    (LineResult(line, LineStatus.REJECTED, event.event_id, str(error)), event.type)
                )
                continue
            seen.add(event.event_id)
            person = changed[0]
            keys.append((event.event_id, person.id, person.version))
            for aggregate in changed:
                touched[aggregate.id] = aggregate
            results.append((LineResult(line, LineStatus.ACCEPTED, event.event_id), event.type))
        if touched:
            self.app.save_keyed(list(touched.values()), keys)
        return results

    def _load_subscriptions_for_transfers(
        self, events: list[feed.FeedEvent], people: dict[UUID, Aggregate]
    ) -> dict[UUID, Aggregate]:
        # A transfer ends the old sponsor's subscription in the same transaction. The old sponsor
        # is one the person had, or one that an earlier transfer of the same person in this batch names.
        wanted: set[UUID] = set()
        named_in_batch: dict[str, set[str]] = {}
        for event in events:
            if not isinstance(event, feed.SponsorshipTransferred):
                continue
            sponsors = named_in_batch.setdefault(event.id_number, set())
            person = people.get(person_id(event.id_number))
            if isinstance(person, Person):
                sponsors.update(s for s, _, _ in person.sponsorship_periods())
            wanted.update(subscription_id(s, event.id_number) for s in sponsors)
            sponsors.add(event.to_sponsor)
        return self.app.load_many(wanted) if wanted else {}


@contextmanager
def _bulk_gc() -> Iterator[None]:
    """Fewer young-generation collections while a feed streams through: a batch makes tens of thousands
    of short-lived objects and no cycles worth chasing mid-batch (about a fifth of ingest's CPU)."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def apply_event(
    event: feed.FeedEvent,
    *,
    people: dict[UUID, Aggregate],
    subscriptions: dict[UUID, Aggregate],
    today: date,
) -> list[Aggregate]:
    """Apply one feed event to the domain; return the changed aggregates, the person first."""
    key = person_id(event.id_number)
    person = people.get(key)
    if isinstance(event, feed.PersonRegistered):
        if person is not None:
            raise AlreadyRegistered(f"id_number {event.id_number} is already registered")
        person = Person.register(
            id_number=event.id_number,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            sponsor=event.sponsor,
            name_ar=event.name_ar,
            name_en=event.name_en,
            nationality=event.nationality,
            passport_number=event.passport_number,
            passport_issue_date=event.passport_issue_date,
            passport_expiry_date=event.passport_expiry_date,
            details=event.details,
        )
        people[key] = person
        return [person]
    if not isinstance(person, Person):
        raise NotRegistered(
            f"id_number {event.id_number} is not registered: a person_registered event must come first"
        )
    common: dict[str, Any] = {"event_id": event.event_id, "occurred_at": event.occurred_at}
    if isinstance(event, feed.BorderCrossing):
        person.cross_border(**common, direction=event.direction, port=event.port)
    elif isinstance(event, feed.PassportRenewed):
        person.renew_passport(
            **common,
            passport_number=event.passport_number,
            issue_date=event.issue_date,
            expiry_date=event.expiry_date,
            today=today,
        )
    elif isinstance(event, feed.VisaIssued):
        person.issue_visa(
            **common,
            visa_number=event.visa_number,
            visa_type=event.visa_type,
            valid_from=event.valid_from,
            valid_until=event.valid_until,
        )
    elif isinstance(event, feed.VisaStatusChanged):
        person.change_visa_status(
            **common,
            visa_number=event.visa_number,
            status=event.status,
            valid_until=event.valid_until,
        )
    elif isinstance(event, feed.PersonDetailsChanged):
        person.change_details(**common, given=event.given, cleared=event.cleared)
    elif isinstance(event, feed.SponsorshipTransferred):
        left = person.transfer_sponsorship(**common, to_sponsor=event.to_sponsor)
        if left is not None:
            subscription = subscriptions.get(subscription_id(left, event.id_number))
            if isinstance(subscription, Subscription) and subscription.active:
                subscription.end_by_transfer(effective_at=event.occurred_at, cause_event_id=event.event_id)
                return [person, subscription]
    else:  # pragma: no cover - the feed's union is closed
        raise AssertionError(f"unhandled feed event {type(event).__name__}")
    return [person]


def read_json_lines(path: str) -> Iterator[str]:
    """Stream lines from a file or '-' for stdin, never loading it whole."""
    import sys

    if path == "-":
        yield from sys.stdin
        return
    with open(path, encoding="utf-8") as handle:
        yield from handle
