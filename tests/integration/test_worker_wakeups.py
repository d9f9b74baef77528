"""The following worker on PostgreSQL (`Worker.run_forever`, in a thread, real SMTP on loopback): woken by
LISTEN/NOTIFY, not by its fallback poll, and delivering beside the projections, not after them.

- With a fallback poll of a minute, a new event's e-mail arrives within seconds: the store's NOTIFY woke
  the projections and the alerts table's NOTIFY woke delivery (the loops count their wake-ups).
- With a backlog for the fan-out, the first e-mails arrive while the fan-out is still working through it:
  delivery no longer waits for the projections to drain.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.generate import luhn_complete
from jawazat_events.worker import Worker
from tests.support.reference import at, event_item, feed, registration_item
from tests.support.servers import LoopbackSmtp, running_smtp

pytestmark = pytest.mark.postgres

SPONSOR = "7000000011"
EMAIL = "ops@example.com"
LONG_POLL = 60.0  # the fallback poll: far longer than any wait below, so only a NOTIFY can explain them


@pytest.fixture
def smtp() -> Iterator[LoopbackSmtp]:
    with running_smtp() as server:
        yield server


def wired(url: str, smtp: LoopbackSmtp, folder: Path, **settings: object) -> Container:
    return bootstrap(
        database_url=url,
        outbox_dir=folder / "outbox",
        smtp_url=smtp.url,
        email_max_per_second=5000,
        worker_listen_poll_seconds=LONG_POLL,
        **settings,
    )


def people(count: int) -> list[str]:
    return [luhn_complete(f"2{serial:08d}") for serial in range(1, count + 1)]


def seed(container: Container, numbers: list[str]) -> None:
    """One establishment (e-mail only) subscribed to these people."""
    container.establishments.register(unified_number=SPONSOR, name="Sponsor", email=EMAIL)
    registrations = [registration_item(f"reg-{n}", n, SPONSOR) for n in numbers]
    assert set(feed(container, *registrations)) == {"accepted"}
    for number in numbers:
        container.establishments.subscribe(SPONSOR, number, notification_types=["entry_exit"])


def crossings(numbers: list[str], prefix: str, count: int) -> list[dict[str, object]]:
    when = at(datetime.now(UTC) - timedelta(hours=1))
    return [
        event_item(f"{prefix}-{i}", "border_crossing", numbers[i % len(numbers)], when, i)
        for i in range(count)
    ]


@contextmanager
def following(container: Container) -> Iterator[Worker]:
    """A worker following the store in a thread until the block ends (then stopped as SIGTERM does)."""
    worker = Worker(container)
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    try:
        wait_for(lambda: worker.listener is not None and worker.listener.listening, "LISTEN", timeout=30)
        yield worker
    finally:
        worker.request_stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the worker did not stop"


def wait_for(done: Callable[[], bool], what: str, *, timeout: float) -> float:
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        time.sleep(0.01)
    return time.monotonic() - started


def test_a_new_event_is_delivered_on_notify_well_before_the_fallback_poll(
    pg_database_url: str, smtp: LoopbackSmtp, tmp_path: Path
) -> None:
    numbers = people(3)
    seeder = wired(pg_database_url, smtp, tmp_path)
    worker_side = wired(pg_database_url, smtp, tmp_path)
    try:
        seed(seeder, numbers)
        with following(worker_side) as worker:
            assert worker.delivery_loop is not None and worker.listener is not None
            time.sleep(1.0)  # the first passes are over: both loops now wait on NOTIFY (or a minute)
            woken, batches = worker.woken, worker.delivery_loop.batches

            assert feed(seeder, *crossings(numbers, "x", 1)) == ["accepted"]
            took = wait_for(lambda: len(smtp.handler.received) == 1, "the e-mail", timeout=LONG_POLL / 2)

            # Woken, not polled: the projections' wait ended early and delivery sent one batch.
            assert took < 10, took
            assert worker.woken > woken
            wait_for(lambda: worker.delivery_loop.batches > batches, "the batch's record", timeout=10)
            assert worker.delivery_loop.batches == batches + 1
            assert worker.listener.connections == 1
    finally:
        seeder.close()
        worker_side.close()


def test_delivery_goes_on_while_the_fanout_works_through_a_backlog(
    pg_database_url: str, smtp: LoopbackSmtp, tmp_path: Path
) -> None:
    numbers = people(50)
    seeder = wired(pg_database_url, smtp, tmp_path)
    worker_side = wired(pg_database_url, smtp, tmp_path, projection_batch_size=100)
    backlog = 4_000
    try:
        seed(seeder, numbers)
        assert set(feed(seeder, *crossings(numbers, "b", backlog))) == {"accepted"}
        head = seeder.app.recorder.max_notification_id() or 0
        fanout = seeder.read_models.named("fanout")

        with following(worker_side):
            # The moment the fan-out has reached the head, and the first e-mail's arrival.
            wait_for(lambda: min(fanout.positions().values()) >= head, "the fan-out", timeout=300)
            fanout_done = time.time()
            wait_for(lambda: len(smtp.handler.received) > 0, "an e-mail", timeout=60)

        first_arrival = min(smtp.handler.received_at)
        assert first_arrival < fanout_done, (
            f"the first e-mail came {first_arrival - fanout_done:.2f} s after the fan-out had drained"
        )
    finally:
        seeder.close()
        worker_side.close()
