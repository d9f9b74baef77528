"""Quiet hours (value object): the window's rules, across midnight too, and its input checks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.quiet_hours import QuietHours, parse_quiet_hours

RIYADH = ZoneInfo("Asia/Riyadh")


def at(text: str) -> datetime:
    """A moment in Riyadh's time."""
    return datetime.fromisoformat(text).replace(tzinfo=RIYADH)


@pytest.mark.parametrize(
    ("window", "now", "until"),
    [
        ("22:00-07:00", "2026-07-01T23:30", "2026-07-02T07:00"),  # before midnight: tomorrow morning
        ("22:00-07:00", "2026-07-02T03:00", "2026-07-02T07:00"),  # after midnight: this morning
        ("22:00-07:00", "2026-07-01T22:00", "2026-07-02T07:00"),  # the start is inside
        ("22:00-07:00", "2026-07-02T07:00", None),  # the end is outside
        ("22:00-07:00", "2026-07-01T21:59", None),
        ("22:00-07:00", "2026-07-01T12:00", None),
        ("13:00-15:30", "2026-07-01T14:00", "2026-07-01T15:30"),  # within a day
        ("13:00-15:30", "2026-07-01T15:30", None),
        ("13:00-15:30", "2026-07-01T12:59", None),
        ("00:00-06:00", "2026-07-01T00:00", "2026-07-01T06:00"),
        ("23:59-00:01", "2026-07-01T23:59", "2026-07-02T00:01"),
    ],
)
def test_held_until_the_window_ends(window: str, now: str, until: str | None) -> None:
    held = parse_quiet_hours(window).held_until(at(now), RIYADH)

    assert held == (at(until) if until else None)


def test_a_moment_in_another_zone_is_judged_in_the_business_zone() -> None:
    # 20:30 UTC is 23:30 in Riyadh.
    held = parse_quiet_hours("22:00-07:00").held_until(datetime(2026, 7, 1, 20, 30, tzinfo=UTC), RIYADH)

    assert held == at("2026-07-02T07:00")


@pytest.mark.parametrize(
    "text", ["", "22:00", "22-07", "24:00-07:00", "22:00-07:60", "22:00 - 07:00x", "7:00-8:00", "07:00-07:00"]
)
def test_malformed_windows_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidValue, match=r"^quiet_hours"):
        parse_quiet_hours(text)


def test_a_window_reads_back_as_written() -> None:
    assert str(parse_quiet_hours(" 22:00-07:00 ")) == "22:00-07:00"


times = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(RIYADH)
)
windows = st.tuples(st.integers(0, 1439), st.integers(0, 1439)).filter(lambda pair: pair[0] != pair[1])


@given(now=times, window=windows)
def test_a_held_sms_waits_less_than_a_day_and_goes_when_the_window_ends(
    now: datetime, window: tuple[int, int]
) -> None:
    start, end = (f"{m // 60:02d}:{m % 60:02d}" for m in window)
    quiet = parse_quiet_hours(f"{start}-{end}")
    until = quiet.held_until(now, RIYADH)
    if until is None:
        assert not quiet.contains(now.time().replace(tzinfo=None))
        return
    assert now < until <= now + timedelta(days=1)
    assert until.strftime("%H:%M") == end
    assert quiet.held_until(until, RIYADH) is None


def test_quiet_hours_value_object_compares_by_value() -> None:
    assert parse_quiet_hours("22:00-07:00") == QuietHours(time(22, 0), time(7, 0))
