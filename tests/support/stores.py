"""Throw-away stores for tests: the PostgreSQL admin connection, fresh containers, the fixed clock.

PostgreSQL tests never skip: if the server cannot be reached they fail, naming the URL tried.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from jawazat_events.bootstrap import Container, bootstrap

# Where tests create their throw-away databases (the machine's PostgreSQL, trust auth).
PG_ADMIN_URL = os.environ.get("JAWAZAT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
FIXED_NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def admin() -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the admin database (creating and dropping test databases)."""
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is required for this test and cannot be reached at {PG_ADMIN_URL}: {error}",
            pytrace=False,
        )


@contextmanager
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database's URL, dropped afterwards."""
    name = f"jawazat_test_{uuid.uuid4().hex[:12]}"
    with admin() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def pg_copy(url: str) -> Iterator[str]:
    """A copy of the database at `url` (`CREATE DATABASE … TEMPLATE`: nobody may be connected to it while
    it is copied), dropped afterwards: the same store twice without loading it twice."""
    name = f"jawazat_test_{uuid.uuid4().hex[:12]}"
    with admin() as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{url.rsplit("/", 1)[1]}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_container(backend: str, folder: Path) -> Iterator[Container]:
    """A wired product on a new, empty store of this backend, closed (and dropped) afterwards."""
    if backend == "sqlite":
        with wired_container(f"sqlite:///{folder / (uuid.uuid4().hex[:12] + '.db')}", folder) as wired:
            yield wired
        return
    with pg_database() as url, wired_container(url, folder) as wired:
        yield wired


@contextmanager
def wired_container(url: str, folder: Path) -> Iterator[Container]:
    """The wired product on this store, outbox in `folder`, clock fixed at `FIXED_NOW`; closed afterwards."""
    wired = bootstrap(database_url=url, outbox_dir=folder / "outbox")
    wired.clock = lambda: FIXED_NOW
    try:
        yield wired
    finally:
        wired.close()
