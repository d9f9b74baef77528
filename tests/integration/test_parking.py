"""No single event stops a projection on each backend.

An event a read model cannot apply is isolated by halving its batch and parked, in the transaction that
moves the position past it; the batch's healthy events are applied exactly once and other people's alerts
keep flowing. A transient failure is retried, never parked. `retry_parked` applies a parked event once the
cause is fixed, exactly once however often it runs.

Poison comes two ways: a test-only seam (a fan-out that refuses chosen event ids, as a bug would, then is
"fixed" by putting the real one back), and a genuinely poisonous stored event (a crossing dated
9999-12-31T23:59:59-14:00, written through the aggregate the way the feed accepted it on the old code),
which neither the people view nor the fan-out can turn into UTC.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from jawazat_events.bootstrap import Container
from jawazat_events.projections.base import Positioned, Sql
from jawazat_events.projections.failures import Failure, PositionMoved, classify
from jawazat_events.projections.fanout import AlertFanout
from jawazat_events.projections.lag import partition_lags
from jawazat_events.projections.parked_retry import retry_parked
from jawazat_events.projections.parking import parked_events
from jawazat_events.projections.runner import Follower
from jawazat_events.projections.tables import PEOPLE
from jawazat_events.worker import Worker
from tests.support import crossing, ingest, line, registration
from tests.support.parking import poisonous_crossing
from tests.support.reference import ReferenceModel, alert_set, drain, expect_events

SPONSOR = "7001234567"
ALI, OMAR, SARA = "2000000006", "1000000008", "3000000001"
EMAIL = "hr@amal.example"
CROSSINGS = 60


class RefusingFanout(AlertFanout):
    """The fan-out with a bug on some events (test-only seam): it raises for these source event ids."""

    refused: frozenset[str] = frozenset()

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        bad = [item.event.event_id for item in items if getattr(item.event, "event_id", None) in self.refused]
        if bad:
            raise ValueError(f"cannot render the facts of {bad[0]}")
        return super().apply_batch(sql, items)


class FlakyFanout(AlertFanout):
    """The fan-out over a database that fails transiently the first `failures` times it is asked."""

    failures = 0
    error: Exception = RuntimeError()

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        if FlakyFanout.failures > 0:
            FlakyFanout.failures -= 1
            raise self.error
        return super().apply_batch(sql, items)


def install(container: Container, kind: type[AlertFanout]) -> AlertFanout:
    models = container.read_models
    models.fanout = kind(models.db, partitions=models.fanout.partitions)
    return models.fanout


def setup(container: Container, ref: ReferenceModel) -> None:
    """One establishment subscribed by e-mail to three people's crossings."""
    container.establishments.register(unified_number=SPONSOR, name="Al Amal", email=EMAIL, language="en")
    ref.register_establishment(SPONSOR, mobile=None, email=EMAIL)
    people = [ALI, OMAR, SARA]
    _, report = ingest(
        container,
        [
            line(registration(f"reg-{n}", id_number=n, sponsor=SPONSOR, passport_number=f"P{i:07d}"))
            for i, n in enumerate(people)
        ],
    )
    assert report.accepted == 3
    for n in people:
        ref.register_person(n, SPONSOR)
        container.establishments.subscribe(SPONSOR, n, notification_types=["entry_exit"])
        assert ref.subscribe(SPONSOR, n, types=["entry_exit"], mobile=None, email=None) is None


def post_crossings(container: Container, ref: ReferenceModel, count: int = CROSSINGS) -> list[str]:
    """`count` crossings in one batch, the three people in turn; the event ids in recording order."""
    people = [ALI, OMAR, SARA]
    items = []
    for n in range(count):
        when = datetime(2026, 6, 1, 8, tzinfo=UTC) + timedelta(minutes=n)
        items.append(crossing(f"x{n:03d}", when.isoformat(), id_number=people[n % 3]))
    _, report = ingest(container, [line(item) for item in items])
    assert report.accepted == count, report.rejections
    expect_events(ref, items)
    return [item["event_id"] for item in items]


def expected(ref: ReferenceModel, without: set[str] = frozenset()) -> list[tuple[str, str, str, str]]:
    return sorted(alert for alert in ref.alerts if alert[0] not in without)


def head(container: Container) -> int:
    return container.app.recorder.max_notification_id() or 0


@pytest.mark.parametrize(
    "refused",
    [
        pytest.param({"x000"}, id="first"),
        pytest.param({"x059"}, id="last"),
        pytest.param({"x030", "x031"}, id="two-adjacent"),
        pytest.param({f"x{n:03d}" for n in range(0, CROSSINGS, 7)}, id="every-seventh"),
        pytest.param({f"x{n:03d}" for n in range(CROSSINGS)}, id="all"),
    ],
)
def test_poison_events_are_parked_and_the_rest_applied_exactly_once(
    container: Container, refused: set[str]
) -> None:
    ref = ReferenceModel()
    setup(container, ref)
    fanout = install(container, RefusingFanout)
    type(fanout).refused = frozenset(refused)
    post_crossings(container, ref)

    drain(container)

    assert alert_set(container) == expected(ref, without=refused)  # exactly once, none lost
    parked = parked_events(container.read_models.db)
    assert {p.event_id for p in parked} == refused
    assert {(p.projection, p.event_type, p.error_class) for p in parked} == {
        ("fanout", "border_crossing", "ValueError")
    }
    assert all(p.error_message.startswith("cannot render the facts of x") for p in parked)
    # The projection moved past them: nothing left to do, nothing done twice on a second pass.
    assert {lag.lag for lag in partition_lags(container.read_models.all(), head(container))} == {0}
    drain(container)
    assert alert_set(container) == expected(ref, without=refused)
    assert len(parked_events(container.read_models.db)) == len(refused)


def test_other_alerts_keep_flowing_and_retry_parked_applies_after_the_fix(container: Container) -> None:
    ref = ReferenceModel()
    setup(container, ref)
    fanout = install(container, RefusingFanout)
    type(fanout).refused = frozenset({"x010"})
    post_crossings(container, ref, 30)
    drain(container)
    [parked] = parked_events(container.read_models.db)

    # More events later: they flow although x010 is still parked.
    more = [crossing("y1", "2026-06-02T09:00:00+03:00", id_number=OMAR)]
    _, report = ingest(container, [line(item) for item in more])
    assert report.accepted == 1
    ref.event("y1", "border_crossing", OMAR, datetime.fromisoformat("2026-06-02T09:00:00+03:00"))
    drain(container)
    assert alert_set(container) == expected(ref, without={"x010"})

    # Retried before the fix: it stays, with the new error and one retry counted.
    report_before = retry_parked(container.app, container.read_models.all())
    assert report_before.applied == [] and len(report_before.failing) == 1
    [still] = parked_events(container.read_models.db)
    assert still.retries == 1 and still.last_retried_at and still.position == parked.position

    # The fix: the real fan-out again. Retrying applies it once and empties the list; again, nothing.
    install(container, AlertFanout)
    report_after = retry_parked(container.app, container.read_models.all(), position=parked.position)
    assert [p.position for p in report_after.applied] == [parked.position], report_after
    assert parked_events(container.read_models.db) == []
    assert alert_set(container) == expected(ref)
    again = retry_parked(container.app, container.read_models.all())
    assert (again.applied, again.failing, again.gone) == ([], [], 0)
    drain(container)
    assert alert_set(container) == expected(ref)


def test_a_stored_poisonous_event_is_parked_by_every_view_it_breaks(container: Container) -> None:
    ref = ReferenceModel()
    setup(container, ref)
    post_crossings(container, ref, 9)
    poisonous_crossing(container, ALI, "poison")
    post_crossings_after = [crossing("z1", "2026-06-03T10:00:00+03:00", id_number=SARA)]
    ingest(container, [line(item) for item in post_crossings_after])
    ref.event("z1", "border_crossing", SARA, datetime.fromisoformat("2026-06-03T10:00:00+03:00"))

    drain(container)

    parked = parked_events(container.read_models.db)
    assert sorted(p.projection for p in parked) == ["fanout", "people"]
    assert {(p.event_id, p.id_number, p.error_class) for p in parked} == {("poison", ALI, "OverflowError")}
    # Everyone else's alerts, and the people view, as if the poison were not there.
    assert alert_set(container) == expected(ref)
    with container.read_models.db.reading() as sql:
        row = sql.execute(f"SELECT last_crossing_at FROM {PEOPLE} WHERE id_number = ?", (SARA,)).fetchone()
    assert row is not None and row["last_crossing_at"].startswith("2026-06-03T07:00:00")
    lags = partition_lags(container.read_models.all(), head(container))
    assert {lag.projection: lag.parked for lag in lags if lag.parked} == {"people": 1, "fanout": 1}

    # No fix yet: retrying keeps both, with the error of today.
    report = retry_parked(container.app, container.read_models.all())
    assert len(report.failing) == 2 and report.applied == []
    assert {p.retries for p in parked_events(container.read_models.db)} == {1}


def transient_error(container: Container) -> Exception:
    if container.read_models.db.postgres:
        return psycopg.errors.SerializationFailure("could not serialize access due to concurrent update")
    return sqlite3.OperationalError("database is locked")


def test_a_transient_failure_is_retried_never_parked(container: Container) -> None:
    ref = ReferenceModel()
    setup(container, ref)
    install(container, FlakyFanout)
    FlakyFanout.error, FlakyFanout.failures = transient_error(container), 2
    post_crossings(container, ref, 12)

    worker = Worker(container, deliver=False)
    try:
        for _ in range(2):
            with pytest.raises(Exception) as raised:
                worker.run_once()
            assert classify(raised.value) is Failure.TRANSIENT, raised.value
        assert parked_events(container.read_models.db) == []
        assert alert_set(container) == []  # the failed batches left nothing behind
        worker.run_once()
    finally:
        worker.close()
    assert alert_set(container) == expected(ref)
    assert parked_events(container.read_models.db) == []


def test_a_batch_whose_position_moved_writes_nothing(container: Container) -> None:
    ref = ReferenceModel()
    setup(container, ref)
    post_crossings(container, ref, 6)
    drain(container)
    fanout = container.read_models.fanout
    stale = dict.fromkeys(range(fanout.partitions), 0)  # what a slower process believed
    batch = [
        Positioned(container.app.mapper.to_domain_event(n), n.id, n.topic)
        for n in container.app.recorder.select_notifications(start=1, limit=100)
        if fanout.reads(n.topic)
    ]
    before = alert_set(container)
    with pytest.raises(PositionMoved):
        fanout.process(batch, positions=stale, upto=head(container))
    assert alert_set(container) == before
    # A follower that meets it reads the positions again and finds nothing left to do.
    follower = Follower(container.app, fanout)
    result = follower.step()
    assert result.advanced is False and alert_set(container) == before


def test_rows_and_parked_events_survive_nothing_twice_in_a_rebuild(container: Container) -> None:
    ref = ReferenceModel()
    setup(container, ref)
    post_crossings(container, ref, 9)
    poisonous_crossing(container, OMAR, "poison")
    drain(container)
    assert len(parked_events(container.read_models.db)) == 2

    report = container.rebuilder.rebuild(["people", "fanout"])
    assert {"people", "fanout"} <= set(report.rebuilt)
    parked: list[Any] = parked_events(container.read_models.db)
    assert sorted((p.projection, p.event_id) for p in parked) == [("fanout", "poison"), ("people", "poison")]
    assert alert_set(container) == expected(ref)
