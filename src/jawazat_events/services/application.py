"""The event-sourced application: one sequence for every aggregate, batch loading, keyed saves."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Transcoding

from jawazat_events.store import APPLICATION_NAME, EventKey, EventStoreRecorder


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
    so another process's writes are never missed.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[UUID, Aggregate] = OrderedDict()

    def get(self, key: UUID) -> Aggregate | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: UUID, aggregate: Aggregate) -> None:
        if self.maxsize <= 0:
            return
        self._items[key] = aggregate
        self._items.move_to_end(key)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def discard(self, keys: Iterable[UUID]) -> None:
        for key in keys:
            self._items.pop(key, None)


class JawazatApplication(Application[UUID]):
    """People, establishments and subscriptions, recorded in one application sequence."""

    name = APPLICATION_NAME

    def __init__(self, env: dict[str, str] | None = None, *, cache_size: int = 50_000) -> None:
        super().__init__(env)
        self.cache = AggregateCache(cache_size)
        # Batch writers in one process (API threads, scheduler jobs) share cached aggregates: they take
        # turns. Writers are serialised by the store's table lock anyway, so this costs nothing.
        self.batch_lock = threading.RLock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def store(self) -> EventStoreRecorder:
        """The recorder, with the extra queries this product adds."""
        return cast(EventStoreRecorder, self.recorder)

    def load_many(self, ids: Iterable[UUID]) -> dict[UUID, Aggregate]:
        """Current state of many aggregates in one query; absent ids are left out."""
        wanted = list(dict.fromkeys(ids))
        cached = {key: self.cache.get(key) for key in wanted}
        versions = {key: (agg.version if agg else 0) for key, agg in cached.items()}
        newer = self.store.select_events_after(versions)
        loaded: dict[UUID, Aggregate] = {}
        for key in wanted:
            # Cached objects are changed in place; `save_keyed` evicts them when a save fails.
            aggregate: Any = cached[key]
            for stored in newer.get(key, ()):
                aggregate = self.mapper.to_domain_event(stored).mutate(aggregate)
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
            self._notify(self._record(processing))
        except Exception:
            self.cache.discard(a.id for a in aggregates)
            raise
        for aggregate in aggregates:
            self.cache.put(aggregate.id, aggregate)
