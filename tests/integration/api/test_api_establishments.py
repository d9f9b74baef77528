"""The establishments' routes on each backend: subscriptions, default contacts and alerts, through HTTP."""

from __future__ import annotations

import pytest

from tests.support.api import (
    CITIZEN,
    RESIDENT,
    SPONSOR_A,
    SPONSOR_B,
    UNKNOWN_PERSON,
    VISITOR,
    ApiWorld,
    crossing,
    problems,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --- POST /v1/subscriptions --------------------------------------------------------------------------


def test_subscribe_answers_201_with_the_subscription(world: ApiWorld) -> None:
    headers = world.establishment(SPONSOR_A, mobile=None, email="hr@example.sa")
    world.person(RESIDENT)

    response = world.client.post(
        "/v1/subscriptions",
        json={
            "id_number": RESIDENT,
            "notification_types": ["visa", "entry_exit", "visa"],
            "mobile": "0501234567",
        },
        headers=headers,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id_number", "notification_types", "mobile", "email", "since"}
    assert body["id_number"] == RESIDENT
    assert body["notification_types"] == ["entry_exit", "visa"]
    assert body["mobile"] == "+966501234567"
    assert body["email"] is None
    assert response.headers["Location"] == f"/v1/subscriptions/{RESIDENT}"


def test_subscribing_twice_is_409(world: ApiWorld) -> None:
    headers = world.establishment()
    world.person(RESIDENT)
    world.subscribe(headers, RESIDENT)

    again = world.client.post(
        "/v1/subscriptions", json={"id_number": RESIDENT, "notification_types": ["visa"]}, headers=headers
    )

    assert again.status_code == 409
    assert "already subscribed" in again.json()["detail"]


def test_unknown_and_unsponsored_id_numbers_get_the_same_404(world: ApiWorld) -> None:
    headers_a = world.establishment(SPONSOR_A)
    world.establishment(SPONSOR_B)
    world.person(CITIZEN, sponsor=SPONSOR_B)

    answers = [
        world.client.post(
            "/v1/subscriptions", json={"id_number": number, "notification_types": ["visa"]}, headers=headers_a
        )
        for number in (CITIZEN, UNKNOWN_PERSON)
    ]

    assert [a.status_code for a in answers] == [404, 404]
    # Same sentence but for the number itself: nothing tells a registered person from an unknown one.
    first, second = (a.json()["detail"] for a in answers)
    assert first.replace(CITIZEN, "N") == second.replace(UNKNOWN_PERSON, "N")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"id_number": "12345", "notification_types": ["visa"]}, {"id_number"}),
        ({"id_number": "2000000007", "notification_types": ["visa"]}, {"id_number"}),
        ({"id_number": "5000000000", "notification_types": ["visa"]}, {"id_number"}),
        ({"id_number": 2000000006, "notification_types": ["visa"]}, {"id_number"}),
        ({"id_number": RESIDENT, "notification_types": []}, {"notification_types"}),
        ({"id_number": RESIDENT, "notification_types": ["weather"]}, {"notification_types.0"}),
        ({"id_number": RESIDENT, "notification_types": "visa"}, {"notification_types"}),
        ({"id_number": RESIDENT, "notification_types": ["visa"], "mobile": "12"}, {"mobile"}),
        ({"id_number": RESIDENT, "notification_types": ["visa"], "email": "not-an-address"}, {"email"}),
        ({"id_number": RESIDENT, "notification_types": ["visa"], "fax": "1"}, {"fax"}),
        ({"notification_types": ["visa"]}, {"id_number"}),
        ({}, {"id_number", "notification_types"}),
        (
            {"id_number": "x", "notification_types": ["nope"], "mobile": "1", "email": "@"},
            {"id_number", "notification_types.0", "mobile", "email"},
        ),
    ],
)
def test_invalid_fields_are_each_named_in_a_422(shared: ApiWorld, body: object, fields: set[str]) -> None:
    headers = shared.headers["establishment"]

    response = shared.client.post("/v1/subscriptions", json=body, headers=headers)

    assert set(problems(response)) == fields


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[]", b"null", b'"text"', b"\xff\xfe", b'{"id_number": ' + b"9" * 5000 + b"}"],
)
def test_malformed_bodies_are_422_never_500(shared: ApiWorld, raw: bytes) -> None:
    headers = shared.headers["establishment"] | {"Content-Type": "application/json"}

    response = shared.client.post("/v1/subscriptions", content=raw, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["detail"], "the body names what is wrong"


def test_without_contacts_the_defaults_are_used_and_without_defaults_422_names_them(world: ApiWorld) -> None:
    with_defaults = world.establishment(SPONSOR_A, mobile="0501234567")
    without = world.establishment(SPONSOR_B, mobile=None, email=None)
    world.person(RESIDENT, sponsor=SPONSOR_A)
    world.person(CITIZEN, sponsor=SPONSOR_B)

    world.subscribe(with_defaults, RESIDENT)
    refused = world.client.post(
        "/v1/subscriptions", json={"id_number": CITIZEN, "notification_types": ["visa"]}, headers=without
    )

    assert set(problems(refused)) == {"mobile", "email"}


# --- GET /v1/subscriptions, GET|PATCH|DELETE /v1/subscriptions/{id_number} ---------------------------


def test_listing_pages_with_an_opaque_cursor(world: ApiWorld) -> None:
    headers = world.establishment()
    people = [RESIDENT, CITIZEN, VISITOR, "3000000002", "4000000003"]
    for number in people:
        world.person(number)
        world.subscribe(headers, number)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = world.client.get("/v1/subscriptions", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert set(body) == {"items", "next_cursor"}
        seen += [item["id_number"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert not cursor.isdigit(), "the cursor is opaque"

    assert seen == sorted(people)
    assert pages == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"cursor": "zz"}, "cursor"),
    ],
)
def test_bad_paging_parameters_are_named(shared: ApiWorld, params: dict[str, object], field: str) -> None:
    headers = shared.headers["establishment"]

    response = shared.client.get("/v1/subscriptions", params=params, headers=headers)

    assert set(problems(response)) == {field}


def test_read_change_and_delete_one_subscription(world: ApiWorld) -> None:
    headers = world.establishment()
    world.person(RESIDENT)
    world.subscribe(headers, RESIDENT, ["entry_exit"])

    read = world.client.get(f"/v1/subscriptions/{RESIDENT}", headers=headers)
    changed = world.client.patch(
        f"/v1/subscriptions/{RESIDENT}",
        json={"notification_types": ["visa", "passport_expiry"], "email": "Ops@Example.SA"},
        headers=headers,
    )
    listed = world.client.get("/v1/subscriptions", headers=headers).json()["items"]
    deleted = world.client.delete(f"/v1/subscriptions/{RESIDENT}", headers=headers)
    after = [
        world.client.get(f"/v1/subscriptions/{RESIDENT}", headers=headers),
        world.client.patch(f"/v1/subscriptions/{RESIDENT}", json={"mobile": "0501234567"}, headers=headers),
        world.client.delete(f"/v1/subscriptions/{RESIDENT}", headers=headers),
    ]

    assert read.status_code == 200 and read.json()["notification_types"] == ["entry_exit"]
    assert changed.status_code == 200
    assert changed.json()["notification_types"] == ["passport_expiry", "visa"]
    assert changed.json()["email"] == "Ops@example.sa"
    assert listed == [changed.json()], "the listing reads the change at once"
    assert deleted.status_code == 204 and deleted.content == b""
    assert [a.status_code for a in after] == [404, 404, 404]
    assert world.client.get("/v1/subscriptions", headers=headers).json()["items"] == []


def test_resubscribing_after_delete_is_201(world: ApiWorld) -> None:
    headers = world.establishment()
    world.person(RESIDENT)
    world.subscribe(headers, RESIDENT)
    assert world.client.delete(f"/v1/subscriptions/{RESIDENT}", headers=headers).status_code == 204

    again = world.subscribe(headers, RESIDENT, ["visa"])

    assert again["notification_types"] == ["visa"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"body"}),
        ({"notification_types": []}, {"notification_types"}),
        ({"mobile": "abc"}, {"mobile"}),
        ({"email": "x@"}, {"email"}),
        ({"color": "red"}, {"color"}),
    ],
)
def test_invalid_changes_are_named(shared: ApiWorld, body: dict[str, object], fields: set[str]) -> None:
    headers = shared.headers["establishment"]

    response = shared.client.patch(f"/v1/subscriptions/{RESIDENT}", json=body, headers=headers)

    assert set(problems(response)) == fields


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_malformed_id_number_in_the_path_is_named(shared: ApiWorld, method: str) -> None:
    headers = shared.headers["establishment"]

    response = shared.client.request(
        method, "/v1/subscriptions/20000000x6", json={"mobile": "0501234567"}, headers=headers
    )

    assert set(problems(response)) == {"id_number"}


# --- PUT /v1/contacts ---------------------------------------------------------------------------------


def test_put_contacts_sets_the_defaults(world: ApiWorld) -> None:
    headers = world.establishment(mobile=None, email=None)

    first = world.client.put(
        "/v1/contacts", json={"email": "HR@Example.SA", "language": "en"}, headers=headers
    )
    second = world.client.put("/v1/contacts", json={"mobile": "+966 50 123 4567"}, headers=headers)

    assert first.status_code == 200, first.text
    assert second.json() == {
        "unified_number": SPONSOR_A,
        "name": f"Establishment {SPONSOR_A}",
        "mobile": "+966501234567",
        "email": "HR@example.sa",
        "language": "en",
    }


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"language": "fr"}, {"language"}),
        ({"mobile": "1"}, {"mobile"}),
        ({"email": 5, "x": 1}, {"email", "x"}),
    ],
)
def test_invalid_contacts_are_named(shared: ApiWorld, body: dict[str, object], fields: set[str]) -> None:
    headers = shared.headers["establishment"]

    assert set(problems(shared.client.put("/v1/contacts", json=body, headers=headers))) == fields


# --- GET /v1/alerts -----------------------------------------------------------------------------------


def test_alerts_in_the_contract_shape_filtered_by_id_status_and_since(world: ApiWorld) -> None:
    headers = world.establishment(mobile="0501234567", email="hr@example.sa")
    world.person(RESIDENT)
    world.person(CITIZEN)
    world.subscribe(headers, RESIDENT)
    world.subscribe(headers, CITIZEN)
    world.ingest(
        [
            crossing("x-1", "2026-06-30T10:00:00+03:00", id_number=RESIDENT),
            crossing("x-2", "2026-06-30T11:00:00+03:00", id_number=CITIZEN, direction="exit"),
        ]
    )
    world.work()

    every = world.client.get("/v1/alerts", headers=headers)
    one_person = world.client.get("/v1/alerts", params={"id_number": CITIZEN}, headers=headers)
    by_status = world.client.get("/v1/alerts", params={"status": "failed"}, headers=headers)
    later = world.client.get("/v1/alerts", params={"since": "2999-01-01T00:00:00+03:00"}, headers=headers)
    limited = world.client.get("/v1/alerts", params={"limit": 1}, headers=headers)

    assert every.status_code == 200, every.text
    items = every.json()["items"]
    assert len(items) == 4, "two events, two channels each"
    assert {(a["id_number"], a["channel"]) for a in items} == {
        (RESIDENT, "sms"),
        (RESIDENT, "email"),
        (CITIZEN, "sms"),
        (CITIZEN, "email"),
    }
    keys = {
        "alert_id",
        "event_id",
        "event_type",
        "notification_type",
        "id_number",
        "establishment",
        "channel",
        "recipient",
        "status",
        "created_at",
        "attempts",
    }
    for alert in items:
        assert set(alert) == keys
        assert alert["establishment"] == SPONSOR_A
        assert alert["status"] in {"pending", "sent", "delivered", "retrying"}
        for attempt in alert["attempts"]:
            assert set(attempt) == {"at", "outcome", "detail"}
    assert {a["id_number"] for a in one_person.json()["items"]} == {CITIZEN}
    assert by_status.json()["items"] == []
    assert later.json()["items"] == []
    assert len(limited.json()["items"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-07-01T10:00:00"}, "since"),
        ({"id_number": "123"}, "id_number"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_alert_filters_are_named(shared: ApiWorld, params: dict[str, object], field: str) -> None:
    headers = shared.headers["establishment"]

    assert set(problems(shared.client.get("/v1/alerts", params=params, headers=headers))) == {field}
