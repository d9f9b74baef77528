"""Who may call what, on each backend: 401 and 403 on every route, establishments kept apart, rate limits,
revocation, and logs that carry request ids but no secrets or full ID numbers."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from jawazat_events.bootstrap import Container
from tests.support.api import (
    CITIZEN,
    RESIDENT,
    SPONSOR_A,
    SPONSOR_B,
    UNKNOWN_PERSON,
    ApiWorld,
    api_world,
    bearer,
    crossing,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# (method, path, JSON body, the role allowed). Every route that needs credentials is listed.
ROUTES: list[tuple[str, str, Any, str]] = [
    ("POST", "/v1/subscriptions", {"id_number": RESIDENT, "notification_types": ["visa"]}, "establishment"),
    ("GET", "/v1/subscriptions", None, "establishment"),
    ("GET", f"/v1/subscriptions/{RESIDENT}", None, "establishment"),
    ("PATCH", f"/v1/subscriptions/{RESIDENT}", {"notification_types": ["visa"]}, "establishment"),
    ("DELETE", f"/v1/subscriptions/{RESIDENT}", None, "establishment"),
    ("PUT", "/v1/contacts", {"language": "en"}, "establishment"),
    ("GET", "/v1/alerts", None, "establishment"),
    ("POST", "/v1/events", {"events": []}, "source"),
    ("GET", "/v1/audit/events", None, "auditor"),
    ("GET", f"/v1/audit/people/{RESIDENT}/timeline", None, "auditor"),
    ("GET", f"/v1/audit/establishments/{SPONSOR_A}/subscriptions", None, "auditor"),
]


def _call(world: ApiWorld, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return world.client.request(method, path, json=body, headers=headers)


def test_every_route_answers_401_without_valid_credentials_and_403_to_the_wrong_role(world: ApiWorld) -> None:
    establishment = world.establishment(SPONSOR_A)
    source = world.token("source")
    auditor = world.token("auditor")
    revoked = world.container.tokens.issue(role="source", name="gone")
    world.container.tokens.revoke(revoked.token_id)
    key = world.keys[SPONSOR_A]
    callers = {"establishment": establishment, "source": source, "auditor": auditor}
    wrong_credentials: dict[str, dict[str, str]] = {
        "none": {},
        "empty bearer": {"Authorization": "Bearer "},
        "basic scheme": {"Authorization": f"Basic {key}"},
        "wrong key": bearer(key[:-4] + "AAAA"),
        "other establishment's number": bearer(key.replace(SPONSOR_A, SPONSOR_B)),
        "wrong token secret": bearer(source["Authorization"].removeprefix("Bearer ")[:-3] + "xyz"),
        "revoked token": bearer(revoked.token),
        "non-ASCII bytes": {"Authorization": b"Bearer jzt_" + "é".encode("latin-1") * 40},  # type: ignore[dict-item]
        "huge": bearer("jzk_" + "9" * 5000),
    }

    wrong: list[str] = []
    for method, path, body, allowed in ROUTES:
        for label, headers in wrong_credentials.items():
            response = _call(world, method, path, body, headers)
            if response.status_code != 401 or response.headers.get("WWW-Authenticate") != "Bearer":
                wrong.append(f"{method} {path} with {label}: {response.status_code}")
        for role, headers in callers.items():
            status = _call(world, method, path, body, headers).status_code
            if role == allowed and status in (401, 403):
                wrong.append(f"{method} {path} as {role} (allowed): {status}")
            if role != allowed and status != 403:
                wrong.append(f"{method} {path} as {role}: {status}, expected 403")

    assert wrong == []


def test_an_establishment_never_reads_or_changes_another_establishments_data(world: ApiWorld) -> None:
    a = world.establishment(SPONSOR_A, mobile="0501234567")
    b = world.establishment(SPONSOR_B, mobile="0551234567")
    world.person(RESIDENT, sponsor=SPONSOR_A)
    world.person(CITIZEN, sponsor=SPONSOR_B)
    world.subscribe(a, RESIDENT)
    world.subscribe(b, CITIZEN)
    world.ingest([crossing("x-1", "2026-06-30T10:00:00+03:00", id_number=RESIDENT)])
    world.work()
    before = world.client.get(f"/v1/subscriptions/{RESIDENT}", headers=a).json()

    as_b = {
        "subscribe to A's person": world.client.post(
            "/v1/subscriptions", json={"id_number": RESIDENT, "notification_types": ["visa"]}, headers=b
        ),
        "read A's subscription": world.client.get(f"/v1/subscriptions/{RESIDENT}", headers=b),
        "change A's subscription": world.client.patch(
            f"/v1/subscriptions/{RESIDENT}", json={"mobile": "0551234567"}, headers=b
        ),
        "delete A's subscription": world.client.delete(f"/v1/subscriptions/{RESIDENT}", headers=b),
    }
    unknown = world.client.post(
        "/v1/subscriptions", json={"id_number": UNKNOWN_PERSON, "notification_types": ["visa"]}, headers=b
    )
    b_list = world.client.get("/v1/subscriptions", headers=b).json()["items"]
    b_alerts = world.client.get("/v1/alerts", headers=b).json()["items"]
    b_alerts_for_a_person = world.client.get("/v1/alerts", params={"id_number": RESIDENT}, headers=b).json()
    b_contacts = world.client.put("/v1/contacts", json={"language": "en"}, headers=b).json()

    assert {name: r.status_code for name, r in as_b.items()} == dict.fromkeys(as_b, 404)
    subscribe_detail = as_b["subscribe to A's person"].json()["detail"]
    assert subscribe_detail.replace(RESIDENT, "N") == unknown.json()["detail"].replace(UNKNOWN_PERSON, "N")
    assert [s["id_number"] for s in b_list] == [CITIZEN]
    assert b_alerts == [] and b_alerts_for_a_person["items"] == []
    assert b_contacts["unified_number"] == SPONSOR_B
    # A's data is untouched, and A still sees its own alerts.
    assert world.client.get(f"/v1/subscriptions/{RESIDENT}", headers=a).json() == before
    assert len(world.client.get("/v1/alerts", headers=a).json()["items"]) == 1
    assert world.container.establishments.defaults(SPONSOR_A)["language"] == "ar"


def test_a_rotated_key_stops_working(world: ApiWorld) -> None:
    old = world.establishment(SPONSOR_A)
    new_key = world.container.establishments.rotate_api_key(SPONSOR_A)

    assert world.client.get("/v1/subscriptions", headers=old).status_code == 401
    assert world.client.get("/v1/subscriptions", headers=bearer(new_key)).status_code == 200


def test_a_revoked_token_stops_working_at_once(world: ApiWorld) -> None:
    issued = world.container.tokens.issue(role="auditor", name="audit office")
    headers = bearer(issued.token)
    assert world.client.get("/v1/audit/events", headers=headers).status_code == 200

    world.container.tokens.revoke(issued.token_id)

    assert world.client.get("/v1/audit/events", headers=headers).status_code == 401


def test_rate_limit_per_key_answers_429_with_retry_after(container: Container) -> None:
    with api_world(container, api_rate_limit_per_minute=3) as world:
        a = world.establishment(SPONSOR_A)
        b = world.establishment(SPONSOR_B)

        statuses = [world.client.get("/v1/subscriptions", headers=a).status_code for _ in range(4)]
        limited = world.client.get("/v1/subscriptions", headers=a)
        other_key = world.client.get("/v1/subscriptions", headers=b)
        health = world.client.get("/healthz")

    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "rate limit" in limited.json()["detail"]
    assert other_key.status_code == 200, "limits are per key"
    assert health.status_code == 200


def test_repeated_failed_authentication_is_limited_per_client(container: Container) -> None:
    with api_world(container, api_rate_limit_per_minute=3) as world:
        world.establishment(SPONSOR_A)
        statuses = [
            world.client.get("/v1/subscriptions", headers=bearer("jzk_7001234567_wrong")).status_code
            for _ in range(5)
        ]

    assert statuses == [401, 401, 401, 429, 429]


def test_logs_carry_request_ids_and_callers_but_no_secret_or_full_id_number(
    world: ApiWorld, caplog: pytest.LogCaptureFixture
) -> None:
    headers = world.establishment(SPONSOR_A)
    source = world.token("source")
    key = world.keys[SPONSOR_A]
    world.person(RESIDENT)
    caplog.set_level(logging.DEBUG)

    given = world.client.get(
        f"/v1/subscriptions/{RESIDENT}",
        params={"x": RESIDENT},
        headers=headers | {"X-Request-ID": "trace-42"},
    )
    made = world.client.post(
        "/v1/subscriptions", json={"id_number": RESIDENT, "notification_types": ["visa"]}, headers=headers
    )
    world.client.post(
        "/v1/events", json={"events": [crossing("x-9", "2026-06-30T10:00:00+03:00")]}, headers=source
    )
    world.client.get("/v1/alerts", params={"id_number": RESIDENT}, headers=bearer(key + "x"))
    bad_id = world.client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})

    # The server's records (the test's own HTTP client logs full URLs: it is not the server).
    server = [r for r in caplog.records if not r.name.startswith("httpx")]
    text = "\n".join(record.getMessage() for record in server)
    assert given.headers["X-Request-ID"] == "trace-42"
    assert len(made.headers["X-Request-ID"]) == 32
    assert bad_id.headers["X-Request-ID"] != "bad id with spaces"
    assert any(getattr(r, "request_id", None) == "trace-42" for r in server)
    assert f"caller=establishment:{SPONSOR_A}" in text
    assert "******0006" in text
    assert RESIDENT not in text
    # `jzk_<unified>_<secret>`: the secret itself may contain "_", so split from the left.
    assert key not in text and key.split("_", 2)[2] not in text
    assert source["Authorization"].removeprefix("Bearer ") not in text
