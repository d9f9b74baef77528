"""Export of stored events by recorded time (each backend, in clear and encrypted): every event round-trips,
the window is [since, until), one person's events alone, CSV with a BOM and Arabic intact, streamed."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from jawazat_events.bootstrap import Container
from jawazat_events.domain.event_fields import IDENTITY_FIELDS, own_fields
from jawazat_events.services.audit.export import BOM, CSV_COLUMNS, export_records, stored_events, write_export
from jawazat_events.services.audit.records import event_type
from tests.support import RESIDENT, notifications
from tests.support.audit import World

EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def exported(container: Container, fmt: str, **window: Any) -> str:
    since, until = window.pop("since", EVER[0]), window.pop("until", EVER[1])
    out = io.StringIO(newline="")
    write_export(export_records(container.app, since=since, until=until, **window), out, fmt)
    return out.getvalue()


def jsonl(container: Container, **window: Any) -> list[dict[str, Any]]:
    return [json.loads(row) for row in exported(container, "jsonl", **window).splitlines()]


def test_every_stored_event_round_trips(audited: Container, world: World) -> None:
    records = jsonl(audited)
    stored = notifications(audited.app)
    assert [r["position"] for r in records] == [n.id for n in stored]
    for record, notification in zip(records, stored, strict=True):
        event = audited.app.mapper.to_domain_event(notification)
        assert record["originator_id"] == str(notification.originator_id)
        assert record["originator_version"] == notification.originator_version
        assert record["recorded_at"] == event.timestamp.isoformat()
        assert record["type"] == event_type(event)
        assert record["fields"] == own_fields(event, besides=IDENTITY_FIELDS)
        assert record["event_id"] == getattr(event, "event_id", None)
        assert record["id_number"] == getattr(event, "id_number", None)
    types = {r["type"] for r in records}
    assert {"person_registered", "border_crossing", "passport_renewed", "sponsorship_transferred"} <= types
    assert {"subscription_subscribed", "subscription_ended", "establishment_registered"} <= types
    assert "alert_delivery_attempted" in types
    # Hashes of API keys are never shown (as in the auditors' API).
    assert not [r for r in records if any(k.endswith("_hash") for k in r["fields"])]


def test_window_is_since_inclusive_until_exclusive(audited: Container, world: World) -> None:
    records = jsonl(audited, since=world.delivered, until=world.late_recorded)
    assert {r["event_id"] for r in records if r["event_id"]} == {"e-c0"}
    assert any(r["type"] == "subscription_changed" for r in records)
    stamps = [datetime.fromisoformat(r["recorded_at"]) for r in jsonl(audited)]
    first, second = stamps[0], stamps[1]
    exact = jsonl(audited, since=first, until=second)
    assert [datetime.fromisoformat(r["recorded_at"]) for r in exact] == [
        s for s in stamps if first <= s < second
    ]
    assert first in [datetime.fromisoformat(r["recorded_at"]) for r in exact]
    assert jsonl(audited, since=world.end, until=world.end + timedelta(days=1)) == []


def test_one_person(audited: Container, world: World) -> None:
    records = jsonl(audited, id_number=RESIDENT)
    assert records and {r["id_number"] for r in records} == {RESIDENT}
    person = [r["event_id"] for r in records if r["type"] in {"border_crossing", "person_registered"}]
    assert person == ["e-reg", "e-c1", "e-c0", "e-c2", "e-c3"]  # recording order


def test_csv_has_a_bom_and_the_same_records(audited: Container, world: World) -> None:
    text = exported(audited, "csv")
    assert text.startswith(BOM)
    encoded = text.encode("utf-8")
    assert encoded.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(BOM), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    records = jsonl(audited)
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert int(row["position"]) == record["position"]
        assert row["type"] == record["type"]
        assert (row["event_id"] or None) == record["event_id"]
        assert json.loads(row["fields"]) == record["fields"]
    registration = next(r for r in rows if r["type"] == "person_registered")
    assert json.loads(registration["fields"])["name_ar"] == "محمد علي"


def test_the_store_is_read_in_pages(audited: Container, world: World) -> None:
    pages: list[int] = []
    head = audited.app.recorder.max_notification_id()
    seen = [
        p for p, _ in stored_events(audited.app, page_size=7, progress=lambda done, _: pages.append(done))
    ]
    assert seen == list(range(1, head + 1))
    assert len(pages) == -(-head // 7) and pages[-1] == head
