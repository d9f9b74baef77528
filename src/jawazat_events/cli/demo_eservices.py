"""The e-services part of `jawazat demo`: one of each workflow end to end, on the demo's store.

A family (a citizen guardian with a mobile and e-mail, a dependant of 15), a Makkah establishment and a
seasonal worker it sponsors: the guardian enters the dependant's renewed passport and asks for a travel
permit, which an officer approves; the establishment applies for the worker's Makkah permit, which an
officer approves; the guardian opens a support ticket with a PDF, an officer asks for information, the
guardian replies, the officer resolves it. The worker then delivers every notification to the outbox.
An officer is added as a portal user, and the guardian can sign in to the portal with the e-mail on their
record (`print_portal_sign_ins`).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.table import Table

from jawazat_events.bootstrap import Container
from jawazat_events.cli.root import out
from jawazat_events.domain.actors import Actor
from jawazat_events.domain.requests import REQUEST_STATUS, Decision
from jawazat_events.generate import luhn_complete
from jawazat_events.projections.queries import list_alerts
from jawazat_events.services.tickets import Upload
from jawazat_events.worker import Worker

GUARDIAN = luhn_complete("100000001")
DEPENDANT = luhn_complete("299999999")
WORKER = luhn_complete("299999998")
MAKKAH_ESTABLISHMENT = "7999999990"
GUARDIAN_EMAIL = "khalid@family.example"
DEMO_OFFICER = "officer@jawazat.example"
SAMPLE_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _person(event_id: str, id_number: str, sponsor: str, when: str, **details: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "person_registered",
        "id_number": id_number,
        "occurred_at": when,
        "sponsor": sponsor,
        "name_ar": details.pop("name_ar"),
        "name_en": details.pop("name_en"),
        "nationality": details.pop("nationality"),
        "passport_number": details.pop("passport_number"),
        "passport_issue_date": "2021-01-10",
        "passport_expiry_date": "2031-01-09",
        **details,
    }


def _register(wired: Container, sponsor: str, today: date) -> None:
    when = f"{today - timedelta(days=30)}T09:00:00+03:00"
    wired.establishments.register(
        unified_number=MAKKAH_ESTABLISHMENT,
        name="Umm al-Qura Catering",
        email="permits@umm-al-qura.example",
        mobile="0555550123",
        language="ar",
        city="Makkah",
    )
    items = [
        _person(
            "demo-es-guardian",
            GUARDIAN,
            sponsor,
            when,
            name_ar="خالد الحربي",
            name_en="Khalid Alharbi",
            nationality="SAU",
            passport_number="K1000001",
            birth_date="1980-04-02",
            marital_status="married",
            category="citizen",
            mobile="0501112233",
            email=GUARDIAN_EMAIL,
        ),
        _person(
            "demo-es-dependant",
            DEPENDANT,
            sponsor,
            when,
            name_ar="سارة الحربي",
            name_en="Sara Alharbi",
            nationality="SAU",
            passport_number="K1000002",
            birth_date=str(today.replace(year=today.year - 15, day=1)),
            marital_status="single",
            category="dependant",
            guardian=GUARDIAN,
        ),
        _person(
            "demo-es-worker",
            WORKER,
            MAKKAH_ESTABLISHMENT,
            when,
            name_ar="رحيم الدين",
            name_en="Rahim Uddin",
            nationality="BGD",
            passport_number="B7000001",
            category="worker",
        ),
    ]
    results = [r for r, _ in wired.ingestor.ingest_items(items)]
    refused = [r.reason for r in results if r.status == "rejected"]
    if refused:
        raise RuntimeError(f"the demo's people could not be registered: {refused}")


def run_eservices_demo(wired: Container, *, sponsor: str, outbox: Path) -> None:
    """One of each e-service workflow, its notifications delivered, and a summary printed."""
    today = wired.today()
    _register(wired, sponsor, today)
    services = wired.eservices
    guardian = Actor.individual(GUARDIAN)
    establishment = Actor.establishment(MAKKAH_ESTABLISHMENT)
    officer = Actor.officer("cli:demo", "Demo officer")
    wired.portal_users.add_user(unified_number=None, role="officer", email=DEMO_OFFICER, name="Demo officer")
    steps: list[tuple[str, str]] = []

    renewed = services.passports.renew(
        guardian,
        DEPENDANT,
        passport_number="K2000002",
        issue_date=today,
        expiry_date=today + timedelta(days=3650),
    )
    steps.append(("renewed passport (by the guardian)", renewed["passport_number"]))

    permit = services.travel_permits.request(
        guardian,
        id_number=DEPENDANT,
        valid_from=today + timedelta(days=7),
        valid_until=today + timedelta(days=21),
    )
    steps.append(("travel permit requested", permit["status"]))
    decided = services.travel_permits.decide(
        officer, permit["permit_id"], decision=Decision.APPROVE, reason=None
    )
    steps.append(("travel permit decided", decided["status"]))

    season = services.seasons.next_open(today)
    makkah = services.makkah_permits.apply(
        establishment,
        id_number=WORKER,
        season=season.season,
        documents=[{"name": "work-contract.pdf", "sha256": Upload("c", SAMPLE_PDF).sha256}],
    )
    steps.append((f"Makkah permit applied (season {season.season})", makkah["status"]))
    approved = services.makkah_permits.decide(
        officer, makkah["permit_id"], decision=Decision.APPROVE, reason=None
    )
    steps.append(
        ("Makkah permit decided", f"{approved['status']} {approved['valid_from']}..{approved['valid_until']}")
    )

    ticket = services.tickets.open(
        guardian,
        problem_type="payment_issue",
        procedure="exit_reentry_visa",
        description="The fee was paid but the visa was not issued.",
        uploads=[Upload("receipt.pdf", SAMPLE_PDF)],
    )
    number = ticket["tracking_number"]
    steps.append(("ticket opened", f"{number} {ticket['status']}"))
    services.tickets.change_status(
        officer, number, status="needs_information", message="Please send the payment reference."
    )
    services.tickets.reply(guardian, number, message="Reference SADAD-123456.")
    resolved = services.tickets.change_status(
        officer, number, status="resolved", message="The visa is issued."
    )
    steps.append(("ticket handled", resolved["status"]))

    summary = Worker(wired).run_once()
    _print_summary(wired, steps, summary.deliveries)
    _print_request_messages(wired, outbox)


def _print_summary(wired: Container, steps: list[tuple[str, str]], deliveries: dict[str, int]) -> None:
    table = Table(title="E-services: one of each workflow")
    table.add_column("step")
    table.add_column("result")
    for step, result in steps:
        table.add_row(step, result)
    out.print(table)
    alerts = [a for a in list_alerts(wired.read_models.db) if a["notification_type"] == REQUEST_STATUS]
    by_status: dict[str, int] = {}
    for alert in alerts:
        by_status[alert["status"]] = by_status.get(alert["status"], 0) + 1
    out.print(
        f"request_status notifications: {len(alerts)} ("
        + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))
        + "); deliveries this pass: "
        + ", ".join(f"{k} {v}" for k, v in sorted(deliveries.items()))
    )


def _print_request_messages(wired: Container, outbox: Path) -> None:
    alerts = [
        a
        for a in list_alerts(wired.read_models.db)
        if a["notification_type"] == REQUEST_STATUS and a["channel"] == "sms"
    ]
    shown = 0
    for alert in alerts:
        path = outbox / f"{alert['alert_id']}.sms.txt"
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8").strip().splitlines()[-1]
        out.print(f"[bold]SMS[/bold] {alert['event_type']}: {text}")
        shown += 1
        if shown == 4:
            break


def print_portal_sign_ins() -> None:
    """The e-services' sign-ins to the portal on the demo's store: an individual and an officer."""
    out.print(
        f"  e-services: sign in as {GUARDIAN_EMAIL} (individual {GUARDIAN}, the e-mail on his person record: "
        f"his permits, his dependant {DEPENDANT}'s, tickets) or {DEMO_OFFICER} (officer: the queue of "
        "pending requests, decisions)",
        markup=False,
    )
