"""The scheduler: apscheduler 3 cron jobs (passport expiry, delivery retries, projection lag, digests), locks.

Every job run holds a lock named after the job: a PostgreSQL session advisory lock on a dedicated psycopg
connection (several scheduler instances against one database), or an exclusive file lock beside an SQLite
file. Scheduled runs skip when another instance holds it; `run_job(..., wait_for_lock=True)` (the CLI's
`--run-now`) waits for it instead. The lock only saves work: the store's idempotency is the guarantee.
See docs/scheduler.md for triggers, misfire and coalescing choices.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import psycopg
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.util import undefined

from jawazat_events import locks
from jawazat_events.bootstrap import Container
from jawazat_events.projections.lag import projection_lags
from jawazat_events.store import DatabaseUrl

log = logging.getLogger(__name__)

PASSPORT_EXPIRY = "passport_expiry"
RETRY_DELIVERIES = "retry_deliveries"
PROJECTION_LAG = "projection_lag"
DIGESTS = "digests"  # the daily digest e-mails (services.digest)
JOB_NAMES = (PASSPORT_EXPIRY, RETRY_DELIVERIES, PROJECTION_LAG, DIGESTS)

# Each job's advisory lock (the registry in `locks` keeps every pair distinct).
LOCK_KEYS = {name: locks.scheduler_job_lock(index) for index, name in enumerate(JOB_NAMES)}

# A minute job missed by more than half a minute is better left to the next minute's run.
EVERY_MINUTE_GRACE_SECONDS = 30
# A failed daily expiry run is tried again this much later, while still the same business day.
EXPIRY_RETRY_AFTER = timedelta(minutes=10)


class UnknownJob(ValueError):
    """A job name the scheduler does not know."""


# --- locks -------------------------------------------------------------------------------------------


@contextmanager
def job_lock(database: DatabaseUrl, job: str, *, wait: bool) -> Iterator[bool]:
    """Hold the job's lock for the block. Yields False at once when another instance has it, unless
    `wait`: then it says so (a warning) and waits for it."""
    if database.backend == "postgres":
        with _advisory_lock(database.psycopg_conninfo(), LOCK_KEYS[job], job=job, wait=wait) as held:
            yield held
    elif database.sqlite_path == ":memory:" or "mode=memory" in database.sqlite_path:
        yield True  # an in-memory store lives in one process: nobody to exclude
    else:
        with _file_lock(Path(f"{database.sqlite_path}.{job}.lock"), job=job, wait=wait) as held:
            yield held


def _waiting(job: str) -> None:
    log.warning("%s: another scheduler instance is running it; waiting for it to finish", job)


@contextmanager
def _advisory_lock(conninfo: str, lock: locks.AdvisoryLock, *, job: str, wait: bool) -> Iterator[bool]:
    # A dedicated session: the lock lives exactly as long as this connection, so a crashed run frees it.
    with psycopg.connect(conninfo, autocommit=True, application_name=f"jawazat-scheduler {job}") as conn:
        held = locks.try_lock(conn, lock)
        if not held and wait:
            _waiting(job)
            conn.execute("SELECT pg_advisory_lock(%s, %s)", tuple(lock))
            held = True
        try:
            yield held
        finally:
            if held and not conn.closed:
                locks.unlock(conn, lock)


@contextmanager
def _file_lock(path: Path, *, job: str, wait: bool) -> Iterator[bool]:
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            _waiting(job)
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- the jobs ----------------------------------------------------------------------------------------


def passport_expiry(
    container: Container, *, today: date | None = None, stop: threading.Event | None = None
) -> str:
    """Record the passport warnings and expiries due on `today` (default: today in the business zone)."""
    report = container.expiry.run(today=today or container.today(), stop=stop)
    return report.summary()


def retry_deliveries(container: Container) -> str:
    """Send the alerts whose back-off has elapsed."""
    return f"retry_deliveries: {container.delivery.deliver_due().describe()}"


def projection_lag(container: Container, *, threshold: int | None = None) -> str:
    """Log a warning for each projection more than `threshold` positions behind the store's head, and for
    each projection that parked events (they wait for an operator: `jawazat projections parked`)."""
    limit = container.settings.projection_lag_warning if threshold is None else threshold
    head = container.app.recorder.max_notification_id() or 0
    lags = projection_lags(container.read_models.all(), head)
    for projection in lags:
        if projection.lag > limit:
            log.warning(
                "projection %s is %d events behind the store head %d (warning above %d): "
                "is a worker running?",
                projection.projection,
                projection.lag,
                head,
                limit,
            )
        if projection.parked:
            log.warning(
                "projection %s has parked %d event(s) it could not apply: see `jawazat projections parked`, "
                "fix the cause, then `jawazat projections retry-parked`",
                projection.projection,
                projection.parked,
            )
    behind = ", ".join(f"{p.projection} {p.lag:,}" for p in lags)
    parked = ", ".join(f"{p.projection} {p.parked:,}" for p in lags if p.parked) or "none"
    return (
        f"projection_lag: store head {head:,}; behind: {behind} (warning above {limit:,}); parked: {parked}"
    )


def digests(container: Container, *, today: date | None = None) -> str:
    """Fold each establishment's open digest items into today's digest (once per establishment and day)."""
    return container.digests.run(today=today or container.today()).summary()


def run_job(
    container: Container,
    name: str,
    *,
    today: date | None = None,
    stop: threading.Event | None = None,
    wait_for_lock: bool = False,
) -> str | None:
    """Run one job once under its lock; the one-line summary, or None if another instance holds it."""
    job = _job(container, name, today=today, stop=stop)
    with job_lock(container.database, name, wait=wait_for_lock) as held:
        if not held:
            log.info("%s: skipped, another scheduler instance is running it", name)
            return None
        return job()


def _job(
    container: Container, name: str, *, today: date | None, stop: threading.Event | None
) -> Callable[[], str]:
    if name == PASSPORT_EXPIRY:
        return lambda: passport_expiry(container, today=today, stop=stop)
    if name == RETRY_DELIVERIES:
        return lambda: retry_deliveries(container)
    if name == PROJECTION_LAG:
        return lambda: projection_lag(container)
    if name == DIGESTS:
        return lambda: digests(container, today=today)
    raise UnknownJob(f"unknown job '{name}': known jobs are {', '.join(JOB_NAMES)}")


# --- the scheduler -----------------------------------------------------------------------------------


def expiry_grace_seconds(container: Container) -> int:
    """Misfire grace of the daily expiry run: the rest of its business day, so it never runs on the next."""
    start = container.settings.expiry_time
    elapsed = timedelta(hours=start.hour, minutes=start.minute, seconds=start.second)
    return max(60, int((timedelta(days=1) - elapsed).total_seconds()) - 1)


class Scheduler:
    """The jobs on an apscheduler `BackgroundScheduler`, in the business time zone."""

    def __init__(self, container: Container, *, stop: threading.Event | None = None) -> None:
        self.container = container
        self.stop = stop or threading.Event()
        self.zone = container.settings.zone
        self.apscheduler = BackgroundScheduler(
            timezone=self.zone,
            # One thread per job: a long expiry run never delays the minute jobs.
            executors={"default": ThreadPoolExecutor(max_workers=len(JOB_NAMES))},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self._add_jobs()

    def _add_jobs(self) -> None:
        settings = self.container.settings
        # `undefined`: from the trigger; None would add the job paused.
        self._add_daily(
            PASSPORT_EXPIRY,
            settings.expiry_time,
            "passport expiry warnings",
            next_run_time=self._startup_run_time() or undefined,
        )
        self._add_daily(DIGESTS, settings.digest_time, "daily digests")
        for name in (RETRY_DELIVERIES, PROJECTION_LAG):
            self.apscheduler.add_job(
                self._scheduled,
                CronTrigger(minute="*", timezone=self.zone),
                args=[name],
                id=name,
                name=name.replace("_", " "),
                coalesce=True,
                max_instances=1,
                misfire_grace_time=EVERY_MINUTE_GRACE_SECONDS,
            )

    def _add_daily(self, name: str, at: time, label: str, **options: Any) -> None:
        """A job run once a day at `at` in the business time zone; a missed run is caught up within the
        expiry job's grace time."""
        self.apscheduler.add_job(
            self._scheduled,
            CronTrigger(hour=at.hour, minute=at.minute, timezone=self.zone),
            args=[name],
            id=name,
            name=label,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=expiry_grace_seconds(self.container),
            **options,
        )

    def _startup_run_time(self) -> datetime | None:
        # Jobs live in memory, so a run missed while the scheduler was down is not a "misfire" that
        # apscheduler knows of: started after today's run time, run now (idempotent), then daily.
        now = self.container.clock().astimezone(self.zone)
        return now if now.time() >= self.container.settings.expiry_time else None

    def _scheduled(self, name: str) -> None:
        try:
            summary = run_job(self.container, name, stop=self.stop)
        except Exception:
            log.exception("%s failed", name)
            if name == PASSPORT_EXPIRY:
                self._retry_expiry_later()
            return
        if summary is not None:
            log.info("%s", summary)

    def _retry_expiry_later(self) -> None:
        now = self.container.clock().astimezone(self.zone)
        when = now + EXPIRY_RETRY_AFTER
        if when.date() != now.date() or self.stop.is_set():
            return  # tomorrow's daily run catches up
        log.warning("passport_expiry: trying again at %s", when.isoformat(timespec="minutes"))
        self.apscheduler.add_job(
            self._scheduled,
            DateTrigger(run_date=when, timezone=self.zone),
            args=[PASSPORT_EXPIRY],
            id=f"{PASSPORT_EXPIRY}_retry",
            replace_existing=True,
            misfire_grace_time=expiry_grace_seconds(self.container),
        )

    def jobs(self) -> list[Any]:
        """The apscheduler jobs (for inspection and tests)."""
        return list(self.apscheduler.get_jobs())

    def run_until_stopped(self, *, poll_seconds: float = 1.0) -> None:
        """Start the jobs, block until the stop flag is set (SIGTERM/SIGINT), then wait for running jobs."""
        self.apscheduler.start()
        try:
            while not self.stop.wait(poll_seconds):
                pass
        finally:
            # Running jobs see the stop flag and end at their next batch boundary.
            self.apscheduler.shutdown(wait=True)
