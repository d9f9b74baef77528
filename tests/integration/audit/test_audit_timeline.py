"""The auditors' person timeline on the real store (each backend, in clear and encrypted): events in business
order with recorded times, the alerts they caused with every attempt, sponsorships, and `at` answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from jawazat_events.bootstrap import Container
from jawazat_events.domain.errors import InvalidValue, NotRegistered
from tests.support import RESIDENT, SPONSOR_A, SPONSOR_B, VISITOR
from tests.support.audit import A_EMAIL, A_MOBILE, World


def ids(timeline: dict[str, Any]) -> list[str]:
    return [e["event_id"] for e in timeline["events"]]


def alerted(timeline: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((a["event_id"], a["establishment"], a["channel"]) for a in timeline["alerts"])


def test_every_event_in_business_time_order_with_recorded_time(audited: Container, world: World) -> None:
    timeline = audited.audit.person_timeline(RESIDENT, None)
    assert set(timeline) == {"id_number", "at", "events", "alerts", "sponsorships"}
    assert (timeline["id_number"], timeline["at"]) == (RESIDENT, None)
    assert ids(timeline) == ["e-reg", "e-c0", "e-c1", "e-r1", "e-c3", "e-t1", "e-c2"]
    occurred = [datetime.fromisoformat(e["occurred_at"]) for e in timeline["events"]]
    assert occurred == sorted(occurred)
    recorded = {e["event_id"]: datetime.fromisoformat(e["recorded_at"]) for e in timeline["events"]}
    # The late crossing was recorded after the events that follow it in business time.
    assert recorded["e-c0"] > recorded["e-r1"] > recorded["e-reg"]
    assert world.delivered < recorded["e-c0"] < world.late_recorded


def test_events_carry_their_contract_type_and_own_fields(audited: Container, world: World) -> None:
    events = {e["event_id"]: e for e in audited.audit.person_timeline(RESIDENT, None)["events"]}
    assert events["e-c1"] == {
        "event_id": "e-c1",
        "type": "border_crossing",
        "occurred_at": "2025-03-01T10:00:00+03:00",
        "recorded_at": events["e-c1"]["recorded_at"],
        "direction": "entry",
        "port": "RUH",
    }
    assert events["e-r1"]["type"] == "passport_renewed"
    assert (events["e-r1"]["passport_number"], events["e-r1"]["expiry_date"]) == ("P0000002", "2035-03-31")
    assert events["e-reg"]["type"] == "person_registered"
    assert events["e-reg"]["name_ar"] == "محمد علي"
    assert "originator_topic" not in events["e-reg"]
    assert (events["e-t1"]["from_sponsor"], events["e-t1"]["to_sponsor"]) == (SPONSOR_A, SPONSOR_B)


def test_alerts_it_caused_with_each_attempt(audited: Container, world: World) -> None:
    timeline = audited.audit.person_timeline(RESIDENT, None)
    assert alerted(timeline) == sorted(
        [(e, SPONSOR_A, ch) for e in ("e-c1", "e-r1", "e-c0", "e-c3") for ch in ("email", "sms")]
        + [("e-c2", SPONSOR_B, "email")]
    )
    for alert in timeline["alerts"]:
        assert set(alert) >= {
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
        assert alert["status"] == "sent"
        assert [a["outcome"] for a in alert["attempts"]] == ["sent"]
        assert all(set(a) >= {"at", "outcome", "detail"} for a in alert["attempts"])
    recipients = {(a["establishment"], a["channel"]): a["recipient"] for a in timeline["alerts"]}
    assert recipients[(SPONSOR_A, "sms")] == A_MOBILE
    assert recipients[(SPONSOR_A, "email")] == A_EMAIL


def test_sponsorship_periods(audited: Container, world: World) -> None:
    assert audited.audit.person_timeline(RESIDENT, None)["sponsorships"] == [
        {"sponsor": SPONSOR_A, "from": None, "until": "2025-06-01T09:00:00+03:00"},
        {"sponsor": SPONSOR_B, "from": "2025-06-01T09:00:00+03:00", "until": None},
    ]


def test_at_shows_only_what_was_recorded_by_then(audited: Container, world: World) -> None:
    # e-c0 happened before e-c1 in business time, but was recorded after `delivered`: absent then.
    then = audited.audit.person_timeline(RESIDENT, world.delivered)
    assert then["at"] == world.delivered.isoformat()
    assert ids(then) == ["e-reg", "e-c1", "e-r1"]
    assert alerted(then) == [(e, SPONSOR_A, ch) for e in ("e-c1", "e-r1") for ch in ("email", "sms")]
    assert then["sponsorships"] == [{"sponsor": SPONSOR_A, "from": None, "until": None}]
    assert ids(audited.audit.person_timeline(RESIDENT, world.late_recorded)) == [
        "e-reg",
        "e-c0",
        "e-c1",
        "e-r1",
    ]


def test_at_shows_alerts_as_they_stood_then(audited: Container, world: World) -> None:
    # Made, not yet sent: pending without attempts, although they were sent since.
    made = audited.audit.person_timeline(RESIDENT, world.fanned_out)
    assert {(a["status"], len(a["attempts"])) for a in made["alerts"]} == {("pending", 0)}
    sent = audited.audit.person_timeline(RESIDENT, world.delivered)
    assert {(a["status"], len(a["attempts"])) for a in sent["alerts"]} == {("sent", 1)}


def test_sponsorships_as_known_then(audited: Container, world: World) -> None:
    assert audited.audit.person_timeline(RESIDENT, world.late_recorded)["sponsorships"] == [
        {"sponsor": SPONSOR_A, "from": None, "until": None}
    ]
    assert len(audited.audit.person_timeline(RESIDENT, world.transferred)["sponsorships"]) == 2


def test_unknown_people_and_people_unknown_then(audited: Container, world: World) -> None:
    with pytest.raises(NotRegistered):
        audited.audit.person_timeline(VISITOR, None)
    before = world.registered.replace(year=world.registered.year - 1)
    with pytest.raises(NotRegistered):
        audited.audit.person_timeline(RESIDENT, before)
    with pytest.raises(InvalidValue):
        audited.audit.person_timeline("12345", None)
