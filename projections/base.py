"""What every read model shares: the read-model database, the library's tracking recorder, and batches.

A read model is handed a batch of (domain event, notification id) in recording order and writes its rows
and the tracking record of the batch's last event in ONE transaction (`ReadModel.process`, the one place
where that happens), through the eventsourcing library's datastore and tracking recorder, so a crash can
neither skip nor repeat an event. No single event stops a read model: a batch that fails for a reason of
its own events is split in halves until the event(s) that cannot be applied are found, and those are
parked (`projections/parking.py`) in the transaction that moves the position past them; a batch that
fails for the database's reasons (`projections/failures.py`) is left to be retried whole. SQL is written
once with `?` placeholders and translated for PostgreSQL.
"""

from __future__ import annotations

import copy
import logging
import re
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from jawazat_events import locks
from jawazat_events.library_internals import insert_tracking
from jawazat_events.projections import parking
from jawazat_events.projections.failures import Failure, PositionMoved, classify
from jawazat_events.projections.tables import SQLITE_TRACKING_TABLE, TRACKING_TABLE

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\?")
# A lone event that fails is tried this many times in all before it is parked (KurrentDB's persistent
# subscriptions likewise park a message only after its retries).
PARK_AFTER_TRIES = 3


@dataclass(frozen=True)
class Positioned:
    """A domain event with its position (notification id) in the application sequence, and its topic."""

    event: Any
    position: int
    topic: str = ""


@dataclass(frozen=True)
class Column:
    """A column a set-wise insert writes: its name and its PostgreSQL type (for the column's array)."""

    name: str
    pg_type: str = "text"


@dataclass(frozen=True)
class Index:
    """A secondary index of a read-model table: one that queries, delivery and jobs read through, but that
    applying events does not need (primary keys and the unique constraints `ON CONFLICT` relies on stay in
    the table's DDL). A rebuild replays without these and builds them once at the end: building an index
    from the finished table is one sort, where maintaining it during the replay costs an index insert per
    row written (and per update of the rows written again and again, such as the people view's)."""

    name: str
    table: str
    columns: str

    def create(self) -> str:
        return f"CREATE INDEX IF NOT EXISTS {self.name} ON {self.table} ({self.columns})"

    def drop(self) -> str:
        return f"DROP INDEX IF EXISTS {self.name}"


def columns(names: str, *, types: Mapping[str, str] | None = None) -> tuple[Column, ...]:
    """Columns from comma-separated names, text unless `types` says otherwise."""
    given = types or {}
    return tuple(Column(name, given.get(name, "text")) for name in (n.strip() for n in names.split(",")))


# Each read-model transaction's local settings (PostgreSQL): no JIT compilation for these short statements,
# and, for derived writes only, a commit that does not wait for the disk (`ReadModelDatabase.transaction`).
_SETTINGS = "SET LOCAL jit = off"
_DERIVED_SETTINGS = "SELECT set_config('jit', 'off', true), set_config('synchronous_commit', 'off', true)"


class Sql:
    """A cursor that speaks one SQL dialect for both backends (`?` placeholders, dict-like rows)."""

    def __init__(self, cursor: Any, *, postgres: bool) -> None:
        self.cursor = cursor
        self.postgres = postgres

    def _sql(self, statement: str) -> str:
        return _PLACEHOLDER.sub("%s", statement) if self.postgres else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Sql:
        if self.postgres:
            self.cursor.execute(self._sql(statement), params, prepare=False)
        else:
            self.cursor.execute(statement, params)
        return self

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(self._sql(statement), rows)

    def fetchall(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.cursor.fetchall()]

    def fetchone(self) -> dict[str, Any] | None:
        row = self.cursor.fetchone()
        return dict(row) if row is not None else None

    @property
    def rowcount(self) -> int:
        # The library's SQLite cursor wrapper does not pass `rowcount` on: ask the sqlite3 cursor inside.
        return int(getattr(self.cursor, "sqlite_cursor", self.cursor).rowcount)

    def in_list(self, count: int) -> str:
        """`(?, ?, …)` for an IN clause of `count` values."""
        return "(" + ",".join("?" * count) + ")"

    def fetch_any(
        self, statement: str, values: Collection[Any], *, pg_type: str = "text"
    ) -> list[dict[str, Any]]:
        """Rows of a statement with one `= ANY(?)` condition, for a set of values: ONE statement with an
        array parameter on PostgreSQL (one plan whatever the count), `IN (?, …)` lists of 500 on SQLite."""
        members = sorted(set(values))
        if not members:
            return []
        if self.postgres:
            return self.execute(
                statement.replace("= ANY(?)", f"= ANY(%b::{pg_type}[])"), (members,)
            ).fetchall()
        rows: list[dict[str, Any]] = []
        for start in range(0, len(members), 500):
            chunk = members[start : start + 500]
            rows += self.execute(
                statement.replace("= ANY(?)", "IN " + self.in_list(len(chunk))), chunk
            ).fetchall()
        return rows

    def insert_rows(
        self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], *, conflict: str = ""
    ) -> None:
        """Insert rows set-wise: ONE `INSERT … SELECT FROM unnest(column arrays)` on PostgreSQL, an
        `executemany` on SQLite; `conflict` is the statement's `ON CONFLICT …` clause, if any."""
        if not rows:
            return
        names = ", ".join(column.name for column in columns)
        if self.postgres:
            # `%b`: arrays go in binary, which psycopg dumps without scanning each string for quoting.
            arrays = ", ".join(f"%b::{column.pg_type}[]" for column in columns)
            self.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {conflict}",
                [list(values) for values in zip(*rows, strict=True)],
            )
        else:
            marks = ", ".join("?" * len(columns))
            self.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}", rows)

    def update_rows(
        self,
        table: str,
        *,
        keys: Sequence[Column],
        values: Sequence[Column],
        rows: Sequence[Sequence[Any]],
        where_null: str = "",
        below: str = "",
        also: str = "",
    ) -> None:
        """Update rows set-wise, each row being (keys…, values…): ONE `UPDATE … FROM unnest(column arrays)`
        on PostgreSQL, an `executemany` on SQLite. `where_null` names a column the rows updated must have
        NULL (e.g. the current version's `to_position`); `below` names one of `values` whose stored value
        must be below the new one (a row another writer moved on keeps its write); `also` is a constant
        `SET` clause added to each update (e.g. `claimed_by = NULL`)."""
        if not rows:
            return
        extra = f", {also}" if also else ""
        if self.postgres:
            arrays = ", ".join(f"%b::{column.pg_type}[]" for column in (*keys, *values))
            names = ", ".join(column.name for column in (*keys, *values))
            matches = (
                [f"t.{c.name} = u.{c.name}" for c in keys]
                + ([f"t.{where_null} IS NULL"] if where_null else [])
                + ([f"t.{below} < u.{below}"] if below else [])
            )
            self.execute(
                f"UPDATE {table} AS t SET {', '.join(f'{c.name} = u.{c.name}' for c in values)}{extra} "
                f"FROM unnest({arrays}) AS u({names}) WHERE {' AND '.join(matches)}",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return
        width = len(keys)
        matches = (
            [f"{c.name} = ?" for c in keys]
            + ([f"{where_null} IS NULL"] if where_null else [])
            + ([f"{below} < ?"] if below else [])
        )
        guard = [width + [c.name for c in values].index(below)] if below else []
        self.executemany(
            f"UPDATE {table} SET {', '.join(f'{c.name} = ?' for c in values)}{extra} "
            f"WHERE {' AND '.join(matches)}",
            [(*row[width:], *row[:width], *(row[i] for i in guard)) for row in rows],
        )


class ReadModelDatabase:
    """The store's own database, used for read models: same datastore, pool and transactions."""

    def __init__(
        self, datastore: PostgresDatastore | SQLiteDatastore, *, tracking: TrackingRecorder | None = None
    ) -> None:
        self.datastore = datastore
        self.postgres = isinstance(datastore, PostgresDatastore)
        if tracking is not None:
            self.tracking = tracking
        elif isinstance(datastore, PostgresDatastore):
            self.tracking = PostgresTrackingRecorder(datastore, tracking_table_name=TRACKING_TABLE)
            self._with_create_lock(self.tracking.create_table)
        else:
            self.tracking = SQLiteTrackingRecorder(datastore)
            self._with_create_lock(self.tracking.create_table)

    def _with_create_lock(self, create: Callable[[], None]) -> None:
        # Processes starting together on an empty PostgreSQL database would race on CREATE … IF NOT EXISTS
        # (a unique violation in the catalog): they take turns under an advisory lock.
        if not isinstance(self.datastore, PostgresDatastore):
            create()
            return
        with self.datastore.get_connection() as conn, locks.holding(conn, locks.READ_MODEL_CREATE_TABLES):
            create()

    @contextmanager
    def transaction(self, *, derived: bool = False) -> Iterator[Sql]:
        """One read-model transaction, committed on success, rolled back on error.

        `derived`: the transaction only writes what the store's events determine, with its tracking
        position (a projection's batch). On PostgreSQL it then commits without waiting for its WAL to reach
        the disk (`synchronous_commit = off`, for this transaction only): a server crash can lose at most
        the last fraction of a second of such batches, positions included, which the worker applies again;
        never an event, a delivery attempt or anyone's request, whose transactions wait as always (and
        whose WAL flush carries every earlier commit with it). The wait it saves is most of a small batch's
        time under light traffic.
        """
        with self.datastore.transaction(commit=True) as cursor:
            if self.postgres:
                cursor.execute(_DERIVED_SETTINGS if derived else _SETTINGS, prepare=False)
            yield Sql(cursor, postgres=self.postgres)

    def analyze(self, tables: Iterable[str]) -> None:
        """Refresh the planner's statistics of these tables (PostgreSQL), after they were written anew
        (a rebuild): the queries that read them are planned from these, not from the emptied tables'."""
        if not self.postgres:
            return
        with self.transaction() as sql:
            for table in dict.fromkeys(tables):
                sql.execute(f"ANALYZE {table}")

    @contextmanager
    def reading(self) -> Iterator[Sql]:
        """A read-only transaction (one consistent snapshot on PostgreSQL)."""
        with self.datastore.transaction(commit=False) as cursor:
            if self.postgres:
                cursor.execute("SET LOCAL jit = off", prepare=False)
            yield Sql(cursor, postgres=self.postgres)

    def hold_positions(self, sql: Sql, expected: Mapping[str, int]) -> None:
        """Lock these tracking records for the transaction and check each is still where the batch starts.

        Raises `PositionMoved` when another process recorded a position meanwhile, so a batch is never
        applied twice. Missing records are made at 0 first, so there is always a row to lock (PostgreSQL)
        and the transaction holds the write lock before it reads (SQLite).
        """
        if not expected:
            return
        table = TRACKING_TABLE if self.postgres else SQLITE_TRACKING_TABLE
        names = sorted(expected)  # one order for every worker: no deadlock between two of them
        sql.executemany(
            f"INSERT INTO {table} (application_name, notification_id) VALUES (?, 0) ON CONFLICT DO NOTHING",
            [(name,) for name in names],
        )
        lock = " FOR UPDATE" if self.postgres else ""
        found: dict[str, int] = {}
        for row in sql.execute(
            f"SELECT application_name, notification_id FROM {table} "
            f"WHERE application_name IN {sql.in_list(len(names))} ORDER BY application_name{lock}",
            names,
        ).fetchall():
            name = str(row["application_name"])
            found[name] = max(found.get(name, 0), int(row["notification_id"]))
        moved = {name: found.get(name, 0) for name in names if found.get(name, 0) != expected[name]}
        if moved:
            raise PositionMoved(
                "another process moved "
                + ", ".join(f"{name} to {at} (expected {expected[name]})" for name, at in moved.items())
            )

    def record_tracking(self, sql: Sql, tracking: Tracking) -> None:
        """Write a tracking record inside the current read-model transaction (library's statement)."""
        insert_tracking(self.tracking, sql.cursor, tracking)

    def position(self, tracking_name: str) -> int:
        """The last position recorded under this tracking name (0 before any)."""
        return self.tracking.max_tracking_id(tracking_name) or 0

    def positions(self, tracking_names: Collection[str]) -> dict[str, int]:
        """The last position recorded under each of these tracking names (0 before any), in ONE read (the
        library's own statement for a single name)."""
        if len(tracking_names) == 1:
            [name] = tracking_names
            return {name: self.position(name)}
        table = TRACKING_TABLE if self.postgres else SQLITE_TRACKING_TABLE
        with self.reading() as sql:
            found = {
                str(row["application_name"]): int(row["position"])
                for row in sql.fetch_any(
                    f"SELECT application_name, MAX(notification_id) AS position FROM {table} "
                    "WHERE application_name = ANY(?) GROUP BY application_name",
                    tracking_names,
                )
            }
        return {name: found.get(name, 0) for name in tracking_names}

    def create(self, statements: Sequence[str]) -> None:
        """Create (or drop) tables and indexes: idempotent statements, in one transaction."""

        def run() -> None:
            with self.transaction() as sql:
                for statement in statements:
                    sql.execute(statement)

        self._with_create_lock(run)

    def drop(self, tables: Sequence[str], tracking_names: Sequence[str]) -> None:
        """Drop read-model tables and forget the tracking positions and parked events (for a rebuild)."""
        table = TRACKING_TABLE if self.postgres else SQLITE_TRACKING_TABLE
        with self.transaction() as sql:
            for name in tables:
                sql.execute(f"DROP TABLE IF EXISTS {name}")
            for name in tracking_names:
                sql.execute(f"DELETE FROM {table} WHERE application_name = ?", (name,))
            parking.forget(sql, tracking_names)


# Checks, inside a batch's transaction, that this process still holds the partitions it writes (the
# worker's claims on PostgreSQL); raises `ClaimLost` otherwise.
Fence = Callable[[Sql, Collection[int]], None]


class ReadModel:
    """Base of the read models: a name, the tables it owns, its partitions, and batch processing.

    A read model is split into `partitions` units of work (one unless it says otherwise), each with its own
    tracking position, so that several workers can share it; `partition_of` says which unit an event
    belongs to. `reads_from` names the read models whose rows it reads while applying events: it never runs
    past their position (the worker and the rebuild both honour it).
    """

    name: ClassVar[str] = ""
    tables: ClassVar[tuple[str, ...]] = ()
    # Topics of the events this read model reads (empty: all); the store filters by topic.
    topics: ClassVar[tuple[str, ...]] = ()
    reads_from: ClassVar[tuple[str, ...]] = ()
    # Whether a parked event can be applied later, out of order (`jawazat projections retry-parked`); a read
    # model whose rows are versions by position says False, and is rebuilt after the fix instead.
    retry_in_place: ClassVar[bool] = True
    # Whether each row depends only on the events of one aggregate (the people view): a rebuild then
    # replays it aggregate by aggregate (`replay_aggregates`), each row written once, not once per batch.
    by_aggregate: ClassVar[bool] = False

    def __init__(self, db: ReadModelDatabase, *, partitions: int = 1) -> None:
        self.db = db
        self.partitions = partitions

    def on(self, db: ReadModelDatabase) -> Self:
        """The same read model writing through another database object (e.g. a pipelined one)."""
        working = copy.copy(self)
        working.db = db
        return working

    def create_tables(self, *, indexes: bool = True) -> None:
        """Make the tables if missing, and their secondary indexes unless `indexes` is off (a rebuild
        builds those after its replay: `audit.rebuild`)."""
        secondary = [index.create() for index in self.indexes()] if indexes else []
        self.db.create([*self.schema(), *secondary])

    def schema(self) -> list[str]:
        """The tables, with the keys and triggers that applying events relies on (idempotent statements)."""
        raise NotImplementedError

    def indexes(self) -> list[Index]:
        """The secondary indexes of the tables: for their readers, not for applying events (`Index`)."""
        return []

    def tracking_name(self, partition: int) -> str:
        """The name this partition's position is tracked under."""
        return f"Jawazat/{self.name}"

    def tracking_names(self) -> list[str]:
        """The tracking names this read model records under (one per partition)."""
        return [self.tracking_name(k) for k in range(self.partitions)]

    def partition_of(self, event: Any) -> int:
        """The partition an event belongs to."""
        return 0

    def held_names(self, partitions: Iterable[int] | None = None) -> dict[int, str]:
        """Tracking name per partition (all partitions unless some are named)."""
        held = range(self.partitions) if partitions is None else partitions
        return {k: self.tracking_name(k) for k in held}

    def positions(self, partitions: Iterable[int] | None = None) -> dict[int, int]:
        """Tracking position per partition (all partitions unless some are named), in one read."""
        names = self.held_names(partitions)
        found = self.db.positions(names.values())
        return {k: found[name] for k, name in names.items()}

    def reads(self, topic: str) -> bool:
        """Whether events of this topic concern this read model."""
        return not self.topics or topic in self.topics

    def process(
        self,
        batch: Sequence[Positioned],
        *,
        positions: Mapping[int, int],
        upto: int,
        fence: Fence | None = None,
    ) -> int:
        """Apply a batch for the partitions in `positions` (each from its own position) and record `upto`
        as their position, in ONE transaction. Returns how many records the batch created (alerts).

        This is the one place a batch meets its tracking record: a partition taken over from another worker
        may already be past `upto` (the batch starts at the slowest partition): its position stays. Each
        transaction first locks the partitions' tracking records and checks they are where the batch
        starts (`PositionMoved` otherwise) and runs `fence` (`ClaimLost` when this worker lost a partition).
        A batch failing for its events' sake is split until the culprits are parked; a transient failure is
        raised, for the caller to retry the batch whole.
        """
        wanted = [
            item
            for item in batch
            if (k := self.partition_of(item.event)) in positions and item.position > positions[k]
        ]
        at = dict(positions)
        try:
            return self._commit(wanted, at, upto, fence)
        except Exception as error:
            if classify(error) is Failure.TRANSIENT:
                raise
            log.warning(
                "%s: a batch of %d events up to position %d failed (%s: %s); isolating the event(s)",
                self.name,
                len(wanted),
                upto,
                type(error).__name__,
                error,
            )
        return self._isolate(wanted, at, upto, fence)

    def _isolate(self, items: list[Positioned], at: dict[int, int], upto: int, fence: Fence | None) -> int:
        """Apply a failed batch in halves, in order, each half with its tracking record, until every
        event that cannot be applied stands alone: it is parked, the others are applied exactly once."""
        created = 0
        segments = deque([items])
        while segments:
            segment = segments.popleft()
            end = segment[-1].position if segments else upto
            try:
                created += self._commit(segment, at, end, fence)
                continue
            except Exception as error:
                if classify(error) is Failure.TRANSIENT:
                    raise
                failure: BaseException = error
            if len(segment) > 1:
                half = len(segment) // 2
                segments.extendleft([segment[half:], segment[:half]])
                continue
            created += self._retry_or_park(segment[0], at, end, fence, failure)
        return created

    def _retry_or_park(
        self, item: Positioned, at: dict[int, int], end: int, fence: Fence | None, failure: BaseException
    ) -> int:
        for _ in range(PARK_AFTER_TRIES - 1):
            try:
                return self._commit([item], at, end, fence)
            except Exception as error:
                if classify(error) is Failure.TRANSIENT:
                    raise
                failure = error
        self._write(at, end, fence, lambda sql: self.park(sql, item, failure, tries=PARK_AFTER_TRIES))
        return 0

    def park(self, sql: Sql, item: Positioned, error: BaseException, *, tries: int = 1) -> None:
        """Park an event this read model cannot apply, in the caller's transaction, and say so."""
        parking.park(sql, model=self, item=item, error=error)
        log.error(
            "%s: parked the event at position %d (%s) after %d tries: %s: %s",
            self.name,
            item.position,
            parking.event_type_of(item),
            tries,
            type(error).__name__,
            error,
        )

    def _commit(self, items: Sequence[Positioned], at: dict[int, int], end: int, fence: Fence | None) -> int:
        created = 0

        def apply(sql: Sql) -> None:
            nonlocal created
            created = self.apply_batch(sql, items)

        self._write(at, end, fence, apply)
        return created

    def _write(self, at: dict[int, int], end: int, fence: Fence | None, body: Callable[[Sql], None]) -> None:
        """One transaction: hold the positions of the partitions behind `end`, check the fence, run the
        body, record `end` for them; then remember their new position."""
        behind = {k: p for k, p in at.items() if p < end}
        with self.db.transaction(derived=True) as sql:
            self.db.hold_positions(sql, {self.tracking_name(k): p for k, p in behind.items()})
            if fence is not None and behind:
                fence(sql, behind.keys())
            body(sql)
            for k in behind:
                self.db.record_tracking(sql, Tracking(self.tracking_name(k), end))
        at.update(dict.fromkeys(behind, end))

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        """Apply a batch's events inside the batch's transaction; returns the records created.

        Event by event by default; a read model may override it to apply a batch set-wise.
        """
        for item in items:
            self.apply(sql, item)
        return 0

    def apply(self, sql: Sql, item: Positioned) -> None:
        """Apply one event; unknown events are ignored explicitly by the subclass's dispatch."""
        raise NotImplementedError

    def replay_aggregates(self, sql: Sql, streams: Iterable[Sequence[Positioned]]) -> None:
        """A rebuild's replay of a `by_aggregate` read model: each stream is every event of one aggregate
        up to the rebuild's head, in recording order; write the rows they make, replacing whatever a
        stopped rebuild left, and park what cannot be applied (`park`), as a batch would."""
        raise NotImplementedError

    # Topics of the events whose effect reaches rows of other partitions: a rebuild that ran the partitions
    # in separate processes hands them to `settle` again, in order, once all partitions are done.
    settle_topics: ClassVar[tuple[str, ...]] = ()

    def settle(self, sql: Sql, items: Sequence[Positioned]) -> None:
        """Apply again, idempotently, what these events do to rows of other partitions."""
