"""Unit tests of the Person aggregate (no I/O): passport renewals, sponsorship by business time, visas."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from jawazat_events.domain.errors import (
    InvalidValue,
    PassportExpiresBeforeIssue,
    PassportNotYetIssued,
    PassportNumberRepeated,
    PassportRuleViolation,
    SponsorUnchanged,
)
from jawazat_events.domain.person import Person, PersonEvent

RIYADH = timezone(timedelta(hours=3))
TODAY = date(2026, 7, 1)
SPONSOR_A = "7001234567"
SPONSOR_B = "7007654321"
SPONSOR_C = "7000000009"


def at(day: str, hour: int = 9) -> datetime:
    """A business time in Riyadh."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=RIYADH)


def registered(
    *,
    sponsor: str = SPONSOR_A,
    passport_number: str = "P0000001",
    issue: date = date(2020, 3, 1),
    expiry: date = date(2030, 2, 28),
) -> Person:
    person = Person.register(
        id_number="2000000006",
        event_id="reg-1",
        occurred_at=at("2025-01-10"),
        sponsor=sponsor,
        name_ar="محمد علي",
        name_en="Mohammed Ali",
        nationality="IND",
        passport_number=passport_number,
        passport_issue_date=issue,
        passport_expiry_date=expiry,
    )
    person.collect_events()  # what the store would have taken
    return person


def renew(person: Person, number: str, issue: date, expiry: date, *, event_id: str = "ren-1") -> None:
    person.renew_passport(
        event_id=event_id,
        occurred_at=at("2026-06-01"),
        passport_number=number,
        issue_date=issue,
        expiry_date=expiry,
        today=TODAY,
    )


def pending(person: Person) -> list[PersonEvent]:
    events = person.collect_events()
    assert all(isinstance(e, PersonEvent) for e in events)
    return [e for e in events if isinstance(e, PersonEvent)]


# --- passport renewals -------------------------------------------------------------------------


def test_a_valid_renewal_becomes_the_current_passport() -> None:
    person = registered()

    renew(person, "P0000002", date(2026, 5, 20), date(2036, 5, 19))

    assert person.passport_number == "P0000002"
    assert person.passport_issue_date == date(2026, 5, 20)
    assert person.passport_expiry_date == date(2036, 5, 19)
    [renewed] = pending(person)
    assert isinstance(renewed, Person.PassportRenewed)
    assert renewed.event_id == "ren-1"
    assert renewed.sponsor == SPONSOR_A


def test_a_passport_issued_today_is_accepted() -> None:
    person = registered()
    renew(person, "P0000002", TODAY, TODAY + timedelta(days=3652))
    assert person.passport_issue_date == TODAY


@pytest.mark.parametrize(
    ("number", "issue", "expiry", "error", "fragment"),
    [
        pytest.param(
            "P0000002",
            TODAY + timedelta(days=1),
            date(2036, 7, 1),
            PassportNotYetIssued,
            "issue_date 2026-07-02 is after today (2026-07-01)",
            id="issued tomorrow",
        ),
        pytest.param(
            "P0000002",
            date(2027, 1, 1),
            date(2037, 1, 1),
            PassportNotYetIssued,
            "not yet issued",
            id="issued next year",
        ),
        pytest.param(
            "P0000002",
            date(2026, 5, 20),
            date(2026, 5, 19),
            PassportExpiresBeforeIssue,
            "expiry_date 2026-05-19 is not after issue_date 2026-05-20",
            id="expires before issue",
        ),
        pytest.param(
            "P0000002",
            date(2026, 5, 20),
            date(2026, 5, 20),
            PassportExpiresBeforeIssue,
            "is not after issue_date",
            id="expires on the day of issue",
        ),
        pytest.param(
            "P0000001",
            date(2026, 5, 20),
            date(2036, 5, 19),
            PassportNumberRepeated,
            "passport_number 'P0000001' repeats the current passport number",
            id="repeats current number",
        ),
    ],
)
def test_renewals_breaking_a_rule_are_rejected_and_change_nothing(
    number: str, issue: date, expiry: date, error: type[PassportRuleViolation], fragment: str
) -> None:
    person = registered()

    with pytest.raises(error) as caught:
        renew(person, number, issue, expiry)

    assert fragment in str(caught.value)
    assert isinstance(caught.value, PassportRuleViolation)
    assert person.passport_number == "P0000001"
    assert person.passport_issue_date == date(2020, 3, 1)
    assert person.passport_expiry_date == date(2030, 2, 28)
    assert person.collect_events() == []


def test_out_of_order_renewals_keep_the_most_recently_issued_passport_current() -> None:
    person = registered()

    # The 2026 passport's renewal arrives before the 2024 one it replaced.
    renew(person, "P0000003", date(2026, 4, 1), date(2036, 3, 31), event_id="ren-3")
    renew(person, "P0000002", date(2024, 2, 1), date(2029, 1, 31), event_id="ren-2")

    assert person.passport_number == "P0000003"
    assert person.passport_issue_date == date(2026, 4, 1)
    assert person.passport_expiry_date == date(2036, 3, 31)
    assert [e.event_id for e in pending(person)] == ["ren-3", "ren-2"]  # both are recorded


def test_in_order_renewals_move_the_current_passport_each_time() -> None:
    person = registered()
    renew(person, "P0000002", date(2024, 2, 1), date(2029, 1, 31), event_id="ren-2")
    renew(person, "P0000003", date(2026, 4, 1), date(2036, 3, 31), event_id="ren-3")
    assert person.passport_number == "P0000003"


def test_an_older_number_may_come_back_but_not_the_current_one() -> None:
    person = registered()
    renew(person, "P0000002", date(2026, 4, 1), date(2036, 3, 31), event_id="ren-2")

    with pytest.raises(PassportNumberRepeated):
        renew(person, "P0000002", date(2026, 5, 1), date(2036, 4, 30), event_id="ren-3")
    # The first passport's number is no longer the current one: only the current number is refused.
    renew(person, "P0000001", date(2026, 6, 1), date(2036, 5, 31), event_id="ren-4")

    assert person.passport_number == "P0000001"


def test_registration_with_a_passport_expiring_before_issue_is_refused() -> None:
    with pytest.raises(PassportExpiresBeforeIssue, match="expiry_date 2020-03-01 is not after"):
        registered(issue=date(2020, 3, 1), expiry=date(2020, 3, 1))


# --- sponsorship by business time --------------------------------------------------------------


def test_sponsorship_periods_follow_business_time_including_late_transfers() -> None:
    person = registered(sponsor=SPONSOR_A)

    left = person.transfer_sponsorship(event_id="tr-2", occurred_at=at("2026-03-01"), to_sponsor=SPONSOR_B)
    assert left == SPONSOR_A  # A stops being the current sponsor: its subscription must end
    # A transfer that happened earlier arrives late: it slots in before B's period.
    late = person.transfer_sponsorship(event_id="tr-1", occurred_at=at("2025-09-01"), to_sponsor=SPONSOR_C)
    assert late is None  # the current sponsor (B) is unchanged

    assert person.sponsorship_periods() == [
        (SPONSOR_A, None, at("2025-09-01")),
        (SPONSOR_C, at("2025-09-01"), at("2026-03-01")),
        (SPONSOR_B, at("2026-03-01"), None),
    ]
    assert person.current_sponsor == SPONSOR_B
    assert person.sponsor_at(at("2025-01-01")) == SPONSOR_A
    assert person.sponsor_at(at("2025-08-31", 23)) == SPONSOR_A
    assert person.sponsor_at(at("2025-09-01")) == SPONSOR_C  # a period starts at its transfer
    assert person.sponsor_at(at("2026-02-28")) == SPONSOR_C
    assert person.sponsor_at(at("2026-03-01")) == SPONSOR_B
    assert person.sponsor_at(at("2027-01-01")) == SPONSOR_B


def test_the_same_periods_whatever_order_the_transfers_arrive_in() -> None:
    in_order = registered()
    in_order.transfer_sponsorship(event_id="tr-1", occurred_at=at("2025-09-01"), to_sponsor=SPONSOR_C)
    in_order.transfer_sponsorship(event_id="tr-2", occurred_at=at("2026-03-01"), to_sponsor=SPONSOR_B)
    reversed_order = registered()
    reversed_order.transfer_sponsorship(event_id="tr-2", occurred_at=at("2026-03-01"), to_sponsor=SPONSOR_B)
    reversed_order.transfer_sponsorship(event_id="tr-1", occurred_at=at("2025-09-01"), to_sponsor=SPONSOR_C)

    assert in_order.sponsorship_periods() == reversed_order.sponsorship_periods()


def test_offsets_do_not_matter_only_the_instant() -> None:
    person = registered()
    person.transfer_sponsorship(
        event_id="tr-1", occurred_at=datetime(2026, 3, 1, 6, 0, tzinfo=UTC), to_sponsor=SPONSOR_B
    )
    # 08:59 in Riyadh is 05:59 UTC, before the transfer; 09:00 in Riyadh is its instant.
    assert person.sponsor_at(datetime(2026, 3, 1, 8, 59, tzinfo=RIYADH)) == SPONSOR_A
    assert person.sponsor_at(datetime(2026, 3, 1, 9, 0, tzinfo=RIYADH)) == SPONSOR_B


def test_each_event_records_the_sponsor_at_its_business_time() -> None:
    person = registered(sponsor=SPONSOR_A)
    person.transfer_sponsorship(event_id="tr-1", occurred_at=at("2026-03-01"), to_sponsor=SPONSOR_B)

    person.cross_border(event_id="x-after", occurred_at=at("2026-04-01"), direction="exit", port="RUH")
    # Late events that occurred before the transfer belong to the old sponsor's period.
    person.cross_border(event_id="x-before", occurred_at=at("2026-02-01"), direction="entry", port="JED")
    person.issue_visa(
        event_id="v-before",
        occurred_at=at("2026-01-15"),
        visa_number="V1",
        visa_type="exit_reentry",
        valid_from=date(2026, 1, 15),
        valid_until=date(2026, 4, 15),
    )
    person.change_visa_status(
        event_id="v-after", occurred_at=at("2026-05-01"), visa_number="V1", status="used", valid_until=None
    )
    renew(person, "P0000002", date(2026, 5, 20), date(2036, 5, 19), event_id="ren-after")

    sponsors = {e.event_id: e.sponsor for e in pending(person)}
    assert sponsors == {
        "tr-1": SPONSOR_A,  # the transfer itself is recorded under the sponsor it moves away from
        "x-after": SPONSOR_B,
        "x-before": SPONSOR_A,
        "v-before": SPONSOR_A,
        "v-after": SPONSOR_B,
        "ren-after": SPONSOR_B,  # renew() uses 2026-06-01
    }


def test_the_transfer_event_names_both_sponsors() -> None:
    person = registered(sponsor=SPONSOR_A)
    person.transfer_sponsorship(event_id="tr-1", occurred_at=at("2026-03-01"), to_sponsor=SPONSOR_B)

    [transferred] = pending(person)

    assert isinstance(transferred, Person.SponsorshipTransferred)
    assert (transferred.from_sponsor, transferred.to_sponsor) == (SPONSOR_A, SPONSOR_B)
    assert transferred.occurred_at == at("2026-03-01")


def test_a_transfer_to_the_current_sponsor_is_refused() -> None:
    person = registered(sponsor=SPONSOR_A)

    with pytest.raises(SponsorUnchanged, match=f"to_sponsor '{SPONSOR_A}' already sponsors this person"):
        person.transfer_sponsorship(event_id="tr-1", occurred_at=at("2026-03-01"), to_sponsor=SPONSOR_A)

    assert person.collect_events() == []
    assert person.sponsorship_periods() == [(SPONSOR_A, None, None)]


def test_a_transfer_to_the_sponsor_of_that_time_is_refused_even_when_late() -> None:
    person = registered(sponsor=SPONSOR_A)
    person.transfer_sponsorship(event_id="tr-2", occurred_at=at("2026-03-01"), to_sponsor=SPONSOR_B)
    person.collect_events()

    # In 2025 A sponsored the person: a transfer to A then changes nothing and is refused.
    with pytest.raises(SponsorUnchanged):
        person.transfer_sponsorship(event_id="tr-1", occurred_at=at("2025-09-01"), to_sponsor=SPONSOR_A)
    # Back to A after B took over is a real transfer.
    left = person.transfer_sponsorship(event_id="tr-3", occurred_at=at("2026-05-01"), to_sponsor=SPONSOR_A)

    assert left == SPONSOR_B
    assert person.current_sponsor == SPONSOR_A
    assert [e.event_id for e in pending(person)] == ["tr-3"]


# --- visas ---------------------------------------------------------------------------------------


def test_a_visa_status_before_its_issue_is_accepted_out_of_order() -> None:
    person = registered()

    person.change_visa_status(
        event_id="v-2",
        occurred_at=at("2026-03-10"),
        visa_number="V1",
        status="extended",
        valid_until=date(2026, 9, 1),
    )
    assert person.visas["V1"].status == "extended"
    assert person.visas["V1"].visa_type is None  # not known until the issue arrives

    person.issue_visa(
        event_id="v-1",
        occurred_at=at("2026-01-15"),
        visa_number="V1",
        visa_type="work",
        valid_from=date(2026, 1, 15),
        valid_until=date(2026, 6, 15),
    )

    visa = person.visas["V1"]
    assert visa.visa_type == "work"
    assert visa.valid_from == date(2026, 1, 15)
    assert visa.status == "extended"  # the newer status is not overwritten by the late issue
    assert visa.valid_until == date(2026, 9, 1)  # nor is the extension
    assert [e.event_id for e in pending(person)] == ["v-2", "v-1"]


def test_a_visa_issued_then_changed_in_order() -> None:
    person = registered()
    person.issue_visa(
        event_id="v-1",
        occurred_at=at("2026-01-15"),
        visa_number="V1",
        visa_type="visit",
        valid_from=date(2026, 1, 15),
        valid_until=date(2026, 4, 15),
    )
    assert person.visas["V1"].status == "issued"
    person.change_visa_status(
        event_id="v-2", occurred_at=at("2026-02-01"), visa_number="V1", status="cancelled", valid_until=None
    )
    assert person.visas["V1"].status == "cancelled"
    assert person.visas["V1"].valid_until == date(2026, 4, 15)


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "fragment"),
    [(date(2026, 4, 15), date(2026, 1, 15), "valid_until 2026-01-15 is before valid_from 2026-04-15")],
)
def test_a_visa_ending_before_it_starts_is_refused(
    valid_from: date, valid_until: date, fragment: str
) -> None:
    person = registered()
    with pytest.raises(InvalidValue, match=fragment):
        person.issue_visa(
            event_id="v-1",
            occurred_at=at("2026-01-15"),
            visa_number="V1",
            visa_type="visit",
            valid_from=valid_from,
            valid_until=valid_until,
        )
    assert person.collect_events() == []


def test_the_same_visa_cannot_be_issued_twice() -> None:
    person = registered()
    kwargs = {
        "occurred_at": at("2026-01-15"),
        "visa_number": "V1",
        "visa_type": "visit",
        "valid_from": date(2026, 1, 15),
        "valid_until": date(2026, 4, 15),
    }
    person.issue_visa(event_id="v-1", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="visa_number 'V1' was already issued"):
        person.issue_visa(event_id="v-9", **kwargs)  # type: ignore[arg-type]


# --- border crossings --------------------------------------------------------------------------


def test_a_late_crossing_never_overrides_a_newer_one() -> None:
    person = registered()
    person.cross_border(event_id="x-2", occurred_at=at("2026-03-01"), direction="exit", port="KFIA")
    person.cross_border(event_id="x-1", occurred_at=at("2026-02-01"), direction="entry", port="RUH")

    assert person.last_crossing == (at("2026-03-01"), "exit", "KFIA")
    assert [e.event_id for e in pending(person)] == ["x-2", "x-1"]
