"""The reference model of the alert rule (`tests/support/reference.py`), pinned down on hand-worked cases: the
property and fault tests trust it as their oracle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.reference import NOTIFICATION_TYPES, ReferenceModel

# ------------------------------------------------------------------------------ the model's own tests

A, B, C = "7000000011", "7000000022", "7000000033"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def model() -> ReferenceModel:
    ref = ReferenceModel()
    ref.register_establishment(A, mobile="+966501234567", email="a@example.com")
    ref.register_establishment(B, mobile=None, email="b@example.com")
    ref.register_establishment(C, mobile=None, email=None)
    ref.register_person("P", A)
    return ref


def test_model_alerts_the_sponsor_for_covered_types_on_its_contacts() -> None:
    ref = model()
    assert ref.subscribe(A, "P", types=["visa"], mobile=None, email=None) is None
    assert ref.event("e1", "border_crossing", "P", T0) == set()
    assert ref.event("e2", "visa_issued", "P", T0) == {
        ("e2", A, "sms", "+966501234567"),
        ("e2", A, "email", "a@example.com"),
    }
    assert ref.change(A, "P", types=None, mobile="+966551234567", email=None) is None
    assert ref.event("e3", "visa_status_changed", "P", T0) == {("e3", A, "sms", "+966551234567")}


def test_model_ends_the_old_sponsors_subscription_at_the_transfer() -> None:
    ref = model()
    ref.subscribe(A, "P", types=NOTIFICATION_TYPES, mobile=None, email="own@example.com")
    assert ref.transfer("P", T0, A) == "SponsorUnchanged"
    assert ref.transfer("P", T0, B) is None
    assert ref.subscribe(A, "P", types=["visa"], mobile=None, email=None) == "NotSponsored"
    late = T0 - timedelta(minutes=1)
    assert ref.event("e1", "border_crossing", "P", late) == {("e1", A, "email", "own@example.com")}
    assert ref.event("e2", "border_crossing", "P", T0) == set()  # B sponsors from T0 on, unsubscribed
    assert ref.subscribe(B, "P", types=["entry_exit"], mobile=None, email=None) is None
    assert ref.event("e3", "border_crossing", "P", T0 + timedelta(hours=1)) == {
        ("e3", B, "email", "b@example.com")
    }


def test_model_late_transfer_does_not_change_the_current_sponsor() -> None:
    ref = model()
    ref.transfer("P", T0, B)
    assert ref.transfer("P", T0 - timedelta(days=1), C) is None  # A → C → B by business time
    assert ref.current_sponsor("P") == B
    assert ref.sponsor_at("P", T0 - timedelta(hours=1)) == C
    assert ref.sponsor_at("P", T0 - timedelta(days=2)) == A
    assert ref.subscribe(C, "P", types=["visa"], mobile=None, email=None) == "NotSponsored"


def test_model_refusals_follow_the_services_order() -> None:
    ref = model()
    ref.transfer("P", T0, C)
    assert ref.subscribe(C, "P", types=["visa"], mobile=None, email=None) == "NoContact"
    assert ref.subscribe(C, "P", types=["visa"], mobile="+966501234567", email=None) is None
    assert ref.subscribe(C, "P", types=["visa"], mobile="+966501234567", email=None) == "AlreadySubscribed"
    assert ref.unsubscribe(C, "P") is None
    assert ref.unsubscribe(C, "P") == "NotSubscribed"
    assert ref.change(C, "P", types=["visa"], mobile=None, email=None) == "NotSubscribed"
