"""The plausible windows of business times, document dates, query times and business days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.plausible import (
    EARLIEST_TIME,
    LATEST_QUERY_TIME,
    MAX_DOCUMENT_YEARS_AHEAD,
    MAX_TIME_AHEAD,
    PlausibleWindow,
    check_business_day,
    check_business_time,
    check_document_date,
    check_query_time,
    latest_document_date,
)
from jawazat_events.services import feed

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
PLUS_14 = timezone(timedelta(hours=14))
MINUS_14 = timezone(timedelta(hours=-14))

BUSINESS_TIMES = [
    ("now", NOW, None),
    ("a year ago in Riyadh", datetime(2025, 7, 1, 9, tzinfo=timezone(timedelta(hours=3))), None),
    ("just inside the skew", NOW + MAX_TIME_AHEAD, None),
    ("the earliest moment", EARLIEST_TIME, None),
    ("max datetime at -14:00", datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS_14), "has no UTC equivalent"),
    ("min datetime at +14:00", datetime(1, 1, 1, 0, 0, 0, tzinfo=PLUS_14), "has no UTC equivalent"),
    ("before 1900", datetime(1899, 12, 31, 23, 59, tzinfo=UTC), "is before 1900-01-01"),
    ("two days ahead", NOW + timedelta(days=2), "is in the future: more than 1 day after now"),
    ("year 9000", datetime(9000, 1, 1, tzinfo=UTC), "is in the future"),
]


@pytest.mark.parametrize(("case", "moment", "refusal"), BUSINESS_TIMES, ids=[c[0] for c in BUSINESS_TIMES])
def test_business_times(case: str, moment: datetime, refusal: str | None) -> None:
    if refusal is None:
        assert check_business_time(moment, now=NOW) == moment
        return
    with pytest.raises(InvalidValue) as refused:
        check_business_time(moment, now=NOW)
    assert str(refused.value).startswith("occurred_at ") and refusal in str(refused.value)


DOCUMENT_DATES = [
    ("an old passport", date(1990, 1, 1), None),
    ("a ten-year passport", date(2036, 6, 30), None),
    ("the latest", latest_document_date(TODAY), None),
    ("the day after the latest", latest_document_date(TODAY) + timedelta(days=1), "years ahead"),
    ("year 9999", date(9999, 12, 31), f"more than {MAX_DOCUMENT_YEARS_AHEAD} years ahead"),
    ("year 1", date(1, 1, 1), "is before 1900-01-01"),
]


@pytest.mark.parametrize(("case", "day", "refusal"), DOCUMENT_DATES, ids=[c[0] for c in DOCUMENT_DATES])
def test_document_dates(case: str, day: date, refusal: str | None) -> None:
    if refusal is None:
        assert check_document_date(day, today=TODAY, field="valid_until") == day
        return
    with pytest.raises(InvalidValue, match=r"^valid_until ") as refused:
        check_document_date(day, today=TODAY, field="valid_until")
    assert refusal in str(refused.value)


def test_the_latest_document_date_from_29_february() -> None:
    assert latest_document_date(date(2028, 2, 29)) == date(2028 + MAX_DOCUMENT_YEARS_AHEAD, 2, 28)


def test_query_times_without_a_field_name_leave_naming_to_the_caller() -> None:
    with pytest.raises(InvalidValue, match=r"^must lie between 1900"):
        check_query_time(datetime(9500, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidValue, match=r"^--at 9999-12-31T23:59:59-14:00 has no UTC equivalent"):
        check_query_time(datetime(9999, 12, 31, 23, 59, 59, tzinfo=MINUS_14), field="--at")
    assert check_query_time(LATEST_QUERY_TIME - timedelta(seconds=1)) < LATEST_QUERY_TIME


def test_business_days_reach_tomorrow_at_most() -> None:
    assert check_business_day(TODAY + timedelta(days=1), today=TODAY, field="--today")
    for day in (date(9999, 12, 31), date(1, 1, 1), TODAY + timedelta(days=2)):
        with pytest.raises(InvalidValue, match=r"^--today .* is outside 1900-01-01 to 2026-07-02"):
            check_business_day(day, today=TODAY, field="--today")


@given(
    st.datetimes(timezones=st.sampled_from([UTC, PLUS_14, MINUS_14, timezone(timedelta(hours=3))])),
)
def test_any_aware_time_is_accepted_or_refused_with_a_sentence(moment: datetime) -> None:
    for check in (lambda: check_business_time(moment, now=NOW), lambda: check_query_time(moment)):
        try:
            check()
        except InvalidValue:
            continue
        assert EARLIEST_TIME <= moment.astimezone(UTC) < LATEST_QUERY_TIME


def test_the_feed_checks_every_time_and_date_field_of_every_event_type() -> None:
    for kind in (
        feed.PersonRegistered,
        feed.BorderCrossing,
        feed.PassportRenewed,
        feed.VisaIssued,
        feed.VisaStatusChanged,
        feed.SponsorshipTransferred,
    ):
        checked = set(feed._time_fields(kind))
        typed = {n for n, f in kind.model_fields.items() if "date" in repr(f.annotation).lower()}
        assert "occurred_at" in checked and typed == checked, (kind.__name__, checked, typed)


def _outcome(check: object) -> object:
    try:
        return check()  # type: ignore[operator]
    except InvalidValue as error:
        return f"refused: {error}"


@given(
    st.datetimes(timezones=st.sampled_from([UTC, PLUS_14, MINUS_14, timezone(timedelta(hours=3))])),
    st.dates(),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_a_window_for_one_clock_reading_accepts_and_refuses_as_the_checks_do(
    moment: datetime, day: date, now: datetime
) -> None:
    window = PlausibleWindow(now=now, today=now.date())
    for case_moment in (moment, *(m for _, m, _ in BUSINESS_TIMES)):
        assert _outcome(lambda m=case_moment: window.business_time(m, "valid_from")) == _outcome(
            lambda m=case_moment: check_business_time(m, now=now, field="valid_from")
        )
    for case_day in (day, *(d for _, d, _ in DOCUMENT_DATES)):
        assert _outcome(lambda d=case_day: window.document_date(d, "expiry_date")) == _outcome(
            lambda d=case_day: check_document_date(d, today=now.date(), field="expiry_date")
        )
