"""The passport-expiry rules, table-driven: which event a passport is owed on a given day (no I/O)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from jawazat_events.services.expiry import (
    APPROACHING,
    EXPIRED,
    Due,
    ExpiryReport,
    ExpiryRules,
    expired_event_id,
    warning_event_id,
    window_threshold,
)
from jawazat_events.settings import Settings

EXPIRY = date(2026, 9, 1)
RULES = ExpiryRules(lead_days=(90, 60, 30, 7), catch_up_days=30)


def due_on(days_before_expiry: int, rules: ExpiryRules = RULES) -> Due | None:
    return rules.due(
        id_number="2000000006",
        passport_number="P1",
        expiry_date=EXPIRY,
        today=EXPIRY - timedelta(days=days_before_expiry),
    )


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [
        (120, None),  # beyond the largest lead: nothing yet
        (91, None),
        (90, 90),  # a threshold's own day
        (89, 90),  # inside its window (a catch-up run)
        (61, 90),
        (60, 60),
        (31, 60),
        (30, 30),
        (8, 30),
        (7, 7),
        (1, 7),
        (0, None),  # the expiry day is passport_expired's, not a warning's
        (-3, None),
    ],
)
def test_window_threshold(days_left: int, threshold: int | None) -> None:
    assert window_threshold(days_left, (90, 60, 30, 7)) == threshold


@pytest.mark.parametrize(
    ("days_left", "kind", "threshold", "event_id"),
    [
        (95, None, None, None),
        (90, APPROACHING, 90, "expiry:2000000006:P1:90"),
        (75, APPROACHING, 90, "expiry:2000000006:P1:90"),  # same id as on the day: once ever
        (60, APPROACHING, 60, "expiry:2000000006:P1:60"),
        (25, APPROACHING, 30, "expiry:2000000006:P1:30"),  # after a gap: only the latest crossed
        (7, APPROACHING, 7, "expiry:2000000006:P1:7"),
        (1, APPROACHING, 7, "expiry:2000000006:P1:7"),
        (0, EXPIRED, None, "expired:2000000006:P1"),
        (-1, EXPIRED, None, "expired:2000000006:P1"),  # missed: announced late, once
        (-30, EXPIRED, None, "expired:2000000006:P1"),  # the catch-up bound, inclusive
        (-31, None, None, None),  # too long ago to announce
    ],
)
def test_due(days_left: int, kind: str | None, threshold: int | None, event_id: str | None) -> None:
    due = due_on(days_left)
    if kind is None:
        assert due is None
        return
    assert due is not None
    assert (due.kind, due.threshold, due.event_id, due.days_left) == (kind, threshold, event_id, days_left)


def test_no_catch_up_means_expiry_day_only() -> None:
    rules = ExpiryRules(lead_days=(30,), catch_up_days=0)
    assert due_on(0, rules) is not None
    assert due_on(-1, rules) is None


def test_no_lead_days_means_expiry_only() -> None:
    rules = ExpiryRules(lead_days=(), catch_up_days=0)
    assert due_on(5, rules) is None
    assert rules.window(EXPIRY) == (EXPIRY, EXPIRY)


def test_window_covers_catch_up_and_largest_lead() -> None:
    assert RULES.window(date(2026, 7, 1)) == (date(2026, 6, 1), date(2026, 9, 29))


def test_event_ids_separate_passports_and_thresholds() -> None:
    assert warning_event_id("2000000006", "P1", 30) != warning_event_id("2000000006", "P2", 30)
    assert warning_event_id("2000000006", "P1", 30) != warning_event_id("2000000006", "P1", 7)
    assert expired_event_id("2000000006", "P1") != expired_event_id("2000000006", "P2")


def test_occurred_at_is_the_job_time_in_the_business_zone() -> None:
    rules = ExpiryRules(job_time=time(6, 0), zone=ZoneInfo("Asia/Riyadh"))
    moment = rules.occurred_at(date(2026, 7, 1))
    assert moment == datetime(2026, 7, 1, 3, 0, tzinfo=ZoneInfo("UTC"))


def test_rules_from_settings() -> None:
    settings = Settings(expiry_lead_days="14, 45", expiry_catch_up_days=3, expiry_job_time="07:30")
    rules = ExpiryRules.from_settings(settings)
    assert rules.lead_days == (45, 14)
    assert (rules.catch_up_days, rules.job_time) == (3, time(7, 30))


@pytest.mark.parametrize("raw", ["6", "25:00", "06:61", "six"])
def test_job_time_must_be_a_time_of_day(raw: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        Settings(expiry_job_time=raw)


def test_report_summary_names_every_figure() -> None:
    report = ExpiryReport(today=date(2026, 7, 1), scanned=1234, duplicates=3, superseded=1)
    report.emitted[APPROACHING] = 10
    report.emitted[EXPIRED] = 2
    assert report.summary() == (
        "passport_expiry 2026-07-01: 1,234 people scanned; emitted passport_expiry_approaching 10, "
        "passport_expired 2; duplicates refused 3; skipped (passport renewed) 1"
    )
