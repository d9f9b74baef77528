"""`jawazat worker` as an operator runs it: `--once` drains everything and prints a summary; without it the
worker follows new events and stops cleanly on SIGTERM or SIGINT. Delivery goes to an outbox folder."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.generate import luhn_complete
from jawazat_events.projections.queries import list_alerts
from tests.support import jawazat_command, run_jawazat
from tests.support.reference import at, event_item, feed, registration_item
from tests.support.stores import FIXED_NOW

SPONSOR = "7000000011"
PERSON = luhn_complete("200000001")
MOBILE, EMAIL = "+966501234567", "ops@example.com"
T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@contextmanager
def store(url: str, outbox: Path) -> Iterator[Container]:
    wired = bootstrap(database_url=url, outbox_dir=outbox)
    wired.clock = lambda: FIXED_NOW
    try:
        yield wired
    finally:
        wired.close()


def prepare(url: str, outbox: Path) -> None:
    """One establishment (SMS and e-mail defaults) subscribed to one person, and two crossings: 4 alerts."""
    with store(url, outbox) as container:
        container.establishments.register(unified_number=SPONSOR, name="Sponsor", mobile=MOBILE, email=EMAIL)
        assert feed(container, registration_item("reg", PERSON, SPONSOR)) == ["accepted"]
        container.establishments.subscribe(SPONSOR, PERSON, notification_types=["entry_exit"])
        items = [event_item(f"x{n}", "border_crossing", PERSON, at(T), n) for n in (1, 2)]
        assert feed(container, *items) == ["accepted", "accepted"]


def worker_env(url: str, outbox: Path) -> dict[str, str]:
    """The caller's environment without any JAWAZAT_* setting (no real channels), plus store and outbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env.update(JAWAZAT_DATABASE_URL=url, JAWAZAT_OUTBOX_DIR=str(outbox))
    return env


def sent_alerts(url: str, outbox: Path) -> list[tuple[str, str, str]]:
    with store(url, outbox) as container:
        rows = list_alerts(container.read_models.db)
    return sorted((a["event_id"], a["channel"], a["status"]) for a in rows)


EXPECTED = [("x1", "email", "sent"), ("x1", "sms", "sent"), ("x2", "email", "sent"), ("x2", "sms", "sent")]


def test_worker_once_drains_everything_prints_a_summary_and_exits_0(
    database_url: str, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    prepare(database_url, outbox)

    done = run_jawazat("worker", "--once", env=worker_env(database_url, outbox), timeout=60)

    assert done.returncode == 0, done.stderr
    summary = done.stdout.strip()
    assert re.fullmatch(
        r"worker: store head \d+; events read subscription_index \d+, people \d+, requests 0, "
        r"request_notifications 0, fanout 2; "
        r"alerts created 4; deliveries sent 4",
        summary,
    ), summary
    assert sent_alerts(database_url, outbox) == EXPECTED
    assert len(list(outbox.glob("*.sms.txt"))) == 2
    assert len(list(outbox.glob("*.email.eml"))) == 2

    again = run_jawazat("worker", "--once", env=worker_env(database_url, outbox), timeout=60)
    assert again.returncode == 0, again.stderr
    assert "alerts created 0; deliveries none" in again.stdout
    assert sent_alerts(database_url, outbox) == EXPECTED


def wait_for(check: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"the worker did not get there in 30 s: {what}"
        time.sleep(0.1)


def test_worker_follows_new_events_and_stops_cleanly_on_sigterm(database_url: str, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    prepare(database_url, outbox)
    process = subprocess.Popen(
        [*jawazat_command(), "worker"],
        env=worker_env(database_url, outbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with store(database_url, outbox) as container:

            def statuses() -> list[tuple[str, str, str]]:
                rows = list_alerts(container.read_models.db)
                return sorted((a["event_id"], a["channel"], a["status"]) for a in rows)

            wait_for(lambda: statuses() == EXPECTED, process, "pending alerts sent")
            # A new event while it runs: followed, fanned out and delivered without a restart.
            assert feed(container, event_item("x3", "border_crossing", PERSON, at(T), 3)) == ["accepted"]
            later = sorted([*EXPECTED, ("x3", "email", "sent"), ("x3", "sms", "sent")])
            wait_for(lambda: statuses() == later, process, "a new event alerted")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "worker: following new events" in stderr
    assert stderr.rstrip().endswith("worker: stopped"), stderr
