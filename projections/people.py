"""People view: current sponsor, presence in the kingdom and passport, by business time.

Late events never flip the view wrongly: a crossing, renewal or transfer only replaces what the view
holds when its business time is at least as recent. The passport columns, indexed by expiry date, are the
expiry calendar the scheduler's passport-expiry job reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.utils import get_topic
from psycopg.rows import tuple_row

from jawazat_events.domain.moments import utc_iso
from jawazat_events.domain.person import Person
from jawazat_events.projections.base import Positioned, ReadModel, ReadModelDatabase, Sql
from jawazat_events.projections.tables import PEOPLE
from jawazat_events.services.ports import CalendarRow


class PeopleView(ReadModel):
    """Who each person is, who sponsors them now, whether they are inside, and their passport."""

    name = "people"
    tables = (PEOPLE,)
    topics = tuple(
        get_topic(cls)
        for cls in (
            Person.Registered,
            Person.BorderCrossed,
            Person.PassportRenewed,
            Person.SponsorshipTransferred,
        )
    )

    def schema(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {PEOPLE} ("
            "id_number TEXT PRIMARY KEY, name_ar TEXT NOT NULL, name_en TEXT NOT NULL, "
            "nationality TEXT NOT NULL, sponsor TEXT NOT NULL, sponsor_since TEXT, "
            "inside INTEGER, last_crossing_at TEXT, last_port TEXT, "
            "passport_number TEXT NOT NULL, passport_issue_date TEXT NOT NULL, "
            "passport_expiry_date TEXT NOT NULL, registered_at TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {PEOPLE}_by_expiry ON {PEOPLE} (passport_expiry_date)",
            # The expiry job pages through a date window by (date, id_number), a keyset it can resume; with
            # the passport number in the index too, it reads the index alone (an index-only scan).
            f"CREATE INDEX IF NOT EXISTS {PEOPLE}_expiry_calendar "
            f"ON {PEOPLE} (passport_expiry_date, id_number, passport_number)",
            f"CREATE INDEX IF NOT EXISTS {PEOPLE}_by_sponsor ON {PEOPLE} (sponsor)",
        ]

    def apply(self, sql: Sql, item: Positioned) -> None:
        self._on(item.event, sql)

    @singledispatchmethod
    def _on(self, event: Any, sql: Sql) -> None:
        """Other events do not change this view."""

    @_on.register
    def _(self, event: Person.Registered, sql: Sql) -> None:
        sql.execute(
            f"INSERT INTO {PEOPLE} (id_number, name_ar, name_en, nationality, sponsor, passport_number, "
            "passport_issue_date, passport_expiry_date, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (
                event.id_number,
                event.name_ar,
                event.name_en,
                event.nationality,
                event.sponsor,
                event.passport_number,
                event.passport_issue_date.isoformat(),
                event.passport_expiry_date.isoformat(),
                utc_iso(event.occurred_at),
            ),
        )

    @_on.register
    def _(self, event: Person.BorderCrossed, sql: Sql) -> None:
        when = utc_iso(event.occurred_at)
        sql.execute(
            f"UPDATE {PEOPLE} SET inside = ?, last_crossing_at = ?, last_port = ? "
            "WHERE id_number = ? AND (last_crossing_at IS NULL OR last_crossing_at <= ?)",
            (1 if event.direction == "entry" else 0, when, event.port, event.id_number, when),
        )

    @_on.register
    def _(self, event: Person.PassportRenewed, sql: Sql) -> None:
        sql.execute(
            f"UPDATE {PEOPLE} SET passport_number = ?, passport_issue_date = ?, passport_expiry_date = ? "
            "WHERE id_number = ? AND passport_issue_date <= ?",
            (
                event.passport_number,
                event.issue_date.isoformat(),
                event.expiry_date.isoformat(),
                event.id_number,
                event.issue_date.isoformat(),
            ),
        )

    @_on.register
    def _(self, event: Person.SponsorshipTransferred, sql: Sql) -> None:
        sql.execute(
            f"UPDATE {PEOPLE} SET sponsor = ?, sponsor_since = ? "
            "WHERE id_number = ? AND (sponsor_since IS NULL OR sponsor_since <= ?)",
            (event.to_sponsor, utc_iso(event.occurred_at), event.id_number, utc_iso(event.occurred_at)),
        )


class PassportCalendar:
    """The people view's expiry calendar, read page by page (`services.ports.PassportCalendar`)."""

    def __init__(self, db: ReadModelDatabase) -> None:
        self.db = db

    def pages(self, *, first: date, last: date, page_size: int) -> Iterator[list[CalendarRow]]:
        """Pages of people whose passport expires in [first, last], by (expiry date, ID number).

        Keyset paging on the calendar index (passport_expiry_date, id_number, passport_number), read alone
        (index-only on PostgreSQL): each page is one short read, so nothing is held open between pages and
        memory stays at one page whatever the view's size.
        """
        after = (first.isoformat(), "")
        statement = (
            f"SELECT id_number, passport_number, passport_expiry_date FROM {PEOPLE} "
            "WHERE (passport_expiry_date, id_number) > (?, ?) AND passport_expiry_date <= ? "
            "ORDER BY passport_expiry_date, id_number LIMIT ?"
        )
        while True:
            with self.db.reading() as sql:
                if sql.postgres:
                    sql.cursor.row_factory = tuple_row  # this transaction's cursor only; tuples are cheap
                sql.execute(statement, (*after, last.isoformat(), page_size))
                rows: list[CalendarRow] = sql.cursor.fetchall()  # tuples, or sqlite3.Row (unpacks alike)
            if not rows:
                return
            yield rows
            if len(rows) < page_size:
                return
            after = (rows[-1][2], rows[-1][0])
