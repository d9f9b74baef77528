"""Portal fixtures: a seeded store (SQLite by default, both backends where a test asks) and its outbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from tests.conftest import FIXED_NOW
from tests.portal.support import seed


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


def _seeded(url: str, outbox: Path, clock: Clock) -> Iterator[Container]:
    wired = bootstrap(database_url=url, outbox_dir=outbox, portal_signin_per_minute=1000)
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
