"""How a read model's failure is judged: transient (retry the batch later) or poison (park the event).

A batch that fails is either the database or the machine not answering as it should (connection lost,
server restarting, serialization failure or deadlock, lock or statement timeout, pool exhausted, disk or
memory trouble): the same batch will succeed later, so it is retried with back-off and never parked. Or one
of its events cannot be applied by the read model's code (a value out of range, a constraint the event
breaks, a bug on an unusual event): retrying cannot help, so that event is parked and the projection moves
on. The judgement reads the exception and its causes: psycopg's SQLSTATE (class 22, data exception, and 23,
integrity constraint violation, are the event's; every other class is the database's), sqlite3's and the
eventsourcing library's exception classes (the library wraps the drivers' errors), and plain Python errors
raised by a handler (the event's).

`BatchInterrupted` is neither: another process moved the partition's position (`PositionMoved`) or this
worker no longer holds the partition (`ClaimLost`); the batch is abandoned and nothing of it is written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from enum import StrEnum

import psycopg
from eventsourcing import persistence

# SQLSTATE classes that belong to the event being applied; all other classes are the database's.
POISON_SQLSTATE_CLASSES = frozenset({"22", "23"})
# How the library's tracking upsert says the position did not advance (another process recorded it).
TRACKING_REFUSED = "Failed to record tracking"


class Failure(StrEnum):
    """What a failed batch calls for."""

    TRANSIENT = "transient"  # retry the batch with back-off; never park
    POISON = "poison"  # an event cannot be applied: isolate it and park it


class BatchInterrupted(Exception):
    """A batch was abandoned before it was written (nothing of it was committed)."""


class PositionMoved(BatchInterrupted):
    """A partition's tracking position is not where this batch started: another process applied it."""


class ClaimLost(BatchInterrupted):
    """This worker no longer holds the advisory lock of a partition it was about to write."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(error: BaseException) -> Failure:
    """Whether a batch that raised `error` should be retried (transient) or its culprit parked (poison)."""
    for link in _chain(error):
        if isinstance(link, BatchInterrupted):
            return Failure.TRANSIENT
        if isinstance(link, psycopg.Error):
            state = link.sqlstate or ""
            return Failure.POISON if state[:2] in POISON_SQLSTATE_CLASSES else Failure.TRANSIENT
        if isinstance(link, sqlite3.Error):
            poison = isinstance(link, sqlite3.IntegrityError | sqlite3.DataError)
            return Failure.POISON if poison else Failure.TRANSIENT
        if isinstance(link, persistence.IntegrityError) and str(link).startswith(TRACKING_REFUSED):
            return Failure.TRANSIENT  # the library's tracking upsert: another process got there first
    # No driver error underneath: the library's own classes, then plain Python errors.
    if isinstance(error, persistence.IntegrityError | persistence.DataError):
        return Failure.POISON
    if isinstance(error, persistence.PersistenceError | OSError | MemoryError):
        return Failure.TRANSIENT
    return Failure.POISON


def describe(error: BaseException, *, limit: int = 2000) -> tuple[str, str]:
    """(error class, message) to keep beside a parked event: one line, no NUL, bounded."""
    message = " ".join(str(error).replace("\x00", "").split()) or type(error).__name__
    return type(error).__qualname__, message[:limit]
