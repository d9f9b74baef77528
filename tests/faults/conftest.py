"""The fault suite: PostgreSQL restarts in a private cluster, channels down and slow, an outbox
that cannot be written, and a soak with workers killed at random. Each scenario checks the store and the
alerts against the reference model and records its figures (`tests/support/figures.py`), printed in a
summary section at the end of the run (`tests/conftest.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import PrivateCluster, private_cluster
from tests.support.fleet import Fleet


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    """A private PostgreSQL cluster for this module's scenarios: theirs to restart."""
    with private_cluster() as running:
        yield running


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    """The test's `jawazat` processes (its logs in the test's folder), killed afterwards if still running."""
    made = Fleet(env={}, logs=tmp_path)
    try:
        yield made
    finally:
        made.kill_all()
