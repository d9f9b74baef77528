"""The daily digest as an operator runs it, on each backend: `jawazat scheduler --run-now …` and
`jawazat worker --once` as separate processes (every run a restart), an aiosmtpd server on loopback.

A day's passport-expiry warnings of an establishment that folds them reach it as ONE e-mail listing the
people, however often the digest job and the worker run, and after a rebuild of every read model.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jawazat_events.bootstrap import bootstrap
from jawazat_events.projections.queries import list_alerts
from jawazat_events.services.ingest import parse_lines
from tests.support import run_jawazat
from tests.support.expiry import registered, resident
from tests.support.servers import LoopbackSmtp, running_smtp

SPONSOR = "7001234567"
HR_EMAIL = "hr@amal.example"
PEOPLE = [resident(n) for n in (1, 2, 3)]


def environment(database_url: str, tmp_path: Path, smtp: LoopbackSmtp) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env |= {
        "JAWAZAT_DATABASE_URL": database_url,
        "JAWAZAT_OUTBOX_DIR": str(tmp_path / "outbox"),
        "JAWAZAT_SMTP_URL": smtp.url,
    }
    return env


def seed(database_url: str, today: date) -> None:
    """One establishment folding passport-expiry warnings into a digest, three people expiring in 30 days,
    and a fourth person's visa alert to show that other types still go one by one."""
    container = bootstrap(database_url=database_url)
    try:
        services = container.establishments
        services.register(unified_number=SPONSOR, name="Al Amal", email=HR_EMAIL, language="en")
        change = container.channel_service.prepare(digest_types=["passport_expiry"])
        services.update_defaults(SPONSOR, channels=change)
        lines = [
            registered(n, f"P{i}", today + timedelta(days=30), sponsor=SPONSOR) for i, n in enumerate(PEOPLE)
        ]
        results = [r.status for r, _ in container.ingestor.ingest(parse_lines(lines))]
        assert results == ["accepted"] * len(PEOPLE)
        for number in PEOPLE:
            services.subscribe(SPONSOR, number, notification_types=["passport_expiry", "entry_exit"])
    finally:
        container.close()


@pytest.fixture
def smtp() -> LoopbackSmtp:
    with running_smtp() as server:
        yield server  # type: ignore[misc]


def test_one_digest_email_per_establishment_and_day_across_restarts(
    database_url: str, tmp_path: Path, smtp: LoopbackSmtp
) -> None:
    today = datetime.now(ZoneInfo("Asia/Riyadh")).date()
    seed(database_url, today)
    env = environment(database_url, tmp_path, smtp)

    def run(*args: str) -> str:
        done = run_jawazat(*args, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("scheduler", "--run-now", "passport_expiry", "--today", today.isoformat())
    run("worker", "--once")
    before = len(smtp.handler.messages())
    first = run("scheduler", "--run-now", "digests", "--today", today.isoformat())
    again = run("scheduler", "--run-now", "digests", "--today", today.isoformat())
    run("worker", "--once")
    run("worker", "--once")
    run("projections", "rebuild")
    run("worker", "--once")
    tomorrow = run("scheduler", "--run-now", "digests", "--today", (today + timedelta(days=1)).isoformat())

    assert before == 0, "warnings folded into the digest are not e-mailed one by one"
    assert (
        first.strip() == f"digests {today.isoformat()}: prepared 1 listing 3 warning(s); 0 already made today"
    )
    assert (
        # the items are still open (no worker ran since): the job finds today's digest already made
        again.strip() == f"digests {today.isoformat()}: prepared 0 listing 0 warning(s); 1 already made today"
    )
    assert tomorrow.strip().startswith(f"digests {today + timedelta(days=1)}: prepared 0 listing 0")
    [message] = smtp.handler.messages()
    assert message["To"] == HR_EMAIL
    assert f"Passport expiry warnings of {today.isoformat()}" in str(message["Subject"])
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for number in PEOPLE:
        assert "******" + number[-4:] in text
        assert number not in text
    assert text.count("in 30 days") == 3
    container = bootstrap(database_url=database_url)
    try:
        alerts = list_alerts(container.read_models.db, establishment=SPONSOR)
    finally:
        container.close()
    [digest] = [a for a in alerts if a["event_type"] == "daily_digest"]
    assert (digest["channel"], digest["status"], len(digest["attempts"])) == ("email", "sent", 1)
    assert [a for a in alerts if a["event_type"] == "passport_expiry_approaching"] == []
