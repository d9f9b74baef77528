"""`POST /v1/events` on each backend: per-event results, idempotency, limits; and what `/metrics` counts."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from jawazat_events.bootstrap import Container, utc_now
from tests.support import assert_stored_once
from tests.support.api import (
    CITIZEN,
    RESIDENT,
    SPONSOR_A,
    ApiWorld,
    api_world,
    crossing,
    problems,
    registration,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def world(container: Container) -> Iterator[ApiWorld]:
    # These tests read the store's figures on /metrics right after changing them: no reuse between scrapes.
    with api_world(container, api_health_cache_seconds=0) as built:
        yield built


def test_each_event_is_reported_in_order_and_stored_once(world: ApiWorld) -> None:
    source = world.token("source")
    events = [
        registration("reg-1", id_number=RESIDENT),
        crossing("x-1", "2026-06-30T10:00:00+03:00"),
        {"event_id": "bad-1", "type": "border_crossing", "id_number": RESIDENT, "occurred_at": "yesterday"},
        crossing("x-1", "2026-06-30T10:00:00+03:00"),
        "not an object",
        {"event_id": "bad-2", "type": "passport_expired", "id_number": RESIDENT},
        crossing("x-2", "2026-06-30T11:00:00+03:00", id_number=CITIZEN),
    ]

    first = world.client.post("/v1/events", json={"events": events}, headers=source)
    again = world.client.post("/v1/events", json={"events": events[:2]}, headers=source)

    assert first.status_code == 200, first.text
    body = first.json()
    assert [(r["index"], r["status"], r["event_id"]) for r in body["results"]] == [
        (0, "accepted", "reg-1"),
        (1, "accepted", "x-1"),
        (2, "rejected", "bad-1"),
        (3, "duplicate", "x-1"),
        (4, "rejected", None),
        (5, "rejected", "bad-2"),
        (6, "rejected", "x-2"),
    ]
    reasons = {r["index"]: r.get("reason", "") for r in body["results"]}
    assert "occurred_at" in reasons[2]
    assert "JSON object" in reasons[4]
    assert "made by the engine" in reasons[5]
    assert "not registered" in reasons[6]
    assert "reason" not in body["results"][0], "accepted events carry no reason"
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (2, 1, 4)
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert_stored_once(world.container.app, ["reg-1", "x-1"])


def test_an_empty_batch_is_fine(world: ApiWorld) -> None:
    response = world.client.post("/v1/events", json={"events": []}, headers=world.token("source"))

    assert response.json() == {"results": [], "accepted": 0, "duplicate": 0, "rejected": 0}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "events"),
        ({"events": {}}, "events"),
        ({"events": "x"}, "events"),
        ({"events": [], "more": 1}, "more"),
    ],
)
def test_a_body_that_is_not_a_batch_is_422(shared: ApiWorld, body: object, field: str) -> None:
    response = shared.client.post("/v1/events", json=body, headers=shared.headers["source"])

    assert set(problems(response)) == {field}


def test_more_than_1000_events_is_413(world: ApiWorld) -> None:
    events = [crossing(f"x-{n}", "2026-06-30T10:00:00+03:00") for n in range(1001)]

    response = world.client.post("/v1/events", json={"events": events}, headers=world.token("source"))

    assert response.status_code == 413
    assert "1,000" in response.json()["detail"]


def test_a_body_over_one_mebibyte_is_413_declared_or_chunked(world: ApiWorld) -> None:
    source = world.token("source")
    big = json.dumps({"events": [{"event_id": "x" * 2_000_000}]}).encode()

    declared = world.client.post(
        "/v1/events", content=big, headers=source | {"Content-Type": "application/json"}
    )
    chunked = world.client.post(
        "/v1/events",
        content=(big[i : i + 65536] for i in range(0, len(big), 65536)),
        headers=source | {"Content-Type": "application/json"},
    )
    small_chunked = world.client.post(
        "/v1/events",
        content=iter([b'{"events": ', b"[]}"]),
        headers=source | {"Content-Type": "application/json"},
    )

    assert declared.status_code == 413
    assert chunked.status_code == 413
    assert small_chunked.status_code == 200, small_chunked.text


def test_metrics_count_ingest_alerts_lag_and_delivery_latency(world: ApiWorld) -> None:
    source = world.token("source")
    headers = world.establishment(SPONSOR_A, mobile="0501234567", email="hr@example.sa")
    world.client.post(
        "/v1/events", json={"events": [registration("reg-m", id_number=RESIDENT)]}, headers=source
    )
    world.subscribe(headers, RESIDENT)
    world.client.post(
        "/v1/events", json={"events": [crossing("x-m", "2026-06-30T10:00:00+03:00"), 7]}, headers=source
    )
    lagging = world.client.get("/metrics").text
    # The alerts fall due at their events' recorded (real) times, after the fixture's fixed clock.
    world.container.clock = utc_now
    world.work()
    world.work()  # the projections follow the delivery's own records too: no lag left

    response = world.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'jawazat_events_ingested_total{status="accepted",type="person_registered"}' in text
    assert 'jawazat_events_ingested_total{status="accepted",type="border_crossing"}' in text
    assert 'jawazat_events_ingested_total{status="rejected",type="invalid"}' in text
    assert 'jawazat_alerts{channel="sms",status=' in text
    assert 'jawazat_alerts{channel="email",status=' in text
    assert 'jawazat_projection_lag_events{projection="fanout"} 0.0' in text
    assert 'jawazat_projection_lag_events{projection="fanout"} 0.0' not in lagging
    # Observed by the delivery (not in this process's registry): read from the store at the scrape.
    assert 'jawazat_delivery_latency_seconds_bucket{channel="email",le="0.25"}' in text
    assert 'jawazat_delivery_latency_seconds_count{channel="email"} 1.0' in text
    assert 'jawazat_delivery_latency_seconds_bucket{channel="sms",le="+Inf"} 1.0' in text
    assert "jawazat_delivery_latency_seconds_count" not in lagging
    assert "jawazat_store_up 1.0" in text
    assert 'jawazat_http_requests_total{method="POST",route="/v1/events",status="200"}' in text
