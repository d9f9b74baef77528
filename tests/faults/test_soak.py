"""A soak: `jawazat serve`, two `jawazat worker` and `jawazat scheduler` for a few minutes on PostgreSQL,
events posted to `POST /v1/events` at a steady rate, the workers SIGKILLed and restarted at random, SMTP
and Twilio on loopback. At the end: exact counts against the reference model (every event stored once,
every alert made once and sent, every extra copy reported in its alert's history), and each process's RSS
from start to end, printed and checked flat (bounded growth).

`JAWAZAT_SOAK_SECONDS` sets how long events are posted (default 120, CI's budget); longer runs only take
longer.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from jawazat_events.projections.queries import list_alerts
from tests.support.faults import (
    FAULT_MARKS,
    FaultWorld,
    build_world,
    check_copies,
    check_store_and_alerts,
    crossings,
    environment,
    statuses,
)
from tests.support.figures import record
from tests.support.fleet import Fleet
from tests.support.servers import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
    FakeTwilio,
    free_port,
    running_smtp,
    running_twilio,
)

pytestmark = FAULT_MARKS

SOAK_SECONDS = float(os.environ.get("JAWAZAT_SOAK_SECONDS", "120"))
EVENTS_PER_SECOND = 20
BATCH = 5
# Flat: a process may grow by this factor plus this many KiB over the run, no more.
RSS_GROWTH_FACTOR, RSS_GROWTH_KIB = 1.25, 20 * 1024


def wait_healthy(url: str, fleet: Fleet) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"jawazat serve never answered: {(fleet.logs / 'serve.log').read_text(errors='replace')}")


def post_steadily(
    world: FaultWorld, url: str, token: str, fleet: Fleet, rng: random.Random
) -> tuple[int, int]:
    """Post crossings at EVENTS_PER_SECOND for SOAK_SECONDS, killing a worker now and then; returns the
    events posted and the requests the API answered with something else than 200 (re-sent)."""
    headers = {"Authorization": f"Bearer {token}"}
    posted = refused = 0
    started = time.monotonic()
    next_kill = started + rng.uniform(10, 25)
    next_sample = started
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        while (now := time.monotonic()) - started < SOAK_SECONDS:
            items = crossings(world.people, posted, BATCH, prefix="s")
            while True:
                response = client.post("/v1/events", json={"events": items})
                if response.status_code == 200:
                    break
                refused += 1
                time.sleep(0.2)  # e.g. 503 while the store is busy: the same events again (idempotent)
            results = response.json()["results"]
            assert {r["status"] for r in results} <= {"accepted", "duplicate"}, results
            world.expect(items)
            posted += BATCH
            if now >= next_kill:
                fleet.kill_and_restart(rng.choice(["worker-1", "worker-2"]), rng)
                next_kill = time.monotonic() + rng.uniform(10, 25)
            if now >= next_sample:
                fleet.sample()
                next_sample = now + 2
            time.sleep(max(0.0, started + posted / EVENTS_PER_SECOND - time.monotonic()))
    return posted, refused


def sms_copies(world: FaultWorld, twilio: FakeTwilio) -> tuple[int, int]:
    """(copies Twilio accepted beyond one per SMS alert, `unknown` attempts reported on SMS alerts);
    every SMS alert arrived, and no alert has more copies than its history reports."""
    # Each alert's message is its own (the crossing's minute is in it): copies are counted by text.
    accepted = Counter((r.form["To"], r.form["Body"]) for r in twilio.sent())
    alerts = [a for a in list_alerts(world.container.read_models.db) if a["channel"] == "sms"]
    assert len(accepted) == len(alerts), "an SMS alert never reached Twilio, or an unexpected one did"
    reported = sum(1 for a in alerts for attempt in a["attempts"] if attempt["outcome"] == "unknown")
    duplicates = sum(n - 1 for n in accepted.values())
    assert duplicates <= reported, (duplicates, reported)
    return duplicates, reported


def test_soak_with_workers_killed_at_random(pg_database_url: str, tmp_path: Path, fleet: Fleet) -> None:
    rng = random.Random(20261201)
    with running_smtp() as smtp, running_twilio() as twilio:
        providers = {
            "smtp_url": smtp.url,
            "twilio_account_sid": TWILIO_ACCOUNT_SID,
            "twilio_auth_token": TWILIO_AUTH_TOKEN,
            "twilio_from": TWILIO_FROM,
            "twilio_api_base": twilio.url,
        }
        world = build_world(
            pg_database_url, tmp_path, people=60, subscribed=30, email=True, mobile=True, **providers
        )
        token = world.container.tokens.issue(role="source", name="soak").token
        port = free_port()
        fleet.env = environment(
            world.url,
            tmp_path,
            fanout_partitions="4",
            delivery_lease_seconds="3",
            retry_base_seconds="0.5",
            email_max_per_second="1000",
            sms_max_per_second="200",
            **providers,
        )
        fleet.start("serve", "serve", "--host", "127.0.0.1", "--port", str(port))
        fleet.start("worker-1", "worker")
        fleet.start("worker-2", "worker")
        fleet.start("scheduler", "scheduler")
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, fleet)

        started = time.monotonic()
        posted, refused = post_steadily(world, url, token, fleet, rng)
        expected = len(world.ref.alerts)
        drained = time.monotonic()
        deadline = drained + 120
        while statuses(world.url) != {"sent": expected}:
            assert time.monotonic() < deadline, f"not all sent: {statuses(world.url)} of {expected}"
            fleet.sample()
            time.sleep(0.5)
        settle = time.monotonic() - drained
        codes = fleet.stop()
        duration = time.monotonic() - started

        outcome = check_copies(world, smtp.handler, check_store_and_alerts(world))
        sms_duplicates, sms_reported = sms_copies(world, twilio)

    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: `serve` ends by it.
    assert codes.pop("serve") in (0, -signal.SIGTERM) and set(codes.values()) == {0}, codes
    assert fleet.restarts >= 3
    rss = []
    for run in fleet.runs:
        if not run.rss_start:
            continue  # killed before it was warm
        rss.append(f"{run.name} {run.rss_start // 1024}→{run.rss_end // 1024} MiB ({run.lived:.0f} s)")
        if run.lived >= 30:  # long enough to show a trend
            assert run.rss_end <= run.rss_start * RSS_GROWTH_FACTOR + RSS_GROWTH_KIB, rss[-1]
    record(
        "soak",
        duration=f"{duration:.0f} s ({SOAK_SECONDS:.0f} s posting, {settle:.1f} s to settle)",
        rate=f"{EVENTS_PER_SECOND} events/s",
        events=f"{posted:,} posted ({outcome.events:,} in the store with the registrations)",
        api_retries=refused,
        alerts=f"{outcome.alerts:,} sent (model {expected:,})",
        worker_kills=fleet.restarts,
        email_duplicates=f"{outcome.duplicates_at_server} at the server, {outcome.duplicates_reported} "
        "reported",
        sms_duplicates=f"{sms_duplicates} at Twilio, {sms_reported} reported",
        rss="; ".join(rss),
    )
