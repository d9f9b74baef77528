"""The scheduler on each backend: jobs and triggers, the per-job lock, the lag warning, the retry sweep."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from apscheduler.triggers.cron import CronTrigger

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.scheduler import (
    JOB_NAMES,
    PASSPORT_EXPIRY,
    Scheduler,
    job_lock,
    projection_lag,
    run_job,
)
from jawazat_events.worker import Worker
from tests.support.expiry import SPONSOR, recorded, register, resident

RIYADH = ZoneInfo("Asia/Riyadh")
EXPIRY = date(2026, 9, 1)


def at_riyadh(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=RIYADH)


# --- jobs and triggers -------------------------------------------------------------------------------


def test_three_cron_jobs_in_the_business_zone_with_deliberate_misfire_rules(container: Container) -> None:
    runner = Scheduler(container)
    jobs = {job.id: job for job in runner.jobs()}

    assert set(jobs) == set(JOB_NAMES)
    for job in jobs.values():
        assert isinstance(job.trigger, CronTrigger)
        assert str(job.trigger.timezone) == "Asia/Riyadh"
        assert (job.coalesce, job.max_instances) == (True, 1)
    fields = {f.name: str(f) for f in jobs[PASSPORT_EXPIRY].trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("6", "0")
    # The daily run may start late, but never on the next business day; a minute job is left to the next.
    assert jobs[PASSPORT_EXPIRY].misfire_grace_time == 18 * 3600 - 1
    assert jobs["retry_deliveries"].misfire_grace_time == 30
    assert jobs["projection_lag"].misfire_grace_time == 30


def test_started_after_the_daily_time_the_expiry_job_runs_at_once(container: Container) -> None:
    container.clock = lambda: at_riyadh(date(2026, 7, 1), 12)
    started_late = Scheduler(container)
    started_late.apscheduler.start(paused=True)
    try:
        first = {job.id: job.next_run_time for job in started_late.jobs()}[PASSPORT_EXPIRY]
    finally:
        started_late.apscheduler.shutdown(wait=False)
    assert first == at_riyadh(date(2026, 7, 1), 12)

    container.clock = lambda: at_riyadh(date(2026, 7, 1), 5)
    started_early = Scheduler(container)
    started_early.apscheduler.start(paused=True)
    try:
        first = {job.id: job.next_run_time for job in started_early.jobs()}[PASSPORT_EXPIRY]
    finally:
        started_early.apscheduler.shutdown(wait=False)
    assert first.astimezone(RIYADH).time() == time(6, 0)


def test_the_scheduler_stops_when_its_stop_flag_is_set(container: Container) -> None:
    container.clock = lambda: at_riyadh(date(2026, 7, 1), 5)  # no start-up run
    stop = threading.Event()
    runner = Scheduler(container, stop=stop)
    thread = threading.Thread(target=runner.run_until_stopped, kwargs={"poll_seconds": 0.05})
    thread.start()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert not runner.apscheduler.running


def test_a_failed_daily_run_is_tried_again_the_same_day(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    container.clock = lambda: at_riyadh(date(2026, 7, 1), 6)

    class Broken:
        def run(self, **_: Any) -> Any:
            raise RuntimeError("database unreachable")

    container.expiry = Broken()
    runner = Scheduler(container)
    with caplog.at_level(logging.WARNING, logger="jawazat_events.scheduler"):
        runner._scheduled(PASSPORT_EXPIRY)

    retry = runner.apscheduler.get_job(f"{PASSPORT_EXPIRY}_retry")
    assert retry is not None
    assert "passport_expiry failed" in caplog.text
    assert "trying again at 2026-07-01T06:10" in caplog.text


# --- locks -------------------------------------------------------------------------------------------


def test_a_scheduled_run_skips_while_another_instance_holds_the_jobs_lock(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    register(container, [(resident(1), "PA1", EXPIRY)])
    day = EXPIRY - timedelta(days=7)

    with job_lock(container.database, PASSPORT_EXPIRY, wait=False) as held:
        assert held
        with job_lock(container.database, PASSPORT_EXPIRY, wait=False) as second:
            assert not second  # another session (PostgreSQL) or open file (SQLite) is refused
        with caplog.at_level(logging.INFO, logger="jawazat_events.scheduler"):
            skipped = run_job(container, PASSPORT_EXPIRY, today=day)
    assert skipped is None
    assert "skipped, another scheduler instance is running it" in caplog.text
    assert recorded(container) == []

    summary = run_job(container, PASSPORT_EXPIRY, today=day)
    assert summary is not None and "emitted passport_expiry_approaching 1" in summary
    assert len(recorded(container)) == 1


def test_an_operators_run_waits_for_the_other_instances_run_then_runs(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    register(container, [(resident(1), "PA1", EXPIRY)])
    results: list[str | None] = []
    waiter = threading.Thread(
        target=lambda: results.append(
            run_job(container, PASSPORT_EXPIRY, today=EXPIRY - timedelta(days=7), wait_for_lock=True)
        )
    )
    with caplog.at_level(logging.WARNING, logger="jawazat_events.scheduler"):
        with job_lock(container.database, PASSPORT_EXPIRY, wait=False) as held:
            assert held
            waiter.start()
            waiter.join(timeout=0.5)
            assert waiter.is_alive()  # still waiting while the other instance holds the lock
        waiter.join(timeout=30)
    assert "another scheduler instance is running it; waiting" in caplog.text
    assert results and results[0] is not None and "emitted passport_expiry_approaching 1" in results[0]


def test_other_jobs_locks_are_independent(container: Container) -> None:
    with job_lock(container.database, PASSPORT_EXPIRY, wait=False) as held:
        assert held
        assert run_job(container, "projection_lag") is not None


# --- projection lag ----------------------------------------------------------------------------------


def test_projection_lag_warns_when_a_projection_falls_behind(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    register(container, [(resident(n), f"P{n}", EXPIRY) for n in range(1, 6)])

    with caplog.at_level(logging.WARNING, logger="jawazat_events.scheduler"):
        summary = projection_lag(container, threshold=2)
    warned = {r.getMessage().split()[1] for r in caplog.records if r.levelno == logging.WARNING}
    assert warned == {"subscription_index", "people", "requests", "request_notifications", "fanout"}
    assert "people 5" in summary

    caplog.clear()
    Worker(container, deliver=False).run_once()
    with caplog.at_level(logging.WARNING, logger="jawazat_events.scheduler"):
        projection_lag(container, threshold=2)
    assert [r for r in caplog.records if r.levelno == logging.WARNING] == []


def test_projection_lag_uses_the_configured_threshold(
    container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    register(container, [(resident(1), "P1", EXPIRY)])
    with caplog.at_level(logging.WARNING, logger="jawazat_events.scheduler"):
        summary = run_job(container, "projection_lag")
    assert summary is not None and "(warning above 10,000)" in summary
    assert [r for r in caplog.records if r.levelno == logging.WARNING] == []


# --- delivery retries --------------------------------------------------------------------------------


@dataclass
class FlakySmtp:
    """An SMTP handler that answers 451 (try later) until told to accept; records what it accepts."""

    refuse: bool = True
    received: list[bytes] = field(default_factory=list)
    refused: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refused += 1
            return "451 4.3.0 Try again later"
        self.received.append(envelope.content)
        return "250 2.0.0 Message accepted for delivery"


@pytest.fixture
def flaky_smtp() -> Iterator[tuple[FlakySmtp, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    handler = FlakySmtp()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_retry_sweep_resends_a_transient_failure_after_its_back_off_and_never_a_settled_alert(
    database_url: str, tmp_path: Path, flaky_smtp: tuple[FlakySmtp, int]
) -> None:
    handler, port = flaky_smtp
    wired = bootstrap(
        database_url=database_url,
        outbox_dir=tmp_path / "outbox",
        smtp_url=f"smtp://127.0.0.1:{port}",
        retry_base_seconds=30,
    )
    # Alerts are due from their recording time (wall clock), so the test's clock starts from now.
    now = [datetime.now(UTC) + timedelta(seconds=1)]
    wired.clock = lambda: now[0]
    try:
        person = resident(1)
        register(wired, [(person, "PA1", EXPIRY)])
        wired.establishments.register(unified_number=SPONSOR, name="Al Noor Contracting")
        wired.establishments.subscribe(
            SPONSOR, person, notification_types=["passport_expiry"], email="hr@noor.example"
        )
        assert run_job(wired, PASSPORT_EXPIRY, today=EXPIRY - timedelta(days=7)) is not None
        assert Worker(wired, deliver=False).run_once().alerts_created == 1

        run_job(wired, "retry_deliveries")  # first attempt: refused for now
        assert (handler.refused, alert_state(wired)) == (1, ("retrying", 1))
        run_job(wired, "retry_deliveries")  # back-off (30 s ± jitter) not elapsed: not sent
        assert (handler.refused, len(handler.received)) == (1, 0)

        handler.refuse = False
        now[0] += timedelta(minutes=2)
        run_job(wired, "retry_deliveries")
        assert (len(handler.received), alert_state(wired)) == (1, ("sent", 2))

        now[0] += timedelta(hours=1)
        run_job(wired, "retry_deliveries")  # settled: never sent again
        assert (len(handler.received), alert_state(wired)) == (1, ("sent", 2))
    finally:
        wired.close()


def alert_state(wired: Container) -> tuple[str, int]:
    with wired.read_models.db.reading() as sql:
        rows = sql.execute("SELECT status, attempt_count FROM alerts").fetchall()
    assert len(rows) == 1
    return rows[0]["status"], rows[0]["attempt_count"]
