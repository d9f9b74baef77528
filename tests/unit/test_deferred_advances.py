"""Deferred advances (`projections/deferred.py`): what a following worker remembers of empty stretches, and
when it commits a position anyway."""

from __future__ import annotations

from typing import Any, cast

from jawazat_events.projections.base import ReadModel, ReadModelDatabase
from jawazat_events.projections.deferred import DeferredAdvances


class Partitioned(ReadModel):
    name = "partitioned"

    def tracking_name(self, partition: int) -> str:
        return f"partitioned#{partition}"


def model() -> ReadModel:
    # Only names and partitions are read: no database is touched.
    return Partitioned(cast(ReadModelDatabase, None), partitions=2)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_empty_stretch_is_remembered_and_read_as_reached() -> None:
    m, clock = model(), Clock()
    deferred = DeferredAdvances(clock=clock)

    assert deferred.defer(m, {0: 10, 1: 12}, 50)

    assert deferred.effective(m, {0: 10, 1: 12}) == {0: 50, 1: 50}
    # Another process moved a position within the stretch: still empty up to 50.
    assert deferred.effective(m, {0: 30, 1: 12}) == {0: 50, 1: 50}
    # ... or past it: the stored position wins.
    assert deferred.effective(m, {0: 70, 1: 12}) == {0: 70, 1: 50}


def test_a_position_set_back_by_a_rebuild_ignores_what_was_remembered() -> None:
    m = model()
    deferred = DeferredAdvances(clock=Clock())
    assert deferred.defer(m, {0: 10, 1: 10}, 50)

    assert deferred.effective(m, {0: 0, 1: 5}) == {0: 0, 1: 5}


def test_a_position_is_committed_at_least_every_max_seconds_and_max_positions() -> None:
    m, clock = model(), Clock()
    deferred = DeferredAdvances(clock=clock, max_seconds=1.0, max_positions=100)

    assert deferred.defer(m, {0: 10, 1: 10}, 20)
    clock.now += 0.5
    assert deferred.defer(m, {0: 10, 1: 10}, 30)
    clock.now += 0.6  # more than a second since the first deferral: commit
    assert not deferred.defer(m, {0: 10, 1: 10}, 40)
    assert deferred.defer(m, {0: 40, 1: 40}, 45)  # a new second starts
    assert not deferred.defer(m, {0: 40, 1: 40}, 140)  # 100 positions behind: commit
    assert deferred.deferred == 3


def test_read_models_are_remembered_apart() -> None:
    first, clock = model(), Clock()

    class Other(Partitioned):
        name = "other"

        def tracking_name(self, partition: int) -> str:
            return f"other#{partition}"

    second: Any = Other(cast(ReadModelDatabase, None), partitions=2)
    deferred = DeferredAdvances(clock=clock)
    assert deferred.defer(first, {0: 1, 1: 1}, 9)

    assert deferred.effective(second, {0: 1, 1: 1}) == {0: 1, 1: 1}
