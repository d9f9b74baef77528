"""The portal in a real browser (Debian's chromium through Playwright) against a real `jawazat serve` on
PostgreSQL, with sign-in codes read from an aiosmtpd server on loopback. The scenarios run in order on one
server; the last one visits every page in both languages with axe-core (no serious or critical
violation) and saves screenshots when `JAWAZAT_PORTAL_SCREENSHOTS` names a folder."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from tests.support import CITIZEN, RESIDENT, SPONSOR_A, SPONSOR_B, crossing, registration
from tests.support.browser import Served
from tests.support.browser import ingest as _ingest
from tests.support.browser import sign_in as _sign_in
from tests.support.servers import running_receiver

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

USER_A = "hr@noor.example"
USER_B = "hr@other.example"
AUDITOR = "audit@jawazat.example"
VISITOR = "3000000001"
OTHER = "2000000014"
STATE: dict[str, Any] = {}


def test_sign_in_with_the_code_from_the_mail(served: Served, browser: Any) -> None:
    _ingest(
        served,
        [
            registration("reg-1", id_number=RESIDENT, sponsor=SPONSOR_A),
            registration("reg-2", id_number=CITIZEN, sponsor=SPONSOR_A, passport_number="P2"),
            registration("reg-3", id_number=VISITOR, sponsor=SPONSOR_A, passport_number="P3"),
            registration("reg-4", id_number=OTHER, sponsor=SPONSOR_B, passport_number="P4"),
        ],
    )
    served.jawazat("establishments", "add", SPONSOR_A, "--name", "Al Noor", "--email", USER_A)
    served.jawazat("establishments", "add", SPONSOR_B, "--name", "Other", "--email", USER_B)
    served.jawazat("users", "add", "--role", "auditor", "--email", AUDITOR, "--name", "Audit office")
    page = _sign_in(served, browser, USER_A)
    assert page.title().endswith("بوابة إشعارات الجوازات")
    STATE["a"] = page


def test_add_a_subscription(served: Served) -> None:
    page = STATE["a"]
    page.goto(f"{served.url}/portal/subscriptions")
    page.fill("#id_number", RESIDENT)
    page.check("input[name=notification_types][value=entry_exit]")
    page.check("input[name=notification_types][value=visa]")
    page.click("#add-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/portal/subscriptions/{RESIDENT}"))
    assert page.locator(".notice").is_visible()
    page.goto(f"{served.url}/portal/subscriptions")
    assert page.locator(f"a[href='/portal/subscriptions/{RESIDENT}']").is_visible()
    page.fill("#id_number", "2000000007")  # a wrong check digit: the error stands beside the field
    page.check("input[name=notification_types][value=visa]")
    page.click("#add-form button[type=submit]")
    assert "رقم التحقق" in page.locator("#id_number-error").inner_text()


def test_bulk_upload_with_good_and_bad_lines(served: Served) -> None:
    page = STATE["a"]
    page.goto(f"{served.url}/portal/subscriptions")
    csv_text = (
        "id_number,notification_types,mobile,email\n"
        f"{CITIZEN},passport_expiry;passport_renewal,,\n"
        f"{RESIDENT},visa,,\n"
        f"{OTHER},visa,,\n"
        "123,visa,,\n"
        f"{VISITOR},entry_exit,0512,\n"
    )
    page.set_input_files(
        "#file", files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}]
    )
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#results")
    outcomes = page.locator("td[class^=outcome-]").evaluate_all("cells => cells.map(c => c.className)")
    assert outcomes == [
        "outcome-accepted",
        "outcome-already_subscribed",
        "outcome-not_sponsored",
        "outcome-invalid",
        "outcome-invalid",
    ]
    assert page.locator("a[download]").get_attribute("href").startswith("data:text/csv")


def test_search_change_and_remove_with_confirmation(served: Served) -> None:
    page = STATE["a"]
    page.goto(f"{served.url}/portal/subscriptions")
    page.fill("#q", CITIZEN[:6])
    expect(page.locator(f"#listing a[href='/portal/subscriptions/{RESIDENT}']")).to_have_count(0)
    page.click(f"a[href='/portal/subscriptions/{CITIZEN}']")
    page.uncheck("input[name=notification_types][value=passport_renewal]")
    page.fill("input[name=mobile]", "0501234567")
    page.click(f"form[action='/portal/subscriptions/{CITIZEN}'] button[type=submit]")
    page.wait_for_selector(".notice")
    assert "+966501234567" in page.content()
    page.click("a.button.warning")
    page.wait_for_url(re.compile("/unsubscribe$"))
    page.click("button.warning")
    page.wait_for_url(re.compile(r"/portal/subscriptions\?removed="))
    assert page.locator(f"a[href='/portal/subscriptions/{CITIZEN}']").count() == 0


def test_switch_language(served: Served) -> None:
    page = STATE["a"]
    page.goto(f"{served.url}/portal/subscriptions")
    page.click("a[hreflang=en]")
    page.wait_for_selector("html[lang=en][dir=ltr]")
    assert page.locator("h1").inner_text() == "Subscriptions"
    page.goto(f"{served.url}/portal/")
    assert page.locator("html").get_attribute("lang") == "en"  # remembered
    page.click("a[hreflang=ar]")
    page.wait_for_selector("html[lang=ar][dir=rtl]")


def test_alerts_after_the_worker_delivered_them(served: Served) -> None:
    _ingest(served, [crossing("x-1", "2026-06-30T10:00:00+03:00", id_number=RESIDENT, port="KFIA")])
    served.jawazat("worker", "--once")
    page = STATE["a"]
    page.goto(f"{served.url}/portal/alerts")
    row = page.locator("#alert-list tbody tr").first
    assert RESIDENT in row.inner_text()
    assert "status-sent" in (row.locator(".status").get_attribute("class") or "")
    page.select_option("#status", "failed")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#alert-list table")).to_have_count(0)
    with page.expect_download() as download:
        page.click("a[href^='/portal/alerts.csv']")
    assert "created_at" in Path(download.value.path()).read_text(encoding="utf-8-sig")


def test_contacts_webhook_quiet_hours_and_digest(served: Served) -> None:
    page = STATE["a"]
    page.goto(f"{served.url}/portal/contacts")
    expect(page.locator("#quiet")).not_to_be_checked()  # off by default, the night suggested
    assert (page.input_value("#quiet_start"), page.input_value("#quiet_end")) == ("22:00", "07:00")
    page.fill("#webhook_url", "http://93.184.216.34/hooks")
    page.click("#webhook-form button[type=submit]")
    assert "https://" in page.locator("#webhook_url-error").inner_text()  # beside the field, in Arabic
    with running_receiver() as receiver:
        page.fill("#webhook_url", receiver.url)
        page.check("#full_id")
        page.click("#webhook-form button[type=submit]")
        secret = page.locator("#webhook-secret").inner_text()
        assert secret.startswith("whsec_")
        page.goto(f"{served.url}/portal/contacts")
        assert "whsec_" not in page.content()  # shown once
        page.fill("#mobile", "0501112233")
        page.click("#contacts-form button[type=submit]")
        page.wait_for_selector(".notice")
        now = datetime.now(ZoneInfo("Asia/Riyadh"))
        page.check("#quiet")
        page.fill("#quiet_start", f"{now - timedelta(hours=1):%H:%M}")
        page.fill("#quiet_end", f"{now + timedelta(hours=2):%H:%M}")
        page.check("input[name=urgent_types][value=visa]")
        page.check("input[name=digest_types][value=passport_expiry]")
        page.click("#delivery-form button[type=submit]")
        page.wait_for_selector(".notice")
        assert page.locator("#quiet-state bdi").count() == 2
        _ingest(served, [crossing("x-2", f"{now - timedelta(minutes=5):%Y-%m-%dT%H:%M:%S%z}", port="RUH")])
        served.jawazat("worker", "--once")
        assert len(receiver.accepted()) == 1
    Webhook(secret).verify(receiver.accepted()[0].body, receiver.accepted()[0].headers)
    page.goto(f"{served.url}/portal/alerts")
    held = page.locator("#alert-list tbody tr", has_text="+966501112233")
    expect(held.locator(".status")).to_contain_text("مؤجَّل حتى")
    expect(page.locator("#alert-list tbody tr", has_text=receiver.url).locator(".status-sent")).to_have_count(
        1
    )


def test_an_auditor_reads_a_timeline(served: Served, browser: Any) -> None:
    page = _sign_in(served, browser, AUDITOR)
    page.goto(f"{served.url}/portal/audit/people")
    page.fill("#id_number", RESIDENT)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/portal/audit/people/{RESIDENT}"))
    assert page.locator("main table").count() == 3
    assert "KFIA" in page.content()
    page.fill("#at", "2020-01-01T00:00")
    page.click("main form button[type=submit]")
    assert page.locator("h1").is_visible() and "404" not in page.title()
    STATE["auditor"] = page


def test_another_establishments_urls_show_not_found(served: Served, browser: Any) -> None:
    page = _sign_in(served, browser, USER_B)
    for path in (f"/portal/subscriptions/{RESIDENT}", f"/portal/subscriptions/{RESIDENT}/unsubscribe"):
        answer = page.goto(f"{served.url}{path}")
        assert answer is not None and answer.status == 404
    unknown = page.goto(f"{served.url}/portal/subscriptions/2999999999")
    assert unknown is not None and unknown.status == 404
    assert RESIDENT not in page.goto(f"{served.url}/portal/alerts").text()
    STATE["b"] = page


ESTABLISHMENT_PAGES = [
    ("dashboard", "/portal/"),
    ("subscriptions", "/portal/subscriptions"),
    ("subscription", f"/portal/subscriptions/{RESIDENT}"),
    ("unsubscribe", f"/portal/subscriptions/{RESIDENT}/unsubscribe"),
    ("alerts", "/portal/alerts"),
    ("contacts", "/portal/contacts"),
    ("keys", "/portal/keys"),
    ("users", "/portal/users"),
]
# Pages whose lower part matters (the contacts page's channels, a held alert): shot whole.
WHOLE_PAGES = {"contacts", "alerts"}
AUDITOR_PAGES = [
    ("audit", "/portal/"),
    ("audit-people", "/portal/audit/people"),
    ("audit-timeline", f"/portal/audit/people/{RESIDENT}"),
    ("audit-establishments", f"/portal/audit/establishments?unified={SPONSOR_A}"),
    ("audit-integrity", "/portal/audit/integrity?verify_now=1"),
]


def test_every_page_passes_axe_in_both_languages(
    served: Served, browser: Any, screenshots: Path | None
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    anonymous = browser.new_context(viewport={"width": 1200, "height": 900})
    pages = [
        (anonymous.new_page(), [("login", "/portal/login"), ("signed-out", "/portal/logout")]),
        (STATE["a"], ESTABLISHMENT_PAGES),
        (STATE["auditor"], AUDITOR_PAGES),
    ]
    problems: list[str] = []
    for page, paths in pages:
        for language in ("ar", "en"):
            for name, path in paths:
                joiner = "&" if "?" in path else "?"
                answer = page.goto(f"{served.url}{path}{joiner}lang={language}")
                assert answer is not None and answer.status == 200, (path, answer and answer.status)
                assert page.locator("html").get_attribute("lang") == language
                result = axe.run(page)
                for violation in result.response["violations"]:
                    if violation["impact"] in ("serious", "critical"):
                        problems.append(f"{language} {path}: {violation['id']} ({violation['impact']})")
                if screenshots is not None:
                    path = str(screenshots / f"{name}-{language}.png")
                    page.screenshot(path=path, full_page=name in WHOLE_PAGES)
    assert not problems, problems
