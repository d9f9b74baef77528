"""Workers survive lost connections and never apply a partition's events twice.

On the machine's PostgreSQL, without restarting it: the server is made to drop this test database's
sessions (`pg_terminate_backend`), which is what a restart does to them. The claims connection reconnects
and claims again; the store's pool replaces dead connections before lending them (pre-ping); a worker whose
claims session is gone cannot commit a batch (the fence reads `pg_locks`). Under two workers whose sessions
are killed again and again while events arrive, a log written inside each batch's transaction shows every
event applied exactly once.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError

from jawazat_events.bootstrap import Container
from jawazat_events.projections.base import Positioned, Sql
from jawazat_events.projections.failures import ClaimLost
from jawazat_events.projections.fanout import AlertFanout
from jawazat_events.projections.runner import Follower
from jawazat_events.projections.tables import HEARTBEATS
from jawazat_events.worker import Worker
from tests.support import crossing, ingest, line, registration
from tests.support.reference import ReferenceModel, alert_set, expect_events
from tests.support.stores import wired_container

pytestmark = pytest.mark.postgres

SPONSOR = "7001234567"
PEOPLE = ["2000000006", "1000000008", "3000000001", "2000000014", "2000000022", "2000000030"]
APPLIED = "test_applied_log"


class LoggedFanout(AlertFanout):
    """The fan-out, also logging each event it applies in the batch's own transaction (test-only), and
    taking `pause` seconds over each batch (so that a lock can change hands while one is applied)."""

    pause = 0.0

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        sql.executemany(f"INSERT INTO {APPLIED} (position) VALUES (?)", [(item.position,) for item in items])
        time.sleep(self.pause)
        return super().apply_batch(sql, items)


@pytest.fixture
def containers(pg_database_url: str, tmp_path: Path) -> Iterator[list[Container]]:
    """Two containers (two processes' worth of pools) on one fresh database, read models made once."""
    with (
        wired_container(pg_database_url, tmp_path) as first,
        wired_container(pg_database_url, tmp_path) as second,
    ):
        with first.read_models.db.transaction() as sql:
            sql.execute(f"CREATE TABLE {APPLIED} (position BIGINT NOT NULL)")
        for wired in (first, second):
            models = wired.read_models
            models.fanout = LoggedFanout(models.db, partitions=4)
            wired.settings = wired.settings.model_copy(update={"fanout_partitions": 4})
        yield [first, second]


def setup(container: Container, ref: ReferenceModel) -> None:
    container.establishments.register(
        unified_number=SPONSOR, name="Al Amal", email="hr@amal.example", language="en"
    )
    ref.register_establishment(SPONSOR, mobile=None, email="hr@amal.example")
    items = [
        registration(f"reg-{n}", id_number=n, sponsor=SPONSOR, passport_number=f"P{i:07d}")
        for i, n in enumerate(PEOPLE)
    ]
    assert ingest(container, [line(item) for item in items])[1].accepted == len(PEOPLE)
    for n in PEOPLE:
        ref.register_person(n, SPONSOR)
        container.establishments.subscribe(SPONSOR, n, notification_types=["entry_exit"])
        ref.subscribe(SPONSOR, n, types=["entry_exit"], mobile=None, email=None)


def post(container: Container, ref: ReferenceModel, first: int, count: int) -> None:
    """Ingest `count` crossings (again after a lost connection: ingest is idempotent) and tell the model."""
    items = []
    for n in range(first, first + count):
        when = datetime(2026, 6, 1, tzinfo=UTC) + timedelta(minutes=n)
        items.append(crossing(f"x{n:05d}", when.isoformat(), id_number=PEOPLE[n % len(PEOPLE)]))
    for attempt in range(3):
        try:
            report = ingest(container, [line(item) for item in items])[1]
            break
        except PersistenceError:
            assert attempt < 2
            container.repair_connections()
    assert report.accepted + report.duplicate == count and report.rejected == 0
    expect_events(ref, items)


def terminate(container: Container, pids: Sequence[int] | None = None) -> int:
    """Make the server drop these sessions (default: every session on this test's database but ours)."""
    db = container.database
    with psycopg.connect(container.database.psycopg_conninfo(), autocommit=True) as conn:
        if pids is None:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (db.dbname,),
            ).fetchall()
        else:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (list(pids),)
            ).fetchall()
    return sum(1 for row in rows if row[0])


def forget_heartbeat(container: Container, worker: Worker) -> None:
    with container.read_models.db.transaction() as sql:
        sql.execute(f"DELETE FROM {HEARTBEATS} WHERE worker_id = ?", (worker.claims.worker_id,))


def applied_positions(container: Container) -> Counter[int]:
    with container.read_models.db.reading() as sql:
        return Counter(
            int(row["position"]) for row in sql.execute(f"SELECT position FROM {APPLIED}").fetchall()
        )


def alerting_positions(container: Container) -> set[int]:
    fanout = container.read_models.fanout
    return {
        n.id
        for n in container.app.recorder.select_notifications(start=1, limit=100_000, topics=fanout.topics)
    }


def wait_for(done: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_worker_reconnects_everything_after_the_server_drops_its_sessions(
    containers: list[Container],
) -> None:
    container = containers[0]
    ref = ReferenceModel()
    setup(container, ref)
    post(container, ref, 0, 30)
    worker = Worker(container, deliver=False)
    thread = threading.Thread(target=worker.run_forever, kwargs={"idle_wait": 0.05}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: alert_set(container) == sorted(ref.alerts), "the first alerts")
        before = worker.claims.pid
        assert terminate(container) >= 2  # the claims session and the pool's connections

        reader = containers[1]  # the test's own reads and writes: its pool is not what is under test
        reader.repair_connections()
        post(reader, ref, 30, 30)
        wait_for(lambda: alert_set(reader) == sorted(ref.alerts), "the alerts after the sessions died")

        assert worker.claims.reconnects == 1 and worker.claims.pid not in (None, before)
        assert worker.claims.held(container.read_models.fanout) == {0, 1, 2, 3}
        assert worker.claims.held(container.read_models.people) == {0}
    finally:
        worker.request_stop()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert set(applied_positions(reader).values()) == {1}


def test_a_worker_whose_claims_session_is_gone_cannot_commit_a_batch(containers: list[Container]) -> None:
    stale_side, other_side = containers
    ref = ReferenceModel()
    setup(stale_side, ref)
    stale = Worker(stale_side, deliver=False)
    other = Worker(other_side, deliver=False)
    try:
        stale.run_once()
        fanout = stale_side.read_models.fanout
        held = sorted(stale.claims.held(fanout))
        assert stale.claims.pid is not None
        terminate(stale_side, [stale.claims.pid])  # its locks go with the session
        other.run_once()  # the other worker takes its share of them over
        taken = other.claims.held(other_side.read_models.fanout)
        assert taken and taken <= set(held)
        post(stale_side, ref, 0, 12)

        # The stale worker still believes it holds them all: its batch is refused before anything is written.
        follower = Follower(stale_side.app, fanout, partitions=held, fence=stale.claims.fence(fanout))
        with pytest.raises(ClaimLost, match="no longer holds"):
            follower.drain()
        assert alert_set(other_side) == []

        other.run_once()  # (it holds the subscription index, which the fan-out never runs past)
        stale.run_once()  # reconnects and claims what is free
        assert stale.claims.reconnects == 1
        assert stale.claims.held(fanout) | other.claims.held(other_side.read_models.fanout) == {0, 1, 2, 3}
        assert alert_set(other_side) == sorted(ref.alerts)
    finally:
        stale.close()
        other.close()
    assert set(applied_positions(other_side).values()) == {1}


@pytest.mark.slow
def test_two_workers_whose_sessions_keep_dying_apply_every_event_exactly_once(
    containers: list[Container],
) -> None:
    ref = ReferenceModel()
    setup(containers[0], ref)
    # Small, slow batches of different sizes (so two workers' batches over one stretch would overlap, not
    # coincide): a worker is nearly always in the middle of one when its session is killed.
    LoggedFanout.pause = 0.02
    for wired, size in zip(containers, (5, 7), strict=True):
        wired.settings = wired.settings.model_copy(update={"projection_batch_size": size})
    workers = [Worker(wired, deliver=False) for wired in containers]
    threads = [
        threading.Thread(target=w.run_forever, kwargs={"idle_wait": 0.02}, daemon=True) for w in workers
    ]
    for thread in threads:
        thread.start()
    rng = random.Random(20261201)
    kills = 0
    try:
        for round_ in range(12):
            post(containers[round_ % 2], ref, round_ * 60, 60)
            time.sleep(rng.uniform(0.02, 0.1))  # into the backlog
            if round_ % 4 == 3:
                kills += terminate(containers[0])  # as a restart: every session of the database
                continue
            # A worker presumed dead while it still works (a network partition, a long pause): its session
            # and heartbeat go, the other takes everything over at once, and it goes on with the batch it
            # had started.
            victim = rng.choice(workers)
            if victim.claims.pid is not None:
                kills += terminate(containers[0], [victim.claims.pid])
                forget_heartbeat(containers[0], victim)
            time.sleep(0.2)
        deadline = time.monotonic() + 60
        wanted = alerting_positions(containers[0])
        while set(applied_positions(containers[0])) != wanted:
            assert time.monotonic() < deadline, "the workers did not catch up"
            time.sleep(0.1)
    finally:
        for worker in workers:
            worker.request_stop()
        for thread in threads:
            thread.join(timeout=30)
    assert kills >= 10
    counts = applied_positions(containers[0])
    assert set(counts) == wanted and set(counts.values()) == {1}, [p for p, n in counts.items() if n > 1][:10]
    assert alert_set(containers[0]) == sorted(ref.alerts)
    assert sum(w.claims.reconnects for w in workers) >= 4
