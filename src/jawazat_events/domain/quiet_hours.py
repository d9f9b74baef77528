"""Quiet hours (value object): a daily window in the business time zone when non-urgent SMS wait.

`"22:00-07:00"` runs across midnight; `"13:00-15:00"` within a day. The window includes its start and
excludes its end: an SMS due at 07:00 sharp goes out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from jawazat_events.domain.errors import InvalidValue

_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class QuietHours:
    """A daily window [start, end) in the business time zone; across midnight when start > end."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, moment: time) -> bool:
        """True when a time of day lies in the window."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def held_until(self, now: datetime, zone: tzinfo) -> datetime | None:
        """When the window that holds `now` ends (in `zone`), or None when `now` is outside it."""
        local = now.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return None
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        return end


def parse_quiet_hours(text: str, *, field: str = "quiet_hours") -> QuietHours:
    """`"HH:MM-HH:MM"` (24-hour clock, start and end different) or raise naming the field."""
    found = _WINDOW.fullmatch(text.strip())
    if not found:
        raise InvalidValue(f"{field} must be a window like \"22:00-07:00\" (HH:MM-HH:MM), not '{text}'")
    start = time(int(found.group(1)), int(found.group(2)))
    end = time(int(found.group(3)), int(found.group(4)))
    if start == end:
        raise InvalidValue(f"{field} must start and end at different times, not '{text}'")
    return QuietHours(start, end)
