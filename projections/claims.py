"""Work claims for several workers on PostgreSQL: advisory locks per projection and fan-out partition.

A worker holds a session-level advisory lock for each unit of work it processes (the subscription index,
the people view, each fan-out partition), on one connection of its own. Locks vanish with the worker's
connection, so a dead worker's share is taken over at the next rebalance. Workers announce themselves in
a heartbeat table and each takes about `units / live workers` fan-out partitions. On SQLite there is one
worker: it claims everything.

The claims connection survives the server: when it is lost (PostgreSQL restarted, the session killed),
the next `rebalance()` forgets every claim (the locks died with the session), connects again and claims
afresh, competing fairly with the other workers. Between rebalances, `fence()` is checked inside every
batch's transaction: the claims session must still hold the partitions the batch writes, read from
`pg_locks`, or the batch is abandoned (`ClaimLost`) before anything is written. With the tracking records
locked and compared in the same transaction (`ReadModelDatabase.hold_positions`), two workers never apply
the same partition's events, even in the moment a lock changes hands.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from jawazat_events import locks
from jawazat_events.locks import ProjectionUnit
from jawazat_events.projections.base import Fence, ReadModel, Sql
from jawazat_events.projections.failures import ClaimLost
from jawazat_events.projections.tables import HEARTBEATS

log = logging.getLogger(__name__)

SINGLE_UNITS = {
    "subscription_index": ProjectionUnit.SUBSCRIPTION_INDEX,
    "people": ProjectionUnit.PEOPLE,
    "requests": ProjectionUnit.REQUESTS,
    "request_notifications": ProjectionUnit.REQUEST_NOTIFICATIONS,
}
LIVE_FOR = timedelta(seconds=15)
CONNECT_TIMEOUT_SECONDS = 5


class Claims:
    """What this worker may process now; `rebalance()` keeps the share fair as workers come and go."""

    def __init__(self, conninfo: str | None, *, partitions: int) -> None:
        self.partitions = partitions
        self.conninfo = conninfo
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.conn: psycopg.Connection[Any] | None = None
        self.pid: int | None = None  # the claims session's server process: whose locks the fence reads
        self.reconnects = 0
        self.fanout: set[int] = set() if conninfo else set(range(partitions))
        self.singles: set[str] = set() if conninfo else set(SINGLE_UNITS)
        if conninfo:
            self._connect()

    # --- the connection ---------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        assert self.conninfo is not None
        conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        # Workers started together would race on CREATE TABLE IF NOT EXISTS (a unique violation in
        # the catalog): they take turns under a transaction-scoped advisory lock.
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", tuple(locks.HEARTBEATS_CREATE_TABLE))
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {HEARTBEATS} (worker_id TEXT PRIMARY KEY, seen_at TIMESTAMPTZ)"
            )
        self.conn, self.pid = conn, conn.info.backend_pid
        return conn

    def _lost(self, reason: str) -> None:
        """The claims session is gone, and its locks with it: forget them and the connection."""
        self.fanout.clear()
        self.singles.clear()
        if self.conn is None:
            return  # already forgotten (an earlier reconnect failed)
        log.warning(
            "worker %s: the claims connection was lost (%s); its claims went with it, reconnecting",
            self.worker_id,
            reason,
        )
        self.conn.close()
        self.conn, self.pid = None, None
        self.reconnects += 1

    # --- claiming ---------------------------------------------------------------------------------

    def rebalance(self) -> None:
        """Heartbeat, then claim free units up to a fair share and release any surplus.

        A lost connection is opened again (the claims start over); if the server does not answer, the
        error is raised for the worker to retry with back-off, holding nothing meanwhile.
        """
        if self.conninfo is None:
            return
        try:
            if self.conn is None or self.conn.closed:
                self._lost("closed")
                self._connect()
            assert self.conn is not None
            self._rebalance(self.conn)
        except psycopg.OperationalError as error:  # the server went away under us (or is still away)
            self._lost(type(error).__name__)
            self._rebalance(self._connect())

    def _rebalance(self, conn: psycopg.Connection[Any]) -> None:
        now = datetime.now(UTC)
        self._verify(conn)
        conn.execute(
            f"INSERT INTO {HEARTBEATS} VALUES (%s, %s) ON CONFLICT (worker_id) DO UPDATE SET seen_at = %s",
            (self.worker_id, now, now),
        )
        conn.execute(f"DELETE FROM {HEARTBEATS} WHERE seen_at < %s", (now - LIVE_FOR * 4,))
        row = conn.execute(
            f"SELECT count(*) FROM {HEARTBEATS} WHERE seen_at >= %s", (now - LIVE_FOR,)
        ).fetchone()
        live = max(1, int(row[0]) if row else 1)
        share = math.ceil(self.partitions / live)
        for name, unit in SINGLE_UNITS.items():
            if name not in self.singles and locks.try_lock(conn, locks.projection_lock(unit)):
                self.singles.add(name)
        for k in sorted(self.fanout, reverse=True)[: max(0, len(self.fanout) - share)]:
            locks.unlock(conn, locks.fanout_partition_lock(k))
            self.fanout.discard(k)
        for k in range(self.partitions):
            if len(self.fanout) >= share:
                break
            if k not in self.fanout and locks.try_lock(conn, locks.fanout_partition_lock(k)):
                self.fanout.add(k)

    def _verify(self, conn: psycopg.Connection[Any]) -> None:
        """Keep only the claims the session really holds (pg_locks), whatever happened to it."""
        assert self.pid is not None
        mine = {name: locks.projection_lock(SINGLE_UNITS[name]) for name in self.singles}
        mine_fanout = {k: locks.fanout_partition_lock(k) for k in self.fanout}
        held = locks.held_by(conn, self.pid, [*mine.values(), *mine_fanout.values()])
        self.singles = {name for name, lock in mine.items() if lock in held}
        self.fanout = {k for k, lock in mine_fanout.items() if lock in held}

    def held(self, model: ReadModel) -> set[int]:
        """The partitions of this read model this worker holds now."""
        if model.name in SINGLE_UNITS:
            return {0} if model.name in self.singles else set()
        return set(self.fanout)

    def forget(self, model: ReadModel) -> None:
        """Stop counting on this read model's claims until the next rebalance has checked them."""
        if model.name in SINGLE_UNITS:
            self.singles.discard(model.name)
        else:
            self.fanout.clear()

    # --- fencing ----------------------------------------------------------------------------------

    def fence(self, model: ReadModel) -> Fence | None:
        """The check a batch of this read model runs in its transaction (None on SQLite: one worker)."""
        if self.conninfo is None:
            return None

        def check(sql: Sql, partitions: Collection[int]) -> None:
            wanted = [self._lock(model, k) for k in partitions]
            pid = self.pid
            if pid is None:
                raise ClaimLost(f"{model.name}: the claims connection is closed")
            missing = set(wanted) - locks.held_by(sql.cursor, pid, wanted)
            if missing:
                raise ClaimLost(
                    f"{model.name}: this worker no longer holds "
                    + ", ".join(f"lock {lock.lock_class:#x}/{lock.key}" for lock in sorted(missing))
                )

        return check

    @staticmethod
    def _lock(model: ReadModel, partition: int) -> locks.AdvisoryLock:
        if model.name in SINGLE_UNITS:
            return locks.projection_lock(SINGLE_UNITS[model.name])
        return locks.fanout_partition_lock(partition)

    def close(self) -> None:
        """Leave: the heartbeat goes (the others rebalance at once) and the locks with the connection."""
        if self.conn is None:
            return
        try:
            if not self.conn.closed:
                self.conn.execute(f"DELETE FROM {HEARTBEATS} WHERE worker_id = %s", (self.worker_id,))
        except psycopg.Error as error:
            log.info("worker %s: heartbeat not removed (%s); it ages out", self.worker_id, error)
        finally:
            self.conn.close()
            self.conn, self.pid = None, None


def unit_locks(model: ReadModel) -> list[locks.AdvisoryLock]:
    """The advisory locks of every unit of work of this read model (what a rebuild of it must hold)."""
    if model.name in SINGLE_UNITS:
        return [locks.projection_lock(SINGLE_UNITS[model.name])]
    return [locks.fanout_partition_lock(k) for k in range(model.partitions)]
