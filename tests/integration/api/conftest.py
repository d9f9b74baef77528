"""Fixtures of the HTTP API tests: the API over the test's own store, and one seeded store per backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jawazat_events.bootstrap import Container
from tests.support.api import BACKENDS, ApiWorld, api_world, seeded_world


@pytest.fixture
def world(container: Container) -> Iterator[ApiWorld]:
    """The API over `container` (a fresh store of the test's backend)."""
    with api_world(container) as built:
        yield built


@pytest.fixture(scope="module", params=BACKENDS)
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    """One store per backend and module for the table-driven refusals (they change nothing)."""
    with seeded_world(request.param, tmp_path_factory.mktemp("api")) as built:
        yield built
