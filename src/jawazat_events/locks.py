"""Every PostgreSQL advisory lock the product takes, named once, so that no two roles ever share a pair.

PostgreSQL's two-key advisory locks are `(class, key)` pairs of 32-bit integers. Each role of lock has its
own class here; a class's keys are either a small registry below (fixed locks) or a number the role owns
outright (a fan-out partition, a scheduler job's index). `tests/unit/test_locks.py` checks that no two
named pairs are equal and that the classes are distinct.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from enum import IntEnum
from typing import Any, NamedTuple


class LockClass(IntEnum):
    """The first key of every advisory lock: one per role."""

    FANOUT_PARTITION = 0x4A5A0001  # key: the partition number
    PROJECTION = 0x4A5A0002  # key: ProjectionUnit (single-unit projections), or HEARTBEATS_TABLE's key
    SCHEDULER_JOB = 0x4A5A0003  # key: the job's index in scheduler.JOB_NAMES
    STORE = 0x4A5A0004  # key: the store's own locks below
    READ_MODEL_SCHEMA = 0x4A5A0005  # key: 1, creating read-model tables


class AdvisoryLock(NamedTuple):
    """One advisory lock: the pair passed to `pg_advisory_lock(class, key)`."""

    lock_class: int
    key: int


class ProjectionUnit(IntEnum):
    """Keys of the single-unit projections under `LockClass.PROJECTION` (held by one worker at a time)."""

    SUBSCRIPTION_INDEX = 0
    PEOPLE = 1
    REQUESTS = 2
    REQUEST_NOTIFICATIONS = 3


# Fixed locks (a pair each).
STORE_CREATE_TABLES = AdvisoryLock(LockClass.STORE, 1)
STORE_INGEST = AdvisoryLock(LockClass.STORE, 2)
READ_MODEL_CREATE_TABLES = AdvisoryLock(LockClass.READ_MODEL_SCHEMA, 1)
HEARTBEATS_CREATE_TABLE = AdvisoryLock(LockClass.PROJECTION, 0x7FFF)


def projection_lock(unit: ProjectionUnit) -> AdvisoryLock:
    """The lock a worker holds while it runs a single-unit projection."""
    return AdvisoryLock(LockClass.PROJECTION, int(unit))


def fanout_partition_lock(partition: int) -> AdvisoryLock:
    """The lock a worker holds while it runs one fan-out partition."""
    return AdvisoryLock(LockClass.FANOUT_PARTITION, partition)


def scheduler_job_lock(job_index: int) -> AdvisoryLock:
    """The lock a scheduler run of one job holds."""
    return AdvisoryLock(LockClass.SCHEDULER_JOB, job_index)


def fixed_locks() -> dict[str, AdvisoryLock]:
    """Every lock whose pair is fixed, by name (for the registry's own test and for operators)."""
    named: dict[str, AdvisoryLock] = {
        "store_create_tables": STORE_CREATE_TABLES,
        "store_ingest": STORE_INGEST,
        "read_model_create_tables": READ_MODEL_CREATE_TABLES,
        "heartbeats_create_table": HEARTBEATS_CREATE_TABLE,
    }
    named.update({f"projection_{unit.name.lower()}": projection_lock(unit) for unit in ProjectionUnit})
    return named


@contextmanager
def holding(conn: Any, lock: AdvisoryLock) -> Iterator[None]:
    """Hold a session advisory lock on this psycopg connection for the block (waits for it)."""
    conn.execute("SELECT pg_advisory_lock(%s, %s)", tuple(lock))
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", tuple(lock))


def try_lock(conn: Any, lock: AdvisoryLock) -> bool:
    """Take a session advisory lock on this connection if it is free; True when taken."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", tuple(lock)).fetchone()
    return bool(row and row[0])


def unlock(conn: Any, lock: AdvisoryLock) -> None:
    """Release a session advisory lock held on this connection."""
    conn.execute("SELECT pg_advisory_unlock(%s, %s)", tuple(lock))


def held_by(cursor: Any, pid: int, wanted: Iterable[AdvisoryLock]) -> set[AdvisoryLock]:
    """Which of `wanted` the server session `pid` holds now, read from `pg_locks` on any connection.

    A two-key advisory lock shows in `pg_locks` as classid = the class, objid = the key, objsubid = 2.
    `cursor` is a psycopg connection or cursor (tuple or dict rows).
    """
    wanted = set(wanted)
    if not wanted:
        return set()
    rows = cursor.execute(
        "SELECT classid::bigint AS lock_class, objid::bigint AS lock_key FROM pg_locks "
        "WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND pid = %s",
        (pid,),
        prepare=False,
    ).fetchall()
    pairs = {AdvisoryLock(*(row.values() if isinstance(row, Mapping) else row)) for row in rows}
    return wanted & pairs
