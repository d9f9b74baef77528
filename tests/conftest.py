"""Shared fixtures: fresh stores on each backend (SQLite file, real PostgreSQL), a fixed clock.

PostgreSQL tests never skip: if the server cannot be reached they fail, naming the URL tried.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jawazat_events.bootstrap import Container
from tests.support.stores import pg_database, wired_container


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with pg_database() as url:
        yield url


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
    with wired_container(database_url, tmp_path) as wired:
        yield wired
