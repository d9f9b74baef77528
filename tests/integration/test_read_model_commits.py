"""Which read-model transactions wait for the disk: a projection's batch (derived rows with their tracking
position) commits without waiting on PostgreSQL; every other read-model write waits as always, and the
setting never outlives its transaction."""

from __future__ import annotations

import pytest

from jawazat_events.bootstrap import Container

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database_url: str) -> str:
    return pg_database_url


def setting(container: Container, *, derived: bool | None) -> str:
    db = container.read_models.db
    if derived is None:
        with db.reading() as sql:
            row = sql.execute("SELECT current_setting('synchronous_commit') AS value").fetchone()
    else:
        with db.transaction(derived=derived) as sql:
            row = sql.execute("SELECT current_setting('synchronous_commit') AS value").fetchone()
    assert row is not None
    return str(row["value"])


def test_only_derived_batches_commit_without_waiting_for_the_disk(container: Container) -> None:
    assert setting(container, derived=True) == "off"
    assert setting(container, derived=False) == "on"
    assert setting(container, derived=None) == "on"  # the pooled connection is back to the default
    assert setting(container, derived=True) == "off"
    assert setting(container, derived=False) == "on"
