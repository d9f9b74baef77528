"""Integration fixtures: more fresh stores on the backend a test runs on (comparisons, property tests)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from tests.conftest import FIXED_NOW, PG_ADMIN_URL, _admin

ContainerFactory = Callable[[], AbstractContextManager[Container]]


@contextmanager
def fresh_container(backend: str, folder: Path) -> Iterator[Container]:
    """A wired product on a new, empty store of this backend, closed (and dropped) afterwards."""
    name = f"jawazat_test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        url = f"sqlite:///{folder / (name + '.db')}"
    else:
        with _admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    wired = bootstrap(database_url=url, outbox_dir=folder / "outbox")
    wired.clock = lambda: FIXED_NOW
    try:
        yield wired
    finally:
        wired.close()
        if backend != "sqlite":
            with _admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def backend(database_url: str) -> str:
    """'sqlite' or 'postgres': the backend of this run of a parametrised scenario."""
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


@pytest.fixture
def container_factory(backend: str, tmp_path: Path) -> ContainerFactory:
    """`with container_factory() as wired:` gives another fresh store on the same backend as `container`."""
    return lambda: fresh_container(backend, tmp_path)
