"""The event-sourced application: one sequence for every aggregate, batch loading, keyed saves."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Protocol, cast
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import JSONTranscoder, StoredEvent, Transcoding

from jawazat_events.library_internals import save_unchecked
from jawazat_events.services.event_decoding import EventDecoder

APPLICATION_NAME = "Jawazat"

# Ingest keys travel from `save_keyed(..., event_ids=[...])` down to the recorder as
# (source event_id, originator_id, originator_version); the recorder resolves the notification id.
EventKey = tuple[str, UUID, int]


class EventStore(Protocol):
    """The queries the store's recorders add to the library's (`store.py` implements them per backend)."""

    def existing_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these source event ids the store already holds."""
        ...

    def select_events_after(self, versions: dict[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        """Stored events of many aggregates at once, each after the version given for it (0: all)."""
        ...

    def notification_ids_of(self, event_ids: Sequence[str]) -> dict[str, int]:
        """The notification id each of these source event ids was stored under."""
        ...

    def ingest_lock(self) -> AbstractContextManager[None]:
        """Ingest batches take turns across processes."""
        ...


class DateAsISO(Transcoding):
    """Stores `datetime.date` values as ISO strings (the library ships datetime, not date)."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class AggregateCache:
    """A bounded least-recently-used map of aggregates this process has loaded or saved.

    Entries are only a head start: loading always asks the store for events after the cached version,
    so another process's writes are never missed. Entries are keyed by the id's integer: equal ids have
    equal integers, and an int is hashed in C where `UUID.__hash__` is a Python call (ingest makes
    several cache calls per event).
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[int, Aggregate] = OrderedDict()

    def get(self, key: UUID) -> Aggregate | None:
        number = key.int
        item = self._items.get(number)
        if item is not None:
            self._items.move_to_end(number)
        return item

    def put(self, key: UUID, aggregate: Aggregate) -> None:
        if self.maxsize <= 0:
            return
        number = key.int
        self._items[number] = aggregate
        self._items.move_to_end(number)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def discard(self, keys: Iterable[UUID]) -> None:
        for key in keys:
            self._items.pop(key.int, None)


class JawazatApplication(Application[UUID]):
    """People, establishments and subscriptions, recorded in one application sequence."""

    name = APPLICATION_NAME

    def __init__(self, env: dict[str, str] | None = None, *, cache_size: int = 50_000) -> None:
        super().__init__(env)
        self.cache = AggregateCache(cache_size)
        # Batch writers in one process (API threads, scheduler jobs) share cached aggregates: they take
        # turns. Writers are serialised by the store's table lock anyway, so this costs nothing.
        self.batch_lock = threading.RLock()
        # Stored events back to domain events: the mapper's answer, decoded faster (the read side).
        self.decoder = EventDecoder(self.mapper)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def store(self) -> EventStore:
        """The recorder, with the extra queries this product adds."""
        return cast(EventStore, self.recorder)

    def load_many(self, ids: Iterable[UUID]) -> dict[UUID, Aggregate]:
        """Current state of many aggregates in one query; absent ids are left out."""
        # Duplicates dropped by the ids' integers (hashed in C; `UUID.__hash__` is a Python call).
        wanted = list({key.int: key for key in ids}.values())
        cached = [self.cache.get(key) for key in wanted]
        versions = dict(zip(wanted, [agg.version if agg else 0 for agg in cached], strict=True))
        newer = self.store.select_events_after(versions)
        if not newer:  # (mostly: the cache is current)
            return {
                key: aggregate for key, aggregate in zip(wanted, cached, strict=True) if aggregate is not None
            }
        loaded: dict[UUID, Aggregate] = {}
        for key, aggregate in zip(wanted, cached, strict=True):
            # Cached objects are changed in place; `save_keyed` evicts them when a save fails.
            for stored in newer.get(key, ()):
                event = cast(CanMutateAggregate[UUID], self.decoder.to_domain_event(stored))
                aggregate = cast("Aggregate | None", event.mutate(aggregate))
            if aggregate is not None:
                loaded[key] = aggregate
        return loaded

    def save_keyed(self, aggregates: Sequence[Aggregate], event_ids: Sequence[EventKey]) -> None:
        """Save aggregates' pending events and their source event ids in one transaction."""
        # The same as `save()`, without its per-object protocol checks (a third of ingest's CPU).
        processing = ProcessingEvent[UUID]()
        for aggregate in aggregates:
            processing.aggregates[aggregate.id] = aggregate
            processing.events.extend(aggregate.collect_events())
        processing.saved_kwargs["event_ids"] = list(event_ids)
        try:
            save_unchecked(self, processing)
        except Exception:
            self.cache.discard(a.id for a in aggregates)
            raise
        for aggregate in aggregates:
            self.cache.put(aggregate.id, aggregate)
