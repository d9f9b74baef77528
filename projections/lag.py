"""How far behind the store each projection partition is, and how many events it has parked.

One reading for every place that reports it: `/metrics`, `jawazat projections lag` and the scheduler's
`projection_lag` job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from jawazat_events.projections.base import ReadModel, Sql
from jawazat_events.projections.parking import parked_counts
from jawazat_events.projections.tables import PARKED


@dataclass(frozen=True)
class PartitionLag:
    """One partition of one projection: its position, how far behind the head it is, what it parked."""

    projection: str
    partition: int
    tracking_name: str
    position: int
    lag: int
    parked: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def partition_lags(models: Sequence[ReadModel], head: int) -> list[PartitionLag]:
    """Every partition of every read model, in processing order."""
    if not models:
        return []
    parked = parked_counts(models[0].db)
    found: list[PartitionLag] = []
    for model in models:
        for partition, position in sorted(model.positions().items()):
            name = model.tracking_name(partition)
            found.append(
                PartitionLag(
                    projection=model.name,
                    partition=partition,
                    tracking_name=name,
                    position=position,
                    lag=max(0, head - position),
                    parked=parked.get(name, 0),
                )
            )
    return found


@dataclass(frozen=True)
class ProjectionLag:
    """One projection in sum: its slowest partition's lag and all its parked events."""

    projection: str
    lag: int
    parked: int


def projection_lags(models: Sequence[ReadModel], head: int) -> list[ProjectionLag]:
    """Per projection: the lag of its slowest partition and the events parked by all its partitions."""
    partitions = partition_lags(models, head)
    return [
        ProjectionLag(
            projection=model.name,
            lag=max((p.lag for p in partitions if p.projection == model.name), default=0),
            parked=sum(p.parked for p in partitions if p.projection == model.name),
        )
        for model in models
    ]


def parked_in_store(datastore: PostgresDatastore | SQLiteDatastore) -> int:
    """How many events are parked, read without creating anything (for `audit verify`, which writes
    nothing): 0 when no read model was ever made on this store."""
    postgres = isinstance(datastore, PostgresDatastore)
    with datastore.transaction(commit=False) as cursor:
        sql = Sql(cursor, postgres=postgres)
        exists = (
            "SELECT to_regclass(?) IS NOT NULL AS found"
            if postgres
            else "SELECT COUNT(*) > 0 AS found FROM sqlite_master WHERE type = 'table' AND name = ?"
        )
        row = sql.execute(exists, (PARKED,)).fetchone()
        if not row or not row["found"]:
            return 0
        counted = sql.execute(f"SELECT COUNT(*) AS n FROM {PARKED}").fetchone()
    return int(counted["n"]) if counted else 0
