"""Rebuilding read models from the store: drop, then replay every event through the same projections.

One streaming pass reads the store in batches (only the topics the chosen projections read), decodes each
event once and hands each projection its share, in the worker's order (subscription index first, so the
fan-out always matches against an index that has seen everything before the event). Each projection
commits its rows with its tracking position per batch, exactly as live processing does, so an interrupted
rebuild resumes where it stopped: a marker row says a rebuild of that projection is under way, and a
re-run continues from the tracking position instead of dropping again.

Alerts keep their delivery history: the fan-out applies the `AlertDelivery` events recorded by delivery,
so an alert that was sent comes back as sent and is not sent again.

On PostgreSQL the rebuild takes the workers' advisory locks for what it rebuilds and refuses while a
worker is alive; on SQLite, stop the worker first (docs/audit.md).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking

from jawazat_events.domain.errors import DomainError
from jawazat_events.projections.base import Positioned, Projection, ReadModelDatabase, Sql
from jawazat_events.projections.fanout import AlertFanout

MARKERS = "jawazat_rebuilds"
Progress = Callable[[str, int, int], None]  # (stage, position reached, head)


class RebuildRefused(DomainError):
    """A rebuild cannot start now (a worker is running); the message says why and what to do."""


@dataclass
class RebuildReport:
    """What a rebuild did, per projection."""

    head: int = 0
    rebuilt: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    events_read: int = 0
    alerts_created: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.head / self.seconds if self.seconds > 0 else 0.0


class PipelinedSql(Sql):
    """`Sql` in a PostgreSQL pipeline: every statement on its own cursor, so that a fetch waits for that
    statement's own result (a cursor reused across pipelined statements may hand back an earlier one)."""

    def __init__(self, cursor: Any, *, prepare: bool | None) -> None:
        super().__init__(cursor, postgres=True)
        self.connection = cursor.connection
        self.prepare = prepare

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Sql:
        self.cursor = self.connection.cursor()
        self.cursor.execute(self._sql(statement), params, prepare=self.prepare)
        return self

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor = self.connection.cursor()
            self.cursor.executemany(self._sql(statement), rows)

    @property
    def rowcount(self) -> int:
        with self.connection.pipeline():  # leaving a nested pipeline syncs: every result is in
            pass
        return int(self.cursor.rowcount)


class PipelinedDatabase(ReadModelDatabase):
    """The same read-model database, whose transactions pipeline their statements on PostgreSQL.

    Projections issue statements one event at a time; a pipeline sends them without waiting for each
    answer (and lets the server reuse its plans), so a rebuild is bound by work, not by round trips.
    Statements, their order and their transaction are unchanged.
    """

    def __init__(self, base: ReadModelDatabase, *, prepare: bool | None = True) -> None:
        self.__dict__.update(base.__dict__)  # the same datastore and tracking recorder
        self.prepare = prepare

    @contextmanager
    def transaction(self) -> Iterator[Sql]:
        if not self.postgres:
            with super().transaction() as sql:
                yield sql
            return
        with super().transaction() as sql, sql.cursor.connection.pipeline():
            yield PipelinedSql(sql.cursor, prepare=self.prepare)

    def record_tracking(self, sql: Sql, tracking: Tracking) -> None:
        if not self.postgres:
            super().record_tracking(sql, tracking)
            return
        # The library's statement fetches its own result: give it a cursor of its own.
        with sql.cursor.connection.cursor() as cursor:
            self.tracking._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]


def projection_names(container: Any) -> list[str]:
    """The read models a rebuild knows, in processing order."""
    return [p.name for p in container.read_models.all()]


def rebuild(
    container: Any,
    names: Sequence[str] = (),
    *,
    restart: bool = False,
    force: bool = False,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> RebuildReport:
    """Drop and rebuild the named read models (all when none are named), or resume an interrupted run."""
    models = container.read_models
    known = {p.name: p for p in models.all()}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = [p for p in models.all() if not names or p.name in names]
    # Projections sharing a table (the fan-out and request notifications write alerts) are rebuilt
    # together: dropping the table for one would lose the other's rows.
    shared = {table for p in chosen for table in p.tables}
    chosen = [p for p in models.all() if p in chosen or shared & set(p.tables)]
    db: ReadModelDatabase = models.db
    report = RebuildReport()
    started = time.perf_counter()
    with exclusive(container, [p.name for p in chosen], force=force):
        db.create([f"CREATE TABLE IF NOT EXISTS {MARKERS} (projection TEXT PRIMARY KEY, started_at TEXT)"])
        marked = _markers(db)
        for projection in chosen:
            if projection.name in marked and not restart:
                report.resumed.append(projection.name)
                continue
            db.drop(projection.tables, projection.tracking_names())
            projection.create_tables()
            with db.transaction() as sql:
                sql.execute(f"DELETE FROM {MARKERS} WHERE projection = ?", (projection.name,))
                sql.execute(
                    f"INSERT INTO {MARKERS} (projection, started_at) VALUES (?, ?)",
                    (projection.name, datetime.now(UTC).isoformat()),
                )
            report.rebuilt.append(projection.name)
        if any(isinstance(p, AlertFanout) for p in chosen) and models.index not in chosen:
            _catch_up(container, models.index, progress)
        fast = PipelinedDatabase(db)
        working = [_on(p, fast) for p in chosen]
        replay(container.app, working, batch_size=batch_size, report=report, progress=progress)
        with db.transaction() as sql:
            for projection in chosen:
                sql.execute(f"DELETE FROM {MARKERS} WHERE projection = ?", (projection.name,))
    report.seconds = time.perf_counter() - started
    return report


def _on(projection: Projection, db: ReadModelDatabase) -> Projection:
    working = copy.copy(projection)
    working.db = db
    return working


def _markers(db: ReadModelDatabase) -> set[str]:
    with db.reading() as sql:
        return {row["projection"] for row in sql.execute(f"SELECT projection FROM {MARKERS}").fetchall()}


def _catch_up(container: Any, index: Projection, progress: Progress | None) -> None:
    # The fan-out matches against the subscription index: it must have seen everything first.
    from jawazat_events.projections.runner import Follower

    head = container.app.recorder.max_notification_id() or 0
    Follower(container.app, index, batch_size=container.settings.projection_batch_size).drain(head=head)
    if progress is not None:
        progress("subscription_index (catch-up)", head, head)


def _positions(projection: Projection) -> dict[str, int]:
    return {name: projection.db.position(name) for name in projection.tracking_names()}


def replay(
    app: Any,
    projections: Sequence[Projection],
    *,
    batch_size: int,
    report: RebuildReport,
    progress: Progress | None = None,
) -> None:
    """Feed the store's events, from the lowest tracking position to the head, through the projections."""
    head = app.recorder.max_notification_id() or 0
    report.head = head
    positions = {p.name: _positions(p) for p in projections}
    wanted: dict[str, frozenset[str]] = {p.name: frozenset(p.topics) for p in projections}
    topics: tuple[str, ...] = ()
    if all(wanted.values()):
        topics = tuple(sorted(frozenset().union(*wanted.values())))
    start = min((min(pos.values()) for pos in positions.values() if pos), default=head)
    to_domain = app.mapper.to_domain_event
    while start < head:
        notifications = app.recorder.select_notifications(
            start=start + 1, limit=batch_size, stop=head, topics=topics
        )
        upto = notifications[-1].id if len(notifications) >= batch_size else head
        batch = [(n.topic, Positioned(to_domain(n), n.id)) for n in notifications]
        report.events_read += len(batch)
        for projection in projections:
            behind = {name: p for name, p in positions[projection.name].items() if p < upto}
            if not behind:
                continue
            mine = wanted[projection.name]
            lowest = min(behind.values())
            items = [item for topic, item in batch if (not mine or topic in mine) and item.position > lowest]
            if isinstance(projection, AlertFanout):
                partitions = {_partition(name): p for name, p in behind.items()}
                report.alerts_created += projection.process_partitions(items, positions=partitions, upto=upto)
            else:
                (name,) = behind
                projection.process_batch(items, tracking_name=name, upto=upto)
            for name in behind:
                positions[projection.name][name] = upto
        start = upto
        if progress is not None:
            progress("rebuild", upto, head)


def _partition(tracking_name: str) -> int:
    # "Jawazat/fanout#3/8" -> 3
    return int(tracking_name.rsplit("#", 1)[1].split("/", 1)[0])


@contextmanager
def exclusive(container: Any, names: Sequence[str], *, force: bool) -> Iterator[None]:
    """Hold the workers' claims on what is rebuilt (PostgreSQL); refuse while a worker is alive."""
    if container.database.backend != "postgres":
        yield
        return
    import psycopg

    from jawazat_events import locks
    from jawazat_events.projections.claims import HEARTBEATS, LIVE_FOR, SINGLE_UNITS

    held = [locks.projection_lock(SINGLE_UNITS[n]) for n in names if n in SINGLE_UNITS]
    if "fanout" in names:
        held.append(locks.projection_lock(SINGLE_UNITS["subscription_index"]))
        held.extend(locks.fanout_partition_lock(k) for k in range(container.settings.fanout_partitions))
    with psycopg.connect(container.database.psycopg_conninfo(), autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass(%s)", (HEARTBEATS,)).fetchone()
        if row and row[0] and not force:
            live = conn.execute(
                f"SELECT count(*) FROM {HEARTBEATS} WHERE seen_at >= %s", (datetime.now(UTC) - LIVE_FOR,)
            ).fetchone()
            if live and live[0]:
                raise RebuildRefused(
                    f"{live[0]} worker(s) are running: stop them before rebuilding (or pass --force "
                    "if they are gone and only their heartbeats remain)"
                )
        for lock in sorted(set(held)):
            if not locks.try_lock(conn, lock):
                raise RebuildRefused(
                    "a worker is processing these read models: stop the workers before rebuilding"
                )
        yield  # the locks go with the connection
