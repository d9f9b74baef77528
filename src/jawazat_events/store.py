"""The event store: eventsourcing's recorders for SQLite and PostgreSQL, extended with the ingest-key table
and the tamper-evident hash chain.

Every aggregate lives in one application sequence (one events table), so projections can follow
everything in recording order. Beside the library's table, one table maps each source `event_id` to the
notification id it was stored under; it is written in the same transaction as the events, and its primary
key is what makes ingest idempotent across processes. In the same transaction again, each stored event
gets its link in the hash chain (`audit.chain`), computed from the previous link read under the writers'
lock, so the chain follows the recorded order exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification, ProgrammingError, StoredEvent
from eventsourcing.sqlite import SQLiteCursor
from psycopg import Cursor
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from jawazat_events import locks
from jawazat_events.audit import chain
from jawazat_events.library_internals import PostgresRecorderHooks, SQLiteRecorderHooks
from jawazat_events.services.application import EventKey

EVENT_IDS_TABLE = "jawazat_event_ids"
# Whether the store is encrypted and the fingerprints of its keys (`store_keys`).
META_TABLE = "jawazat_store_meta"
# The library's AES-GCM cipher (pycryptodome) reading old keys too; the key is `JAWAZAT_CIPHER_KEY`, old
# ones `JAWAZAT_CIPHER_OLD_KEYS` (docs/audit.md, docs/operations.md).
CIPHER_TOPIC = "jawazat_events.store_keys:KeyRingCipher"
# A table's planner statistics are stale once this many rows, and this share of its rows, changed since
# its last ANALYZE (PostgreSQL's own default share for autovacuum's ANALYZE is 0.1).
STALE_ROWS = 10_000
STALE_SHARE = 0.1


class ConfigurationError(ValueError):
    """The configuration (database URL, channels…) cannot be used; the message says why."""


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed `JAWAZAT_DATABASE_URL`: which backend and where."""

    backend: str  # "sqlite" | "postgres"
    sqlite_path: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        """Accept `sqlite:///PATH` (also `sqlite:///:memory:`) or `postgresql://user:pass@host:port/db`."""
        if url.startswith("sqlite:///"):
            path = url.removeprefix("sqlite:///")
            if not path:
                raise ConfigurationError("JAWAZAT_DATABASE_URL: sqlite URL needs a path: sqlite:///PATH")
            return cls(backend="sqlite", sqlite_path=path)
        parsed = urlparse(url)
        if parsed.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            dbname = parsed.path.lstrip("/")
            if not dbname:
                raise ConfigurationError("JAWAZAT_DATABASE_URL: postgresql URL needs a database name")
            return cls(
                backend="postgres",
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or 5432,
                user=unquote(parsed.username or "postgres"),
                password=unquote(parsed.password or ""),
                dbname=dbname,
            )
        raise ConfigurationError(f"JAWAZAT_DATABASE_URL '{url}' must start with sqlite:/// or postgresql://")

    def eventsourcing_env(
        self, *, cipher_key: str | None = None, old_cipher_keys: Sequence[str] = ()
    ) -> dict[str, str]:
        """The environment the eventsourcing library reads to build its recorders (and its cipher)."""
        cipher = {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": cipher_key} if cipher_key else {}
        if cipher_key and old_cipher_keys:
            cipher["CIPHER_OLD_KEYS"] = ",".join(old_cipher_keys)
        if self.backend == "sqlite":
            return cipher | {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": self.sqlite_path,
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": "jawazat_events.store:SQLiteEventStoreRecorder",
            }
        return cipher | {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_POOL_SIZE": "4",
            # Fail fast with a clear message when the server is down, instead of the pool's 30 s wait.
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_MAX_OVERFLOW": "8",
            "POSTGRES_LOCK_TIMEOUT": "30",
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "60",
            # No pre-ping: psycopg_pool 3.3 sleeps 1 s, 2 s, 4 s… between dead connections it checks, so
            # after a server restart the first request would time out; a transaction that meets a dead
            # connection fails at once instead (the pool then drops it), and the worker has the pool
            # check every idle connection in one go before it retries (`Container.repair_connections`).
            "APPLICATION_RECORDER_TOPIC": "jawazat_events.store:PostgresEventStoreRecorder",
        }

    def psycopg_conninfo(self) -> str:
        """A libpq connection string for direct connections (read models, benchmarks)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.dbname,
        )


def _notification_ids_of(
    keys: Sequence[EventKey], stored_events: Sequence[StoredEvent], notification_ids: Sequence[int]
) -> list[int]:
    """The notification id each key's event was stored under (keys by the UUID's integer: C hashing)."""
    by_key = {
        (chain.as_uuid(s.originator_id).int, s.originator_version): n
        for s, n in zip(stored_events, notification_ids, strict=True)
    }
    return [by_key[(chain.as_uuid(k[1]).int, k[2])] for k in keys]


class PostgresEventStoreRecorder(PostgresRecorderHooks):
    """The library's PostgreSQL application recorder plus the source event-id table and the hash chain."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema or "public")
        self.event_ids_table = SQL("{}.{}").format(schema, Identifier(EVENT_IDS_TABLE))
        self.schema_name = schema
        self.events_table = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
        self.chain_table = SQL("{}.{}").format(schema, Identifier(chain.CHAIN_TABLE))
        self.checkpoints_table = SQL("{}.{}").format(schema, Identifier(chain.CHECKPOINTS_TABLE))
        # The chain's last link comes back with the new ids: read by the same statement, after the lock,
        # so it is the last one committed, at no extra round trip.
        self._insert_from_arrays = SQL(
            "WITH last AS (SELECT notification_id, link FROM {} ORDER BY notification_id DESC LIMIT 1) "
            "INSERT INTO {} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id, (SELECT notification_id FROM last) AS chain_previous_id, "
            "(SELECT link FROM last) AS chain_previous_link"
        ).format(self.chain_table, self.events_table)
        self._insert_links = SQL(
            "INSERT INTO {} (notification_id, previous_id, originator_id, originator_version, link) "
            "SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::uuid[], %b::bigint[], %b::bytea[])"
        ).format(self.chain_table)
        self._insert_checkpoint = SQL("INSERT INTO {} (notification_id, link) VALUES (%s, %s)").format(
            self.checkpoints_table
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (event_id text PRIMARY KEY, notification_id bigint NOT NULL)"
            ).format(self.event_ids_table)
        )
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (notification_id bigint PRIMARY KEY, previous_id bigint, "
                    "originator_id uuid NOT NULL, originator_version bigint NOT NULL, link bytea NOT NULL)"
                ).format(self.chain_table),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (notification_id bigint PRIMARY KEY, link bytea NOT NULL, "
                    "recorded_at timestamptz NOT NULL DEFAULT now())"
                ).format(self.checkpoints_table),
                SQL("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, value text NOT NULL)").format(
                    SQL("{}.{}").format(schema, Identifier(META_TABLE))
                ),
            ]
        )

    def create_table(self) -> None:
        # Processes starting together on a fresh database would race in CREATE TYPE/TABLE IF NOT EXISTS,
        # which PostgreSQL answers with a duplicate key in its catalog: they take turns instead.
        with self.datastore.get_connection() as conn, locks.holding(conn, locks.STORE_CREATE_TABLES):
            super().create_table()

    def insert_statement(self) -> Composed:
        """One INSERT from arrays of plain columns (same rows, same RETURNING as the library's)."""
        return self._insert_from_arrays

    def after_insert(
        self,
        curs: Cursor[Any],
        stored_events: Sequence[StoredEvent],
        rows: list[tuple[Any, ...]],
        saved: Mapping[str, Any],
    ) -> Sequence[int]:
        """Source event ids and chain links, in the events' transaction; returns the notification ids.

        `rows` are the INSERT's RETURNING tuples: (notification_id, chain_previous_id, chain_previous_link).
        """
        notification_ids = [row[0] for row in rows]
        if len(notification_ids) != len(stored_events):
            raise ProgrammingError(f"{len(notification_ids)} ids returned for {len(stored_events)} events")
        keys: Sequence[EventKey] = saved.get("event_ids") or ()
        if keys and notification_ids:
            curs.execute(
                SQL(
                    "INSERT INTO {} (event_id, notification_id) "
                    "SELECT * FROM unnest(%b::text[], %b::bigint[])"
                ).format(self.event_ids_table),
                ([k[0] for k in keys], _notification_ids_of(keys, stored_events, notification_ids)),
            )
        if rows:
            _, previous_id, previous_link = rows[0]
            self._extend_chain(
                curs,
                stored_events,
                notification_ids,
                previous_id,
                bytes(previous_link) if previous_link is not None else chain.GENESIS,
            )
        return notification_ids

    def _extend_chain(
        self,
        curs: Any,
        stored_events: Sequence[StoredEvent],
        ids: Sequence[int],
        previous_id: int | None,
        previous_link: bytes,
    ) -> None:
        rows = chain.extend(
            previous_id,
            previous_link,
            [
                (n, chain.as_uuid(s.originator_id), s.originator_version, s.topic, s.state)
                for s, n in zip(stored_events, ids, strict=True)
            ],
        )
        curs.execute(self._insert_links, tuple(list(column) for column in zip(*rows, strict=True)))
        if chain.checkpoint_due(previous_id, rows[-1][0]):
            curs.execute(self._insert_checkpoint, (rows[-1][0], rows[-1][4]))

    @contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """Ingest batches take turns across processes (a session advisory lock on a pooled connection).

        Without it, a writer that lost a race retries a step behind the winner's next batch, which
        touches the same people again: it could lose every retry until the other process finishes.
        """
        with self.datastore.get_connection() as conn, locks.holding(conn, locks.STORE_INGEST):
            yield

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        # Batch look-ups are cheap index probes; the planner's row guesses would otherwise trigger
        # JIT compilation, which costs more than the query itself.
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute("SET LOCAL jit = off", prepare=False)
            yield curs

    def existing_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these source event ids the store already holds."""
        if not event_ids:
            return set()
        with self._reading() as curs:
            curs.execute(
                SQL("SELECT event_id FROM {} WHERE event_id = ANY(%s)").format(self.event_ids_table),
                (list(event_ids),),
            )
            return {row["event_id"] for row in curs.fetchall()}

    def select_events_after(self, versions: dict[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        """Stored events of many aggregates at once, each after the version given for it (0: all)."""
        found: dict[UUID, list[StoredEvent]] = defaultdict(list)
        if not versions:
            return found
        with self._reading() as curs:
            curs.execute(
                SQL(
                    "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                    "FROM unnest(%b::uuid[], %b::bigint[]) AS k(id, v) CROSS JOIN LATERAL ("
                    "SELECT * FROM {} e WHERE e.originator_id = k.id AND e.originator_version > k.v "
                    "ORDER BY e.originator_version) e"
                ).format(self.events_table),
                (list(versions.keys()), list(versions.values())),
                # One index probe per aggregate (LATERAL), whatever the planner's statistics say;
                # a prepared generic plan may still pick a hash join over the whole table.
                prepare=False,
            )
            for row in curs.fetchall():
                found[row["originator_id"]].append(
                    StoredEvent(
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    )
                )
        return found

    def refresh_statistics(self) -> list[str]:
        """ANALYZE the store's tables whose planner statistics lag far behind them; returns their names.

        Why: reading a stretch of positions (`select_notifications`, `WHERE notification_id >= … ORDER BY
        notification_id LIMIT …`) is planned from the table's statistics. Without them (autovacuum off, or
        not yet run after a bulk load) the planner takes the stretch up to the head for a few rows, and
        sorts all of it for every batch: a rebuild of 1M events ran at 7,600 events/s instead of 16,700
        and a backlog's catch-up alike (docs/capacity.md, "Replay"). Autovacuum does this when it runs;
        a follower that meets a backlog (the worker's, a catch-up, a rebuild) calls this before reading it."""
        tables = [self.events_table_name, EVENT_IDS_TABLE, chain.CHAIN_TABLE]
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT relname, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables "
                "WHERE schemaname = %s AND relname = ANY(%s)",
                (self.datastore.schema or "public", tables),
                prepare=False,
            )
            stale = [
                row["relname"]
                for row in curs.fetchall()
                if row["n_mod_since_analyze"] >= max(STALE_ROWS, STALE_SHARE * row["n_live_tup"])
            ]
            for name in stale:
                curs.execute(SQL("ANALYZE {}.{}").format(self.schema_name, Identifier(name)), prepare=False)
        return stale

    def events_by_originator(
        self, *, topics: Sequence[str], stop: int, page: int
    ) -> Iterator[list[Notification]]:
        """The stored events at positions up to `stop` with one of `topics` (every topic when empty), in
        (originator id, version) order, `page` at a time: each aggregate's events together and in recording
        order (a rebuild of a `by_aggregate` read model).

        ONE statement, streamed from a server-side cursor in one snapshot: the server scans the table and
        sorts it once. Reading it in the primary key's order instead (pages by keyset) cost a heap page per
        event, 60 times the sort's time at 1M events (docs/capacity.md, "Replay")."""
        conditions = [SQL("notification_id <= %s")]
        params: list[Any] = [stop]
        if topics:
            conditions.append(SQL("topic = ANY(%s)"))
            params.append(list(topics))
        with self._reading() as curs:
            # A cursor's plan is otherwise chosen for its first rows: the primary key's order, page by page.
            curs.execute("SET LOCAL cursor_tuple_fraction = 1.0", prepare=False)
            with curs.connection.cursor(name="jawazat_events_by_originator", row_factory=tuple_row) as rows:
                rows.execute(
                    SQL(
                        "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
                        "WHERE {} ORDER BY originator_id, originator_version"
                    ).format(self.events_table, SQL(" AND ").join(conditions)),
                    params,
                )
                while found := rows.fetchmany(page):
                    yield [
                        Notification(id=n, originator_id=o, originator_version=v, topic=t, state=bytes(b))
                        for n, o, v, t, b in found
                    ]

    def notification_ids_of(self, event_ids: Sequence[str]) -> dict[str, int]:
        """The notification id each of these source event ids was stored under."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT event_id, notification_id FROM {} WHERE event_id = ANY(%s)").format(
                    self.event_ids_table
                ),
                (list(event_ids),),
            )
            return {row["event_id"]: row["notification_id"] for row in curs.fetchall()}


class SQLiteEventStoreRecorder(SQLiteRecorderHooks):
    """The library's SQLite application recorder plus the source event-id table."""

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {EVENT_IDS_TABLE} ("
            "event_id TEXT PRIMARY KEY, notification_id INTEGER NOT NULL) WITHOUT ROWID"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {chain.CHAIN_TABLE} (notification_id INTEGER PRIMARY KEY, "
            "previous_id INTEGER, originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
            "link BLOB NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {chain.CHECKPOINTS_TABLE} (notification_id INTEGER PRIMARY KEY, "
            "link BLOB NOT NULL, recorded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        return statements

    def after_insert(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        ids: Sequence[int],
        saved: Mapping[str, Any],
    ) -> None:
        """Source event ids and chain links, in the events' transaction."""
        keys: Sequence[EventKey] = saved.get("event_ids") or ()
        if keys:
            c.executemany(
                f"INSERT INTO {EVENT_IDS_TABLE} (event_id, notification_id) VALUES (?, ?)",
                list(zip((k[0] for k in keys), _notification_ids_of(keys, stored_events, ids), strict=True)),
            )
        self._extend_chain(c, stored_events, ids)

    @staticmethod
    def _extend_chain(c: Any, stored_events: Sequence[StoredEvent], ids: Sequence[int]) -> None:
        # The events are inserted, so this transaction holds SQLite's write lock: no other writer between.
        c.execute(
            f"SELECT notification_id, link FROM {chain.CHAIN_TABLE} ORDER BY notification_id DESC LIMIT 1"
        )
        last = c.fetchone()
        previous_id = last[0] if last else None
        rows = chain.extend(
            previous_id,
            bytes(last[1]) if last else chain.GENESIS,
            [
                (n, chain.as_uuid(s.originator_id), s.originator_version, s.topic, s.state)
                for s, n in zip(stored_events, ids, strict=True)
            ],
        )
        c.executemany(
            f"INSERT INTO {chain.CHAIN_TABLE} (notification_id, previous_id, originator_id, "
            "originator_version, link) VALUES (?, ?, ?, ?, ?)",
            [(n, p, o.hex, v, link) for n, p, o, v, link in rows],
        )
        if chain.checkpoint_due(previous_id, rows[-1][0]):
            c.execute(
                f"INSERT INTO {chain.CHECKPOINTS_TABLE} (notification_id, link) VALUES (?, ?)",
                (rows[-1][0], rows[-1][4]),
            )

    @contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """SQLite has one writer at a time already; ingest needs no lock of its own here."""
        yield

    @contextmanager
    def _reading(self) -> Iterator[SQLiteCursor]:
        with self.datastore.transaction(commit=False) as c:
            yield c

    def existing_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these source event ids the store already holds."""
        found: set[str] = set()
        with self._reading() as c:
            for chunk in _chunks(event_ids, 500):
                c.execute(
                    f"SELECT event_id FROM {EVENT_IDS_TABLE} WHERE event_id IN "
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.update(row[0] for row in c.fetchall())
        return found

    def select_events_after(self, versions: dict[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        """Stored events of many aggregates at once, each after the version given for it (0: all)."""
        found: dict[UUID, list[StoredEvent]] = defaultdict(list)
        by_hex = {key.hex: key for key in versions}
        pairs = [(key.hex, version) for key, version in versions.items()]
        with self._reading() as c:
            # One statement per 400 aggregates (SQLite's 999 parameters), each probing the primary key.
            for start in range(0, len(pairs), 400):
                chunk = pairs[start : start + 400]
                c.execute(
                    f"WITH k(id, v) AS (VALUES {','.join(['(?, ?)'] * len(chunk))}) "
                    f"SELECT e.originator_id, e.originator_version, e.topic, e.state FROM k "
                    f"JOIN {self.events_table_name} e "
                    "ON e.originator_id = k.id AND e.originator_version > k.v "
                    "ORDER BY e.originator_id, e.originator_version",
                    [value for pair in chunk for value in pair],
                )
                for row in c.fetchall():
                    originator_id = by_hex[row[0]]
                    found[originator_id].append(
                        StoredEvent(
                            originator_id=originator_id,
                            originator_version=row[1],
                            topic=row[2],
                            state=row[3],
                        )
                    )
        return found

    def refresh_statistics(self) -> list[str]:
        """Nothing to do: SQLite plans these reads from its indexes alone (no ANALYZE has been run)."""
        return []

    def events_by_originator(
        self, *, topics: Sequence[str], stop: int, page: int
    ) -> Iterator[list[Notification]]:
        """The stored events at positions up to `stop` with one of `topics` (every topic when empty), in
        (originator id, version) order, `page` at a time: the primary key's order, each page read by keyset
        in a short transaction of its own (an in-memory database has one connection for a reader or the
        writer, and the rebuild writes between pages)."""
        conditions = ["rowid <= ?"]
        params: list[Any] = [stop]
        if topics:
            conditions.append(f"topic IN ({','.join('?' * len(topics))})")
            params += topics
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} WHERE {' AND '.join(conditions)} "
        )
        after: list[Any] = []
        while True:
            with self._reading() as c:
                c.execute(
                    statement
                    + ("AND (originator_id, originator_version) > (?, ?) " if after else "")
                    + "ORDER BY originator_id, originator_version LIMIT ?",
                    [*params, *after, page],
                )
                found = c.fetchall()
            if not found:
                return
            yield [
                Notification(id=n, originator_id=UUID(o), originator_version=v, topic=t, state=b)
                for n, o, v, t, b in found
            ]
            after = [found[-1][1], found[-1][2]]

    def notification_ids_of(self, event_ids: Sequence[str]) -> dict[str, int]:
        """The notification id each of these source event ids was stored under."""
        found: dict[str, int] = {}
        with self._reading() as c:
            for chunk in _chunks(event_ids, 500):
                c.execute(
                    f"SELECT event_id, notification_id FROM {EVENT_IDS_TABLE} WHERE event_id IN "
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                )
                found.update((row[0], row[1]) for row in c.fetchall())
        return found


def _chunks(items: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


EventStoreRecorder = PostgresEventStoreRecorder | SQLiteEventStoreRecorder


def recorder_of(app: Application[UUID]) -> EventStoreRecorder:
    """The application's recorder as this module's class (what the chain's verification reads)."""
    recorder = app.recorder
    if not isinstance(recorder, PostgresEventStoreRecorder | SQLiteEventStoreRecorder):
        raise ConfigurationError(
            f"the store's recorder is {type(recorder).__name__}, not one of this product's"
        )
    return recorder
