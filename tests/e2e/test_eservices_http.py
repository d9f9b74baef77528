"""The e-services as users drive them (PostgreSQL, real processes): `jawazat serve`, tokens and officers'
decisions from the CLI, `jawazat worker --once` delivering every status change to the loopback SMTP server
and Twilio endpoint, the auditors' timeline, `jawazat projections rebuild` giving identical read models,
concurrent duplicate Makkah applications, and an idempotent retry across a server restart."""

from __future__ import annotations

import email.message
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from jawazat_events.bootstrap import bootstrap
from tests.support import run_jawazat
from tests.support.audit import digest
from tests.support.eservices import (
    CHILD,
    GUARDIAN,
    GUARDIAN_EMAIL,
    GUARDIAN_MOBILE,
    MAKKAH_SPONSOR,
    PDF,
    SPONSOR,
    WORKER,
    ingest_items,
    person,
)
from tests.support.serve import Served, serving
from tests.support.servers import (
    FakeTwilio,
    LoopbackSmtp,
    loopback_env,
)

pytestmark = pytest.mark.postgres

TODAY = date.today()
MAKKAH_EMAIL = "permits@catering.example"


@pytest.fixture
def env(pg_database_url: str, servers: tuple[LoopbackSmtp, FakeTwilio], tmp_path: Path) -> dict[str, str]:
    # A season open today whatever day the tests run (the operator's override of the calendar).
    season = f"1448={TODAY - timedelta(days=10)}..{TODAY + timedelta(days=60)}"
    return loopback_env(pg_database_url, *servers, tmp_path) | {
        "JAWAZAT_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        "JAWAZAT_HAJJ_SEASONS": season,
    }


def cli(env: dict[str, str], *args: str) -> str:
    done = run_jawazat(*args, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def people(env: dict[str, str]) -> dict[str, str]:
    """The family, a Makkah establishment and its worker on the store; tokens and keys made by the CLI."""
    container = bootstrap(database_url=env["JAWAZAT_DATABASE_URL"])
    try:
        _ = container.read_models
        child_birth = TODAY.replace(year=TODAY.year - 15, day=1).isoformat()
        statuses = ingest_items(
            container,
            [
                person(GUARDIAN, category="citizen", mobile=GUARDIAN_MOBILE, email=GUARDIAN_EMAIL),
                person(CHILD, guardian=GUARDIAN, birth_date=child_birth, marital_status="single"),
                person(WORKER, sponsor=MAKKAH_SPONSOR, category="worker"),
            ],
        )
        assert statuses == ["accepted"] * 3
    finally:
        container.close()
    return {
        "guardian": cli(
            env, "tokens", "issue", "--role", "individual", "--id-number", GUARDIAN, "--name", "Khalid"
        ),
        "officer": cli(env, "tokens", "issue", "--role", "officer", "--name", "Officer Noura"),
        "auditor": cli(env, "tokens", "issue", "--role", "auditor", "--name", "Audit"),
        "makkah": cli(
            env,
            "establishments",
            "add",
            MAKKAH_SPONSOR,
            "--name",
            "Catering",
            "--city",
            "Makkah",
            "--email",
            MAKKAH_EMAIL,
            "--language",
            "en",
        ),
        "sponsor": cli(
            env, "establishments", "add", SPONSOR, "--name", "Sponsor", "--email", "hr@sponsor.example"
        ),
    }


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[Served]:
    with serving(env, tmp_path / "serve.log") as running:
        yield running


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def texts(smtp: LoopbackSmtp, twilio: FakeTwilio) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(recipient, subject) of every e-mail and (recipient, body) of every SMS received so far."""
    mails: list[tuple[str, str]] = []
    for message in smtp.handler.messages():
        assert isinstance(message, email.message.EmailMessage)
        mails.append((str(message["To"]), str(message["Subject"])))
    return mails, [(r.form["To"], r.form["Body"]) for r in twilio.sent()]


def test_every_workflow_end_to_end_with_notifications_timeline_and_rebuild(
    server: Served, people: dict[str, str], env: dict[str, str], servers: tuple[LoopbackSmtp, FakeTwilio]
) -> None:
    smtp, twilio = servers
    guardian, officer = bearer(people["guardian"]), bearer(people["officer"])
    with httpx.Client(base_url=server.url, timeout=30) as client:
        # A renewed passport by the guardian; the subscribed sponsor is alerted as for a fed renewal.
        subscribed = client.post(
            "/v1/subscriptions",
            json={"id_number": CHILD, "notification_types": ["passport_renewal"]},
            headers=bearer(people["sponsor"]),
        )
        assert subscribed.status_code == 201, subscribed.text
        renewal = {
            "passport_number": "N0000001",
            "issue_date": str(TODAY),
            "expiry_date": str(TODAY.replace(year=TODAY.year + 10)),
        }
        assert client.post(f"/v1/people/{CHILD}/passport", json=renewal, headers=guardian).status_code == 201

        # A family travel permit: requested by the guardian, approved by an officer over HTTP.
        window = {
            "valid_from": str(TODAY + timedelta(days=3)),
            "valid_until": str(TODAY + timedelta(days=10)),
        }
        permit = client.post("/v1/travel-permits", json={"id_number": CHILD, **window}, headers=guardian)
        assert permit.status_code == 201, permit.text
        permit_id = permit.json()["permit_id"]
        decided = client.post(
            f"/v1/travel-permits/{permit_id}/decision", json={"decision": "approve"}, headers=officer
        )
        assert decided.json()["status"] == "approved"

        # A Makkah permit: applied for by the Makkah establishment, decided from the CLI.
        applied = client.post(
            "/v1/makkah-permits",
            json={
                "id_number": WORKER,
                "season": "1448",
                "documents": [{"name": "contract.pdf", "sha256": "ab" * 32}],
            },
            headers=bearer(people["makkah"]),
        )
        assert applied.status_code == 201, applied.text
        makkah_id = applied.json()["permit_id"]
        queue = cli(env, "makkah-permits", "list", "--status", "pending", "--json")
        assert makkah_id in queue
        cli(
            env,
            "makkah-permits",
            "decide",
            makkah_id,
            "--decision",
            "reject",
            "--reason",
            "no contract",
            "--officer",
            "Noura",
        )
        assert (
            client.get(f"/v1/makkah-permits/{makkah_id}", headers=bearer(people["makkah"])).json()["status"]
            == "rejected"
        )

        # A support ticket with a PDF: opened by the guardian, moved on over HTTP and from the CLI.
        opened = client.post(
            "/v1/tickets",
            data={
                "problem_type": "payment_issue",
                "procedure": "exit_reentry_visa",
                "description": "paid, no visa",
            },
            files=[("attachments", ("receipt.pdf", PDF, "application/pdf"))],
            headers=guardian,
        )
        assert opened.status_code == 201, opened.text
        number = opened.json()["tracking_number"]
        moved = client.post(f"/v1/tickets/{number}/status", json={"status": "in_progress"}, headers=officer)
        assert moved.status_code == 200
        cli(
            env,
            "tickets",
            "status",
            number,
            "--status",
            "resolved",
            "--message",
            "visa issued",
            "--officer",
            "Noura",
        )

        cli(env, "worker", "--once")
        mails, sms = texts(smtp, twilio)
        to_guardian = [body for to, body in sms if to == GUARDIAN_MOBILE]
        assert len(to_guardian) == 5  # travel requested, decided; ticket received, in progress, resolved
        assert sum("تصريح السفر" in body and permit_id[:8].upper() in body for body in to_guardian) == 2
        assert any(number in body and "تم الحل" in body for body in to_guardian)
        assert sum(1 for to, _ in mails if to == GUARDIAN_EMAIL) == 5
        makkah_mails = [subject for to, subject in mails if to == MAKKAH_EMAIL]
        assert len(makkah_mails) == 2 and any("rejected" in subject for subject in makkah_mails)
        assert ("hr@sponsor.example", True) in {(to, "تجديد" in subject) for to, subject in mails}

        alerts = client.get("/v1/alerts", headers=bearer(people["makkah"])).json()["items"]
        assert {(a["notification_type"], a["status"]) for a in alerts} == {("request_status", "sent")}

        timeline = client.get(f"/v1/audit/people/{CHILD}/timeline", headers=bearer(people["auditor"])).json()
        assert [e["type"] for e in timeline["events"]] == [
            "person_registered",
            "passport_renewed",
            "travel_permit_requested",
            "travel_permit_decided",
        ]
        mine = client.get(f"/v1/audit/people/{GUARDIAN}/timeline", headers=bearer(people["auditor"])).json()
        assert [e["type"] for e in mine["events"]][1:] == ["ticket_received"] + ["ticket_status_changed"] * 2

    cli(env, "worker", "--once")  # the projections follow the attempts the first pass recorded
    server.stop()
    container = bootstrap(database_url=env["JAWAZAT_DATABASE_URL"])
    try:
        before = digest(container)
        cli(env, "projections", "rebuild", "--force")
        assert digest(container) == before
    finally:
        container.close()


def test_concurrent_duplicate_makkah_applications_yield_one_permit(
    server: Served, people: dict[str, str]
) -> None:
    body = {"id_number": GUARDIAN, "season": "1448", "documents": [{"name": "id.pdf", "sha256": "cd" * 32}]}

    def apply(index: int) -> int:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            headers = bearer(people["guardian"], **({"Idempotency-Key": f"k{index}"} if index % 2 else {}))
            return client.post("/v1/makkah-permits", json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(apply, range(16)))
    assert statuses == [201] + [409] * 15
    with httpx.Client(base_url=server.url, timeout=30) as client:
        listed = client.get("/v1/makkah-permits", headers=bearer(people["guardian"])).json()["items"]
    assert len(listed) == 1 and listed[0]["status"] == "pending"


def test_an_idempotent_retry_after_a_restart_gets_the_first_answer(
    server: Served, people: dict[str, str]
) -> None:
    headers = bearer(people["guardian"], **{"Idempotency-Key": "3f2b9c1e-retry"})
    body = {
        "id_number": CHILD,
        "valid_from": str(TODAY + timedelta(days=3)),
        "valid_until": str(TODAY + timedelta(days=9)),
    }
    with httpx.Client(base_url=server.url, timeout=30) as client:
        first = client.post("/v1/travel-permits", json=body, headers=headers)
    assert first.status_code == 201
    url = server.restart()
    with httpx.Client(base_url=url, timeout=30) as client:
        again = client.post("/v1/travel-permits", json=body, headers=headers)
        changed = client.post(
            "/v1/travel-permits",
            json={**body, "valid_until": str(TODAY + timedelta(days=8))},
            headers=headers,
        )
        listed: list[dict[str, Any]] = client.get("/v1/travel-permits", headers=headers).json()["items"]
    assert (again.status_code, again.json()) == (201, first.json())
    assert changed.status_code == 422 and changed.json()["detail"][0]["field"] == "Idempotency-Key"
    assert [p["permit_id"] for p in listed] == [first.json()["permit_id"]]
