"""Fixtures of the audit tests: every scenario on each backend, with the store in clear and encrypted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jawazat_events.bootstrap import Container
from tests.support.audit import World, audit_container, build_world, populated


@pytest.fixture(name="store_mode", params=["clear", "encrypted"])
def store_mode_fixture(request: pytest.FixtureRequest) -> str:
    """Each scenario on a store in clear and on an encrypted one."""
    return str(request.param)


@pytest.fixture(name="audited")
def audited_fixture(database_url: str, tmp_path: Path, store_mode: str) -> Iterator[Container]:
    """A fresh store on each backend, in clear and encrypted."""
    wired = audit_container(database_url, tmp_path, encrypted=store_mode == "encrypted")
    try:
        yield wired
    finally:
        wired.close()


@pytest.fixture(name="world")
def world_fixture(audited: Container) -> World:
    """The scenario recorded on `audited`."""
    return build_world(audited)


@pytest.fixture
def clear_live(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """The populated store on each backend, in clear only (for the rebuild's own mechanics)."""
    with populated(database_url, tmp_path) as wired:
        yield wired
