"""Points in time as the record writes them: UTC ISO 8601 text, which sorts as time does."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def utc_iso(moment: datetime) -> str:
    """A point in time as UTC ISO 8601 text (read models store and compare times this way)."""
    return moment.astimezone(UTC).isoformat()


def utc_moment(moment: datetime, zone: tzinfo) -> datetime:
    """A point in time in UTC; a time without offset is read in the business time zone."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    return aware.astimezone(UTC)
