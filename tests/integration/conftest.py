"""Integration fixtures: more fresh stores on the backend a test runs on (comparisons, property tests)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from jawazat_events.bootstrap import Container
from tests.support.stores import fresh_container

ContainerFactory = Callable[[], AbstractContextManager[Container]]


@pytest.fixture
def backend(database_url: str) -> str:
    """'sqlite' or 'postgres': the backend of this run of a parametrised scenario."""
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


@pytest.fixture
def container_factory(backend: str, tmp_path: Path) -> ContainerFactory:
    """`with container_factory() as wired:` gives another fresh store on the same backend as `container`."""
    return lambda: fresh_container(backend, tmp_path)
