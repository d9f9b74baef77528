"""Portal fixtures: a seeded store (SQLite by default, both backends where a test asks) and its outbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from tests.support.portal import Clock, seed


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


def _seeded(url: str, outbox: Path, clock: Clock, **settings: object) -> Iterator[Container]:
    wired = bootstrap(database_url=url, outbox_dir=outbox, portal_signin_per_minute=1000, **settings)
    wired.clock = clock
    seed(wired)
    try:
        yield wired
    finally:
        wired.close()


@pytest.fixture
def seeded(sqlite_database_url: str, outbox: Path, clock: Clock) -> Iterator[Container]:
    """A seeded SQLite store; the portal's clock is the test's."""
    yield from _seeded(sqlite_database_url, outbox, clock)


@pytest.fixture
def seeded_any(database_url: str, outbox: Path, clock: Clock) -> Iterator[Container]:
    """The same on each backend (SQLite, PostgreSQL)."""
    yield from _seeded(database_url, outbox, clock)


@pytest.fixture
def seeded_loopback_webhooks(sqlite_database_url: str, outbox: Path, clock: Clock) -> Iterator[Container]:
    """A seeded SQLite store whose webhooks may go to a receiver on 127.0.0.1 (the operator's allow-list)."""
    yield from _seeded(sqlite_database_url, outbox, clock, webhook_allow_hosts="127.0.0.1")
