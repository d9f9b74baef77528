"""Establishments read what happened to an alert, never where the server keeps files: the outbox channel's
attempt detail says "written to the outbox folder (not sent)" and why; operators find the file in the log."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jawazat_events.bootstrap import Container
from jawazat_events.services.channels import OutgoingMessage
from jawazat_events.subscribers.outbox import OutboxChannel
from tests.support.api import RESIDENT, SPONSOR_A, api_world, crossing

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_alert_attempts_never_reveal_the_outbox_path(
    container: Container, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = str(container.settings.outbox_dir)
    container.clock = lambda: datetime.now(UTC)  # alerts fall due by the store's recorded times
    caplog.set_level(logging.INFO, logger="jawazat_events.subscribers.outbox")
    with api_world(container) as world:
        headers = world.establishment(SPONSOR_A, mobile="0501234567", email="hr@example.sa")
        world.person(RESIDENT)
        world.subscribe(headers, RESIDENT)
        world.ingest([crossing("x-1", "2026-06-30T10:00:00+03:00")])
        world.work()
        alerts = world.client.get("/v1/alerts", headers=headers).json()["items"]

    details = {alert["channel"]: [a["detail"] for a in alert["attempts"]] for alert in alerts}
    assert details == {
        "sms": ["written to the outbox folder (not sent): no SMS provider configured"],
        "email": ["written to the outbox folder (not sent): no SMTP server configured"],
    }
    assert not [d for ds in details.values() for d in ds if outbox in d or "/" in d]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert all(f"{a['alert_id']}.{a['channel']}" in logged for a in alerts) and outbox in logged


def test_an_unwritable_outbox_says_so_without_the_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "secret-place" / "not-a-folder"
    blocker.parent.mkdir()
    blocker.write_text("a file where the folder should be")
    message = OutgoingMessage("a-1", "sms", "+966501234567", None, "text", None, "en")

    with caplog.at_level(logging.WARNING, logger="jawazat_events.subscribers.outbox"):
        result = asyncio.run(OutboxChannel(blocker, "sms").send(message))

    assert result.outcome == "retry"
    assert "secret-place" not in result.detail and "/" not in result.detail, result.detail
    assert "secret-place" in caplog.text
