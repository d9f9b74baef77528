"""The store's planner statistics after a bulk load (`refresh_statistics`, PostgreSQL).

Reading a stretch of positions is planned from the events table's statistics. Without them (autovacuum
off, as on the project's machines, or not yet run after a bulk load) PostgreSQL sorted everything from
the stretch's start to the head for every batch: a rebuild of 1M events ran at less than half its rate.
After a bulk load the refresh runs ANALYZE on what changed a lot, and the batch read walks the position
index instead of sorting; a follower about to read a backlog refreshes them first.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jawazat_events.bootstrap import Container
from jawazat_events.generate import FeedGenerator
from jawazat_events.projections.runner import Follower
from jawazat_events.store import STALE_ROWS, recorder_of
from tests.support.stores import fresh_container

pytestmark = pytest.mark.postgres


def _changed_since_analyze(conninfo: str, table: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = %s", (table,)
        ).fetchone()
    return int(row[0]) if row else 0


def _batch_plan(conninfo: str, table: str, topics: list[str]) -> dict[str, Any]:
    """The plan of the library's batch read (`select_notifications`) from the first position."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            f"EXPLAIN (FORMAT JSON) SELECT * FROM {table} WHERE notification_id >= 1 "
            "AND notification_id <= 1000000 AND topic = ANY(%s) ORDER BY notification_id LIMIT 500",
            (topics,),
        ).fetchone()
    assert row is not None
    plan = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return dict(plan[0]["Plan"])


def _nodes(plan: dict[str, Any]) -> list[str]:
    return [plan["Node Type"], *(n for child in plan.get("Plans", []) for n in _nodes(child))]


def _bulk_loaded(wired: Container) -> tuple[str, str]:
    """Load 12,000 events and wait until PostgreSQL counts them as changed since the last ANALYZE (none);
    returns the connection string and the events table."""
    lines = list(FeedGenerator(people=3_000, events=12_000, seed=5).lines())
    results = [result.status for result, _ in wired.ingestor.ingest_lines(lines)]
    assert results.count("accepted") == len(lines)
    table = recorder_of(wired.app).events_table_name
    conninfo = wired.postgres_conninfo()
    assert conninfo is not None
    # The ingest's backends report their counts when they go idle (within about a second).
    deadline = time.monotonic() + 30
    while _changed_since_analyze(conninfo, table) < STALE_ROWS:
        assert time.monotonic() < deadline, "the store's change counts never reached pg_stat"
        time.sleep(0.5)
    return conninfo, table


def test_a_bulk_load_gets_statistics_and_batches_read_the_position_index(tmp_path: Path) -> None:
    with fresh_container("postgres", tmp_path) as wired:
        conninfo, table = _bulk_loaded(wired)
        recorder = recorder_of(wired.app)
        topics = [f"jawazat_events.domain.person:Person.{name}" for name in ("Registered", "BorderCrossed")]
        assert "Sort" in _nodes(_batch_plan(conninfo, table, topics))  # no statistics: sorted per batch

        assert table in recorder.refresh_statistics()

        assert "Sort" not in _nodes(_batch_plan(conninfo, table, topics))
        assert _changed_since_analyze(conninfo, table) < STALE_ROWS
        assert recorder.refresh_statistics() == []  # fresh: nothing to do


def test_a_follower_meeting_a_backlog_refreshes_them_first(tmp_path: Path) -> None:
    with fresh_container("postgres", tmp_path) as wired:
        conninfo, table = _bulk_loaded(wired)
        people = wired.read_models.named("people")

        Follower(wired.app, people, batch_size=1_000).drain()

        assert _changed_since_analyze(conninfo, table) < STALE_ROWS
        assert "Sort" not in _nodes(_batch_plan(conninfo, table, list(people.topics)))
