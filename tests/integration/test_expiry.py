"""The passport-expiry job on each backend: a calendar walked day by day, re-runs, catch-up, renewals, alerts.

People come in through the real ingest path; the job reads the people view and records through the
store's idempotency; what it recorded is read back from the application sequence.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from eventsourcing.domain import Aggregate

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.services.application import EventKey
from jawazat_events.services.expiry import APPROACHING, EXPIRED, Due, ExpiryReport
from jawazat_events.worker import Worker
from tests.support import ingest, line, renewal
from tests.support.expiry import (
    EXPIRY,
    RIYADH,
    SPONSOR,
    on_day,
    recorded,
    register,
    resident,
    run,
    walk,
)


def test_calendar_walk_emits_each_threshold_once_on_its_day(container: Container) -> None:
    a, b, c = resident(1), resident(2), "3000000001"
    people = [
        (a, "PA1", EXPIRY),
        (b, "PB1", EXPIRY + timedelta(days=3)),
        (c, "PC1", EXPIRY - timedelta(days=5)),
    ]
    register(container, people)

    by_day = walk(container, EXPIRY - timedelta(days=100), EXPIRY + timedelta(days=5))

    expected: dict[date, list[str]] = {}
    for id_number, passport, expiry in people:
        for lead in (90, 60, 30, 7):
            expected.setdefault(expiry - timedelta(days=lead), []).append(
                f"expiry:{id_number}:{passport}:{lead}"
            )
        expected.setdefault(expiry, []).append(f"expired:{id_number}:{passport}")
    actual = {day: sorted(ids) for day, ids in by_day.items() if ids}
    assert actual == {day: sorted(ids) for day, ids in expected.items()}

    events = recorded(container)
    assert len({e.event_id for e in events}) == len(events) == 15
    assert container.app.store.existing_event_ids([e.event_id for e in events]) == {
        e.event_id for e in events
    }
    warnings = [e for e in events if e.type == APPROACHING]
    # On a threshold's own day, days_left is the threshold; the business time is the job's 06:00 Riyadh.
    assert {e.days_left for e in warnings} == {90, 60, 30, 7}
    assert all(e.event_id.endswith(f":{e.days_left}") for e in warnings)
    assert all(e.occurred_at.astimezone(RIYADH).time() == time(6, 0) for e in events)


def test_running_twice_the_same_day_emits_nothing_new(container: Container) -> None:
    register(container, [(resident(1), "PA1", EXPIRY), (resident(2), "PB1", EXPIRY + timedelta(days=30))])
    day = EXPIRY - timedelta(days=30)

    first = run(container, day)
    again = run(container, day)

    assert first.emitted == {APPROACHING: 2, EXPIRED: 0}
    assert (again.emitted_total, again.duplicates, again.scanned) == (0, 2, 2)
    assert len(recorded(container)) == 2


def test_catch_up_after_a_gap_emits_only_the_latest_threshold(container: Container) -> None:
    a = resident(1)
    register(container, [(a, "PA1", EXPIRY)])

    assert run(container, EXPIRY - timedelta(days=95)).emitted_total == 0
    # Down from 95 days before expiry to 25 days before: 90 and 60 are stale, 30 is the latest crossed.
    gap = run(container, EXPIRY - timedelta(days=25))
    assert gap.emitted == {APPROACHING: 1, EXPIRED: 0}
    assert [(e.event_id, e.days_left) for e in recorded(container)] == [(f"expiry:{a}:PA1:30", 25)]
    # Down again across the expiry day: only the expiry, late, once.
    run(container, EXPIRY - timedelta(days=7))
    late = run(container, EXPIRY + timedelta(days=3))
    assert late.emitted == {APPROACHING: 0, EXPIRED: 1}
    assert [e.event_id for e in recorded(container)] == [
        f"expiry:{a}:PA1:30",
        f"expiry:{a}:PA1:7",
        f"expired:{a}:PA1",
    ]
    assert run(container, EXPIRY + timedelta(days=4)).emitted_total == 0


def test_a_missed_expiry_is_announced_only_within_the_catch_up_bound(container: Container) -> None:
    recent, old = resident(1), resident(2)
    today = EXPIRY
    register(
        container, [(recent, "PR1", today - timedelta(days=30)), (old, "PO1", today - timedelta(days=31))]
    )

    report = run(container, today)

    assert report.emitted == {APPROACHING: 0, EXPIRED: 1}
    assert [e.event_id for e in recorded(container)] == [f"expired:{recent}:PR1"]


def test_a_renewal_before_a_threshold_cancels_the_old_passports_warnings(container: Container) -> None:
    a = resident(1)
    new_expiry = EXPIRY + timedelta(days=100)
    register(container, [(a, "OLD1", EXPIRY)])
    run(container, EXPIRY - timedelta(days=60))

    renewed_on = EXPIRY - timedelta(days=45)
    on_day(container, renewed_on)
    _, report = ingest(
        container,
        [
            line(
                renewal(
                    "renew-1",
                    f"{renewed_on.isoformat()}T10:00:00+03:00",
                    "NEW1",
                    renewed_on.isoformat(),
                    new_expiry.isoformat(),
                    id_number=a,
                )
            )
        ],
    )
    assert report.accepted == 1

    by_day = walk(container, renewed_on, new_expiry - timedelta(days=89))

    assert [e.event_id for e in recorded(container)] == [f"expiry:{a}:OLD1:60", f"expiry:{a}:NEW1:90"]
    assert by_day[new_expiry - timedelta(days=90)] == [f"expiry:{a}:NEW1:90"]


def test_a_due_event_for_a_passport_renewed_since_is_skipped(container: Container) -> None:
    a = resident(1)
    register(container, [(a, "OLD1", EXPIRY)])
    on_day(container, EXPIRY - timedelta(days=40))
    _, report = ingest(
        container,
        [
            line(
                renewal(
                    "renew-1", "2026-07-20T10:00:00+03:00", "NEW1", "2026-07-20", "2036-07-19", id_number=a
                )
            )
        ],
    )
    assert report.accepted == 1
    # What a page read just before the renewal reached the view would have planned.
    stale = Due(a, "OLD1", EXPIRY, APPROACHING, days_left=30, threshold=30)

    outcome = container.expiry.emit([stale], occurred_at=datetime(2026, 8, 2, 6, tzinfo=RIYADH))

    assert (outcome.emitted_total, outcome.superseded) == (0, 1)
    assert recorded(container) == []


def test_pages_cover_the_window_whatever_the_batch_size(container: Container) -> None:
    people = [(resident(n), f"P{n}", EXPIRY + timedelta(days=n % 3)) for n in range(1, 26)]
    register(container, people)
    job = container.expiry
    job.batch_size = job.read_page = 4  # reads and saves split inside one expiry date

    report = job.run(today=EXPIRY - timedelta(days=30))

    assert report.scanned == 25
    assert report.emitted_total == 25
    assert len({e.id_number for e in recorded(container)}) == 25


def test_expiry_events_alert_subscribers_of_passport_expiry(container: Container) -> None:
    watched, other_type, unsubscribed = resident(1), resident(2), resident(3)
    register(container, [(p, f"P{p[-3:]}", EXPIRY) for p in (watched, other_type, unsubscribed)])
    container.establishments.register(
        unified_number=SPONSOR, name="Al Noor Contracting", email="hr@noor.example"
    )
    container.establishments.subscribe(
        SPONSOR, watched, notification_types=["passport_expiry"], mobile="0501234567"
    )
    container.establishments.subscribe(SPONSOR, other_type, notification_types=["entry_exit"])

    run(container, EXPIRY - timedelta(days=7))
    run(container, EXPIRY)
    Worker(container).run_once()

    with container.read_models.db.reading() as sql:
        alerts = sql.execute(
            "SELECT event_id, event_type, notification_type, id_number, establishment, channel FROM alerts "
            "ORDER BY position, channel"
        ).fetchall()
    assert [(a["event_type"], a["channel"]) for a in alerts] == [
        (APPROACHING, "sms"),
        (EXPIRED, "sms"),
    ]
    assert {a["id_number"] for a in alerts} == {watched}
    assert {a["notification_type"] for a in alerts} == {"passport_expiry"}
    assert {a["establishment"] for a in alerts} == {SPONSOR}


def test_two_jobs_racing_without_locks_store_each_event_once(container: Container, database_url: str) -> None:
    people = [(resident(n), f"P{n}", EXPIRY + timedelta(days=n % 5)) for n in range(1, 41)]
    register(container, people)
    day = EXPIRY - timedelta(days=3)
    other = bootstrap(database_url=database_url)
    # Both jobs decide what to write (store probed, people loaded) before either saves: the store's keys
    # must refuse the second writer, whose retry then finds everything recorded.
    deciding = threading.Barrier(2, timeout=10)
    reports: list[ExpiryReport] = []
    errors: list[BaseException] = []

    def race_at_save(wired: Container) -> None:
        original = wired.app.save_keyed
        first = [True]

        def save_keyed(aggregates: Sequence[Aggregate], event_ids: Sequence[EventKey]) -> None:
            if first[0]:
                first[0] = False
                deciding.wait()
            original(aggregates, event_ids)

        wired.app.save_keyed = save_keyed

    def job(wired: Container) -> None:
        try:
            reports.append(wired.expiry.run(today=day))
        except BaseException as error:  # reported below, with the other thread's outcome
            errors.append(error)

    try:
        for wired in (container, other):
            race_at_save(wired)
        threads = [threading.Thread(target=job, args=(wired,)) for wired in (container, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other.close()

    assert errors == []
    expected = sorted(f"expiry:{n}:{p}:7" for n, p, _ in people)
    assert sorted(e.event_id for e in recorded(container)) == expected
    # One job recorded everything; the other's save was refused, and its retry found them all stored.
    assert sorted(r.emitted_total for r in reports) == [0, len(expected)]
    assert sorted(r.duplicates for r in reports) == [0, len(expected)]
