"""The fault suite's world: an establishment subscribed to people's crossings, the reference model that
knows which alerts must exist, feeds, and the end-of-scenario checks of the store and the alerts.

The checks, whatever the fault: every source event stored exactly once; exactly the alerts the model
expects, each once; every alert settled as expected; and every copy the SMTP server received more than
once accounted for in the alert's history (an `unknown` attempt: a worker stopped during the send).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jawazat_events.bootstrap import Container, bootstrap
from jawazat_events.generate import luhn_complete
from jawazat_events.projections.queries import list_alerts
from tests.support import crossing, ingest, line, registration, stored_event_ids
from tests.support.reference import Alert, ReferenceModel, expect_events
from tests.support.servers import RecordingHandler

# The fault suite's marks: PostgreSQL, slow (still run in CI); twilio 9.13's async client still hands aiohttp
# a BasicAuth object (the library's to change, not ours).
FAULT_MARKS = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning"),
]

SPONSOR = "7001234567"
EMAIL = "hr@amal.example"
MOBILE = "+966501234567"


def person(n: int) -> str:
    return luhn_complete(f"2{n:08d}")


@dataclass
class FaultWorld:
    """The product on one store, set up in this process, and the model of what must come out."""

    container: Container
    people: list[str]
    subscribed: list[str]
    ref: ReferenceModel = field(default_factory=ReferenceModel)
    event_ids: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.container.settings.database_url

    def expect(self, items: Sequence[dict[str, Any]]) -> None:
        """Tell the model about crossings the store has (or will have) accepted, in recording order."""
        self.event_ids += [item["event_id"] for item in items]
        expect_events(self.ref, items)

    def post(self, items: Sequence[dict[str, Any]]) -> None:
        """Ingest in this process (every item accepted) and tell the model."""
        _, report = ingest(self.container, [line(item) for item in items])
        assert report.accepted == len(items), report.rejections[:3]
        self.expect(items)


def build_world(
    url: str,
    folder: Path,
    *,
    people: int,
    subscribed: int,
    email: bool = True,
    mobile: bool = False,
    **settings: Any,
) -> FaultWorld:
    """An establishment (e-mail and/or mobile), `people` registered, the first `subscribed` subscribed to
    their crossings."""
    container = bootstrap(database_url=url, outbox_dir=folder / "outbox", **settings)
    _ = container.read_models  # tables made here, before any worker races to make them
    world = FaultWorld(container, [person(n) for n in range(people)], [person(n) for n in range(subscribed)])
    contacts = {"email": EMAIL if email else None, "mobile": MOBILE if mobile else None}
    container.establishments.register(unified_number=SPONSOR, name="Al Amal", language="en", **contacts)
    world.ref.register_establishment(SPONSOR, **contacts)
    items = [
        registration(f"reg-{n}", id_number=n, sponsor=SPONSOR, passport_number=f"P{i:07d}")
        for i, n in enumerate(world.people)
    ]
    _, report = ingest(container, [line(item) for item in items])
    assert report.accepted == people, report.rejections[:3]
    world.event_ids += [item["event_id"] for item in items]
    for n in world.people:
        world.ref.register_person(n, SPONSOR)
    for n in world.subscribed:
        container.establishments.subscribe(SPONSOR, n, notification_types=["entry_exit"])
        assert world.ref.subscribe(SPONSOR, n, types=["entry_exit"], mobile=None, email=None) is None
    return world


def crossings(people: Sequence[str], first: int, count: int, *, prefix: str = "x") -> list[dict[str, Any]]:
    """`count` crossings, one a minute from 2026-01-01, the people in turn (ids `x00000`…)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        crossing(
            f"{prefix}{n:06d}",
            (start + timedelta(minutes=n)).isoformat(),
            id_number=people[n % len(people)],
            direction="entry" if n % 2 else "exit",
        )
        for n in range(first, first + count)
    ]


def write_feed(path: Path, items: Iterable[dict[str, Any]]) -> Path:
    with open(path, "w", encoding="utf-8") as stream:
        for item in items:
            stream.write(json.dumps(item, ensure_ascii=False) + "\n")
    return path


def environment(url: str, folder: Path, **settings: str) -> dict[str, str]:
    """The environment of a `jawazat` process on this store (`JAWAZAT_` + upper-case setting names)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env.update(JAWAZAT_DATABASE_URL=url, JAWAZAT_OUTBOX_DIR=str(folder / "outbox"))
    env.update({f"JAWAZAT_{name.upper()}": value for name, value in settings.items()})
    return env


def statuses(url: str) -> Counter[str]:
    """Alerts by status, read on a connection of its own (the test's pool may have met a restart)."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
            rows = conn.execute("SELECT status, count(*) FROM alerts GROUP BY status").fetchall()
    except psycopg.OperationalError:
        return Counter()
    return Counter({str(status): int(count) for status, count in rows})


def stored_count(url: str) -> int:
    """How many source events the store holds now (0 while it does not answer)."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM jawazat_event_ids").fetchone()
    except psycopg.OperationalError:
        return 0
    return int(row[0]) if row else 0


@dataclass
class Outcome:
    """What the end-of-scenario check found."""

    events: int
    alerts: int
    copies_at_server: int = 0
    duplicates_at_server: int = 0
    duplicates_reported: int = 0


def check_store_and_alerts(world: FaultWorld, *, settled: str | None = "sent") -> Outcome:
    """Every source event once; exactly the model's alerts, each once, all `settled` (unless None: delivery
    still under way)."""
    container = world.container
    container.repair_connections()
    counts = stored_event_ids(container.app)
    assert set(counts) == set(world.event_ids), "events lost or unexpected"
    assert set(counts.values()) == {1}, [k for k, n in counts.items() if n > 1][:5]
    alerts = list_alerts(container.read_models.db)
    found: list[Alert] = sorted(
        (a["event_id"], a["establishment"], a["channel"], a["recipient"]) for a in alerts
    )
    assert found == sorted(world.ref.alerts), "alerts differ from the reference model"
    if settled is not None:
        assert {a["status"] for a in alerts} <= {settled}, Counter(a["status"] for a in alerts)
    return Outcome(events=len(counts), alerts=len(alerts))


def check_copies(world: FaultWorld, handler: RecordingHandler, outcome: Outcome) -> Outcome:
    """Every alert e-mail arrived, and every extra copy is reported in its alert's history."""
    arrived = Counter(handler.message_ids())
    alerts = [a for a in list_alerts(world.container.read_models.db) if a["channel"] == "email"]
    for alert in alerts:
        copies = arrived[f"<{alert['alert_id']}@jawazat.example>"]
        unknown = sum(1 for attempt in alert["attempts"] if attempt["outcome"] == "unknown")
        assert copies >= 1, f"alert {alert['alert_id']} marked sent but never arrived"
        assert copies - 1 <= unknown, f"alert {alert['alert_id']}: {copies} copies, {unknown} reported"
        outcome.duplicates_reported += unknown
    outcome.copies_at_server = sum(arrived.values())
    outcome.duplicates_at_server = sum(n - 1 for n in arrived.values())
    assert set(arrived) == {f"<{a['alert_id']}@jawazat.example>" for a in alerts}, "unexpected messages"
    return outcome


def rss_kib(pid: int) -> int:
    """A process's resident set size in KiB (0 when it is gone)."""
    try:
        for text in Path(f"/proc/{pid}/status").read_text().splitlines():
            if text.startswith("VmRSS:"):
                return int(text.split()[1])
    except OSError:
        return 0
    return 0
