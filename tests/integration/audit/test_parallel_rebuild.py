"""`projections rebuild --processes N` on PostgreSQL: the read models and the fan-out's partitions shared
among processes give exactly the read models of a serial rebuild (and of live processing), digests
included (a digest, in partition 0, closes digest items of every partition)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.projections.tables import DIGEST_ITEMS
from jawazat_events.scheduler import run_job
from jawazat_events.services.ingest import parse_lines
from tests.support import work_once
from tests.support.audit import digest, populate
from tests.support.expiry import registered, resident

PARTITIONS = 3
SPONSOR = "7001234567"  # the auditors' scenario's establishment (tests.support.audit)
EXPIRING = [resident(n) for n in (91, 92, 93)]


def fold_expiry_warnings(container: Container, today: date) -> None:
    """The establishment folds passport-expiry warnings into its digest; three people expire in 30 days."""
    services = container.establishments
    services.update_defaults(
        SPONSOR, channels=container.channel_service.prepare(digest_types=["passport_expiry"])
    )
    lines = [
        registered(n, f"P9{i}", today + timedelta(days=30), sponsor=SPONSOR) for i, n in enumerate(EXPIRING)
    ]
    assert [r.status for r, _ in container.ingestor.ingest(parse_lines(lines))] == ["accepted"] * len(
        EXPIRING
    )
    for number in EXPIRING:
        services.subscribe(SPONSOR, number, notification_types=["passport_expiry", "entry_exit"])


@pytest.fixture
def pg_live(pg_database_url: str, tmp_path: Path) -> Iterator[Container]:
    """A populated PostgreSQL store with three fan-out partitions, a day's digest sent among the alerts."""
    today = datetime.now(ZoneInfo("Asia/Riyadh")).date()
    wired = bootstrap(
        database_url=pg_database_url, outbox_dir=tmp_path / "outbox", fanout_partitions=PARTITIONS
    )
    try:
        populate(wired)
        fold_expiry_warnings(wired, today)
        run_job(wired, "passport_expiry", today=today)
        work_once(wired, deliver=False)
        run_job(wired, "digests", today=today + timedelta(days=1))
        work_once(wired)
        work_once(wired, deliver=False)  # the delivery events just recorded
        yield wired
    finally:
        wired.close()


@pytest.mark.postgres
def test_a_parallel_rebuild_equals_a_serial_one(pg_live: Container) -> None:
    live = digest(pg_live)
    with pg_live.read_models.db.reading() as sql:
        closed = sql.execute(
            f"SELECT count(*) AS n FROM {DIGEST_ITEMS} WHERE digest_id IS NOT NULL"
        ).fetchone()
    assert closed and closed["n"] >= 3, "the scenario has no digest"

    serial = pg_live.rebuilder.rebuild(processes=1)
    assert digest(pg_live) == live
    parallel = pg_live.rebuilder.rebuild(processes=2)
    assert digest(pg_live) == live
    assert parallel.head == serial.head and parallel.alerts_created == serial.alerts_created
