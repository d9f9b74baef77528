"""Channels that fail for a while (PostgreSQL store, real servers on loopback):

- the SMTP server refusing connections for a while, then back: retried with back-off, all sent once;
- Twilio answering 429 and 503 with `Retry-After`: the next attempt waits as asked, then all are sent once;
- the outbox folder's disk refusing writes (`jawazat worker --once` with a zero file-size limit, as a full
  disk does): a clear error on each attempt, nothing marked sent, then all written once it can write.
"""

from __future__ import annotations

import itertools
import resource
import time
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import pytest

from jawazat_events.domain.delivery import AlertDelivery
from jawazat_events.projections.queries import list_alerts
from jawazat_events.worker import Worker
from tests.support import run_jawazat
from tests.support.faults import (
    FAULT_MARKS,
    FaultWorld,
    build_world,
    check_copies,
    check_store_and_alerts,
    crossings,
    environment,
)
from tests.support.figures import record
from tests.support.servers import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
    Reply,
    free_port,
    running_smtp,
    running_twilio,
    twilio_error,
)

pytestmark = FAULT_MARKS

BASE_SECONDS = 0.05


def stored_attempts(world: FaultWorld, alert_id: str) -> list[AlertDelivery.Attempted]:
    events = world.container.app.events.get(UUID(alert_id))
    return [e for e in events if isinstance(e, AlertDelivery.Attempted)]


def run_until(worker: Worker, done: Callable[[], bool], *, timeout: float) -> int:
    passes = 0
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "not done in time"
        worker.run_once()
        passes += 1
        time.sleep(0.02)
    return passes


def statuses(world: FaultWorld) -> set[str]:
    return {a["status"] for a in list_alerts(world.container.read_models.db)}


def test_smtp_down_for_a_while_then_back(pg_database_url: str, tmp_path: Path) -> None:
    port = free_port()  # announced now, listened on later
    world = build_world(
        pg_database_url,
        tmp_path,
        people=10,
        subscribed=10,
        smtp_url=f"smtp://127.0.0.1:{port}",
        retry_base_seconds=BASE_SECONDS,
        max_attempts=30,
    )
    world.post(crossings(world.people, 0, 40))
    worker = Worker(world.container)
    try:
        down_for = 1.5
        started = time.monotonic()
        while time.monotonic() - started < down_for:
            worker.run_once()
            time.sleep(0.05)
        alerts = list_alerts(world.container.read_models.db)
        assert {a["status"] for a in alerts} == {"retrying"}
        details = {attempt["detail"] for a in alerts for attempt in a["attempts"]}
        assert all("SMTP" in d and ("refused" in d.lower() or "connect" in d.lower()) for d in details), (
            details
        )
        with running_smtp(port=port) as smtp:
            run_until(worker, lambda: statuses(world) == {"sent"}, timeout=60)
            outcome = check_copies(world, smtp.handler, check_store_and_alerts(world))
    finally:
        worker.close()

    retries = []
    for alert in list_alerts(world.container.read_models.db):
        stored = stored_attempts(world, alert["alert_id"])
        assert [e.outcome for e in stored][-1] == "sent" and all(e.outcome == "retry" for e in stored[:-1])
        delays = [(e.next_attempt_at - e.at).total_seconds() for e in stored[:-1] if e.next_attempt_at]
        # Back-off: base x 2^(n-1), within the ±25 % jitter, and never tried again sooner.
        for n, delay in enumerate(delays):
            assert BASE_SECONDS * 2**n * 0.75 <= delay <= BASE_SECONDS * 2**n * 1.25, delays
        gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(stored)]
        assert all(gap >= delay for gap, delay in zip(gaps, delays, strict=False)), (gaps, delays)
        retries.append(len(stored) - 1)
    record(
        "SMTP down then back",
        alerts=outcome.alerts,
        down_for=f"{down_for:.1f} s",
        retries_per_alert=f"{min(retries)}-{max(retries)}",
        copies_at_server=outcome.copies_at_server,
        duplicates_at_server=outcome.duplicates_at_server,
    )


def test_twilio_429_and_503_with_retry_after_are_honoured(pg_database_url: str, tmp_path: Path) -> None:
    with running_twilio() as twilio:
        world = build_world(
            pg_database_url,
            tmp_path,
            people=8,
            subscribed=8,
            email=False,
            mobile=True,
            twilio_account_sid=TWILIO_ACCOUNT_SID,
            twilio_auth_token=TWILIO_AUTH_TOKEN,
            twilio_from=TWILIO_FROM,
            twilio_api_base=twilio.url,
            retry_base_seconds=BASE_SECONDS,
        )
        items = crossings(world.people, 0, 8)
        world.post(items)
        too_many = twilio_error(429, 20429, "Too Many Requests")
        unavailable = twilio_error(503, 20503, "Service Unavailable")
        twilio.script = [Reply(too_many.status, too_many.body, headers={"Retry-After": "1"}) for _ in items]
        twilio.script += [
            Reply(unavailable.status, unavailable.body, headers={"Retry-After": "2"}) for _ in items
        ]
        worker = Worker(world.container)
        try:
            run_until(worker, lambda: statuses(world) == {"sent"}, timeout=30)
            outcome = check_store_and_alerts(world)
        finally:
            worker.close()
        sent = twilio.sent()

    assert len(sent) == len(items) and len({r.form["Body"] for r in sent}) == len(items)
    waits: list[float] = []
    for alert in list_alerts(world.container.read_models.db):
        stored = stored_attempts(world, alert["alert_id"])
        assert [e.outcome for e in stored] == ["retry", "retry", "sent"]
        assert "Twilio HTTP 429" in stored[0].detail and "Retry-After" in stored[0].detail
        assert "Twilio HTTP 503" in stored[1].detail and "Retry-After" in stored[1].detail
        for attempt, asked in zip(stored[:2], (1.0, 2.0), strict=True):
            assert attempt.next_attempt_at is not None
            assert (attempt.next_attempt_at - attempt.at).total_seconds() == pytest.approx(asked, abs=0.01)
        gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(stored)]
        assert gaps[0] >= 1.0 and gaps[1] >= 2.0, gaps  # never sooner than asked (the back-off was 0.05 s)
        waits += gaps
    record(
        "Twilio 429 and 503 with Retry-After",
        alerts=outcome.alerts,
        requests=len(items) * 3,
        sent_once=len(sent),
        waited=f"{min(waits):.2f}-{max(waits):.2f} s between attempts (asked 1 s then 2 s; back-off 0.05 s)",
    )


def no_file_writes() -> None:
    # A full disk for this process: every write to a file fails (EFBIG; Python ignores SIGXFSZ).
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def test_an_outbox_that_cannot_be_written_marks_nothing_sent(pg_database_url: str, tmp_path: Path) -> None:
    world = build_world(pg_database_url, tmp_path, people=5, subscribed=5, mobile=True)
    world.post(crossings(world.people, 0, 10))  # e-mail and SMS, both to the outbox (no providers set)
    env = environment(world.url, tmp_path, retry_base_seconds=str(BASE_SECONDS))

    broken = []
    for _ in range(2):
        done = run_jawazat("worker", "--once", env=env, preexec_fn=no_file_writes)
        assert done.returncode == 0, done.stderr
        broken.append(done.stdout)
        time.sleep(BASE_SECONDS * 3)
    alerts = list_alerts(world.container.read_models.db)
    assert {a["status"] for a in alerts} == {"retrying"} and len(alerts) == 20
    outbox = tmp_path / "outbox"
    assert not outbox.exists() or not any(p.suffix in (".eml", ".txt") for p in outbox.iterdir())
    for alert in alerts:
        assert [a["outcome"] for a in alert["attempts"]] == ["retry", "retry"]
        for attempt in alert["attempts"]:
            assert (
                "cannot write the outbox file" in attempt["detail"] and "File too large" in attempt["detail"]
            )

    # The disk has room again: the next pass writes every message once.
    done = run_jawazat("worker", "--once", env=env)
    assert done.returncode == 0, done.stderr
    outcome = check_store_and_alerts(world)
    files = sorted(p.name for p in outbox.iterdir() if not p.name.startswith("."))
    assert len(files) == 20 and len({name.split(".")[0] for name in files}) == 20
    reason = alerts[0]["attempts"][0]["detail"]
    record(
        "outbox unwritable",
        alerts=outcome.alerts,
        recorded=f"2 retries per alert, each '{reason}'",
        written_after=f"{len(files)} files, one per alert",
    )
