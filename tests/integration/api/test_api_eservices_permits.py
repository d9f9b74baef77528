"""The e-services' permits through the HTTP API on each backend: renewed passports, family travel permits and
Makkah permits; every eligibility rule refused with its reason, who may act for whom, officers' decisions,
the requester's notifications, the auditors' timeline (the clock is fixed at 2026-07-01 12:00 in Riyadh)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from jawazat_events.bootstrap import Container
from jawazat_events.projections.queries import list_alerts
from tests.support.api import ApiWorld, api_world, problems
from tests.support.eservices import (
    CHILD,
    GUARDIAN,
    GUARDIAN_EMAIL,
    GUARDIAN_MOBILE,
    MAKKAH_SPONSOR,
    OTHER_GUARDIAN,
    OTHER_SPONSOR,
    SPONSOR,
    STRANGER,
    WORKER,
    Family,
    details_changed,
    ingest_items,
    person,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
DOC = [{"name": "contract.pdf", "sha256": "ab" * 32}]


@pytest.fixture
def family(world: ApiWorld) -> Family:
    return Family(world.container)


def rule_of(response: Any) -> tuple[str, str]:
    """(field, rule) of a 422 refusal of an eligibility rule."""
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    return problem["field"], problem.get("rule", "")


def travel(world: ApiWorld, headers: dict[str, str], **changes: Any) -> Any:
    body = {"id_number": CHILD, "valid_from": "2026-07-10", "valid_until": "2026-07-31", **changes}
    return world.client.post("/v1/travel-permits", json=body, headers=headers)


# --- renewed passports ------------------------------------------------------------------------------


def test_the_person_the_guardian_and_the_sponsor_may_enter_a_renewed_passport(
    world: ApiWorld, family: Family
) -> None:
    family.register()
    sponsor = world.establishment(SPONSOR)
    posts = [
        (family.token(CHILD), "N0000001"),
        (family.token(GUARDIAN), "N0000002"),
        (sponsor, "N0000003"),
    ]
    for headers, number in posts:
        body = {"passport_number": number, "issue_date": "2026-06-01", "expiry_date": "2036-05-31"}
        answer = world.client.post(f"/v1/people/{CHILD}/passport", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        assert answer.json()["passport_number"] == number

    child = world.container.eservices.passports.people.person(CHILD)
    assert child is not None and child.passport_number == "N0000003"


@pytest.mark.parametrize(
    ("who", "expected"),
    [("stranger", 404), ("other_establishment", 404), ("officer", 403), ("auditor", 403)],
)
def test_anyone_else_gets_404_and_other_roles_403(
    world: ApiWorld, family: Family, who: str, expected: int
) -> None:
    family.register()
    headers = {
        "stranger": lambda: family.token(STRANGER),
        "other_establishment": lambda: world.establishment(OTHER_SPONSOR),
        "officer": family.officer,
        "auditor": lambda: world.token("auditor"),
    }[who]()
    body = {"passport_number": "N0000009", "issue_date": "2026-06-01", "expiry_date": "2036-05-31"}
    answer = world.client.post(f"/v1/people/{CHILD}/passport", json=body, headers=headers)
    assert answer.status_code == expected, answer.text


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"issue_date": "2026-07-02"}, "issue_date", "not yet issued"),
        ({"expiry_date": "2026-05-31"}, "expiry_date", "is not after issue_date"),
        ({"passport_number": "P0000113"}, "passport_number", "repeats the current passport number"),
        ({"issue_date": "2026-13-01"}, "issue_date", ""),
        # The feed's plausible dates (domain.plausible) hold here too.
        ({"issue_date": "1899-12-31"}, "issue_date", "is before 1900-01-01"),
        ({"expiry_date": "9999-12-31"}, "expiry_date", "is more than 30 years ahead"),
        ({"passport_number": "N\u202e0001"}, "passport_number", "bidirectional control characters"),
    ],
)
def test_the_feeds_renewal_rules_refuse_with_422_naming_the_rule(
    world: ApiWorld, family: Family, body: dict[str, str], field: str, words: str
) -> None:
    family.register()
    full = {"passport_number": "N0000001", "issue_date": "2026-06-01", "expiry_date": "2036-05-31", **body}
    answer = world.client.post(f"/v1/people/{CHILD}/passport", json=full, headers=family.token(GUARDIAN))
    assert words in problems(answer)[field]


def test_an_entered_renewal_alerts_subscribed_establishments_and_stops_old_expiry_warnings(
    world: ApiWorld, family: Family
) -> None:
    # The child's passport expires on 2026-08-15: the 60-day warning would be due on 2026-07-01.
    # The worker's passport expires the same day and is not renewed: the control.
    statuses = ingest_items(
        world.container,
        [
            person(CHILD, passport_expiry_date="2026-08-15", guardian=GUARDIAN),
            person(WORKER, passport_expiry_date="2026-08-15"),
        ],
    )
    assert statuses == ["accepted", "accepted"]
    sponsor = world.establishment(SPONSOR)
    world.subscribe(sponsor, CHILD, types=("passport_renewal", "passport_expiry"))
    body = {"passport_number": "N0000001", "issue_date": "2026-06-20", "expiry_date": "2036-06-19"}
    assert world.client.post(f"/v1/people/{CHILD}/passport", json=body, headers=sponsor).status_code == 201

    report = world.container.expiry.run(today=date(2026, 7, 1))
    world.work()

    alerts = list_alerts(world.container.read_models.db, id_number=CHILD)
    assert {a["event_type"] for a in alerts} == {"passport_renewed"}
    assert report.emitted == {"passport_expiry_approaching": 1, "passport_expired": 0}  # the worker's only
    events = world.container.app.events.get(world.container.eservices.passports.people.person(WORKER).id)
    assert [type(e).__name__ for e in events][-1] == "PassportExpiryApproaching"


# --- family travel permits ----------------------------------------------------------------------------


def test_a_guardian_requests_an_officer_approves_and_the_guardian_is_told_each_time(
    world: ApiWorld, family: Family
) -> None:
    family.register()
    created = travel(world, family.token(GUARDIAN))
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"permit_id", "status"} and body["status"] == "pending"
    permit_id = body["permit_id"]

    queue = world.client.get("/v1/travel-permits", params={"status": "pending"}, headers=family.officer())
    assert [p["permit_id"] for p in queue.json()["items"]] == [permit_id]
    decided = world.client.post(
        f"/v1/travel-permits/{permit_id}/decision", json={"decision": "approve"}, headers=family.officer()
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    seen = world.client.get(f"/v1/travel-permits/{permit_id}", headers=family.token(GUARDIAN)).json()
    assert (seen["status"], seen["valid_from"], seen["guardian"]) == ("approved", "2026-07-10", GUARDIAN)

    world.work()
    alerts = [
        a for a in list_alerts(world.container.read_models.db) if a["notification_type"] == "request_status"
    ]
    told = sorted((a["event_type"], a["channel"], a["recipient"]) for a in alerts)
    assert told == sorted(
        (kind, channel, recipient)
        for kind in ("travel_permit_requested", "travel_permit_decided")
        for channel, recipient in (("sms", GUARDIAN_MOBILE), ("email", GUARDIAN_EMAIL))
    )
    assert {a["id_number"] for a in alerts} == {CHILD}


@pytest.mark.parametrize(
    ("birth_date", "allowed"),
    [("2005-07-02", True), ("2005-07-01", False), ("2005-06-30", False), ("2011-03-15", True)],
    ids=["day-before-21st-birthday", "21st-birthday", "day-after-21st-birthday", "fifteen"],
)
def test_under_21_on_the_day_of_the_request(
    world: ApiWorld, family: Family, birth_date: str, allowed: bool
) -> None:
    family.register(child_birth=birth_date)
    answer = travel(world, family.token(GUARDIAN))
    if allowed:
        assert answer.status_code == 201, answer.text
    else:
        assert rule_of(answer) == ("id_number", "under_21")
        assert "21 or older" in answer.json()["detail"][0]["message"]


@pytest.mark.parametrize(
    ("change", "occurred_at", "allowed"),
    [
        ({"marital_status": "married"}, "2026-06-15T10:00:00+03:00", False),
        # After the request (the clock's 2026-07-01T09:00Z) yet within a day of it: a business time further
        # ahead is refused at ingest (domain.plausible.MAX_TIME_AHEAD).
        ({"marital_status": "married"}, "2026-07-01T20:00:00+03:00", True),
        ({"birth_date": "2000-01-01"}, "2026-06-15T10:00:00+03:00", False),
        ({"guardian": OTHER_GUARDIAN}, "2026-06-15T10:00:00+03:00", None),
        ({"guardian": None}, "2026-06-15T10:00:00+03:00", None),
    ],
    ids=["married-before", "married-after", "birth-date-corrected", "guardian-changed", "guardian-cleared"],
)
def test_the_record_as_it_stood_on_the_request_date(
    world: ApiWorld, family: Family, change: dict[str, Any], occurred_at: str, allowed: bool | None
) -> None:
    family.register()
    assert ingest_items(world.container, [details_changed("chg-1", CHILD, occurred_at, **change)]) == [
        "accepted"
    ]
    answer = travel(world, family.token(GUARDIAN))
    if allowed is None:
        assert answer.status_code == 404, answer.text  # no longer this person's guardian
    elif allowed:
        assert answer.status_code == 201, answer.text
    else:
        assert answer.status_code == 422, answer.text


@pytest.mark.parametrize(
    ("child", "rule"),
    [({"marital_status": "divorced"}, "single"), ({"marital_status": None}, "single")],
)
def test_only_single_dependants(world: ApiWorld, family: Family, child: dict[str, Any], rule: str) -> None:
    family.register(**child)
    assert rule_of(travel(world, family.token(GUARDIAN))) == ("id_number", rule)


@pytest.mark.parametrize(
    ("window", "field", "rule"),
    [
        ({"valid_from": "2026-06-30"}, "valid_from", "window_not_past"),
        ({"valid_from": "2027-08-01", "valid_until": "2027-08-02"}, "valid_from", "window_start"),
        ({"valid_until": "2026-07-09"}, "valid_until", "window_order"),
        ({"valid_until": "2027-07-10"}, "valid_until", "window_length"),
    ],
)
def test_a_sensible_validity_window(
    world: ApiWorld, family: Family, window: dict[str, str], field: str, rule: str
) -> None:
    family.register()
    assert rule_of(travel(world, family.token(GUARDIAN), **window)) == (field, rule)


@pytest.mark.parametrize("who", ["child", "stranger", "other_guardian"])
def test_only_the_guardian_may_request_anyone_else_404(world: ApiWorld, family: Family, who: str) -> None:
    family.register()
    caller = {"child": CHILD, "stranger": STRANGER, "other_guardian": OTHER_GUARDIAN}[who]
    assert travel(world, family.token(caller)).status_code == 404
    unknown = travel(world, family.token(GUARDIAN), id_number=WORKER)
    assert unknown.status_code == 404


def test_establishments_may_not_request_travel_permits(world: ApiWorld, family: Family) -> None:
    family.register()
    assert travel(world, world.establishment(SPONSOR)).status_code == 403


def test_overlapping_active_permits_conflict_until_one_is_cancelled_or_rejected(
    world: ApiWorld, family: Family
) -> None:
    family.register()
    guardian = family.token(GUARDIAN)
    first = travel(world, guardian).json()["permit_id"]
    overlapping = travel(world, guardian, valid_from="2026-07-20", valid_until="2026-08-05")
    assert overlapping.status_code == 409 and "overlapping" in overlapping.json()["detail"]
    assert travel(world, guardian, valid_from="2026-08-01", valid_until="2026-08-05").status_code == 201

    cancelled = world.client.post(f"/v1/travel-permits/{first}/cancel", headers=guardian)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert world.client.post(f"/v1/travel-permits/{first}/cancel", headers=guardian).status_code == 409
    assert travel(world, guardian, valid_from="2026-07-20", valid_until="2026-07-25").status_code == 201


def test_officers_decide_once_and_need_a_reason_to_reject(world: ApiWorld, family: Family) -> None:
    family.register()
    permit_id = travel(world, family.token(GUARDIAN)).json()["permit_id"]
    path = f"/v1/travel-permits/{permit_id}/decision"

    no_reason = world.client.post(path, json={"decision": "reject"}, headers=family.officer())
    assert rule_of(no_reason) == ("reason", "reason_required")
    by_guardian = world.client.post(path, json={"decision": "approve"}, headers=family.token(GUARDIAN))
    assert by_guardian.status_code == 403
    rejected = world.client.post(
        path, json={"decision": "reject", "reason": "passport expires"}, headers=family.officer()
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "passport expires"
    again = world.client.post(path, json={"decision": "approve"}, headers=family.officer())
    assert again.status_code == 409
    # A rejection frees the window.
    assert travel(world, family.token(GUARDIAN)).status_code == 201


def test_a_permit_is_visible_to_its_guardian_and_officers_only(world: ApiWorld, family: Family) -> None:
    family.register()
    permit_id = travel(world, family.token(GUARDIAN)).json()["permit_id"]
    for headers, status in (
        (family.token(GUARDIAN), 200),
        (family.officer(), 200),
        (family.token(STRANGER), 404),
        (family.token(CHILD), 404),
    ):
        assert world.client.get(f"/v1/travel-permits/{permit_id}", headers=headers).status_code == status
    assert world.client.get("/v1/travel-permits/not-a-permit", headers=family.officer()).status_code == 404
    mine = world.client.get("/v1/travel-permits", headers=family.token(STRANGER))
    assert mine.status_code == 200 and mine.json()["items"] == []


# --- Makkah permits -----------------------------------------------------------------------------------


def makkah(world: ApiWorld, headers: dict[str, str], id_number: str, **changes: Any) -> Any:
    body = {"id_number": id_number, "season": "1448", "documents": DOC, **changes}
    return world.client.post("/v1/makkah-permits", json=body, headers=headers)


@pytest.mark.parametrize(
    ("category", "allowed"),
    [
        ("domestic_worker", True),
        ("dependant", True),
        ("premium_residency", True),
        ("investor", True),
        ("citizen", True),
        ("gcc_citizen", True),
        ("worker", False),
        ("visitor", False),
        (None, False),
    ],
)
def test_individuals_apply_for_eligible_categories(
    world: ApiWorld, family: Family, category: str | None, allowed: bool
) -> None:
    details = {"category": category} if category else {}
    assert ingest_items(world.container, [person(WORKER, **details)]) == ["accepted"]
    answer = makkah(world, family.token(WORKER), WORKER)
    if allowed:
        assert answer.status_code == 201, answer.text
    else:
        assert rule_of(answer) == ("id_number", "individual_category")


def test_a_guardian_applies_for_a_dependant_and_a_citizen_needs_no_category(
    world: ApiWorld, family: Family
) -> None:
    family.register()
    assert makkah(world, family.token(GUARDIAN), CHILD).status_code == 201
    assert makkah(world, family.token(STRANGER), CHILD).status_code == 404
    assert ingest_items(world.container, [person(STRANGER)]) == ["accepted"]
    assert makkah(world, family.token(STRANGER), STRANGER).status_code == 201


@pytest.mark.parametrize(
    ("city", "visa", "allowed"),
    [
        ("Makkah", None, True),
        ("مكة المكرمة", None, True),
        ("Riyadh", ("seasonal_work", "2026-06-01", "2027-06-01", None), True),
        ("Riyadh", ("seasonal_work", "2026-01-01", "2026-06-30", None), False),
        ("Riyadh", ("seasonal_work", "2026-06-01", "2027-06-01", "cancelled"), False),
        ("Riyadh", ("work", "2026-06-01", "2027-06-01", None), False),
        (None, None, False),
    ],
    ids=["makkah", "makkah-arabic", "seasonal-visa", "visa-ended", "visa-cancelled", "work-visa", "neither"],
)
def test_establishments_in_makkah_or_for_seasonal_work_visa_holders(
    world: ApiWorld, city: str | None, visa: tuple[str, str, str, str | None] | None, allowed: bool
) -> None:
    key = world.container.establishments.register(
        unified_number=MAKKAH_SPONSOR, name="Catering", city=city, mobile="0501234567"
    )
    items: list[dict[str, Any]] = [person(WORKER, sponsor=MAKKAH_SPONSOR, category="worker")]
    if visa:
        kind, start, end, status = visa
        common = {"id_number": WORKER, "occurred_at": "2026-06-01T10:00:00+03:00", "visa_number": "V1"}
        items.append(
            {
                "event_id": "v1",
                "type": "visa_issued",
                "visa_type": kind,
                "valid_from": start,
                "valid_until": end,
                **common,
            }
        )
        if status:
            items.append({"event_id": "v2", "type": "visa_status_changed", "status": status, **common})
    assert set(ingest_items(world.container, items)) == {"accepted"}
    answer = makkah(world, {"Authorization": f"Bearer {key}"}, WORKER)
    if allowed:
        assert answer.status_code == 201, answer.text
    else:
        assert rule_of(answer) == ("id_number", "makkah_establishment_or_seasonal_visa")


def test_an_establishment_applies_only_for_people_it_sponsors(world: ApiWorld, family: Family) -> None:
    family.register()
    key = world.container.establishments.register(
        unified_number=MAKKAH_SPONSOR, name="Catering", city="Makkah"
    )
    assert makkah(world, {"Authorization": f"Bearer {key}"}, CHILD).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"season": "1447"}, "season", "season_open"),
        ({"season": "1450"}, "season", "season_open"),
        ({"season": "14x8"}, "season", "season_known"),
        ({"season": "1600"}, "season", "season_known"),
        ({"documents": []}, "documents", "documents_required"),
        ({"documents": [{"name": "a.pdf", "sha256": "nothex"}]}, "documents.0.sha256", "document_hash"),
    ],
)
def test_season_and_documents_rules(
    world: ApiWorld, family: Family, changes: dict[str, Any], field: str, rule: str
) -> None:
    family.register()
    assert rule_of(makkah(world, family.token(GUARDIAN), CHILD, **changes)) == (field, rule)


def test_one_pending_or_approved_permit_per_person_and_season_and_officers_decide_and_revoke(
    world: ApiWorld, family: Family
) -> None:
    family.register()
    guardian, officer = family.token(GUARDIAN), family.officer()
    first = makkah(world, guardian, CHILD)
    assert first.status_code == 201
    permit_id = first.json()["permit_id"]
    duplicate = makkah(world, guardian, CHILD)
    assert duplicate.status_code == 409 and "season 1448" in duplicate.json()["detail"]

    approved = world.client.post(
        f"/v1/makkah-permits/{permit_id}/decision", json={"decision": "approve"}, headers=officer
    )
    assert approved.status_code == 200
    body = approved.json()
    assert (body["status"], body["valid_from"], body["valid_until"]) == (
        "approved",
        "2027-03-09",
        "2027-05-21",
    )
    assert makkah(world, guardian, CHILD).status_code == 409
    no_reason = world.client.post(
        f"/v1/makkah-permits/{permit_id}/revoke", json={"reason": ""}, headers=officer
    )
    assert rule_of(no_reason) == ("reason", "reason_required")
    revoked = world.client.post(
        f"/v1/makkah-permits/{permit_id}/revoke", json={"reason": "left the kingdom"}, headers=officer
    )
    assert revoked.json()["status"] == "revoked"
    assert (
        world.client.post(
            f"/v1/makkah-permits/{permit_id}/revoke", json={"reason": "x"}, headers=officer
        ).status_code
        == 409
    )
    assert makkah(world, guardian, CHILD).status_code == 201  # a revoked permit frees the season
    assert (
        world.client.get(f"/v1/makkah-permits/{permit_id}", headers=family.token(STRANGER)).status_code == 404
    )


def test_season_dates_can_be_set_by_the_operator(container: Container, family: Family) -> None:
    with api_world(container, hajj_seasons="1447=2026-06-01..2026-07-15") as world:
        family.register()
        answer = makkah(world, family.token(GUARDIAN), CHILD, season="1447")
        assert answer.status_code == 201, answer.text
        seen = world.client.get(
            f"/v1/makkah-permits/{answer.json()['permit_id']}", headers=family.token(GUARDIAN)
        )
        assert (seen.json()["valid_from"], seen.json()["valid_until"]) == ("2026-06-01", "2026-07-15")


# --- the auditors' timeline ---------------------------------------------------------------------------


def test_request_events_show_in_the_persons_timeline(world: ApiWorld, family: Family) -> None:
    family.register()
    permit_id = travel(world, family.token(GUARDIAN)).json()["permit_id"]
    world.client.post(
        f"/v1/travel-permits/{permit_id}/decision", json={"decision": "approve"}, headers=family.officer()
    )
    makkah(world, family.token(GUARDIAN), CHILD)
    world.work()

    timeline = world.client.get(f"/v1/audit/people/{CHILD}/timeline", headers=world.token("auditor")).json()
    types = [e["type"] for e in timeline["events"]]
    assert types == [
        "person_registered",
        "travel_permit_requested",
        "travel_permit_decided",
        "makkah_permit_requested",
    ]
    decided = timeline["events"][2]
    assert (decided["status"], decided["request_id"], decided["officer"]) == (
        "approved",
        permit_id,
        decided["officer"],
    )
    assert decided["officer"].startswith("officer:")
    assert {a["event_type"] for a in timeline["alerts"]} == set(types[1:])
