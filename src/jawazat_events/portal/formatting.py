"""How the portal shows dates, times, numbers and identifiers: isolated from the text around them.

Numbers, ID numbers, phones and dates are wrapped in `<bdi dir="ltr">` so they never scramble inside Arabic
text. Where a date matters to the reader it is given in the Gregorian and the Hijri (Umm al-Qura, via
`hijridate`) calendars side by side, in the business time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from hijridate import Gregorian
from markupsafe import Markup, escape

from jawazat_events.portal.messages import Language, translate


def ltr(value: object) -> Markup:
    """A number, identifier, phone or address, isolated left-to-right."""
    if value is None or value == "":
        return Markup("")
    return Markup('<bdi dir="ltr">{}</bdi>').format(value)


def number(value: int | float) -> Markup:
    """A count with thousands separators (Western digits, as the directorate's portals print them)."""
    return ltr(f"{value:,}")


def _as_datetime(value: object, zone: ZoneInfo) -> datetime | date | None:
    if isinstance(value, datetime):
        return value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            try:
                return date.fromisoformat(value)
            except ValueError:
                return None
        return parsed.astimezone(zone) if parsed.tzinfo else parsed.replace(tzinfo=zone)
    return None


def hijri(day: date, language: Language) -> str:
    """The Hijri (Umm al-Qura) date, e.g. `16 Muharram 1448 AH`; empty outside the calendar's range."""
    try:
        h = Gregorian(day.year, day.month, day.day).to_hijri()
    except (OverflowError, ValueError):
        return ""
    return f"{h.day} {h.month_name(language)} {h.year} {h.notation(language)}"


def when(value: object, language: Language, zone: ZoneInfo, *, with_time: bool = True) -> Markup:
    """A moment (or a day) in the Gregorian calendar, with the Hijri date beside it."""
    moment = _as_datetime(value, zone)
    if moment is None:
        return Markup(escape(str(value or "")))
    day = moment.date() if isinstance(moment, datetime) else moment
    shown = (
        moment.strftime("%Y-%m-%d %H:%M") if with_time and isinstance(moment, datetime) else day.isoformat()
    )
    hijri_text = hijri(day, language)
    if not hijri_text:
        return Markup('<span class="dates">{}</span>').format(ltr(shown))
    return Markup('<span class="dates">{} <span class="hijri">({})</span></span>').format(
        ltr(shown), Markup("<bdi>{}</bdi>").format(hijri_text)
    )


def notification_type(value: str, language: Language) -> str:
    """A notification type's name in the page's language."""
    return translate(f"type.{value}", language)
