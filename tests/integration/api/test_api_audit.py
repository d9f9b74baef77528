"""Auditors' routes, `/healthz`, `/docs`, and the Twilio status callback on each backend."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from jawazat_events.bootstrap import Container
from tests.support.api import (
    RESIDENT,
    SPONSOR_A,
    SPONSOR_B,
    UNKNOWN_PERSON,
    ApiWorld,
    api_world,
    crossing,
    problems,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --- /v1/audit/events ---------------------------------------------------------------------------------


def test_stored_events_page_in_recording_order_without_any_secret(world: ApiWorld) -> None:
    auditor = world.token("auditor")
    headers = world.establishment(SPONSOR_A)
    world.person(RESIDENT)
    world.subscribe(headers, RESIDENT)
    world.ingest([crossing("x-1", "2026-06-30T10:00:00+03:00")])

    seen = []
    after = 0
    while True:
        page = world.client.get("/v1/audit/events", params={"after": after, "limit": 2}, headers=auditor)
        assert page.status_code == 200, page.text
        body = page.json()
        if not body["items"]:
            assert body["next_after"] == after
            break
        seen += body["items"]
        after = body["next_after"]

    positions = [e["position"] for e in seen]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    types = [e["type"] for e in seen]
    assert types[:2] == ["credential_issued", "establishment_registered"]
    assert {"person_registered", "subscription_subscribed", "border_crossing"} <= set(types)
    crossing_event = next(e for e in seen if e["type"] == "border_crossing")
    assert crossing_event["fields"]["event_id"] == "x-1"
    assert crossing_event["fields"]["direction"] == "entry"
    assert crossing_event["fields"]["sponsor"] == SPONSOR_A
    assert crossing_event["recorded_at"]
    text = page.text + str(seen)
    assert "_hash" not in text
    assert world.keys[SPONSOR_A] not in text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": -1}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"after": "x"}, "after"),
    ],
)
def test_bad_audit_paging_is_named(shared: ApiWorld, params: dict[str, object], field: str) -> None:
    response = shared.client.get("/v1/audit/events", params=params, headers=shared.headers["auditor"])

    assert set(problems(response)) == {field}


def test_auditors_cannot_write(world: ApiWorld) -> None:
    auditor = world.token("auditor")

    answers = [
        world.client.post("/v1/events", json={"events": []}, headers=auditor),
        world.client.post("/v1/subscriptions", json={}, headers=auditor),
        world.client.put("/v1/contacts", json={}, headers=auditor),
        world.client.post("/v1/audit/events", headers=auditor),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 405]


# --- timeline and subscriptions at a time (the audit module's functions) -------------------------------


def test_a_persons_timeline(world: ApiWorld) -> None:
    auditor = world.token("auditor")
    headers = world.establishment(SPONSOR_A)
    world.person(RESIDENT)
    world.subscribe(headers, RESIDENT)
    world.ingest([crossing("x-1", "2026-06-30T10:00:00+03:00")])
    world.work()

    now = world.client.get(f"/v1/audit/people/{RESIDENT}/timeline", headers=auditor)
    earlier = world.client.get(
        f"/v1/audit/people/{RESIDENT}/timeline", params={"at": "2000-01-01T00:00:00+03:00"}, headers=auditor
    )
    unknown = world.client.get(f"/v1/audit/people/{UNKNOWN_PERSON}/timeline", headers=auditor)

    assert now.status_code == 200, now.text
    body = now.json()
    assert set(body) >= {"id_number", "at", "events", "alerts", "sponsorships"}
    assert body["id_number"] == RESIDENT
    assert [e["type"] for e in body["events"]] == ["person_registered", "border_crossing"]
    assert {a["channel"] for a in body["alerts"]} == {"sms"}
    assert body["sponsorships"][0]["sponsor"] == SPONSOR_A
    assert earlier.status_code in (200, 404)
    assert unknown.status_code == 404


def test_an_establishments_subscriptions_at_a_time(world: ApiWorld) -> None:
    auditor = world.token("auditor")
    headers = world.establishment(SPONSOR_A)
    world.person(RESIDENT)
    world.subscribe(headers, RESIDENT)

    now = world.client.get(f"/v1/audit/establishments/{SPONSOR_A}/subscriptions", headers=auditor)
    before = world.client.get(
        f"/v1/audit/establishments/{SPONSOR_A}/subscriptions",
        params={"at": "2000-01-01T00:00:00+03:00"},
        headers=auditor,
    )

    unknown = world.client.get(f"/v1/audit/establishments/{SPONSOR_B}/subscriptions", headers=auditor)

    assert now.status_code == 200, now.text
    assert now.json()["unified_number"] == SPONSOR_A
    assert [s["id_number"] for s in now.json()["items"]] == [RESIDENT]
    assert set(now.json()["items"][0]) == {"id_number", "notification_types", "mobile", "email", "since"}
    assert before.json()["items"] == []
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/audit/people/123/timeline", {}, "id_number"),
        (f"/v1/audit/people/{RESIDENT}/timeline", {"at": "2026-07-01T10:00:00"}, "at"),
        ("/v1/audit/establishments/8001234567/subscriptions", {}, "unified"),
        (f"/v1/audit/establishments/{SPONSOR_A}/subscriptions", {"at": "soon"}, "at"),
    ],
)
def test_bad_audit_parameters_are_named(
    shared: ApiWorld, path: str, params: dict[str, str], field: str
) -> None:
    response = shared.client.get(path, params=params, headers=shared.headers["auditor"])

    assert set(problems(response)) == {field}


# --- health, docs ---------------------------------------------------------------------------------------


def test_healthz_checks_the_store(world: ApiWorld) -> None:
    world.establishment(SPONSOR_B)

    response = world.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "head": 1}


def test_healthz_is_503_when_the_store_fails(world: ApiWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    from eventsourcing.persistence import OperationalError

    def broken() -> int:
        raise OperationalError("connection refused")

    monkeypatch.setattr(world.container.app.recorder, "max_notification_id", broken)

    response = world.client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"detail": "the store is unavailable; retry later"}


def test_openapi_is_served_with_examples(world: ApiWorld) -> None:
    docs = world.client.get("/docs")
    schema = world.client.get("/openapi.json").json()

    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert set(schema["paths"]) >= {
        "/v1/subscriptions",
        "/v1/subscriptions/{id_number}",
        "/v1/contacts",
        "/v1/alerts",
        "/v1/events",
        "/v1/audit/events",
        "/v1/audit/people/{id_number}/timeline",
        "/v1/audit/establishments/{unified}/subscriptions",
        "/v1/callbacks/twilio",
        "/healthz",
        "/metrics",
    }
    components = schema["components"]["schemas"]
    for name in ("SubscriptionCreate", "SubscriptionOut", "EventsBatch", "IngestOut", "AlertOut"):
        assert components[name].get("examples"), f"{name} has an example"
    post = schema["paths"]["/v1/subscriptions"]["post"]["responses"]
    assert {"201", "401", "403", "404", "409", "413", "422", "429"} <= set(post)


# --- POST /v1/callbacks/twilio --------------------------------------------------------------------------

CALLBACK_URL = "https://notify.jawazat.example/v1/callbacks/twilio"
AUTH_TOKEN = "test-twilio-auth-token"


def _signed(params: dict[str, str], url: str = CALLBACK_URL, token: str = AUTH_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


def test_twilio_callbacks_are_checked_by_signature(container: Container) -> None:
    with api_world(container, twilio_auth_token=AUTH_TOKEN, twilio_status_callback_url=CALLBACK_URL) as world:
        params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered", "ErrorCode": ""}
        good = world.client.post("/v1/callbacks/twilio", data=params, headers=_signed(params))
        forged = world.client.post(
            "/v1/callbacks/twilio", data=params, headers=_signed(params, token="another-token")
        )
        unsigned = world.client.post("/v1/callbacks/twilio", data=params)
        tampered = world.client.post(
            "/v1/callbacks/twilio", data=params | {"MessageStatus": "failed"}, headers=_signed(params)
        )
        garbage = world.client.post(
            "/v1/callbacks/twilio", content=b"\xff\xfe%%%", headers={"X-Twilio-Signature": "x"}
        )

    assert good.status_code == 204, good.text
    assert [r.status_code for r in (forged, unsigned, tampered, garbage)] == [403, 403, 403, 403]
