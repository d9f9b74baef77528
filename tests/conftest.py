"""Shared fixtures: fresh stores on each backend (SQLite file, real PostgreSQL), a fixed clock.

PostgreSQL tests never skip: if the server cannot be reached they fail, naming the URL tried.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from jawazat_events.bootstrap import Container, bootstrap

# Where tests create their throw-away databases (the machine's PostgreSQL, trust auth).
PG_ADMIN_URL = os.environ.get("JAWAZAT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
FIXED_NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is required for this test and cannot be reached at {PG_ADMIN_URL}: {error}",
            pytrace=False,
        )


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"jawazat_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same scenario on each backend: one SQLite file, one PostgreSQL database."""
    name = "sqlite_database_url" if request.param == "sqlite" else "pg_database_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """The wired product on a fresh store, with a fixed clock (2026-07-01 12:00 in Riyadh)."""
    wired = bootstrap(database_url=database_url, outbox_dir=tmp_path / "outbox")
    wired.clock = lambda: FIXED_NOW
    try:
        yield wired
    finally:
        wired.close()
