"""The reference ingest path: the product's ingestor as it was before the bulk path, kept verbatim
as the oracle of the differential tests. Each event goes through the `Person` aggregate's commands and the
library's `@event` machinery, and each batch through `JawazatApplication.save_keyed`, one at a time.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from jawazat_events.domain.errors import DomainError
from jawazat_events.domain.identifiers import person_id, subscription_id
from jawazat_events.domain.person import Person
from jawazat_events.services import feed
from jawazat_events.services.application import EventKey, JawazatApplication
from jawazat_events.services.ingest import MAX_BATCH_ATTEMPTS, LineResult, LineStatus, Parsed, apply_event


class ReferenceIngestor:
    """The ingestor as it was before the bulk path: aggregate commands, `save_keyed`, one batch at a time."""

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
