"""Plausible times: the windows business times, document dates and query times must fall in.

A time outside them is a source system's mistake (or an attack) that would later break date arithmetic:
`9999-12-31T23:59:59-14:00` has no UTC equivalent at all. The bounds live here, once; docs/events.md
and docs/api.md state them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from jawazat_events.domain.errors import InvalidValue

# Nothing the directorate records happened before this.
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)
EARLIEST_DATE = EARLIEST_TIME.date()
# A business time (`occurred_at`) may run ahead of our clock by at most this much (clock skew, time zones).
MAX_TIME_AHEAD = timedelta(days=1)
# Passport and visa dates (issue, expiry, validity) lie at most this many years after today.
MAX_DOCUMENT_YEARS_AHEAD = 30
# Times given to queries (`since`, `at`, `--since`…) lie between EARLIEST_TIME and this: far from the
# end of the calendar, so no date arithmetic on them can overflow.
LATEST_QUERY_TIME = datetime(9000, 1, 1, tzinfo=UTC)


def _named(field: str | None, sentence: str) -> str:
    return f"{field} {sentence}" if field else sentence


def _utc(value: datetime, field: str | None) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(_named(field, "must carry a time-zone offset"))
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidValue(
            _named(field, f"{value.isoformat()} has no UTC equivalent (outside years 1-9999)")
        ) from None


def check_business_time(value: datetime, *, now: datetime, field: str = "occurred_at") -> datetime:
    """A business time between `EARLIEST_TIME` and `now + MAX_TIME_AHEAD`, else `InvalidValue`."""
    moment = _utc(value, field)
    latest = now.astimezone(UTC) + MAX_TIME_AHEAD
    if moment < EARLIEST_TIME:
        raise InvalidValue(f"{field} {value.isoformat()} is before {EARLIEST_TIME:%Y-%m-%d}")
    if moment > latest:
        raise InvalidValue(
            f"{field} {value.isoformat()} is in the future: more than "
            f"{MAX_TIME_AHEAD.days} day after now ({now.astimezone(UTC).isoformat(timespec='seconds')})"
        )
    return value


def latest_document_date(today: date) -> date:
    """The last plausible passport or visa date, seen from `today`."""
    try:
        return today.replace(year=today.year + MAX_DOCUMENT_YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_DOCUMENT_YEARS_AHEAD, day=28)


def check_document_date(value: date, *, today: date, field: str) -> date:
    """A passport or visa date between `EARLIEST_DATE` and `MAX_DOCUMENT_YEARS_AHEAD` years from today."""
    if value < EARLIEST_DATE:
        raise InvalidValue(f"{field} {value.isoformat()} is before {EARLIEST_DATE.isoformat()}")
    latest = latest_document_date(today)
    if value > latest:
        raise InvalidValue(
            f"{field} {value.isoformat()} is more than {MAX_DOCUMENT_YEARS_AHEAD} years ahead "
            f"(latest {latest.isoformat()})"
        )
    return value


class PlausibleWindow:
    """`check_business_time` and `check_document_date` for one clock reading, their bounds worked out
    once: the same windows, the same refusals (a bulk run checks thousands of values against one `now`)."""

    def __init__(self, *, now: datetime, today: date) -> None:
        self.now = now
        self.today = today
        self.latest_time = now.astimezone(UTC) + MAX_TIME_AHEAD
        self.latest_date = latest_document_date(today)

    def business_time(self, value: datetime, field: str = "occurred_at") -> datetime:
        """`check_business_time(value, now=self.now, field=field)`."""
        if EARLIEST_TIME <= _utc(value, field) <= self.latest_time:
            return value
        return check_business_time(value, now=self.now, field=field)  # refused, with its sentence

    def document_date(self, value: date, field: str) -> date:
        """`check_document_date(value, today=self.today, field=field)`."""
        if EARLIEST_DATE <= value <= self.latest_date:
            return value
        return check_document_date(value, today=self.today, field=field)  # refused, with its sentence


def check_query_time(value: datetime, *, field: str | None = None) -> datetime:
    """A time given to a query, between `EARLIEST_TIME` and `LATEST_QUERY_TIME`, else `InvalidValue`
    (whose sentence starts with `field` when given; the API names the parameter itself)."""
    moment = _utc(value, field)
    if not EARLIEST_TIME <= moment < LATEST_QUERY_TIME:
        raise InvalidValue(
            _named(field, f"must lie between {EARLIEST_TIME.isoformat()} and {LATEST_QUERY_TIME.isoformat()}")
        )
    return value


def check_business_day(value: date, *, today: date, field: str) -> date:
    """A business day the engine may act on (the scheduler's `--today`): not before `EARLIEST_DATE`, not
    after tomorrow (the events it makes would be business times in the future)."""
    latest = today + MAX_TIME_AHEAD
    if not EARLIEST_DATE <= value <= latest:
        raise InvalidValue(
            f"{field} {value.isoformat()} is outside {EARLIEST_DATE.isoformat()} to {latest.isoformat()}"
        )
    return value
