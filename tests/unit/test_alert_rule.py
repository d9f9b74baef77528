"""The fan-out's rule in isolation: which subscription version applies at a position, when an ended one still
covers, whose contacts are used, and the deterministic ids that make alerts unique. No I/O."""

from __future__ import annotations

import zlib
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest

from jawazat_events.domain.notification_types import FIRED_BY, NotificationType
from jawazat_events.domain.person import PERSON_EVENT_TYPES
from jawazat_events.projections.fanout import ALERTING_EVENTS, AlertFanout, Match, _at, alert_id, partition_of

A = "7000000011"
P = "2000000006"


def version(
    from_position: int,
    to_position: int | None = None,
    *,
    status: str = "active",
    types: str = "entry_exit,visa",
    mobile: str | None = None,
    email: str | None = None,
    covers_until: str | None = None,
) -> dict[str, Any]:
    return {
        "unified_number": A,
        "id_number": P,
        "from_position": from_position,
        "to_position": to_position,
        "status": status,
        "notification_types": types,
        "mobile": mobile,
        "email": email,
        "covers_until": covers_until,
    }


DEFAULTS = [
    {"unified_number": A, "from_position": 1, "to_position": 50, "mobile": "+966500000001",
     "email": "old@a.example", "language": "ar"},
    {"unified_number": A, "from_position": 50, "to_position": None, "mobile": "+966500000001",
     "email": "new@a.example", "language": "en"},
]  # fmt: skip


def match(
    versions: list[dict[str, Any]],
    *,
    position: int = 20,
    occurred_at: str = "2026-03-01T12:00:00+03:00",
    notification_type: str = "entry_exit",
) -> Match | None:
    event = SimpleNamespace(sponsor=A, id_number=P, occurred_at=datetime.fromisoformat(occurred_at))
    return AlertFanout._match(event, position, notification_type, {(A, P): versions}, {A: DEFAULTS})


def test_the_contracts_table_of_notification_types() -> None:
    assert {event: str(kind) for event, kind in FIRED_BY.items()} == {
        "border_crossing": "entry_exit",
        "passport_expiry_approaching": "passport_expiry",
        "passport_expired": "passport_expiry",
        "passport_renewed": "passport_renewal",
        "visa_issued": "visa",
        "visa_status_changed": "visa",
    }
    assert {cls.contract_type for cls in ALERTING_EVENTS} == set(FIRED_BY)
    # Registrations, transfers and changes of a person's details alert nobody.
    assert set(PERSON_EVENT_TYPES) - set(FIRED_BY) == {
        "person_registered",
        "sponsorship_transferred",
        "person_details_changed",
    }
    assert set(FIRED_BY.values()) == set(NotificationType)


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (3, None),  # before the subscription was recorded
        (10, None),  # the subscribing event's own position: versions hold *after* it
        (11, 10),
        (29, 10),
        (31, 30),  # replaced at 30 by a change
        (10_000, 30),
    ],
)
def test_the_version_in_force_at_a_position(position: int, expected: int | None) -> None:
    rows = [version(10, 30), version(30)]
    found = _at(rows, position)
    assert (found["from_position"] if found else None) == expected


# Ended by a transfer that occurred at 09:00 UTC (the index stores that instant in UTC).
TRANSFERRED = [
    version(10, 15),
    version(15, status="ended_by_transfer", covers_until="2026-03-01T09:00:00+00:00"),
]
NOON = "2026-03-01T12:00:00+03:00"


@pytest.mark.parametrize(
    ("versions", "notification_type", "occurred_at", "covered"),
    [
        ([version(10)], "entry_exit", NOON, True),
        ([version(10)], "passport_renewal", NOON, False),
        ([version(10, types="passport_expiry")], "passport_expiry", NOON, True),
        ([version(10, 15), version(15, status="ended")], "entry_exit", NOON, False),
        # An ended-by-transfer version covers what occurred before the transfer, whatever the offset.
        (TRANSFERRED, "entry_exit", "2026-03-01T08:59:59+00:00", True),
        (TRANSFERRED, "entry_exit", "2026-03-01T11:59:59+03:00", True),
        (TRANSFERRED, "entry_exit", "2026-03-01T03:59:00-05:00", True),
        (TRANSFERRED, "entry_exit", "2026-03-01T09:00:00+00:00", False),  # the new sponsor's instant
        (TRANSFERRED, "entry_exit", "2026-03-01T04:30:00-05:00", False),
        (TRANSFERRED, "entry_exit", "2026-03-01T12:00:01+03:00", False),
        (TRANSFERRED, "passport_renewal", "2026-03-01T08:00:00+00:00", False),  # types still apply
    ],
)
def test_when_a_subscription_covers_an_event(
    versions: list[dict[str, Any]], notification_type: str, occurred_at: str, covered: bool
) -> None:
    found = match(versions, notification_type=notification_type, occurred_at=occurred_at)
    assert (found is not None) is covered


@pytest.mark.parametrize(
    ("own_mobile", "own_email", "position", "expected"),
    [
        (None, None, 20, ("+966500000001", "old@a.example", "ar")),  # the defaults at the position
        (None, None, 60, ("+966500000001", "new@a.example", "en")),  # ... after they changed
        ("+966511111111", None, 20, ("+966511111111", None, "ar")),  # own mobile: SMS only
        (None, "own@a.example", 60, (None, "own@a.example", "en")),  # own e-mail: e-mail only
        ("+966511111111", "own@a.example", 20, ("+966511111111", "own@a.example", "ar")),
    ],
)
def test_whose_contacts_an_alert_goes_to(
    own_mobile: str | None, own_email: str | None, position: int, expected: tuple[str | None, ...]
) -> None:
    found = match([version(10, mobile=own_mobile, email=own_email)], position=position)
    assert found is not None
    assert (found.mobile, found.email, found.language) == expected
    assert found.establishment == A


def test_alert_ids_are_deterministic_and_distinct_per_event_establishment_and_channel() -> None:
    first = alert_id("e-1", A, "sms")
    assert first == alert_id("e-1", A, "sms")
    assert UUID(first).version == 5
    others = {alert_id("e-1", A, "email"), alert_id("e-2", A, "sms"), alert_id("e-1", "7000000022", "sms")}
    assert first not in others and len(others) == 3


@pytest.mark.parametrize("partitions", [1, 2, 6, 64])
def test_partitions_are_stable_and_cover_every_id(partitions: int) -> None:
    numbers = [f"3{n:09d}" for n in range(2_000)]
    seen = [partition_of(number, partitions) for number in numbers]
    assert seen == [partition_of(number, partitions) for number in numbers]
    assert set(seen) == set(range(partitions))
    # CRC32, not Python's salted hash(): the same partition in every process, host and version.
    assert partition_of("2000000006", partitions) == zlib.crc32(b"2000000006") % partitions
