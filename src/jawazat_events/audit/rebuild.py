"""Rebuilding read models from the store: drop, then replay every event through the same projections.

One streaming pass reads the store in batches (only the topics the chosen projections read), decodes each
event once and hands each projection its share, in the worker's order (subscription index first, so the
fan-out always matches against an index that has seen everything before the event). Each projection
commits its rows with its tracking position per batch, exactly as live processing does, so an interrupted
rebuild resumes where it stopped: a marker row says a rebuild of that projection is under way, and a
re-run continues from the tracking position instead of dropping again.

The replay writes without the read models' secondary indexes (`projections.base.Index`: only keys and
the index the fan-out matches through are kept), and builds them once it is done: one sort per index
instead of an index entry per row written and per update. They are built before the markers go and the
workers' claims are released; after an interruption, the re-run or any process's start builds them.

Alerts keep their delivery history: the fan-out applies the `AlertDelivery` events recorded by delivery,
so an alert that was sent comes back as sent and is not sent again.

On PostgreSQL the rebuild takes the workers' advisory locks for what it rebuilds and refuses while a
worker is alive; on SQLite, stop the worker first (docs/audit.md).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import Tracking

from jawazat_events import locks
from jawazat_events.domain.errors import DomainError
from jawazat_events.domain.moments import utc_iso
from jawazat_events.library_internals import insert_tracking
from jawazat_events.projections.base import Positioned, ReadModel, ReadModelDatabase, Sql
from jawazat_events.projections.claims import LIVE_FOR, unit_locks
from jawazat_events.projections.read_models import ReadModels
from jawazat_events.projections.runner import Follower
from jawazat_events.projections.tables import HEARTBEATS, REBUILD_MARKERS
from jawazat_events.services.application import JawazatApplication
from jawazat_events.store import recorder_of

MARKER_COLUMNS = "projection TEXT PRIMARY KEY, started_at TEXT"
Progress = Callable[[str, int, int], None]  # (stage, position reached, head)


@dataclass(frozen=True)
class RebuildPart:
    """One process's share of a parallel rebuild: read models by name (in processing order), the
    partitions it replays of the partitioned ones, and the head every share stops at."""

    names: tuple[str, ...]
    partitions: tuple[int, ...]
    head: int
    batch_size: int
    read_ahead: bool | None


@dataclass(frozen=True)
class PartDone:
    """What one share did."""

    events_read: int
    alerts_created: int


# Runs a share in a fresh process (picklable; the composition root builds it, with the settings).
RunPart = Callable[[RebuildPart], PartDone]


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

    def __init__(self, cursor: psycopg.Cursor[Any], *, prepare: bool | None) -> None:
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

    Read models issue statements one event at a time; a pipeline sends them without waiting for each
    answer (and lets the server reuse its plans), so a rebuild is bound by work, not by round trips.
    Statements, their order and their transaction are unchanged.
    """

    def __init__(self, base: ReadModelDatabase, *, prepare: bool | None = True) -> None:
        super().__init__(base.datastore, tracking=base.tracking)  # the same datastore and tracking recorder
        self.prepare = prepare

    @contextmanager
    def transaction(self, *, derived: bool = False) -> Iterator[Sql]:
        if not self.postgres:
            with super().transaction(derived=derived) as sql:
                yield sql
            return
        with super().transaction(derived=derived) as sql, sql.cursor.connection.pipeline():
            yield PipelinedSql(sql.cursor, prepare=self.prepare)

    def record_tracking(self, sql: Sql, tracking: Tracking) -> None:
        if not self.postgres:
            super().record_tracking(sql, tracking)
            return
        # The library's statement fetches its own result: give it a cursor of its own.
        with sql.cursor.connection.cursor() as cursor:
            insert_tracking(self.tracking, cursor, tracking)


class Rebuilder:
    """Drops and rebuilds read models from the store, or resumes an interrupted rebuild."""

    def __init__(
        self,
        *,
        app: JawazatApplication,
        models: ReadModels,
        conninfo: str | None,
        catch_up_batch_size: int = 1000,
        run_part: RunPart | None = None,
    ) -> None:
        self.app = app
        self.models = models
        self.conninfo = conninfo  # PostgreSQL: where the workers' claims are taken; None on SQLite
        self.catch_up_batch_size = catch_up_batch_size
        self.run_part = run_part  # runs a share of a parallel rebuild in a fresh process (its own store)

    def projection_names(self) -> list[str]:
        """The read models a rebuild knows, in processing order."""
        return [model.name for model in self.models.all()]

    def rebuild(
        self,
        names: Sequence[str] = (),
        *,
        restart: bool = False,
        force: bool = False,
        batch_size: int = 5000,
        progress: Progress | None = None,
        read_ahead: bool | None = None,
        processes: int = 1,
    ) -> RebuildReport:
        """Drop and rebuild the named read models (all when none are named), or resume an interrupted run.

        With `processes` > 1 (PostgreSQL), what other read models read or share is replayed first, then the
        other read models and the fan-out's partitions are shared among that many processes, each reading
        and decoding the store on its own (`replay_parallel`)."""
        known = self.projection_names()
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(known)}")
        chosen = [model for model in self.models.all() if not names or model.name in names]
        # Read models sharing a table (the fan-out and request notifications write alerts) are rebuilt
        # together: dropping the table for one would lose the other's rows.
        shared = {table for model in chosen for table in model.tables}
        chosen = [model for model in self.models.all() if model in chosen or shared & set(model.tables)]
        db = self.models.db
        report = RebuildReport()
        started = time.perf_counter()
        with self.exclusive(chosen, force=force):
            db.create([f"CREATE TABLE IF NOT EXISTS {REBUILD_MARKERS} ({MARKER_COLUMNS})"])
            marked = _markers(db)
            for model in chosen:
                if model.name in marked and not restart:
                    report.resumed.append(model.name)
                    continue
                db.drop(model.tables, model.tracking_names())
                model.create_tables(indexes=False)
                with db.transaction() as sql:
                    sql.execute(f"DELETE FROM {REBUILD_MARKERS} WHERE projection = ?", (model.name,))
                    sql.execute(
                        f"INSERT INTO {REBUILD_MARKERS} (projection, started_at) VALUES (?, ?)",
                        (model.name, utc_iso(datetime.now(UTC))),
                    )
                report.rebuilt.append(model.name)
            # The replay writes without the secondary indexes, which are built once it is done. A resumed
            # run's tables may have them again (any process's start makes them): they go first.
            secondary = list(dict.fromkeys(index for model in chosen for index in model.indexes()))
            db.create([index.drop() for index in secondary])
            self._catch_up_what_they_read(chosen, progress)
            report.head = self.app.recorder.max_notification_id() or 0
            if processes > 1 and self.run_part is not None and self.conninfo is not None:
                self.replay_parallel(
                    chosen, processes=processes, report=report, batch_size=batch_size, read_ahead=read_ahead
                )
            else:
                self._replay(
                    chosen,
                    head=report.head,
                    batch_size=batch_size,
                    read_ahead=read_ahead,
                    report=report,
                    progress=progress,
                )
            # Before the markers go and the claims are released: no worker uses a read model without its
            # indexes. A rebuild stopped before this point leaves its markers; a re-run resumes and builds
            # them here, and any process's start builds them too (`ReadModel.create_tables`).
            db.create([index.create() for index in secondary])
            db.analyze(table for model in chosen for table in model.tables)
            with db.transaction() as sql:
                for model in chosen:
                    sql.execute(f"DELETE FROM {REBUILD_MARKERS} WHERE projection = ?", (model.name,))
        report.seconds = time.perf_counter() - started
        return report

    def replay_parallel(
        self,
        chosen: Sequence[ReadModel],
        *,
        processes: int,
        report: RebuildReport,
        batch_size: int,
        read_ahead: bool | None,
    ) -> None:
        """Replay up to `report.head`: first, in this process, the read models others read or write after
        (the subscription index; request notifications, whose alerts the fan-out's replayed delivery
        events update); then the others, one share per process: the result is the serial one because no
        two shares read or write each other's rows, except digests (partition 0) closing digest items of
        every partition, which `settle` applies again at the end."""
        first = [m for m in chosen if _goes_first(m, chosen)]
        if first:
            self._replay(first, head=report.head, batch_size=batch_size, read_ahead=read_ahead, report=report)
        units: list[tuple[str, int | None]] = [
            (m.name, k) for m in chosen if m not in first and m.partitions > 1 for k in range(m.partitions)
        ] + [(m.name, None) for m in chosen if m not in first and m.partitions == 1]
        parts = [
            RebuildPart(
                names=tuple(dict.fromkeys(name for name, _ in share)),
                partitions=tuple(k for _, k in share if k is not None),
                head=report.head,
                batch_size=batch_size,
                read_ahead=read_ahead,
            )
            for share in (units[i::processes] for i in range(processes))
            if share
        ]
        assert self.run_part is not None
        with ProcessPoolExecutor(len(parts), mp_context=multiprocessing.get_context("spawn")) as pool:
            for done in pool.map(self.run_part, parts):
                report.events_read += done.events_read
                report.alerts_created += done.alerts_created
        for model in chosen:
            if model not in first and model.partitions > 1 and model.settle_topics:
                self._settle(model, head=report.head, batch_size=batch_size)

    def replay_part(self, part: RebuildPart) -> PartDone:
        """One process's share of a parallel rebuild (called in that process, on its own store)."""
        report = RebuildReport()
        self._replay(
            [self.models.named(name) for name in part.names],
            head=part.head,
            batch_size=part.batch_size,
            read_ahead=part.read_ahead,
            report=report,
            partitions=part.partitions or None,
        )
        return PartDone(events_read=report.events_read, alerts_created=report.alerts_created)

    def _replay(
        self,
        models: Sequence[ReadModel],
        *,
        head: int,
        batch_size: int,
        read_ahead: bool | None,
        report: RebuildReport,
        partitions: Sequence[int] | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Replay these read models up to `head`: those made of one aggregate's events per row aggregate
        by aggregate, each row written once; the others following the store in recording order, their
        statements pipelined."""
        by_aggregate = [model for model in models if model.by_aggregate and model.partitions == 1]
        for model in by_aggregate:
            report.events_read += replay_by_aggregate(
                self.app, model, head=head, page=batch_size, progress=progress
            )
        in_order = [model for model in models if model not in by_aggregate]
        if not in_order:
            return
        fast = PipelinedDatabase(self.models.db)
        follower = Follower(
            self.app,
            *(model.on(fast) for model in in_order),
            batch_size=batch_size,
            partitions=partitions,
            read_ahead=read_ahead,
        )
        replay(follower, report=report, progress=progress, head=head)

    def _settle(self, model: ReadModel, *, head: int, batch_size: int) -> None:
        """Hand `model.settle` its cross-partition events again, in order, in one transaction."""
        to_domain = self.app.decoder.to_domain_event
        start = 1
        with self.models.db.transaction() as sql:
            while start <= head:
                found = self.app.recorder.select_notifications(
                    start=start, limit=batch_size, stop=head, topics=model.settle_topics
                )
                if not found:
                    return
                model.settle(sql, [Positioned(to_domain(n), n.id, n.topic) for n in found])
                start = found[-1].id + 1

    def _catch_up_what_they_read(self, chosen: Sequence[ReadModel], progress: Progress | None) -> None:
        # The fan-out matches against the subscription index: it must have seen everything first.
        names = {model.name for model in chosen}
        for needed in dict.fromkeys(dep for model in chosen for dep in model.reads_from if dep not in names):
            head = self.app.recorder.max_notification_id() or 0
            model = self.models.named(needed)
            Follower(self.app, model, batch_size=self.catch_up_batch_size).drain(head=head)
            if progress is not None:
                progress(f"{needed} (catch-up)", head, head)

    @contextmanager
    def exclusive(self, chosen: Sequence[ReadModel], *, force: bool) -> Iterator[None]:
        """Hold the workers' claims on what is rebuilt (PostgreSQL); refuse while a worker is alive."""
        if self.conninfo is None:
            yield
            return
        held = {lock for model in chosen for lock in unit_locks(model)}
        for model in chosen:
            held.update(lock for dep in model.reads_from for lock in unit_locks(self.models.named(dep)))
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
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
            for lock in sorted(held):
                if not locks.try_lock(conn, lock):
                    raise RebuildRefused(
                        "a worker is processing these read models: stop the workers before rebuilding"
                    )
            yield  # the locks go with the connection


def _markers(db: ReadModelDatabase) -> set[str]:
    with db.reading() as sql:
        return {
            row["projection"] for row in sql.execute(f"SELECT projection FROM {REBUILD_MARKERS}").fetchall()
        }


def _goes_first(model: ReadModel, chosen: Sequence[ReadModel]) -> bool:
    """Whether another chosen read model reads this one's rows, or writes its tables after it."""
    later = chosen[list(chosen).index(model) + 1 :]
    return any(model.name in other.reads_from for other in chosen) or any(
        set(model.tables) & set(other.tables) for other in later
    )


def replay_by_aggregate(
    app: JawazatApplication,
    model: ReadModel,
    *,
    head: int,
    page: int = 5000,
    progress: Progress | None = None,
) -> int:
    """Replay a `by_aggregate` read model up to `head` aggregate by aggregate: the store read in
    (originator id, version) order (`events_by_originator`, a page at a time), each aggregate's events
    handed over together (`ReadModel.replay_aggregates`), so each row is written once instead of once per
    batch that touches it. Returns the events read.

    Each page's rows commit on their own; the tracking position moves to `head` only with the last
    aggregate's rows. A rebuild stopped midway has not moved it: the re-run replays every aggregate again,
    and their rows replace the ones left (each is made from all of its aggregate's events)."""
    start = model.positions()[0]
    if start >= head:
        return 0
    to_domain = app.decoder.to_domain_event
    stage = f"{model.name} (by aggregate)"
    carried: list[Positioned] = []  # the page's last aggregate, whose events may go on in the next page
    read = 0
    for found in recorder_of(app).events_by_originator(topics=model.topics, stop=head, page=page):
        read += len(found)
        streams = [carried] if carried else []
        owner = carried[0].event.originator_id if carried else None
        for n in found:
            if n.originator_id != owner:
                streams.append([])
                owner = n.originator_id
            streams[-1].append(Positioned(to_domain(n), n.id, n.topic))
        carried = streams.pop()
        if streams:
            with model.db.transaction(derived=True) as sql:
                model.replay_aggregates(sql, streams)
        if progress is not None:
            # How far through the key order: the ids are uuid5 hashes, spread evenly over their 128 bits.
            progress(stage, head * (cast(UUID, owner).int >> 96) // 2**32, head)
    with model.db.transaction(derived=True) as sql:
        model.db.hold_positions(sql, {model.tracking_name(0): start})
        model.replay_aggregates(sql, [carried] if carried else [])
        model.db.record_tracking(sql, Tracking(model.tracking_name(0), head))
    if progress is not None:
        progress(stage, head, head)
    return read


def replay(follower: Follower, *, report: RebuildReport, head: int, progress: Progress | None = None) -> None:
    """Feed the store's events, from the lowest tracking position to `head`, through the follower."""
    with follower.reading_ahead():
        while True:
            result = follower.step(head=head)
            if not result.advanced:
                return
            report.events_read += result.read
            report.alerts_created += result.alerts
            if progress is not None:
                progress("rebuild", result.upto, head)
