"""The delivery tests' world: the product with SMTP and Twilio on loopback, two establishments and people."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from uuid import UUID

from jawazat_events.bootstrap import Container
from jawazat_events.domain.delivery import AlertDelivery
from jawazat_events.generate import luhn_complete
from jawazat_events.projections.queries import list_alerts
from jawazat_events.worker import Worker, WorkerSummary
from tests.support import ingest, line
from tests.support.servers import (
    FakeTwilio,
    LoopbackSmtp,
    Received,
)

SPONSOR_EN = "7001234567"  # an establishment that reads English
SPONSOR_AR = "7007654321"  # one that reads Arabic
PERSON_EN = "2000000006"
PERSON_AR = luhn_complete("210987654")
EN_EMAIL, EN_MOBILE = "hr@amal.example", "+966501234567"
AR_EMAIL, AR_MOBILE = "mail@alnoor.example", "+966559876543"
CALLBACK_URL = "https://notify.jawazat.example/v1/callbacks/twilio"


@dataclass
class World:
    """The wired product on a fresh store, its two establishments and people, and the loopback servers."""

    container: Container
    smtp: LoopbackSmtp
    twilio: FakeTwilio
    worker: Worker

    # --- driving ---------------------------------------------------------------------------------

    def post(self, *items: dict[str, Any]) -> None:
        """Ingest feed items, as a source system would; every one must be accepted."""
        _, report = ingest(self.container, [line(item) for item in items])
        assert report.rejected == 0, report.rejections

    def subscribe(self, unified: str, id_number: str, **contacts: str) -> None:
        self.container.establishments.subscribe(
            unified, id_number, notification_types=["entry_exit", "visa"], **contacts
        )

    def run(self) -> WorkerSummary:
        """One `Worker.run_once()`: projections, then delivery of everything due now."""
        return self.worker.run_once()

    def run_until(self, done: Callable[[], bool], *, timeout: float = 15.0) -> int:
        """Run the worker again and again (retries come due quickly) until `done()`; returns the runs."""
        runs = 0
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"not done after {runs} runs: {self.alerts()}"
            time.sleep(0.02)
            self.run()
            runs += 1
        return runs

    # --- reading ---------------------------------------------------------------------------------

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = list_alerts(self.container.read_models.db, **filters)
        return found

    def alert(self, event_id: str, channel: str) -> dict[str, Any]:
        [found] = [a for a in self.alerts() if a["event_id"] == event_id and a["channel"] == channel]
        return found

    def status(self, event_id: str, channel: str) -> str:
        return str(self.alert(event_id, channel)["status"])

    def stored_attempts(self, alert_id: str) -> list[AlertDelivery.Attempted]:
        """The Attempted events of the alert's AlertDelivery aggregate, read from the store."""
        events = self.container.app.events.get(UUID(alert_id))
        return [e for e in events if isinstance(e, AlertDelivery.Attempted)]

    def emails(self) -> dict[str, EmailMessage]:
        """Messages at the SMTP server by Message-ID (each Message-ID must have arrived once)."""
        messages = self.smtp.handler.messages()
        counts = Counter(str(m["Message-ID"]) for m in messages)
        assert set(counts.values()) <= {1}, counts
        return {str(m["Message-ID"]): m for m in messages}

    def sms_by_sid(self) -> dict[str, Received]:
        return {r.sid: r for r in self.twilio.sent() if r.sid}


def assert_history_is_the_record(world: World, alert: dict[str, Any]) -> None:
    """The alert's history is its AlertDelivery events in the store, in order: each attempt (numbered
    from 1) and each provider report, and nothing else."""
    stored = world.stored_attempts(alert["alert_id"])
    assert [e.attempt for e in stored] == list(range(1, len(stored) + 1))
    record: list[tuple[str, str, str | None]] = []
    for event in world.container.app.events.get(UUID(alert["alert_id"])):
        if isinstance(event, AlertDelivery.Attempted):
            record.append((event.outcome, event.detail, event.provider_id))
        elif isinstance(event, AlertDelivery.Confirmed):
            record.append((event.status, event.detail, None))
    assert [(a["outcome"], a["detail"], a.get("provider_id")) for a in alert["attempts"]] == record
