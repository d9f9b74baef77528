"""Work claims for several workers on PostgreSQL: advisory locks per projection and fan-out partition.

A worker holds a session-level advisory lock for each unit of work it processes (the subscription index,
the people view, each fan-out partition). Locks vanish with the worker's connection, so a dead worker's
share is taken over at the next rebalance. Workers announce themselves in a heartbeat table and each
takes about `units / live workers` fan-out partitions. On SQLite there is one worker: it claims everything.
"""

from __future__ import annotations

import math
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from jawazat_events import locks
from jawazat_events.locks import ProjectionUnit
from jawazat_events.projections.base import ReadModel
from jawazat_events.projections.tables import HEARTBEATS

SINGLE_UNITS = {
    "subscription_index": ProjectionUnit.SUBSCRIPTION_INDEX,
    "people": ProjectionUnit.PEOPLE,
    "requests": ProjectionUnit.REQUESTS,
    "request_notifications": ProjectionUnit.REQUEST_NOTIFICATIONS,
    "person_links": ProjectionUnit.PERSON_LINKS,
}
LIVE_FOR = timedelta(seconds=15)


class Claims:
    """What this worker may process now; `rebalance()` keeps the share fair as workers come and go."""

    def __init__(self, conninfo: str | None, *, partitions: int) -> None:
        self.partitions = partitions
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.conn = psycopg.connect(conninfo, autocommit=True) if conninfo else None
        self.fanout: set[int] = set() if self.conn else set(range(partitions))
        self.singles: set[str] = set() if self.conn else set(SINGLE_UNITS)
        if self.conn:
            # Workers started together would race on CREATE TABLE IF NOT EXISTS (a unique violation in
            # the catalog): they take turns under a transaction-scoped advisory lock.
            with self.conn.transaction():
                self.conn.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", tuple(locks.HEARTBEATS_CREATE_TABLE)
                )
                self.conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {HEARTBEATS} "
                    "(worker_id TEXT PRIMARY KEY, seen_at TIMESTAMPTZ)"
                )

    def rebalance(self) -> None:
        """Heartbeat, then claim free units up to a fair share and release any surplus."""
        if self.conn is None:
            return
        now = datetime.now(UTC)
        self.conn.execute(
            f"INSERT INTO {HEARTBEATS} VALUES (%s, %s) ON CONFLICT (worker_id) DO UPDATE SET seen_at = %s",
            (self.worker_id, now, now),
        )
        self.conn.execute(f"DELETE FROM {HEARTBEATS} WHERE seen_at < %s", (now - LIVE_FOR * 4,))
        row = self.conn.execute(
            f"SELECT count(*) FROM {HEARTBEATS} WHERE seen_at >= %s", (now - LIVE_FOR,)
        ).fetchone()
        live = max(1, int(row[0]) if row else 1)
        share = math.ceil(self.partitions / live)
        for name, unit in SINGLE_UNITS.items():
            if name not in self.singles and self._try(locks.projection_lock(unit)):
                self.singles.add(name)
        for k in sorted(self.fanout, reverse=True)[: max(0, len(self.fanout) - share)]:
            self._unlock(locks.fanout_partition_lock(k))
            self.fanout.discard(k)
        for k in range(self.partitions):
            if len(self.fanout) >= share:
                break
            if k not in self.fanout and self._try(locks.fanout_partition_lock(k)):
                self.fanout.add(k)

    def held(self, model: ReadModel) -> set[int]:
        """The partitions of this read model this worker holds now."""
        if model.name in SINGLE_UNITS:
            return {0} if model.name in self.singles else set()
        return set(self.fanout)

    def _try(self, lock: locks.AdvisoryLock) -> bool:
        assert self.conn is not None
        return locks.try_lock(self.conn, lock)

    def _unlock(self, lock: locks.AdvisoryLock) -> None:
        assert self.conn is not None
        locks.unlock(self.conn, lock)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.execute(f"DELETE FROM {HEARTBEATS} WHERE worker_id = %s", (self.worker_id,))
            self.conn.close()
            self.conn = None


def unit_locks(model: ReadModel) -> list[locks.AdvisoryLock]:
    """The advisory locks of every unit of work of this read model (what a rebuild of it must hold)."""
    if model.name in SINGLE_UNITS:
        return [locks.projection_lock(SINGLE_UNITS[model.name])]
    return [locks.fanout_partition_lock(k) for k in range(model.partitions)]
