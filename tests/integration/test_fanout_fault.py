"""Fault test on PostgreSQL: three `jawazat worker` processes share one feed, one is killed with SIGKILL while
it works and a replacement starts; afterwards every expected alert exists exactly once, and the read models
equal a rebuild from scratch.

The expected alerts come from the reference model (test_fanout_reference.py), which walks every operation
this test records, in recording order, knowing nothing of positions or partitions.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.domain.subscription import Subscription
from jawazat_events.generate import luhn_complete
from jawazat_events.locks import LockClass
from jawazat_events.services.ingest import parse_lines
from tests.support import jawazat_command
from tests.support.reference import (
    NOTIFICATION_TYPES,
    ReferenceModel,
    alert_set,
    at,
    digests,
    drain,
    drop_read_models,
    event_item,
    outcome,
    registration_item,
    transfer_item,
)
from tests.support.stores import FIXED_NOW

PARTITIONS = 6
ESTABLISHMENTS = [f"70000{n:05d}" for n in range(20)]
PEOPLE = [luhn_complete(f"2{n:08d}") for n in range(2_000)]
LIFE_EVENTS = 18_000
BATCH = 1_000
START = datetime(2026, 1, 1, tzinfo=UTC)
# Feed event types by weight: crossings most, a transfer now and then.
KINDS = (
    ["border_crossing"] * 10 + ["visa_issued"] * 3 + ["visa_status_changed"] * 2 + ["passport_renewed"] * 2
)
KINDS += ["sponsorship_transferred"]


def contacts(rng: random.Random, n: int) -> tuple[str | None, str | None]:
    roll = rng.random()
    mobile = f"+966{rng.choice((50, 55, 56, 59))}{rng.randrange(10**6, 10**7)}"
    email = f"desk{n}@est{n % 7}.example.com"
    # Mostly SMS: rendering an e-mail costs the delivering workers several times more.
    if roll < 0.3:
        return None, None
    if roll < 0.8:
        return mobile, None
    if roll < 0.9:
        return None, email
    return mobile, email


@dataclass
class Feed:
    """Writes the same history to the product and to the reference model, in recording order."""

    container: Container
    ref: ReferenceModel = field(default_factory=ReferenceModel)
    rng: random.Random = field(default_factory=lambda: random.Random(20260701))
    serial: int = 0

    def establishments(self) -> None:
        for n, unified in enumerate(ESTABLISHMENTS):
            mobile, email = [
                (f"+96650{n:07d}", None),
                (None, f"ops{n}@example.com"),
                (f"+96655{n:07d}", f"hq{n}@example.com"),
            ][n % 3]
            self.container.establishments.register(
                unified_number=unified, name=f"Est {n}", mobile=mobile, email=email
            )
            self.ref.register_establishment(unified, mobile=mobile, email=email)

    def people(self) -> None:
        items = []
        for n, number in enumerate(PEOPLE):
            sponsor = self.rng.choice(ESTABLISHMENTS)
            items.append(registration_item(f"reg-{n}", number, sponsor))
            self.ref.register_person(number, sponsor)
        self.ingest(items, expected=["accepted"] * len(items))

    def subscriptions(self) -> None:
        """Most people get a subscription by their sponsor, with varied types and contacts.

        Saved as `Subscription` aggregates in bulk (the events the service records, without its look-ups,
        which would take most of this test's time); the service's own rules are tested elsewhere.
        """
        made = []
        for n, number in enumerate(PEOPLE):
            if self.rng.random() < 0.3:
                continue
            unified = self.ref.current_sponsor(number)
            types = self.rng.sample(NOTIFICATION_TYPES, self.rng.randint(1, 2))
            mobile, email = contacts(self.rng, n)
            assert self.ref.subscribe(unified, number, types=types, mobile=mobile, email=email) is None
            made.append(
                Subscription(
                    unified_number=unified,
                    id_number=number,
                    notification_types=tuple(sorted(types)),
                    mobile=mobile,
                    email=email,
                )
            )
        for start in range(0, len(made), 500):
            self.container.app.save(*made[start : start + 500])

    def life_events(self, count: int) -> None:
        """`count` feed events in batches; about one in thirty arrives a day or two late."""
        items: list[dict[str, Any]] = []
        expected: list[str] = []
        for _ in range(count):
            self.serial += 1
            number = self.rng.choice(PEOPLE)
            kind = self.rng.choice(KINDS)
            when = START + timedelta(minutes=10 * self.serial, seconds=self.serial % 60)
            if self.rng.random() < 0.03:
                when -= timedelta(hours=self.rng.randint(1, 48))
            event_id = f"ev-{self.serial}"
            written = at(when, self.rng.choice((3, 0, -5)))
            if kind == "sponsorship_transferred":
                to = self.rng.choice(ESTABLISHMENTS)
                items.append(transfer_item(event_id, number, written, to))
                expected.append("rejected" if self.ref.transfer(number, when, to) else "accepted")
            else:
                items.append(event_item(event_id, kind, number, written, self.serial))
                self.ref.event(event_id, kind, number, when)
                expected.append("accepted")
            if len(items) == BATCH:
                self.ingest(items, expected)
                items, expected = [], []
        if items:
            self.ingest(items, expected)

    def ingest(self, items: list[dict[str, Any]], expected: list[str]) -> None:
        import json

        lines = [json.dumps(item, ensure_ascii=False) for item in items]
        got = [r.status for r, _ in self.container.ingestor.ingest(parse_lines(lines))]
        assert got == expected

    def subscription_changes(self, count: int) -> None:
        """Changes while the workers run: types, contacts, unsubscribes, (re)subscriptions, defaults."""
        service = self.container.establishments
        for _ in range(count):
            number = self.rng.choice(PEOPLE)
            unified = self.ref.current_sponsor(number)
            roll = self.rng.random()
            types = self.rng.sample(NOTIFICATION_TYPES, self.rng.randint(1, 4))
            mobile, email = contacts(self.rng, self.rng.randrange(1000))
            if roll < 0.3:
                got = outcome(
                    service.change, unified, number, notification_types=types, mobile=mobile, email=email
                )
                want = self.ref.change(unified, number, types=types, mobile=mobile, email=email)
            elif roll < 0.5:
                got = outcome(service.unsubscribe, unified, number)
                want = self.ref.unsubscribe(unified, number)
            elif roll < 0.9:
                got = outcome(
                    service.subscribe, unified, number, notification_types=types, mobile=mobile, email=email
                )
                want = self.ref.subscribe(unified, number, types=types, mobile=mobile, email=email)
            else:
                unified = self.rng.choice(ESTABLISHMENTS)
                got = outcome(service.update_defaults, unified, mobile=mobile, email=email)
                self.ref.update_defaults(unified, mobile=mobile, email=email)
                want = None
            assert got == want, (roll, unified, number)


class Workers:
    """`jawazat worker` processes on one database, each named (PGAPPNAME) so its sessions can be found."""

    def __init__(self, url: str, outbox: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
        self.env.update(
            JAWAZAT_DATABASE_URL=url,
            JAWAZAT_OUTBOX_DIR=str(outbox),
            JAWAZAT_FANOUT_PARTITIONS=str(PARTITIONS),
        )
        self.running: dict[str, subprocess.Popen[str]] = {}
        self.count = 0

    def start(self) -> str:
        self.count += 1
        name = f"fault-worker-{self.count}"
        self.running[name] = subprocess.Popen(
            [*jawazat_command(), "worker"],
            env={**self.env, "PGAPPNAME": name},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        return name

    def check_alive(self) -> None:
        for name, process in self.running.items():
            assert process.poll() is None, (name, process.communicate())

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> dict[str, tuple[int, str]]:
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)
        ended = {}
        for name, process in self.running.items():
            _, stderr = process.communicate(timeout=60)
            ended[name] = (process.returncode, stderr)
        self.running.clear()
        return ended

    def abandon(self) -> None:
        for process in self.running.values():
            process.kill()
            process.wait()


def fanout_holders(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Worker name -> how many fan-out partitions it holds now (advisory locks of its sessions)."""
    rows = conn.execute(
        "SELECT a.application_name, count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.classid = %s AND l.granted "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY 1",
        (int(LockClass.FANOUT_PARTITION),),
    ).fetchall()
    return {str(name): int(count) for name, count in rows}


def alert_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM alerts").fetchone()
    return int(row[0]) if row else 0


def in_transaction(conn: psycopg.Connection[Any], name: str) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND xact_start IS NOT NULL "
        "AND datname = current_database()",
        (name,),
    ).fetchone()
    return bool(row and row[0])


def positions(container: Container) -> list[int]:
    db = container.read_models.db
    names = [
        *container.read_models.index.tracking_names(),
        *container.read_models.people.tracking_names(),
        *container.read_models.fanout.tracking_names(),
    ]
    return [db.position(name) for name in names]


@pytest.mark.slow
@pytest.mark.postgres
def test_three_workers_one_killed_every_alert_once_and_projections_equal_a_rebuild(
    pg_database_url: str, tmp_path: Path
) -> None:
    container = bootstrap(
        database_url=pg_database_url, outbox_dir=tmp_path / "unused", fanout_partitions=PARTITIONS
    )
    container.clock = lambda: FIXED_NOW
    # Tables first: workers started together on an empty database would race to create them.
    assert container.read_models.all()
    history = Feed(container)
    history.establishments()
    history.people()
    history.subscriptions()
    history.life_events(LIFE_EVENTS // 2)

    workers = Workers(pg_database_url, tmp_path / "outbox")
    admin = psycopg.connect(pg_database_url, autocommit=True)
    victim, killed_mid_transaction = "", False
    try:
        for _ in range(3):
            workers.start()
        # The second half arrives while the workers run, with subscription changes between batches. The
        # busiest worker is killed once the workers share the partitions and alerts are being written,
        # preferably inside a transaction (mid-batch); a replacement starts at once.
        batches = LIFE_EVENTS // 2 // BATCH
        deadline = time.monotonic() + 60
        while not victim:
            if batches:
                history.life_events(BATCH)
                history.subscription_changes(15)
                batches -= 1
            else:
                assert time.monotonic() < deadline, "the workers never shared the partitions"
                time.sleep(0.05)
            workers.check_alive()
            holders = fanout_holders(admin)
            if len(holders) >= 2 and alert_count(admin) > 1_000:
                victim = max(holders, key=holders.__getitem__)
                wait = time.monotonic() + 2
                while not (killed_mid_transaction := in_transaction(admin, victim)):
                    if time.monotonic() > wait:
                        break
                workers.kill(victim)
                workers.start()
        for _ in range(batches):
            history.life_events(BATCH)
            history.subscription_changes(15)
            workers.check_alive()

        head = container.app.recorder.max_notification_id()
        deadline = time.monotonic() + 45
        while min(positions(container)) < head:
            workers.check_alive()
            assert time.monotonic() < deadline, f"workers stuck at {positions(container)} < {head}"
            time.sleep(0.2)
        ended = workers.stop_all()
    finally:
        workers.abandon()
        admin.close()
    for name, (code, stderr) in ended.items():
        assert code == 0 and stderr.rstrip().endswith("worker: stopped"), (name, code, stderr[-2000:])

    alerts = alert_set(container)
    assert len(alerts) == len(set(alerts)), "an (event, establishment, channel) was alerted twice"
    assert set(alerts) == history.ref.alerts
    assert len(alerts) > 2_000
    print(f"fault test: {len(alerts):,} alerts; killed {victim} (mid-transaction: {killed_mid_transaction})")

    live = digests(container)
    drop_read_models(container)
    with psycopg.connect(pg_database_url, autocommit=True) as conn:
        # All workers are gone; a killed one's heartbeat would count as a live worker for 15 s more.
        conn.execute("DELETE FROM worker_heartbeats")
    container.close()
    again = bootstrap(
        database_url=pg_database_url, outbox_dir=tmp_path / "unused", fanout_partitions=PARTITIONS
    )
    try:
        drain(again)
        assert digests(again) == live
    finally:
        again.close()
