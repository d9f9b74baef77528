"""Fan-out partitions: a partition behind the others catches up in a shared batch, and on PostgreSQL several
workers share the partitions through advisory locks, each event alerted once, a departed worker's share
taken over."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.generate import luhn_complete
from jawazat_events.projections.fanout import partition_of
from jawazat_events.projections.runner import Follower
from jawazat_events.worker import Worker
from tests.support.reference import (
    ReferenceModel,
    alert_set,
    at,
    event_item,
    feed,
    rebuild,
    registration_item,
    table_rows,
)
from tests.support.stores import FIXED_NOW

SPONSOR = "7000000011"
EMAIL = "ops@example.com"
T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@contextmanager
def partitioned(url: str, folder: Path, partitions: int) -> Iterator[Container]:
    wired = bootstrap(database_url=url, outbox_dir=folder / "outbox", fanout_partitions=partitions)
    wired.clock = lambda: FIXED_NOW
    try:
        yield wired
    finally:
        wired.close()


def people_in(partitions: int, count: int) -> list[str]:
    """`count` ID numbers spread over every partition."""
    numbers = [luhn_complete(f"2{n:08d}") for n in range(1, 10 * count)]
    chosen: list[str] = []
    for k in range(partitions):
        chosen += [n for n in numbers if partition_of(n, partitions) == k][: count // partitions]
    return chosen


def setup(container: Container, ref: ReferenceModel, people: list[str]) -> None:
    container.establishments.register(unified_number=SPONSOR, name="Sponsor", email=EMAIL)
    ref.register_establishment(SPONSOR, mobile=None, email=EMAIL)
    items = [registration_item(f"reg-{n}", n, SPONSOR) for n in people]
    assert set(feed(container, *items)) == {"accepted"}
    for number in people:
        ref.register_person(number, SPONSOR)
        container.establishments.subscribe(SPONSOR, number, notification_types=["entry_exit"])
        ref.subscribe(SPONSOR, number, types=["entry_exit"], mobile=None, email=None)


def crossings(container: Container, ref: ReferenceModel, people: list[str], round_: int) -> None:
    items = []
    for index, number in enumerate(people):
        event_id = f"x-{round_}-{index}"
        when = T + timedelta(minutes=round_ * 100 + index)
        items.append(event_item(event_id, "border_crossing", number, at(when), index))
        ref.event(event_id, "border_crossing", number, when)
    assert set(feed(container, *items)) == {"accepted"}


def test_a_partition_far_behind_the_others_catches_up_in_a_shared_batch(
    database_url: str, tmp_path: Path
) -> None:
    # As after a takeover: this worker now holds partition 0 (up to date) and partition 1 (far behind).
    ref = ReferenceModel()
    with partitioned(database_url, tmp_path, 2) as container:
        people = people_in(2, 6)
        setup(container, ref, people)
        crossings(container, ref, people, 1)
        app, models = container.app, container.read_models
        Follower(app, models.index).drain()
        Follower(app, models.fanout, partitions=[0]).drain()
        crossings(container, ref, people, 2)
        Follower(app, models.fanout, partitions=[0]).drain()
        head = app.recorder.max_notification_id()
        assert Follower(app, models.fanout).positions() == {0: head, 1: 0}

        # Small batches: most end below partition 0's position, which must stay where it is.
        Follower(app, models.fanout, partitions=[0, 1], batch_size=3).drain()

        assert Follower(app, models.fanout).positions() == {0: head, 1: head}
        assert alert_set(container) == sorted(ref.alerts)
        assert len(ref.alerts) == 2 * len(people)


@pytest.mark.postgres
def test_workers_share_partitions_each_event_alerted_once(pg_database_url: str, tmp_path: Path) -> None:
    ref = ReferenceModel()
    with partitioned(pg_database_url, tmp_path, 4) as container:
        people = people_in(4, 8)
        setup(container, ref, people)
        first, second = Worker(container, deliver=False), Worker(container, deliver=False)
        try:
            for round_ in range(3):
                crossings(container, ref, people, round_)
                first.run_once()
                second.run_once()
            # After a pass each, the two live workers hold two partitions each, never the same one.
            assert len(first.claims.fanout) == len(second.claims.fanout) == 2
            assert first.claims.fanout.isdisjoint(second.claims.fanout)
            assert len(first.claims.singles) + len(second.claims.singles) == 4
            first.run_once()  # the index is up to date now: the second pass drains everything
            second.run_once()
            assert alert_set(container) == sorted(ref.alerts)

            # The first worker leaves: its locks and heartbeat go, the second takes over its share.
            first.close()
            crossings(container, ref, people, 3)
            second.run_once()
            second.run_once()
            assert second.claims.fanout == {0, 1, 2, 3}
            assert second.claims.singles == {
                "subscription_index",
                "people",
                "requests",
                "request_notifications",
            }
            assert alert_set(container) == sorted(ref.alerts)
            assert len(ref.alerts) == 4 * len(people)
        finally:
            first.close()
            second.close()
        live = table_rows(container, "alerts")

    # The same store replayed by one worker holding every partition gives the same rows.
    with partitioned(pg_database_url, tmp_path, 4) as again:
        rebuild(again)
        assert table_rows(again, "alerts") == live
