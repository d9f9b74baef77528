"""Who gets an alert (docs/architecture.md, "Fan-out"), scenario by scenario, on SQLite and on PostgreSQL.

Each scenario registers establishments and people, subscribes, feeds events through the real ingest path,
runs the worker (projections only, no delivery) and reads the alerts back with the product's query.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jawazat_events.bootstrap import Container
from jawazat_events.domain.errors import AlreadySubscribed, InvalidValue, NotSponsored, NotSubscribed
from jawazat_events.domain.identifiers import subscription_id
from jawazat_events.domain.subscription import Subscription
from jawazat_events.generate import luhn_complete
from jawazat_events.projections.queries import list_alerts, list_subscriptions
from tests.support.reference import (
    at,
    drain,
    event_item,
    feed,
    rebuild,
    record_expiry,
    registration_item,
    table_rows,
    transfer_item,
)

A, B, C = "7000000011", "7000000022", "7000000033"
A_MOBILE, A_EMAIL = "+966501234567", "ops@a.example.com"
B_EMAIL = "hr@b.example.com"
C_MOBILE = "+966551234567"
P1 = luhn_complete("200000001")  # sponsored by A
P2 = luhn_complete("100000002")  # sponsored by B
P3 = luhn_complete("200000003")  # sponsored by C
V = "3000000004"  # a visitor sponsored by A
UNKNOWN = luhn_complete("200000099")  # valid, never registered
T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

Row = tuple[str, str, str, str]  # (event_id, establishment, channel, recipient)


@pytest.fixture
def scene(container: Container) -> Container:
    """Three establishments (A: mobile and e-mail, B: e-mail only, C: mobile only) and four people."""
    service = container.establishments
    service.register(unified_number=A, name="Al-Amal Contracting", mobile=A_MOBILE, email=A_EMAIL)
    service.register(unified_number=B, name="Bayan Trading", email=B_EMAIL, language="en")
    service.register(unified_number=C, name="Cedar Catering", mobile=C_MOBILE)
    items = [
        registration_item("reg-p1", P1, A),
        registration_item("reg-p2", P2, B),
        registration_item("reg-p3", P3, C),
        registration_item("reg-v", V, A),
    ]
    assert feed(container, *items) == ["accepted"] * 4
    return container


def crossing(event_id: str, id_number: str, when: datetime, offset_hours: float = 3) -> dict[str, Any]:
    return event_item(event_id, "border_crossing", id_number, at(when, offset_hours), 1)


def visa(event_id: str, id_number: str, when: datetime, serial: int = 1) -> dict[str, Any]:
    return event_item(event_id, "visa_issued", id_number, at(when), serial)


def alerts(container: Container, **filters: Any) -> set[Row]:
    rows = list_alerts(container.read_models.db, **filters)
    found = [(a["event_id"], a["establishment"], a["channel"], a["recipient"]) for a in rows]
    assert len(found) == len(set(found)), "an (event, establishment, channel) alerted twice"
    return set(found)


def both(event_id: str) -> set[Row]:
    """A's alerts for an event when A's defaults apply: SMS and e-mail."""
    return {(event_id, A, "sms", A_MOBILE), (event_id, A, "email", A_EMAIL)}


def test_an_event_alerts_exactly_the_establishments_subscribed_to_its_type(scene: Container) -> None:
    service = scene.establishments
    service.subscribe(A, P1, notification_types=["entry_exit"])
    service.subscribe(B, P2, notification_types=["visa"])
    service.subscribe(C, P3, notification_types=["entry_exit", "passport_expiry", "passport_renewal", "visa"])
    # A sponsors V but did not subscribe to it.
    assert (
        feed(
            scene,
            crossing("p1-cross", P1, T),
            visa("p1-visa", P1, T),
            crossing("p2-cross", P2, T),
            visa("p2-visa", P2, T, serial=2),
            crossing("v-cross", V, T),
            crossing("p3-cross", P3, T),
            event_item("p3-renew", "passport_renewed", P3, at(T), 3),
            visa("p3-visa", P3, T, serial=4),
            event_item("p3-visa-used", "visa_status_changed", P3, at(T), 4),
        )
        == ["accepted"] * 9
    )
    record_expiry(scene, "p3-expiring", "passport_expiry_approaching", P3, T)
    record_expiry(scene, "p3-expired", "passport_expired", P3, T)
    drain(scene)

    assert alerts(scene) == both("p1-cross") | {("p2-visa", B, "email", B_EMAIL)} | {
        (event_id, C, "sms", C_MOBILE)
        for event_id in (
            "p3-cross",
            "p3-renew",
            "p3-visa",
            "p3-visa-used",
            "p3-expiring",
            "p3-expired",
        )
    }
    by_event = {a["event_id"]: a for a in list_alerts(scene.read_models.db, establishment=C)}
    assert {k: v["notification_type"] for k, v in by_event.items()} == {
        "p3-cross": "entry_exit",
        "p3-renew": "passport_renewal",
        "p3-visa": "visa",
        "p3-visa-used": "visa",
        "p3-expiring": "passport_expiry",
        "p3-expired": "passport_expiry",
    }
    # Each alert is written in its establishment's language (B registered with English).
    with scene.read_models.db.reading() as sql:
        rows = sql.execute("SELECT DISTINCT establishment, language FROM alerts").fetchall()
    languages = {row["establishment"]: row["language"] for row in rows}
    assert languages == {A: "ar", B: "en", C: "ar"}


@pytest.mark.parametrize("worker_runs", ["at_the_end", "after_every_step"])
def test_changes_cover_the_events_recorded_after_them_whenever_the_worker_runs(
    scene: Container, worker_runs: str
) -> None:
    service = scene.establishments

    def step() -> None:
        if worker_runs == "after_every_step":
            drain(scene)

    service.subscribe(A, P1, notification_types=["entry_exit"])
    step()
    assert feed(scene, crossing("e1", P1, T)) == ["accepted"]
    step()
    service.change(A, P1, notification_types=["visa"])
    step()
    assert feed(scene, crossing("e2", P1, T), visa("e3", P1, T)) == ["accepted"] * 2
    step()
    service.unsubscribe(A, P1)
    step()
    assert feed(scene, visa("e4", P1, T, serial=2)) == ["accepted"]
    step()
    service.subscribe(A, P1, notification_types=["entry_exit"], email="night-shift@a.example.com")
    step()
    assert feed(scene, crossing("e5", P1, T), visa("e6", P1, T, serial=3)) == ["accepted"] * 2
    drain(scene)

    # e1 was recorded while the subscription covered entry_exit, even if the worker saw it only later.
    expected = both("e1") | both("e3") | {("e5", A, "email", "night-shift@a.example.com")}
    assert alerts(scene) == expected

    live = table_rows(scene, "alerts")
    rebuild(scene)
    assert table_rows(scene, "alerts") == live
    assert alerts(scene) == expected


def test_a_transfer_ends_the_old_subscription_and_late_events_still_reach_the_old_sponsor(
    scene: Container,
) -> None:
    service = scene.establishments
    every_type = ["entry_exit", "passport_expiry", "passport_renewal", "visa"]
    service.subscribe(A, P1, notification_types=every_type)
    assert feed(scene, crossing("before", P1, T - timedelta(hours=3))) == ["accepted"]

    # The source writes this transfer with a -05:00 offset: T is 07:00 there.
    assert feed(scene, transfer_item("to-b", P1, at(T, -5), B)) == ["accepted"]
    ended = scene.app.repository.get(subscription_id(A, P1))
    assert isinstance(ended, Subscription)
    assert not ended.active
    assert ended.ended_reason == "sponsorship_transferred"
    with pytest.raises(NotSponsored):
        service.subscribe(A, P1, notification_types=every_type)
    with pytest.raises(NotSubscribed):
        service.change(A, P1, notification_types=["visa"])
    service.subscribe(B, P1, notification_types=["entry_exit"])

    assert (
        feed(
            scene,
            crossing("after", P1, T + timedelta(hours=1)),
            crossing("late", P1, T - timedelta(hours=1), offset_hours=-5),  # occurred before, arrives after
            visa("late-visa", P1, T - timedelta(hours=2)),
            visa("after-visa", P1, T + timedelta(hours=2), serial=2),
            crossing("at-transfer", P1, T, offset_hours=0),  # the transfer's own instant belongs to B
        )
        == ["accepted"] * 5
    )
    drain(scene)

    assert alerts(scene, establishment=A) == both("before") | both("late") | both("late-visa")
    assert alerts(scene, establishment=B) == {
        ("after", B, "email", B_EMAIL),
        ("at-transfer", B, "email", B_EMAIL),
    }

    # And back to A five hours later: B's subscription ends in turn, A may subscribe again.
    assert feed(scene, transfer_item("back-to-a", P1, at(T + timedelta(hours=5)), A)) == ["accepted"]
    back = scene.app.repository.get(subscription_id(B, P1))
    assert isinstance(back, Subscription) and back.ended_reason == "sponsorship_transferred"
    with pytest.raises(NotSponsored):
        service.subscribe(B, P1, notification_types=["entry_exit"])
    service.subscribe(A, P1, notification_types=["entry_exit"])
    assert (
        feed(
            scene,
            crossing("a-again", P1, T + timedelta(hours=6)),
            crossing("late-in-b-period", P1, T + timedelta(hours=3)),
        )
        == ["accepted"] * 2
    )
    drain(scene)
    assert alerts(scene) == (
        both("before")
        | both("late")
        | both("late-visa")
        | both("a-again")
        | {
            ("after", B, "email", B_EMAIL),
            ("at-transfer", B, "email", B_EMAIL),
            ("late-in-b-period", B, "email", B_EMAIL),
        }
    )
    # No event that occurred in B's period (T .. T+5h) ever reached A.
    with scene.read_models.db.reading() as sql:
        rows = sql.execute(
            "SELECT event_id, occurred_at FROM alerts WHERE establishment = ?", (A,)
        ).fetchall()
    assert len(rows) == 8
    for row in rows:
        assert not T <= datetime.fromisoformat(row["occurred_at"]) < T + timedelta(hours=5), row["event_id"]


def test_contacts_fall_back_to_the_defaults_and_follow_their_updates(scene: Container) -> None:
    service = scene.establishments
    service.subscribe(A, P1, notification_types=["entry_exit"])  # A's defaults: SMS and e-mail
    service.subscribe(A, V, notification_types=["entry_exit"], mobile="0561234567")  # own mobile only
    service.subscribe(B, P2, notification_types=["entry_exit"])  # B's default: e-mail only
    service.subscribe(C, P3, notification_types=["entry_exit"], email="Desk@C.example.com")  # own e-mail
    assert (
        feed(
            scene,
            crossing("p1-1", P1, T),
            crossing("v-1", V, T),
            crossing("p2-1", P2, T),
            crossing("p3-1", P3, T),
        )
        == ["accepted"] * 4
    )
    service.update_defaults(A, email="alerts@a.example.com")
    service.update_defaults(B, mobile="0591234567")
    assert (
        feed(scene, crossing("p1-2", P1, T), crossing("v-2", V, T), crossing("p2-2", P2, T))
        == ["accepted"] * 3
    )
    drain(scene)

    assert alerts(scene) == {
        ("p1-1", A, "sms", A_MOBILE),
        ("p1-1", A, "email", A_EMAIL),
        ("v-1", A, "sms", "+966561234567"),
        ("p2-1", B, "email", B_EMAIL),
        ("p3-1", C, "email", "Desk@c.example.com"),
        # After the defaults changed: the new e-mail for A (same mobile), a new mobile for B.
        ("p1-2", A, "sms", A_MOBILE),
        ("p1-2", A, "email", "alerts@a.example.com"),
        ("v-2", A, "sms", "+966561234567"),
        ("p2-2", B, "email", B_EMAIL),
        ("p2-2", B, "sms", "+966591234567"),
    }


def test_unknown_and_unsponsored_ids_get_the_same_refusal(scene: Container) -> None:
    service = scene.establishments
    with pytest.raises(NotSponsored) as unknown:
        service.subscribe(A, UNKNOWN, notification_types=["visa"])
    with pytest.raises(NotSponsored) as unsponsored:
        service.subscribe(A, P2, notification_types=["visa"])  # exists, sponsored by B
    assert str(unknown.value).replace(UNKNOWN, "<id>") == str(unsponsored.value).replace(P2, "<id>")
    assert "not sponsored by establishment 7000000011" in str(unknown.value)
    with pytest.raises(InvalidValue):  # a malformed number is a different matter, and says so
        service.subscribe(A, "2000000000", notification_types=["visa"])
    scene.catch_up_index()
    assert list_subscriptions(scene.read_models.db, A) == []


def test_resubscribing_after_unsubscribing_works(scene: Container) -> None:
    service = scene.establishments
    service.subscribe(A, P1, notification_types=["visa"])
    with pytest.raises(AlreadySubscribed):
        service.subscribe(A, P1, notification_types=["entry_exit"])
    service.unsubscribe(A, P1)
    with pytest.raises(NotSubscribed):
        service.get(A, P1)
    with pytest.raises(NotSubscribed):
        service.unsubscribe(A, P1)
    view = service.subscribe(A, P1, notification_types=["entry_exit"], mobile="0501112233")
    assert view.notification_types == ["entry_exit"]
    assert service.get(A, P1).mobile == "+966501112233"
    scene.catch_up_index()
    listed = list_subscriptions(scene.read_models.db, A)
    assert [(s["id_number"], s["notification_types"], s["mobile"]) for s in listed] == [
        (P1, ["entry_exit"], "+966501112233")
    ]
    assert feed(scene, crossing("x", P1, T), visa("y", P1, T)) == ["accepted"] * 2
    drain(scene)
    assert alerts(scene) == {("x", A, "sms", "+966501112233")}
