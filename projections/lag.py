"""How far behind the store each projection partition is, and how many events it has parked.

One reading for every place that reports it: `/metrics`, `jawazat projections lag` and the scheduler's
`projection_lag` job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from jawazat_events.projections.base import ReadModel
from jawazat_events.projections.parking import parked_counts


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
