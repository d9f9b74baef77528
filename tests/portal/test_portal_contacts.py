"""The contacts page's channels over HTTP: the webhook (secret shown once, rotation, removal), the ID-number
opt-in, quiet hours (off by default, 22:00-07:00 suggested), urgent types and the digest, saved through
the same services as `PUT /v1/contacts`; errors beside their fields in both languages; CSRF; and the alerts
page naming the webhook channel and explaining a held SMS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jawazat_events.bootstrap import Container
from jawazat_events.domain.establishment import Establishment
from jawazat_events.domain.identifiers import establishment_id
from jawazat_events.services.ingest import parse_items
from tests.support import RESIDENT, SPONSOR_A, crossing, work_once
from tests.support.portal import USER_A, Clock, client, csrf, sign_in
from tests.support.servers import running_receiver

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# A public address written as such: the SSRF guard needs no DNS for it (names are tested in test_ssrf).
HOOK = "https://93.184.216.34/hooks/jawazat"


@pytest.fixture
def http(seeded: Container, outbox: Path) -> Iterator[TestClient]:
    with client(seeded) as signed_in:
        sign_in(signed_in, USER_A, outbox)
        yield signed_in


def post(http: TestClient, path: str, data: dict[str, Any], *, lang: str = "ar") -> Any:
    page = http.get("/portal/contacts", params={"lang": lang})
    return http.post(
        path, data={**data, "csrf_token": csrf(page.text)}, params={"lang": lang}, follow_redirects=False
    )


def field_error(page: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">([^<]+)<', page)
    assert found, f"no error beside {field}"
    return found.group(1)


def test_quiet_hours_are_off_by_default_with_the_suggested_window(http: TestClient) -> None:
    page = http.get("/portal/contacts", params={"lang": "en"}).text

    assert "Quiet hours are off" in page
    assert 'id="quiet" name="quiet" value="1">' in page  # unchecked
    assert 'id="quiet_start" name="quiet_start" value="22:00"' in page
    assert 'id="quiet_end" name="quiet_end" value="07:00"' in page
    assert "Suggested: 22:00 to 07:00" in page


def test_the_webhook_secret_is_shown_once_and_rotation_shows_a_new_one(
    http: TestClient, seeded: Container
) -> None:
    saved = post(http, "/portal/contacts/webhook", {"webhook_url": HOOK, "full_id": "1"}, lang="en")
    again = post(http, "/portal/contacts/webhook", {"webhook_url": HOOK, "full_id": "1"}, lang="en")
    shown = http.get("/portal/contacts", params={"lang": "en"}).text
    rotated = post(http, "/portal/contacts/webhook-secret", {}, lang="en")

    assert saved.status_code == 200
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', saved.text)
    assert secret and "it will not be shown again" in saved.text
    assert again.status_code == 303  # the secret exists: nothing to show
    assert secret.group(1) not in shown and "whsec_" not in shown
    assert HOOK in shown and "Working" in shown and 'name="full_id" value="1" checked' in shown
    new = re.search(r'id="webhook-secret">(whsec_[^<]+)<', rotated.text)
    assert rotated.status_code == 200 and new and new.group(1) != secret.group(1)
    assert "keeps signing beside it until" in rotated.text
    channels = seeded.channel_service.view(SPONSOR_A)
    assert channels["webhook_url"] == HOOK and channels["webhook_full_id_number"] is True


def test_removing_the_webhook(http: TestClient, seeded: Container) -> None:
    post(http, "/portal/contacts/webhook", {"webhook_url": HOOK})
    removed = post(http, "/portal/contacts/webhook/remove", {})

    assert removed.status_code == 303
    assert seeded.channel_service.view(SPONSOR_A)["webhook_url"] is None
    assert "أُوقف الويب هوك" in http.get(removed.headers["location"]).text


@pytest.mark.parametrize(
    ("url", "arabic", "english"),
    [
        ("", "أدخل عنوان الويب هوك", "Enter the webhook URL"),
        ("http://93.184.216.34/x", "https://", "must start with https://"),
        ("https://10.1.2.3/x", "عناوين عامة", "only go to public internet addresses"),
        ("https://user:pw@93.184.216.34/x", "كلمة مرور", "user name or password"),
        ("ftp://93.184.216.34/x", "https://", "must start with https://"),
        ("https://93.184.216.34/x#y", "بلا مسافات", "no spaces or #"),
    ],
)
def test_webhook_errors_stand_beside_the_field_in_both_languages(
    http: TestClient, seeded: Container, url: str, arabic: str, english: str
) -> None:
    ar = post(http, "/portal/contacts/webhook", {"webhook_url": url}, lang="ar")
    en = post(http, "/portal/contacts/webhook", {"webhook_url": url}, lang="en")

    assert ar.status_code == en.status_code == 422
    assert arabic in field_error(ar.text, "webhook_url")
    assert english in field_error(en.text, "webhook_url")
    assert 'href="#webhook_url"' in en.text  # the summary links to the field
    assert f'value="{url}"'.replace("&", "&amp;") in en.text  # what was typed is kept
    assert seeded.channel_service.view(SPONSOR_A)["webhook_url"] is None  # nothing written


def test_quiet_hours_urgent_types_and_digest_are_saved(http: TestClient, seeded: Container) -> None:
    saved = post(
        http,
        "/portal/contacts/delivery",
        {
            "quiet": "1",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "urgent_types": ["entry_exit"],
            "digest_types": ["passport_expiry"],
        },
    )
    page = http.get("/portal/contacts", params={"lang": "en"}).text
    off = post(http, "/portal/contacts/delivery", {"quiet_start": "22:00", "quiet_end": "07:00"})

    assert saved.status_code == 303
    assert 'From <bdi dir="ltr">22:00</bdi> to <bdi dir="ltr">07:00</bdi>' in page
    assert 'value="entry_exit" checked' in page and 'value="passport_expiry" checked' in page
    assert off.status_code == 303
    assert seeded.channel_service.view(SPONSOR_A) | {"webhook_url": None} == {
        "webhook_url": None,
        "webhook_enabled": False,
        "quiet_hours": None,
        "urgent_types": [],
        "webhook_full_id_number": False,
        "digest_types": [],
    }
    changes = [
        e
        for e in seeded.app.events.get(establishment_id(SPONSOR_A))
        if isinstance(e, Establishment.DeliveryPreferencesChanged)
    ]
    assert [(e.quiet_hours, list(e.urgent_types), list(e.digest_types)) for e in changes] == [
        ("22:00-07:00", ["entry_exit"], ["passport_expiry"]),
        (None, [], []),
    ]


@pytest.mark.parametrize(
    ("data", "field", "english"),
    [
        ({"quiet": "1", "quiet_start": "25:00", "quiet_end": "07:00"}, "quiet_hours", "24-hour clock"),
        ({"quiet": "1", "quiet_start": "07:00", "quiet_end": "07:00"}, "quiet_hours", "not the same"),
        ({"urgent_types": ["everything"]}, "urgent_types", "Choose among the notification types"),
        ({"digest_types": ["entry_exit"]}, "digest_types", "passport-expiry warnings only"),
    ],
)
def test_delivery_errors_stand_beside_their_fields(
    http: TestClient, seeded: Container, data: dict[str, Any], field: str, english: str
) -> None:
    en = post(http, "/portal/contacts/delivery", data, lang="en")
    ar = post(http, "/portal/contacts/delivery", data, lang="ar")

    assert en.status_code == ar.status_code == 422
    assert english in field_error(en.text, field)
    assert field_error(ar.text, field) != field_error(en.text, field)  # the Arabic sentence
    assert seeded.channel_service.view(SPONSOR_A)["quiet_hours"] is None


@pytest.mark.parametrize(
    "path", ["/portal/contacts/webhook", "/portal/contacts/webhook/remove", "/portal/contacts/delivery"]
)
def test_forms_without_the_csrf_token_are_refused(http: TestClient, seeded: Container, path: str) -> None:
    answer = http.post(path, data={"webhook_url": HOOK, "quiet": "1"}, follow_redirects=False)

    assert answer.status_code == 403
    assert seeded.channel_service.view(SPONSOR_A)["webhook_url"] is None


def test_the_alerts_page_names_the_webhook_channel_and_explains_a_held_sms(
    seeded_loopback_webhooks: Container, outbox: Path, clock: Clock
) -> None:
    seeded = seeded_loopback_webhooks
    clock.now = datetime.now(UTC) + timedelta(minutes=2)  # alerts recorded from now on are due
    seeded.establishments.update_defaults(SPONSOR_A, mobile="0501234567")
    seeded.establishments.subscribe(SPONSOR_A, RESIDENT, notification_types=["entry_exit"])
    now = clock.now.astimezone(seeded.settings.zone)
    start, end = f"{now - timedelta(hours=1):%H:%M}", f"{now + timedelta(hours=1):%H:%M}"
    with running_receiver() as receiver, client(seeded) as http:
        sign_in(http, USER_A, outbox)
        post(http, "/portal/contacts/webhook", {"webhook_url": receiver.url})
        post(http, "/portal/contacts/delivery", {"quiet": "1", "quiet_start": start, "quiet_end": end})
        item = crossing("x-held", f"{now - timedelta(minutes=5):%Y-%m-%dT%H:%M:%S%z}", id_number=RESIDENT)
        assert [r.status for r, _ in seeded.ingestor.ingest(parse_items([item]))] == ["accepted"]
        work_once(seeded)

        en = http.get("/portal/alerts", params={"lang": "en"}).text
        ar = http.get("/portal/alerts", params={"lang": "ar"}).text

    until = f"{now + timedelta(hours=1):%Y-%m-%d %H:%M}"
    assert f'Held until <span class="dates"><bdi dir="ltr">{until}</bdi>' in en
    assert "(quiet hours)" in en and "goes out by itself when the quiet hours" in en
    assert "held for quiet hours" in en
    assert "مؤجَّل حتى" in ar and "ساعات الهدوء" in ar
    assert f'Webhook: <bdi dir="ltr">{receiver.url}</bdi>' in en
    assert len(receiver.accepted()) == 1  # the webhook is never held


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.text(max_size=40),
    picks=st.lists(st.text(max_size=20), max_size=3),
    flag=st.sampled_from(["", "1", "on"]),
)
def test_no_channel_form_answers_500(http: TestClient, value: str, picks: list[str], flag: str) -> None:
    for path, data in [
        ("/portal/contacts/webhook", {"webhook_url": value, "full_id": flag}),
        (
            "/portal/contacts/delivery",
            {"quiet": flag, "quiet_start": value, "quiet_end": value[:5], "urgent_types": picks},
        ),
        ("/portal/contacts/delivery", {"digest_types": picks, "quiet_start": value}),
    ]:
        answer = post(http, path, data, lang="en")
        assert answer.status_code < 500, (path, data, answer.text[:300])
