"""Hajj seasons in the Umm al-Qura calendar: 1 Shawwal to 15 Dhu al-Hijjah of a Hijri year.

`hijridate` converts Umm al-Qura dates (Hijri years 1343-1500). An operator may set any season's dates
with `JAWAZAT_HAJJ_SEASONS` (`1448=2027-03-09..2027-05-21,…`), e.g. when the directorate announces a
different window; those win over the calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from hijridate import Gregorian, Hijri

from jawazat_events.domain.makkah_permit import SeasonWindow, parse_season
from jawazat_events.domain.requests import NotEligible

SHAWWAL, DHU_AL_HIJJAH = 10, 12
FIRST_YEAR, LAST_YEAR = 1343, 1500
# Applications open at most this long before a season's permits start to be valid.
OPENS_AHEAD = timedelta(days=400)


def umm_al_qura_window(season: str) -> SeasonWindow:
    """1 Shawwal to 15 Dhu al-Hijjah of the Hijri year, as Gregorian dates."""
    year = int(season)
    opens = Hijri(year, SHAWWAL, 1).to_gregorian()
    closes = Hijri(year, DHU_AL_HIJJAH, 15).to_gregorian()
    return SeasonWindow(
        season, date(opens.year, opens.month, opens.day), date(closes.year, closes.month, closes.day)
    )


class HajjSeasons:
    """The window of each season: the operator's override, else the Umm al-Qura calendar's."""

    def __init__(self, overrides: Mapping[str, SeasonWindow] | None = None) -> None:
        self.overrides = dict(overrides or {})

    def window(self, raw_season: object) -> SeasonWindow:
        """The season's window, or `NotEligible` naming `season` for a year the calendar cannot place."""
        try:
            season = parse_season(raw_season)
        except ValueError as error:
            raise NotEligible("season", "season_known", str(error).removeprefix("season ")) from None
        if season in self.overrides:
            return self.overrides[season]
        if not FIRST_YEAR <= int(season) <= LAST_YEAR:
            raise NotEligible(
                "season",
                "season_known",
                f"{season} is outside the Umm al-Qura calendar's years ({FIRST_YEAR}-{LAST_YEAR})",
            )
        return umm_al_qura_window(season)

    def open_window(self, raw_season: object, today: date) -> SeasonWindow:
        """The window of a season that accepts applications today: not ended, and not over a year away."""
        window = self.window(raw_season)
        if today > window.closes:
            raise NotEligible(
                "season",
                "season_open",
                f"the {window.season} season ended on {window.closes}: applications are no longer accepted",
            )
        if window.opens - today > OPENS_AHEAD:
            raise NotEligible(
                "season",
                "season_open",
                f"the {window.season} season starts on {window.opens}: applications open "
                f"{OPENS_AHEAD.days} days before",
            )
        return window

    def next_open(self, today: date) -> SeasonWindow:
        """The first season still accepting applications today (this Hijri year's, else the next)."""
        year = Gregorian(today.year, today.month, today.day).to_hijri().year
        for season in (str(year), str(year + 1)):
            window = self.window(season)
            if today <= window.closes:
                return window
        return self.window(str(year + 2))
