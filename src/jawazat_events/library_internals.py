"""Every use of eventsourcing's private internals, each with the reason it is used beside it.

The product builds on eventsourcing 9.5's public API everywhere else. Where a private method is the only
way to get a measured speed-up or a guarantee, it is called or overridden here and nowhere else, so an
upgrade of the library has one module to check. `PINNED_SHAPES` lists each private name with the shape we
rely on; `tests/unit/test_library_internals.py` compares it with the installed library and fails loudly,
naming what moved, when an upgrade changes one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, cast
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    DecoratedFuncCaller,
    _init_mentions_id,
    decorated_funcs,
)
from eventsourcing.persistence import StoredEvent, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import Composed

PINNED_VERSION = "9.5"


class PinnedShape(NamedTuple):
    """A private method we call or override: its class, name, positional parameters, and `**kwargs`."""

    owner: type
    name: str
    positional: int  # including self
    var_keyword: bool


PINNED_SHAPES: tuple[PinnedShape, ...] = (
    PinnedShape(Application, "_record", 2, False),
    PinnedShape(Application, "_notify", 2, False),
    PinnedShape(PostgresTrackingRecorder, "_insert_tracking", 3, False),
    PinnedShape(SQLiteTrackingRecorder, "_insert_tracking", 3, False),
    PinnedShape(PostgresApplicationRecorder, "_insert_stored_events", 3, True),
    PinnedShape(PostgresApplicationRecorder, "_fetch_ids_after_insert_events", 3, True),
    PinnedShape(PostgresApplicationRecorder, "_lock_table", 2, False),
    PinnedShape(PostgresApplicationRecorder, "_notify_channel", 2, False),
    PinnedShape(SQLiteApplicationRecorder, "_insert_events", 3, True),
)


def save_unchecked(app: Application[UUID], processing: ProcessingEvent[UUID]) -> None:
    """Record a processing event and notify, exactly as `Application.save()` does after its checks.

    Why: `save()` checks every object against the aggregate protocol one by one; for ingest's batches of
    1,000 events that was a third of ingest's CPU (bench.profiling). Our batches hold only aggregates the
    application itself loaded or created, so the checks can never fail.
    """
    app._notify(app._record(processing))


def decorated_body(event_class: type) -> Callable[..., None] | None:
    """The method body an `@event` decorator wrapped for this event class, when the library's `mutate` of
    such an event does no more than check the sequence, call that body with the event's attributes it
    names, and set the aggregate's `version` and `modified_on`; None for any other event class.

    Why: the library's `mutate` finds the body by class and filters the event's attributes against the
    body's signature on every call: about half of applying an event in ingest's bulk path, which already
    holds exactly the body's arguments (the domain's decided fields). Calling the same body with the same
    values changes the aggregate exactly as `mutate` does (`tests/unit/test_library_internals.py`).
    """
    appliers = [k for k in event_class.__mro__ if "apply" in vars(k)]
    mutators = [k for k in event_class.__mro__ if "mutate" in vars(k)]
    if appliers != [DecoratedFuncCaller, CanMutateAggregate] or mutators[:1] != [CanMutateAggregate]:
        return None
    return decorated_funcs.get(event_class)


def aggregate_initialiser(event_class: type, aggregate_class: type) -> Callable[..., None] | None:
    """The `__init__` of `aggregate_class` when the library's `mutate` of this created-event class does no
    more than make an `aggregate_class` object, call the library's `__base_init__` with the event's id,
    version and timestamp, and call that `__init__` with the event's attributes it names; None for any
    other event or aggregate class.

    Why: the library's `mutate` filters the event's attributes against two signatures on every call, about
    10 µs a registration in ingest's bulk path, which already holds exactly `__init__`'s arguments (the
    domain's decided fields). Calling the same two methods with the same values builds the aggregate
    exactly as `mutate` does (`tests/unit/test_library_internals.py`).
    """
    appliers = [k for k in event_class.__mro__ if "apply" in vars(k)]
    mutators = [k for k in event_class.__mro__ if "mutate" in vars(k)]
    if appliers != [CanMutateAggregate] or mutators[:1] != [CanInitAggregate]:
        return None
    if not isinstance(aggregate_class, type) or not issubclass(aggregate_class, BaseAggregate):
        return None
    if (
        aggregate_class in _init_mentions_id
        or aggregate_class.__base_init__ is not BaseAggregate.__base_init__
    ):
        return None
    init: Callable[..., None] = aggregate_class.__init__
    return init


def insert_tracking(recorder: TrackingRecorder, cursor: object, tracking: Tracking) -> None:
    """Write a tracking record with the library's own statement on the caller's cursor.

    Why: a read model's rows and its position must commit in ONE transaction, so that a crash can neither
    skip nor repeat an event; the public `insert_tracking()` opens a transaction of its own.
    """
    recorder._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]


class PostgresRecorderHooks(PostgresApplicationRecorder):
    """The PostgreSQL application recorder with two of its private steps replaced (subclasses fill in the
    public `insert_statement` and `after_insert`).

    `_insert_stored_events`: the library's table lock and NOTIFY, then one INSERT of plain column arrays.
    Why: psycopg dumps four plain arrays far faster than the library's one array of composite values.
    Measured: 1,000-event batches of 300-byte states inserted 1.9-2.4 times as fast as with the library's
    statement (3 rounds, PostgreSQL on loopback, 2 cores), although ours also writes the chain's links.
    `_fetch_ids_after_insert_events`: hands the RETURNING rows to `after_insert`, which writes the source
    event ids and the hash chain in the same transaction as the events. The rows come as tuples, in the
    RETURNING list's order: psycopg builds a batch's 1,000 tuples in C, dicts one by one in Python
    (0.79 against 0.35 µs a row, measured on loopback).
    """

    def insert_statement(self) -> Composed:
        """`INSERT … SELECT * FROM unnest(ids, versions, topics, states) RETURNING notification_id, …`."""
        raise NotImplementedError

    def after_insert(
        self,
        curs: Cursor[Any],
        stored_events: Sequence[StoredEvent],
        rows: list[tuple[Any, ...]],
        saved: Mapping[str, Any],
    ) -> Sequence[int]:
        """Everything the events' transaction writes beside them; returns their notification ids."""
        raise NotImplementedError

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self.insert_statement(),
            (
                [s.originator_id for s in stored_events],
                [s.originator_version for s in stored_events],
                [s.topic for s in stored_events],
                [s.state for s in stored_events],
            ),
        )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        tuples = cast(Cursor[tuple[Any, ...]], curs)
        tuples.row_factory = tuple_row  # this cursor only: the library closes it after this step
        return self.after_insert(tuples, stored_events, tuples.fetchall(), kwargs)


class SQLiteRecorderHooks(SQLiteApplicationRecorder):
    """The SQLite application recorder, calling the public `after_insert` inside the events' transaction.

    Why: the source event ids and the hash chain must commit with the events; the library offers no public
    hook inside its insert transaction.
    """

    def after_insert(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        ids: Sequence[int],
        saved: Mapping[str, Any],
    ) -> None:
        """Everything the events' transaction writes beside them."""
        raise NotImplementedError

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        if notification_ids:
            self.after_insert(c, stored_events, notification_ids, kwargs)
        return notification_ids


def datastore_of(app: Application[UUID]) -> PostgresDatastore | SQLiteDatastore:
    """The datastore (connection pool, or SQLite file) the application's recorder writes through.

    Why: the read models share the store's pool and transactions; the library's factories hold the
    datastore as a public attribute that the base factory's type does not declare.
    """
    datastore: PostgresDatastore | SQLiteDatastore = app.factory.datastore  # type: ignore[attr-defined]
    return datastore
