"""The e-services' portal pages in a real browser (Debian's chromium through Playwright) against a real
`jawazat serve` on PostgreSQL, codes and notifications read from an aiosmtpd server on loopback. In order
on one server: a guardian signs in with the code sent to the e-mail on their record and asks for a travel
permit for their dependant; an officer approves it; after `jawazat worker --once` the guardian reads it
approved and the notification has reached the SMTP server; a ticket with an attachment is opened, answered
by an officer and replied to. Then axe-core on every new page in Arabic and English (no serious or critical
violation), with screenshots when `JAWAZAT_PORTAL_SCREENSHOTS` names a folder."""

from __future__ import annotations

import re
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support import SPONSOR_A
from tests.support.browser import Served, axe_problems, ingest, sign_in
from tests.support.eservices import CHILD, GUARDIAN, GUARDIAN_EMAIL, GUARDIAN_MOBILE, PDF, person

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

OFFICER = "officer@jawazat.example"
ESTABLISHMENT = "hr@noor.example"
STATE: dict[str, Any] = {}


def _day(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def _mail_to(served: Served, recipient: str, *, after: int) -> list[str]:
    """Plain-text bodies of the messages to `recipient` received after message number `after`."""
    bodies = []
    for message in served.smtp.handler.messages()[after:]:
        if recipient in str(message["To"]):
            assert isinstance(message, EmailMessage)
            body = message.get_body(("plain",))
            bodies.append(body.get_content() if body else "")
    return bodies


def test_an_individual_signs_in_with_the_code_sent_to_their_record(served: Served, browser: Any) -> None:
    ingest(
        served,
        [
            person(
                GUARDIAN,
                sponsor=SPONSOR_A,
                name_ar="خالد الحربي",
                name_en="Khalid Alharbi",
                birth_date="1980-04-02",
                marital_status="married",
                category="citizen",
                mobile=GUARDIAN_MOBILE,
                email=GUARDIAN_EMAIL,
            ),
            person(
                CHILD,
                sponsor=SPONSOR_A,
                name_ar="سارة الحربي",
                name_en="Sara Alharbi",
                guardian=GUARDIAN,
                birth_date=str(date.today().replace(day=1).replace(year=date.today().year - 15)),
                marital_status="single",
                category="dependant",
            ),
        ],
    )
    served.jawazat("establishments", "add", SPONSOR_A, "--name", "Al Noor", "--email", ESTABLISHMENT)
    served.jawazat("users", "add", "--role", "officer", "--email", OFFICER, "--name", "Officer Noura")
    page = sign_in(served, browser, GUARDIAN_EMAIL)
    expect(page.locator("h1")).to_have_text("خدماتي")
    assert CHILD in page.locator("main table").first.inner_text()
    STATE["guardian"] = page


def test_the_guardian_asks_for_a_travel_permit_for_the_dependant(served: Served) -> None:
    page = STATE["guardian"]
    page.click("nav.main a[href='/portal/travel-permits']")
    page.select_option("#id_number", CHILD)
    page.fill("#valid_from", _day(7))
    page.fill("#valid_until", _day(5))  # before it starts: the error stands beside the field
    page.click("#request-form button[type=submit]")
    expect(page.locator("#valid_until-error")).to_contain_text("قبل تاريخ البدء")
    page.fill("#valid_until", _day(21))
    page.click("#request-form button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/travel-permits/[0-9a-f-]{36}\?done=requested"))
    expect(page.locator(".notice")).to_be_visible()
    expect(page.locator(".req-pending")).to_be_visible()
    STATE["permit"] = page.url.split("?")[0].rsplit("/", 1)[1]


def test_an_officer_approves_it(served: Served, browser: Any) -> None:
    page = sign_in(served, browser, OFFICER)
    permit = STATE["permit"]
    page.click(f"#queue a[href='/portal/travel-permits/{permit}']")
    page.check("input[name=decision][value=reject]")
    page.click("#decide-form button[type=submit]")  # no reason: refused beside the field
    expect(page.locator("#reason-error")).to_be_visible()
    page.check("input[name=decision][value=approve]")
    page.click("#decide-form button[type=submit]")
    page.wait_for_url(re.compile(r"\?done=decided"))
    expect(page.locator(".req-approved")).to_be_visible()
    STATE["officer"] = page


def test_the_guardian_sees_it_approved_and_is_told_by_mail(served: Served) -> None:
    before = len(served.smtp.handler.messages())
    served.jawazat("worker", "--once")
    told = _mail_to(served, GUARDIAN_EMAIL, after=before)
    permit = STATE["permit"]
    assert any("approved" in body and permit[:8].upper() in body for body in told), told
    page = STATE["guardian"]
    page.goto(f"{served.url}/portal/travel-permits/{permit}?lang=en")
    expect(page.locator(".req-approved")).to_contain_text("Approved")
    page.goto(f"{served.url}/portal/?lang=ar")


def test_a_ticket_with_an_attachment_is_opened_answered_and_replied_to(served: Served) -> None:
    page = STATE["guardian"]
    page.click("nav.main a[href='/portal/tickets']")
    page.select_option("#problem_type", "payment_issue")
    page.select_option("#procedure", "exit_reentry_visa")
    page.fill("#description", "دفعت الرسوم ولم تصدر التأشيرة.")
    page.set_input_files(
        "#attachments", files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.click("#ticket-form button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/tickets/[0-9A-Z]{5}-[0-9A-Z]{5}\?done=created"))
    number = page.url.split("?")[0].rsplit("/", 1)[1]
    expect(page.locator(".tracking.big")).to_have_text(number)
    with page.expect_download() as download:
        page.click("a[download]")
    assert Path(download.value.path()).read_bytes() == PDF

    officer = STATE["officer"]
    officer.goto(f"{served.url}/portal/")
    officer.click(f"#queue a[href='/portal/tickets/{number}']")
    officer.select_option("#status", "needs_information")
    officer.fill("#officer_message", "Please send the payment reference.")
    officer.click("#status-form button[type=submit]")
    officer.wait_for_url(re.compile(r"\?done=status"))

    page.goto(f"{served.url}/portal/tickets/{number}")
    expect(page.locator("ol.messages")).to_contain_text("Please send the payment reference.")
    page.fill("#message", "SADAD-123456")
    page.click("#reply-form button[type=submit]")
    page.wait_for_url(re.compile(r"\?done=replied"))
    expect(page.locator("ol.messages li")).to_have_count(2)
    STATE["ticket"] = number


def test_another_persons_requests_are_not_found(served: Served, browser: Any) -> None:
    page = sign_in(served, browser, ESTABLISHMENT)
    for path in (f"/portal/tickets/{STATE['ticket']}", f"/portal/travel-permits/{STATE['permit']}"):
        answer = page.goto(f"{served.url}{path}")
        assert answer is not None and answer.status == 404
    STATE["establishment"] = page


def test_every_new_page_passes_axe_in_both_languages(served: Served, screenshots: Path | None) -> None:
    guardian, officer, establishment = STATE["guardian"], STATE["officer"], STATE["establishment"]
    # A second permit waits for a decision (the officer's decision form) and a Makkah application.
    guardian.goto(f"{served.url}/portal/travel-permits")
    guardian.select_option("#id_number", CHILD)
    guardian.fill("#valid_from", _day(60))
    guardian.fill("#valid_until", _day(70))
    guardian.click("#request-form button[type=submit]")
    guardian.wait_for_url(re.compile(r"\?done=requested"))
    pending = guardian.url.split("?")[0].rsplit("/", 1)[1]
    guardian.goto(f"{served.url}/portal/makkah-permits")
    guardian.select_option("#id_number", GUARDIAN)
    guardian.set_input_files(
        "#documents", files=[{"name": "id-card.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    guardian.click("#apply-form button[type=submit]")
    guardian.wait_for_url(re.compile(r"/portal/makkah-permits/[0-9a-f-]{36}\?done=applied"))
    makkah = guardian.url.split("?")[0].rsplit("/", 1)[1]
    ticket, permit = STATE["ticket"], STATE["permit"]
    problems = [
        *axe_problems(
            served,
            guardian,
            [
                ("individual-home", "/portal/"),
                ("travel-permits", "/portal/travel-permits"),
                ("travel-permit", f"/portal/travel-permits/{permit}"),
                ("travel-permit-cancel", f"/portal/travel-permits/{permit}/cancel"),
                ("passport", "/portal/passport"),
                ("makkah-permits", "/portal/makkah-permits"),
                ("makkah-permit", f"/portal/makkah-permits/{makkah}"),
                ("tickets", "/portal/tickets"),
                ("ticket", f"/portal/tickets/{ticket}"),
            ],
            screenshots,
        ),
        *axe_problems(
            served,
            officer,
            [
                ("officer-queue", "/portal/"),
                ("officer-travel-permits", "/portal/travel-permits?status=pending"),
                ("officer-travel-permit", f"/portal/travel-permits/{pending}"),
                ("officer-makkah-permit", f"/portal/makkah-permits/{makkah}"),
                ("officer-tickets", "/portal/tickets"),
                ("officer-ticket", f"/portal/tickets/{ticket}"),
            ],
            screenshots,
        ),
        *axe_problems(
            served,
            establishment,
            [
                ("establishment-makkah-permits", "/portal/makkah-permits"),
                ("establishment-tickets", "/portal/tickets"),
            ],
            screenshots,
        ),
    ]
    assert not problems, problems
