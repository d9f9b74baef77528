"""Validated, idempotent, batched ingest of source-system events into the store: the bulk path.

One batch is one transaction: duplicates are found by the store's event-id table, the people involved are
loaded in one query, each event goes through the domain's rules (`Person.decide_…`), and every accepted
event is saved with its source `event_id`. Events are built without the library's per-command machinery
and encoded once (`services.event_rows`); lines are decoded by the compiled codec (`services.feed_codec`).

While batch N is written (a writer thread, one batch queued at most), batch N+1 is prepared from the state
batch N leaves. Results are handed out only once their batch has committed, in line order, so a failure
stops the run with every reported line stored and no other. If another writer got there first (same event
id, or the same person changed), the store refuses the whole transaction: the batches not yet committed
are worked out again, one at a time, from the store's new state, so per-line results stay exact and
nothing is half-written. The run holds the store's ingest lock, giving other processes a turn every
`TURN_BATCHES` batches.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.utils import get_topic

from jawazat_events.domain.errors import AlreadyRegistered, DomainError, NotRegistered
from jawazat_events.domain.identifiers import person_id, subscription_id
from jawazat_events.domain.person import Person
from jawazat_events.domain.subscription import Subscription
from jawazat_events.services import feed, feed_codec
from jawazat_events.services.application import EventKey, JawazatApplication
from jawazat_events.services.event_rows import EventRows
from jawazat_events.services.feed_codec import LeanEvent


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


def _result(line: int, status: LineStatus, event_id: str | None, reason: str | None = None) -> LineResult:
    """`LineResult(line, status, event_id, reason)` without the frozen dataclass's per-field
    `object.__setattr__` calls (a result per line): the same object, its `__dict__` given whole."""
    result: LineResult = _new(LineResult)
    _set_attribute(
        result, "__dict__", {"line": line, "status": status, "event_id": event_id, "reason": reason}
    )
    return result


_new = object.__new__
_set_attribute = object.__setattr__


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


# Batches written in one hold of the store's ingest lock before other processes get a turn.
TURN_BATCHES = 16

AnyParsed = tuple[int, "feed.FeedEvent | LeanEvent | str"]


@dataclass
class _Prepared:
    """One batch worked out against the state its predecessors leave: per-line results, rows to write."""

    batch: list[tuple[int, LeanEvent | str]]
    results: list[tuple[LineResult, str | None]]
    rows: list[StoredEvent]
    keys: list[EventKey]
    # The aggregates it changed, by their id's integer (hashed in C, where `UUID.__hash__` is a Python call).
    touched: dict[int, Aggregate]
    accepted: set[str]


@dataclass(slots=True)
class _BatchState:
    """What a batch's lines are applied to, and what a line made beside its person's event."""

    people: dict[str, Aggregate]  # by ID number (a str's hash is kept with it)
    subscriptions: dict[UUID, Aggregate]  # those the batch's transfers may end
    today: date
    # (aggregate, its events) a line made for aggregates other than its person: a transfer's ended
    # subscription. Emptied by the batch's loop after each line.
    also: list[tuple[Aggregate, list[Any]]] = field(default_factory=list)


class _NotWritten(Exception):
    """A batch queued behind one that failed: the writer did not write it."""


class _Writer:
    """One thread writing prepared batches in order; after a failure it writes nothing more until reset."""

    def __init__(self, write: Callable[[_Prepared], None]) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self.failed = False

    def submit(self, prepared: _Prepared) -> Future[None]:
        return self._pool.submit(self._run, prepared)

    def _run(self, prepared: _Prepared) -> None:
        if self.failed:
            raise _NotWritten
        try:
            self._write(prepared)
        except BaseException:
            self.failed = True
            raise

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class Ingestor:
    """Feeds parsed events into the store in batches, reporting per line."""

    def __init__(
        self,
        app: JawazatApplication,
        *,
        today: Callable[[], date],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch_size: int = 1000,
        overlap: bool = True,
    ) -> None:
        self.app = app
        self.today = today
        self.now = now
        self.batch_size = batch_size
        # Write batch N in a thread while batch N+1 is prepared (False: one after the other, for profiles).
        self.overlap = overlap
        self.rows = EventRows(app.mapper)
        self._person_topic = get_topic(Person)

    def ingest_lines(
        self, lines: Iterable[str | bytes], *, first_line: int = 1
    ) -> Iterator[tuple[LineResult, str | None]]:
        """Decode JSON lines with the compiled codec and ingest them (`ingest`)."""
        return self.ingest(feed_codec.decode_lines(lines, first_line=first_line))

    def ingest_items(
        self, items: Iterable[object], *, first_line: int = 1
    ) -> Iterator[tuple[LineResult, str | None]]:
        """Decode posted JSON items with the compiled codec and ingest them (`ingest`)."""
        return self.ingest(feed_codec.decode_items(items, first_line=first_line))

    def ingest(self, parsed: Iterable[AnyParsed]) -> Iterator[tuple[LineResult, str | None]]:
        """Yield (result, event type) for every parsed line, in order, each once its batch is stored."""
        in_flight: deque[tuple[_Prepared, Future[None] | None]] = deque()
        writer = _Writer(self._write) if self.overlap else None
        turn = ExitStack()
        in_turn = 0
        try:
            with _bulk_gc(), self.app.batch_lock:
                batches = self._batches(parsed)
                while True:
                    try:
                        batch = next(batches, None)
                        if batch is None:
                            break
                        if in_turn == 0:
                            turn = ExitStack()
                            turn.enter_context(self.app.store.ingest_lock())
                        prepared = self._prepare(batch, [p for p, _ in in_flight])
                    except Exception:
                        # Reading the input or the store failed while a batch was being written: that
                        # batch's lines are reported (or its own failure raised) before this failure.
                        while in_flight:
                            yield from self._settle(in_flight, writer)
                        raise
                    if writer is None:
                        in_flight.append((prepared, None))
                    else:
                        in_flight.append((prepared, writer.submit(prepared)))
                    in_turn += 1
                    # One batch written while the next is prepared; a turn ends with everything written.
                    while len(in_flight) > (0 if writer is None or in_turn >= TURN_BATCHES else 1):
                        yield from self._settle(in_flight, writer)
                    if in_turn >= TURN_BATCHES:
                        turn.close()
                        in_turn = 0
                while in_flight:
                    yield from self._settle(in_flight, writer)
        finally:
            for prepared, _ in in_flight:  # stopped early: nothing unsettled stays cached
                self._forget(prepared)
            if writer is not None:
                writer.close()
            turn.close()

    def _batches(self, parsed: Iterable[AnyParsed]) -> Iterator[list[tuple[int, LeanEvent | str]]]:
        batch: list[tuple[int, LeanEvent | str]] = []
        for line, event in parsed:
            batch.append((line, event if isinstance(event, str) else feed_codec.as_lean(event)))
            if len(batch) >= self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _settle(
        self, in_flight: deque[tuple[_Prepared, Future[None] | None]], writer: _Writer | None
    ) -> Iterator[tuple[LineResult, str | None]]:
        """Wait for the oldest batch in flight; hand out its results once stored."""
        prepared, written = in_flight[0]
        try:
            if written is None:
                self._write(prepared)
            else:
                written.result()
        except IntegrityError:
            # Another writer got there first: this batch, and those prepared on its state, stored nothing.
            redo = [p for p, _ in in_flight]
            for _, later in in_flight:
                if later is not None:
                    later.exception()  # wait: the writer refuses it (`_NotWritten`)
            in_flight.clear()
            for p in redo:
                self._forget(p)
            if writer is not None:
                writer.failed = False
            for p in redo:
                yield from self._serial(p.batch)
            return
        in_flight.popleft()
        self._committed(prepared)
        yield from prepared.results

    def _serial(self, batch: list[tuple[int, LeanEvent | str]]) -> Iterator[tuple[LineResult, str | None]]:
        """One batch worked out from the store's state and written, again while another writer interferes."""
        for attempt in range(MAX_BATCH_ATTEMPTS):
            prepared = self._prepare(batch, [])
            try:
                self._write(prepared)
            except IntegrityError:
                self._forget(prepared)
                if attempt == MAX_BATCH_ATTEMPTS - 1:
                    raise
                continue
            except BaseException:
                self._forget(prepared)
                raise
            self._committed(prepared)
            yield from prepared.results
            return

    def _write(self, prepared: _Prepared) -> None:
        if prepared.rows:
            self.app.recorder.insert_events(prepared.rows, event_ids=prepared.keys)

    def _committed(self, prepared: _Prepared) -> None:
        for aggregate in prepared.touched.values():
            self.app.cache.put(aggregate.id, aggregate)

    def _forget(self, prepared: _Prepared) -> None:
        # Cached aggregates were changed in place: what was not stored must be read again.
        self.app.cache.discard(aggregate.id for aggregate in prepared.touched.values())

    def _load(self, ids: Iterable[UUID], pending: dict[int, Aggregate]) -> dict[UUID, Aggregate]:
        """Aggregates as the batches before this one leave them: those in flight, else the store's."""
        found: dict[UUID, Aggregate] = {}
        others: list[UUID] = []
        for key in ids:
            aggregate = pending.get(key.int)
            if aggregate is None:
                others.append(key)
            else:
                found[key] = aggregate
        found.update(self.app.load_many(others))
        return found

    def _load_people(self, numbers: Iterable[str], pending: dict[int, Aggregate]) -> dict[str, Aggregate]:
        """`_load` for the people with these ID numbers, keyed by ID number as the batch's lines name them."""
        people: dict[str, Aggregate] = {}
        others: list[UUID] = []
        number_of: dict[int, str] = {}  # by the person id's integer
        for number in numbers:
            key = person_id(number)
            aggregate = pending.get(key.int)
            if aggregate is None:
                others.append(key)
                number_of[key.int] = number
            else:
                people[number] = aggregate
        if others:
            for key, aggregate in self.app.load_many(others).items():
                people[number_of[key.int]] = aggregate
        return people

    def _prepare(self, batch: list[tuple[int, LeanEvent | str]], before: list[_Prepared]) -> _Prepared:
        pending: dict[int, Aggregate] = {}
        pending_ids: set[str] = set()
        for earlier in before:
            pending.update(earlier.touched)
            pending_ids |= earlier.accepted
        parsed = [event for _, event in batch if not isinstance(event, str)]
        ids = [e.event_id for e in parsed]
        stored = self.app.store.existing_event_ids(ids) | (pending_ids.intersection(ids))
        # Only what may be stored needs its person loaded: a re-sent feed costs one query a batch.
        events = [e for e in parsed if e.event_id not in stored]
        people = self._load_people(dict.fromkeys([e.id_number for e in events]), pending)
        if events:
            # Another writer may have stored some of these since the first look: what the loaded state
            # may already hold must count as a duplicate, never be applied (or refused) a second time.
            stored |= self.app.store.existing_event_ids([e.event_id for e in events])
            events = [e for e in events if e.event_id not in stored]
        subscriptions = self._load_subscriptions_for_transfers(events, people, pending)
        today, now = self.today(), self.now()
        check_times = feed_codec.times_check(now=now, today=today)
        state = _BatchState(people, subscriptions, today)
        also = state.also
        apply = self._apply
        rejected, duplicate, accepted = LineStatus.REJECTED, LineStatus.DUPLICATE, LineStatus.ACCEPTED

        results: list[tuple[LineResult, str | None]] = []
        keys: list[EventKey] = []
        # Each aggregate's events, by its id's integer, in the order first touched.
        made_by: dict[int, tuple[Aggregate, list[Any]]] = {}
        seen: set[str] = set()
        for line, event in batch:
            if isinstance(event, str):
                results.append((_result(line, rejected, None, event), None))
                continue
            event_id = event.event_id
            if event_id in stored or event_id in seen:
                results.append((_result(line, duplicate, event_id), event.type))
                continue
            try:
                # Times outside their plausible window are refused before any rule compares them.
                check_times(event)
                made = apply(event, state)
            except DomainError as error:
                also.clear()
                results.append((_result(line, rejected, event_id, str(error)), event.type))
                continue
            seen.add(event_id)
            # The person's event: its originator is the person, its version the person's version now.
            person_key = made.originator_id
            keys.append((event_id, person_key, made.originator_version))
            group = made_by.get(person_key.int)
            if group is None:
                made_by[person_key.int] = (people[event.id_number], [made])
            else:
                group[1].append(made)
            for aggregate, events_of in also:
                group = made_by.get(aggregate.id.int)
                if group is None:
                    made_by[aggregate.id.int] = (aggregate, events_of)
                else:
                    group[1].extend(events_of)
            also.clear()
            results.append((_result(line, accepted, event_id), event.type))
        # Each aggregate's events together, aggregates in the order first touched (as `save` orders them).
        stored_event = self.rows.stored
        rows = [stored_event(made) for _, events_of in made_by.values() for made in events_of]
        touched = {key: aggregate for key, (aggregate, _) in made_by.items()}
        return _Prepared(batch, results, rows, keys, touched, seen)

    def _load_subscriptions_for_transfers(
        self, events: list[LeanEvent], people: dict[str, Aggregate], pending: dict[int, Aggregate]
    ) -> dict[UUID, Aggregate]:
        # A transfer ends the old sponsor's subscription in the same transaction. The old sponsor
        # is one the person had, or one that an earlier transfer of the same person in this batch names.
        wanted: dict[UUID, None] = {}
        named_in_batch: dict[str, set[str]] = {}
        for event in events:
            if type(event) is not feed_codec.SponsorshipTransferredLine:
                continue
            sponsors = named_in_batch.setdefault(event.id_number, set())
            person = people.get(event.id_number)
            if isinstance(person, Person):
                sponsors.update(s for s, _, _ in person.sponsorship_periods())
            wanted.update(dict.fromkeys(subscription_id(s, event.id_number) for s in sponsors))
            sponsors.add(event.to_sponsor)
        return self._load(wanted, pending) if wanted else {}

    def _apply(self, event: LeanEvent, state: _BatchState) -> Any:
        """Apply one feed event to the domain; return the event it made for the line's person (events made
        for other aggregates go to `state.also`)."""
        person = state.people.get(event.id_number)
        if isinstance(event, feed_codec.PersonRegisteredLine):
            if person is not None:
                raise AlreadyRegistered(f"id_number {event.id_number} is already registered")
            return self._register(event, state)
        if not isinstance(person, Person):
            raise NotRegistered(
                f"id_number {event.id_number} is not registered: a person_registered event must come first"
            )
        change = self._CHANGES.get(type(event))
        if change is None:  # pragma: no cover - the feed's union is closed
            raise AssertionError(f"unhandled feed event {type(event).__name__}")
        return change(self, event, person, state)

    # One method per line type: each takes the domain's decision and makes the person's event from it, applied
    # as a replay applies it (`EventRows`). The shared keyword arguments are spelled out: no dict per line.

    def _register(self, event: feed_codec.PersonRegisteredLine, state: _BatchState) -> Any:
        fields = Person.decide_registration(
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
        made = self.rows.event(
            Person.Registered,
            originator_id=person_id(event.id_number),
            originator_version=1,
            fields=fields,
            originator_topic=self._person_topic,
        )
        registered = self.rows.create(made, fields)
        assert isinstance(registered, Person)
        state.people[event.id_number] = registered
        return made

    def _cross(self, event: feed_codec.BorderCrossingLine, person: Person, _: _BatchState) -> Any:
        fields = person.decide_crossing(
            event_id=event.event_id, occurred_at=event.occurred_at, direction=event.direction, port=event.port
        )
        return self.rows.next_event(Person.BorderCrossed, person, fields)

    def _renew(self, event: feed_codec.PassportRenewedLine, person: Person, state: _BatchState) -> Any:
        fields = person.decide_renewal(
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            passport_number=event.passport_number,
            issue_date=event.issue_date,
            expiry_date=event.expiry_date,
            today=state.today,
        )
        return self.rows.next_event(Person.PassportRenewed, person, fields)

    def _issue_visa(self, event: feed_codec.VisaIssuedLine, person: Person, _: _BatchState) -> Any:
        fields = person.decide_visa(
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            visa_number=event.visa_number,
            visa_type=event.visa_type,
            valid_from=event.valid_from,
            valid_until=event.valid_until,
        )
        return self.rows.next_event(Person.VisaIssued, person, fields)

    def _change_visa_status(
        self, event: feed_codec.VisaStatusChangedLine, person: Person, _: _BatchState
    ) -> Any:
        fields = person.decide_visa_status(
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            visa_number=event.visa_number,
            status=event.status,
            valid_until=event.valid_until,
        )
        return self.rows.next_event(Person.VisaStatusChanged, person, fields)

    def _change_details(
        self, event: feed_codec.PersonDetailsChangedLine, person: Person, _: _BatchState
    ) -> Any:
        fields = person.decide_details(
            event_id=event.event_id, occurred_at=event.occurred_at, given=event.given, cleared=event.cleared
        )
        return self.rows.next_event(Person.DetailsChanged, person, fields)

    def _transfer(
        self, event: feed_codec.SponsorshipTransferredLine, person: Person, state: _BatchState
    ) -> Any:
        before = person.current_sponsor
        fields = person.decide_transfer(
            event_id=event.event_id, occurred_at=event.occurred_at, to_sponsor=event.to_sponsor
        )
        made = self.rows.next_event(Person.SponsorshipTransferred, person, fields)
        left = person.sponsor_left(before)
        if left is not None:
            subscription = state.subscriptions.get(subscription_id(left, event.id_number))
            if isinstance(subscription, Subscription) and subscription.active:
                subscription.end_by_transfer(effective_at=event.occurred_at, cause_event_id=event.event_id)
                state.also.append((subscription, list(subscription.collect_events())))
        return made

    # The method for each line type but the registration (`_apply` dispatches on the line's exact type).
    _CHANGES: ClassVar[dict[type, Callable[[Ingestor, Any, Person, _BatchState], Any]]] = {
        feed_codec.BorderCrossingLine: _cross,
        feed_codec.PassportRenewedLine: _renew,
        feed_codec.VisaIssuedLine: _issue_visa,
        feed_codec.VisaStatusChangedLine: _change_visa_status,
        feed_codec.PersonDetailsChangedLine: _change_details,
        feed_codec.SponsorshipTransferredLine: _transfer,
    }


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
    """Apply one feed event through the aggregates' commands; return the changed aggregates, the person first.

    The aggregate path, for writers outside the bulk path (and the reference of its differential tests):
    the same rules as `Ingestor._apply`, which takes the domain's decisions without the commands.
    """
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
