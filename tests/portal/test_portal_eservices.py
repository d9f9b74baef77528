"""The portal shows what the e-services add to the record in words: a ticket's alerts on the establishment's
alerts page and dashboard, and a person's requests and detail changes on the auditors' timeline."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from jawazat_events.bootstrap import Container
from jawazat_events.domain.actors import Actor
from jawazat_events.worker import Worker
from tests.support import SPONSOR_A
from tests.support.eservices import CHILD, GUARDIAN, Family, details_changed, ingest_items
from tests.support.portal import AUDITOR, USER_A, client, sign_in

# A catalogue key shown instead of its words (the catalogue shows a missing key as itself).
RAW_KEY = re.compile(r"\b(?:event|type|status)\.[a-z_]+\b")


def _requests(container: Container) -> None:
    Family(container).register()
    assert ingest_items(
        container,
        [details_changed("chg-1", CHILD, "2026-06-01T10:00:00+03:00", email="child@family.example")],
    ) == ["accepted"]
    services = container.eservices
    services.travel_permits.request(
        Actor.individual(GUARDIAN),
        id_number=CHILD,
        valid_from=date(2026, 7, 10),
        valid_until=date(2026, 7, 20),
    )
    services.tickets.open(
        Actor.establishment(SPONSOR_A), problem_type="other", procedure="iqama_renewal", description="stuck"
    )
    Worker(container).run_once()


def test_request_alerts_and_timelines_are_shown_in_words(seeded: Container, outbox: Path) -> None:
    _requests(seeded)
    with client(seeded) as http:
        sign_in(http, USER_A, outbox)
        for path in ("/portal/alerts", "/portal/", "/portal/alerts?lang=en"):
            page = http.get(path)
            assert page.status_code == 200 and not RAW_KEY.findall(page.text), (
                path,
                RAW_KEY.findall(page.text),
            )
        assert "Support request received" in http.get("/portal/alerts", params={"lang": "en"}).text
    with client(seeded) as http:
        sign_in(http, AUDITOR, outbox)
        for language in ("ar", "en"):
            page = http.get(f"/portal/audit/people/{CHILD}", params={"lang": language})
            assert page.status_code == 200 and not RAW_KEY.findall(page.text), RAW_KEY.findall(page.text)
        assert "Travel permit requested" in page.text and "Person's details changed" in page.text
