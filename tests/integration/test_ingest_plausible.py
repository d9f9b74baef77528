"""Ingest refuses business times and document dates outside their plausible window, naming the field, on
each backend, through the feed, `POST /v1/events` and `jawazat ingest` alike; the worker carries on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from jawazat_events.bootstrap import Container
from tests.support import RESIDENT, crossing, ingest, line, registration, renewal, run_jawazat
from tests.support.api import api_world

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# The container's clock is 2026-07-01T09:00Z (tests/conftest.py).
IMPLAUSIBLE: list[tuple[str, dict[str, Any], str]] = [
    (
        "max datetime at -14:00",
        crossing("c-max", "9999-12-31T23:59:59-14:00"),
        "occurred_at 9999-12-31T23:59:59-14:00 has no UTC equivalent",
    ),
    (
        "min datetime at +14:00",
        crossing("c-min", "0001-01-01T00:00:00+14:00"),
        "occurred_at 0001-01-01T00:00:00+14:00 has no UTC equivalent",
    ),
    (
        "before 1900",
        crossing("c-1899", "1899-12-31T10:00:00+03:00"),
        "occurred_at 1899-12-31T10:00:00+03:00 is before",
    ),
    (
        "years ahead",
        crossing("c-2100", "2100-01-01T10:00:00+03:00"),
        "occurred_at 2100-01-01T10:00:00+03:00 is in the future",
    ),
    ("two days ahead", crossing("c-soon", "2026-07-03T12:00:00+03:00"), "is in the future: more than 1 day"),
    (
        "a renewal that expires in year 9999",
        renewal("r-9999", "2026-06-01T10:00:00+03:00", "P9", "2026-05-01", "9999-12-31"),
        "expiry_date 9999-12-31 is more than 30 years ahead",
    ),
    (
        "a registration issued in year 1",
        registration("reg-1", id_number="2000000014") | {"passport_issue_date": "0001-01-01"},
        "passport_issue_date 0001-01-01 is before 1900-01-01",
    ),
    (
        "a visa valid until 9999",
        {
            "event_id": "v-9999",
            "type": "visa_issued",
            "id_number": RESIDENT,
            "occurred_at": "2026-06-01T10:00:00+03:00",
            "visa_number": "V1",
            "visa_type": "work",
            "valid_from": "2026-06-01",
            "valid_until": "9999-12-31",
        },
        "valid_until 9999-12-31 is more than 30 years ahead",
    ),
]


@pytest.mark.parametrize(("case", "item", "reason"), IMPLAUSIBLE, ids=[c[0] for c in IMPLAUSIBLE])
def test_ingest_refuses_implausible_times_naming_the_field(
    container: Container, case: str, item: dict[str, Any], reason: str
) -> None:
    _, first = ingest(container, [line(registration("reg"))])
    assert first.accepted == 1
    head = container.app.recorder.max_notification_id()

    results, report = ingest(container, [line(item), line(crossing("fine", "2026-07-01T10:00:00+03:00"))])

    assert (report.accepted, report.rejected) == (1, 1)
    assert results[0].status == "rejected" and results[0].reason is not None
    assert reason in results[0].reason, results[0].reason
    assert container.app.recorder.max_notification_id() == (head or 0) + 1


def test_post_events_refuses_them_per_item_naming_the_field(container: Container) -> None:
    with api_world(container) as world:
        source = world.token("source")
        world.person(RESIDENT)
        items = [item for _, item, _ in IMPLAUSIBLE[:2]]
        answer = world.client.post("/v1/events", json={"events": items}, headers=source)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["rejected"]) == (0, 2)
    assert [r["reason"].split(" ")[0] for r in body["results"]] == ["occurred_at", "occurred_at"]


def test_the_cli_refuses_the_issues_poison_lines_and_the_worker_carries_on(
    database_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAWAZAT_")}
    env |= {"JAWAZAT_DATABASE_URL": database_url, "JAWAZAT_OUTBOX_DIR": str(tmp_path / "outbox")}
    feed = tmp_path / "feed.jsonl"
    poison = [item for _, item, _ in IMPLAUSIBLE[:2]]
    feed.write_text(
        "\n".join(
            line(i) for i in [registration("reg"), *poison, crossing("ok", "2025-06-01T10:00:00+03:00")]
        ),
        encoding="utf-8",
    )

    ingested = run_jawazat("ingest", str(feed), env=env)
    worked = run_jawazat("worker", "--once", env=env)

    assert ingested.returncode == 1, ingested.stderr
    assert "accepted: 2" in ingested.stdout and "rejected: 2" in ingested.stdout
    assert "line 2: occurred_at 9999-12-31T23:59:59-14:00 has no UTC equivalent" in ingested.stdout
    assert "line 3: occurred_at 0001-01-01T00:00:00+14:00 has no UTC equivalent" in ingested.stdout
    assert worked.returncode == 0, worked.stderr
    assert "people 2" in worked.stdout and "Traceback" not in worked.stderr
