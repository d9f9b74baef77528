"""What every projection shares: the read-model database, the library's tracking recorder, and batches.

A projection is handed a batch of (domain event, notification id) in recording order and writes its rows
and the tracking record of the batch's last event in ONE transaction, through the eventsourcing library's
datastore and tracking recorder, so a crash can neither skip nor repeat an event. SQL is written once with
`?` placeholders and translated for PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from jawazat_events import locks

TRACKING_TABLE = "jawazat_tracking"
_PLACEHOLDER = re.compile(r"\?")


@dataclass(frozen=True)
class Positioned:
    """A domain event with its position (notification id) in the application sequence."""

    event: Any
    position: int


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
        return int(self.cursor.rowcount)

    def in_list(self, count: int) -> str:
        """`(?, ?, …)` for an IN clause of `count` values."""
        return "(" + ",".join("?" * count) + ")"


class ReadModelDatabase:
    """The store's own database, used for read models: same datastore, pool and transactions."""

    def __init__(self, datastore: PostgresDatastore | SQLiteDatastore) -> None:
        self.datastore = datastore
        self.postgres = isinstance(datastore, PostgresDatastore)
        self.tracking: TrackingRecorder
        if self.postgres:
            self.tracking = PostgresTrackingRecorder(datastore, tracking_table_name=TRACKING_TABLE)
        else:
            self.tracking = SQLiteTrackingRecorder(datastore)
        self._with_create_lock(self.tracking.create_table)

    def _with_create_lock(self, create: Any) -> None:
        # Processes starting together on an empty PostgreSQL database would race on CREATE … IF NOT EXISTS
        # (a unique violation in the catalog): they take turns under an advisory lock.
        if not self.postgres:
            create()
            return
        with self.datastore.get_connection() as conn, locks.holding(conn, locks.READ_MODEL_CREATE_TABLES):
            create()

    @contextmanager
    def transaction(self) -> Iterator[Sql]:
        """One read-model transaction, committed on success, rolled back on error."""
        with self.datastore.transaction(commit=True) as cursor:
            if self.postgres:
                cursor.execute("SET LOCAL jit = off", prepare=False)
            yield Sql(cursor, postgres=self.postgres)

    @contextmanager
    def reading(self) -> Iterator[Sql]:
        """A read-only transaction (one consistent snapshot on PostgreSQL)."""
        with self.datastore.transaction(commit=False) as cursor:
            if self.postgres:
                cursor.execute("SET LOCAL jit = off", prepare=False)
            yield Sql(cursor, postgres=self.postgres)

    def record_tracking(self, sql: Sql, tracking: Tracking) -> None:
        """Write a tracking record inside the current read-model transaction (library's statement)."""
        self.tracking._insert_tracking(sql.cursor, tracking)  # type: ignore[attr-defined]

    def position(self, tracking_name: str) -> int:
        """The last position recorded under this tracking name (0 before any)."""
        return self.tracking.max_tracking_id(tracking_name) or 0

    def create(self, statements: Sequence[str]) -> None:
        """Create tables and indexes (idempotent statements)."""

        def run() -> None:
            with self.transaction() as sql:
                for statement in statements:
                    sql.execute(statement)

        self._with_create_lock(run)

    def drop(self, tables: Sequence[str], tracking_names: Sequence[str]) -> None:
        """Drop read-model tables and forget the tracking positions (for a rebuild)."""
        table = TRACKING_TABLE if self.postgres else "tracking"
        with self.transaction() as sql:
            for name in tables:
                sql.execute(f"DROP TABLE IF EXISTS {name}")
            for name in tracking_names:
                sql.execute(f"DELETE FROM {table} WHERE application_name = ?", (name,))


class Projection:
    """Base of our projections: a name, the tables it owns, and batch processing with tracking."""

    name: ClassVar[str] = ""
    tables: ClassVar[tuple[str, ...]] = ()
    # Topics of the events this projection reads (empty: all); the store filters by topic.
    topics: ClassVar[tuple[str, ...]] = ()

    def __init__(self, db: ReadModelDatabase) -> None:
        self.db = db

    def create_tables(self) -> None:
        self.db.create(self.schema())

    def schema(self) -> list[str]:
        raise NotImplementedError

    def tracking_names(self) -> list[str]:
        """The tracking names this projection records under (one per partition)."""
        return [f"Jawazat/{self.name}"]

    def process_batch(self, batch: Sequence[Positioned], *, tracking_name: str, upto: int) -> None:
        """Apply a batch and record `upto` as this projection's position, atomically."""
        with self.db.transaction() as sql:
            for item in batch:
                self.apply(sql, item)
            self.after_batch(sql)
            self.db.record_tracking(sql, Tracking(tracking_name, upto))

    def apply(self, sql: Sql, item: Positioned) -> None:
        """Apply one event; unknown events are ignored explicitly by the subclass's dispatch."""
        raise NotImplementedError

    def after_batch(self, sql: Sql) -> None:
        """Flush anything the batch accumulated (bulk inserts)."""
