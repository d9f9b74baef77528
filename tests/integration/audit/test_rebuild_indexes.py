"""A rebuild replays without the read models' secondary indexes and builds them once it is done: it leaves
exactly the indexes a fresh start makes (serially on each backend, in parallel on PostgreSQL), and a
rebuild stopped midway leaves them to the next start or rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jawazat_events.bootstrap import Container
from jawazat_events.projections.base import ReadModelDatabase, Sql
from tests.support.audit import READ_MODELS, digest, populated, stop_rebuild_midway


def index_rows(sql: Sql) -> list[dict[str, Any]]:
    """Every index in the database: name, table_name, definition (PostgreSQL's `pg_indexes`, SQLite's
    schema), keys included."""
    if sql.postgres:
        statement = (
            "SELECT indexname AS name, tablename AS table_name, indexdef AS definition FROM pg_indexes "
            "WHERE schemaname = current_schema()"
        )
    else:
        statement = "SELECT name, tbl_name AS table_name, sql AS definition FROM sqlite_master "
        statement += "WHERE type = 'index'"
    return sql.execute(statement).fetchall()


def indexes(container: Container) -> dict[str, str]:
    """Every index of the read models' tables, by name: its definition."""
    tables = {table for model in container.read_models.all() for table in model.tables}
    with container.read_models.db.reading() as sql:
        return {row["name"]: row["definition"] for row in index_rows(sql) if row["table_name"] in tables}


def secondary(container: Container) -> set[str]:
    """The names of the indexes a rebuild builds after its replay."""
    return {index.name for model in container.read_models.all() for index in model.indexes()}


@pytest.fixture
def before_building(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The names of the indexes present each time this process is about to create indexes (the real
    `ReadModelDatabase.create` runs as always, after the look)."""
    seen: list[set[str]] = []
    create = ReadModelDatabase.create

    def looking_first(db: ReadModelDatabase, statements: list[str]) -> None:
        if any(statement.startswith("CREATE INDEX") for statement in statements):
            with db.reading() as sql:
                seen.append({row["name"] for row in index_rows(sql)})
        create(db, statements)

    monkeypatch.setattr(ReadModelDatabase, "create", looking_first)
    return seen


@pytest.fixture
def pg_live(pg_database_url: str, tmp_path: Path) -> Iterator[Container]:
    """The populated store on PostgreSQL only (the parallel rebuild)."""
    with populated(pg_database_url, tmp_path) as wired:
        yield wired


def test_a_rebuild_leaves_the_indexes_a_fresh_start_makes(
    clear_live: Container, before_building: list[set[str]]
) -> None:
    fresh = indexes(clear_live)
    deferred = secondary(clear_live)
    assert deferred and deferred <= set(fresh)
    before = digest(clear_live)
    assert clear_live.rebuilder.rebuild().rebuilt == READ_MODELS
    # Just before the rebuild built its indexes, none of them was there: the replay ran without them.
    assert before_building and not before_building[-1] & deferred
    assert indexes(clear_live) == fresh
    assert digest(clear_live) == before


@pytest.mark.postgres
def test_a_parallel_rebuild_leaves_the_indexes_a_fresh_start_makes(
    pg_live: Container, before_building: list[set[str]]
) -> None:
    fresh = indexes(pg_live)
    before = digest(pg_live)
    pg_live.rebuilder.rebuild(processes=2)
    # The shares run in processes of their own, which start without making the secondary indexes.
    assert before_building and not before_building[-1] & secondary(pg_live)
    assert indexes(pg_live) == fresh
    assert digest(pg_live) == before


@pytest.mark.parametrize("restored_by", ["a start", "the next rebuild"])
def test_a_rebuild_stopped_midway_leaves_the_indexes_to_the_next_start_or_rebuild(
    clear_live: Container, restored_by: str
) -> None:
    fresh = indexes(clear_live)
    before = digest(clear_live)
    stop_rebuild_midway(clear_live)
    assert set(indexes(clear_live)) == set(fresh) - secondary(clear_live)
    if restored_by == "a start":
        # What every process does on start (worker, serve, the CLI): make what is missing.
        other = Container(settings=clear_live.settings)
        try:
            _ = other.read_models
        finally:
            other.close()
        assert indexes(clear_live) == fresh
    # Resumes (with its indexes dropped again), then builds them.
    report = clear_live.rebuilder.rebuild(batch_size=50)
    assert (report.rebuilt, report.resumed) == ([], READ_MODELS)
    assert indexes(clear_live) == fresh
    assert digest(clear_live) == before
