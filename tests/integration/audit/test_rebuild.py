"""`projections rebuild` on the real store (each backend, in clear and encrypted): the rebuilt read models are
identical to what live processing made, sent alerts are not sent again, and an interrupted rebuild resumes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jawazat_events.audit.rebuild import RebuildRefused
from jawazat_events.bootstrap import Container
from jawazat_events.domain.delivery import AlertDelivery
from jawazat_events.domain.errors import DomainError
from jawazat_events.projections.queries import list_alerts
from jawazat_events.projections.tables import REBUILD_MARKERS
from tests.support import notifications, work_once
from tests.support.audit import (
    PEOPLE,
    READ_MODELS,
    audit_container,
    build_world,
    digest,
    populate,
    stop_rebuild_midway,
)


@pytest.fixture
def live(audited: Container) -> Container:
    """The populated store on each backend, in clear and encrypted."""
    populate(audited)
    return audited


def test_a_rebuild_gives_identical_read_models(live: Container) -> None:
    before = digest(live)
    assert before["alerts"][0] > 50 and before["people"][0] > PEOPLE
    assert {a["status"] for a in list_alerts(live.read_models.db)} == {"sent", "pending"}
    report = live.rebuilder.rebuild()
    assert report.rebuilt == READ_MODELS
    assert report.head == live.app.recorder.max_notification_id()
    assert digest(live) == before


def test_rebuilding_one_read_model_leaves_the_others(clear_live: Container) -> None:
    before = digest(clear_live)
    # The fan-out shares the alerts table with request notifications: they are rebuilt together.
    assert clear_live.rebuilder.rebuild(["fanout"]).rebuilt == ["request_notifications", "fanout"]
    assert digest(clear_live) == before
    assert clear_live.rebuilder.rebuild(["people", "subscription_index"]).rebuilt == [
        "subscription_index",
        "people",
    ]
    assert digest(clear_live) == before
    with pytest.raises(ValueError, match="unknown projection"):
        clear_live.rebuilder.rebuild(["nope"])


def test_sent_alerts_are_not_sent_again(live: Container) -> None:
    work_once(live)  # everything due is sent…
    work_once(live)  # …and the projections have followed the delivery records
    outbox = Path(live.settings.outbox_dir)
    files = sorted(p.name for p in outbox.iterdir())
    attempts = _delivery_events(live)
    before = digest(live)
    live.rebuilder.rebuild()
    assert {a["status"] for a in list_alerts(live.read_models.db)} == {"sent"}
    work_once(live)
    assert sorted(p.name for p in outbox.iterdir()) == files
    assert _delivery_events(live) == attempts
    assert digest(live) == before


@pytest.mark.parametrize("stage", ["rebuild", "people (by aggregate)"])
def test_an_interrupted_rebuild_resumes(clear_live: Container, stage: str) -> None:
    before = digest(clear_live)
    stop_rebuild_midway(clear_live, stage=stage)
    assert digest(clear_live) != before
    with clear_live.read_models.db.reading() as sql:
        assert len(sql.execute(f"SELECT * FROM {REBUILD_MARKERS}").fetchall()) == 6
    report = clear_live.rebuilder.rebuild(batch_size=50)
    assert (report.rebuilt, report.resumed) == (
        [],
        READ_MODELS,
    )
    assert digest(clear_live) == before
    with clear_live.read_models.db.reading() as sql:
        assert sql.execute(f"SELECT * FROM {REBUILD_MARKERS}").fetchall() == []


def _delivery_events(container: Container) -> int:
    to_domain = container.app.mapper.to_domain_event
    return sum(1 for n in notifications(container.app) if isinstance(to_domain(n), AlertDelivery.Event))


@pytest.fixture
def pg_live(pg_database_url: str, tmp_path: Path) -> Iterator[Container]:
    wired = audit_container(pg_database_url, tmp_path, encrypted=False)
    try:
        build_world(wired)
        yield wired
    finally:
        wired.close()


@pytest.mark.postgres
def test_a_running_worker_blocks_a_rebuild(pg_live: Container) -> None:
    from jawazat_events.worker import Worker

    worker = Worker(pg_live, deliver=False)
    try:
        worker.run_once()  # heartbeat and claims held
        with pytest.raises(RebuildRefused, match="stop"):
            pg_live.rebuilder.rebuild()
        with pytest.raises(RebuildRefused, match="processing"):
            pg_live.rebuilder.rebuild(force=True)  # the heartbeat ignored, the claims still held
    finally:
        worker.close()
    assert isinstance(RebuildRefused("x"), DomainError)
    assert pg_live.rebuilder.rebuild().rebuilt == READ_MODELS
