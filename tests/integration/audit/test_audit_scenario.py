"""Point-in-time subscriptions over the auditors' scenario (`tests/support/audit.py`), on each backend,
with the event store in clear and encrypted (`JAWAZAT_CIPHER_KEY`)."""

from __future__ import annotations

from datetime import datetime

from jawazat_events.bootstrap import Container
from tests.support import RESIDENT, SPONSOR_A, SPONSOR_B
from tests.support.audit import A_EMAIL, A_MOBILE, World

# ------------------------------------------------------------------------- point-in-time subscriptions


def _types(rows: list[dict[str, object]]) -> dict[object, object]:
    return {row["id_number"]: row["notification_types"] for row in rows}


def test_subscriptions_at_each_recorded_time(audited: Container, world: World) -> None:
    assert audited.audit.subscriptions_at(SPONSOR_A, world.registered) == []
    assert _types(audited.audit.subscriptions_at(SPONSOR_A, world.subscribed)) == {
        RESIDENT: ["entry_exit", "passport_renewal", "visa"]
    }
    assert _types(audited.audit.subscriptions_at(SPONSOR_A, world.late_recorded)) == {
        RESIDENT: ["entry_exit"]
    }
    # The transfer ended A's subscription by itself; B subscribed afterwards.
    assert audited.audit.subscriptions_at(SPONSOR_A, world.transferred) == []
    assert audited.audit.subscriptions_at(SPONSOR_B, world.late_recorded) == []
    assert _types(audited.audit.subscriptions_at(SPONSOR_B, world.transferred)) == {RESIDENT: ["entry_exit"]}


def test_subscriptions_at_keep_the_contract_shape_and_since(audited: Container, world: World) -> None:
    (before_change,) = audited.audit.subscriptions_at(SPONSOR_A, world.delivered)
    (after_change,) = audited.audit.subscriptions_at(SPONSOR_A, world.late_recorded)
    assert set(before_change) == {"id_number", "notification_types", "mobile", "email", "since"}
    assert (before_change["mobile"], before_change["email"]) == (A_MOBILE, A_EMAIL)
    # A change keeps the subscription's start.
    assert after_change["since"] == before_change["since"]
    since = datetime.fromisoformat(str(before_change["since"]))
    assert world.registered < since < world.subscribed


def test_subscriptions_now_are_the_current_ones(audited: Container, world: World) -> None:
    assert audited.audit.subscriptions_at(SPONSOR_A, None) == []
    assert _types(audited.audit.subscriptions_at(SPONSOR_B, None)) == {RESIDENT: ["entry_exit"]}


def test_subscriptions_at_a_time_without_offset_is_business_time(audited: Container, world: World) -> None:
    local = world.late_recorded.astimezone(audited.settings.zone).replace(tzinfo=None)
    assert _types(audited.audit.subscriptions_at(SPONSOR_A, local)) == {RESIDENT: ["entry_exit"]}
