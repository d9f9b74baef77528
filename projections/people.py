"""People view: current sponsor, presence in the kingdom and passport, by business time.

Late events never flip the view wrongly: a crossing, renewal or transfer only replaces what the view
holds when its business time is at least as recent. The passport columns, indexed by expiry date, are the
expiry calendar the scheduler's passport-expiry job reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from functools import singledispatch
from typing import Any

from eventsourcing.utils import get_topic
from psycopg.rows import tuple_row

from jawazat_events.domain.moments import utc_iso
from jawazat_events.domain.person import Person
from jawazat_events.projections.base import Index, Positioned, ReadModel, ReadModelDatabase, Sql, columns
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
        ]

    def indexes(self) -> list[Index]:
        return [
            Index(f"{PEOPLE}_by_expiry", PEOPLE, "passport_expiry_date"),
            # The expiry job pages through a date window by (date, id_number), a keyset it can resume; with
            # the passport number in the index too, it reads the index alone (an index-only scan).
            Index(f"{PEOPLE}_expiry_calendar", PEOPLE, "passport_expiry_date, id_number, passport_number"),
            Index(f"{PEOPLE}_by_sponsor", PEOPLE, "sponsor"),
        ]

    # A row is one person's, made from that person's events alone.
    by_aggregate = True

    def apply(self, sql: Sql, item: Positioned) -> None:
        self.apply_batch(sql, [item])

    def replay_aggregates(self, sql: Sql, streams: Iterable[Sequence[Positioned]]) -> None:
        """Each person's row folded from all of their events (the same fold as `apply_batch`, from no
        row), then written in ONE upsert: what a stopped rebuild left is replaced. An event the fold
        cannot apply is parked and the person's other events still apply, as when a batch is split."""
        rows = []
        for stream in streams:
            row: dict[str, Any] | None = None
            for item in stream:
                try:
                    row = _fold(item.event, row)
                except Exception as error:  # parked with its error, as `process` would
                    self.park(sql, item, error)
            if row is not None:
                rows.append(tuple(row[c.name] for c in _COLUMNS))
        sql.insert_rows(PEOPLE, _COLUMNS, rows, conflict=_UPSERT)

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        """Fold the batch into each touched person's final row, in recording order, then write the changed
        rows in ONE set-wise upsert.

        The fold is exactly the statements the view used to run per event (a registration inserts if
        absent; a crossing, renewal or transfer updates only a present row and only when its business time
        is at least as recent), evaluated on the rows as they stand, so several events of one person in one
        batch end as they did event by event. Times are compared as the same UTC ISO text the database
        compares.
        """
        ours = [item.event for item in items if isinstance(item.event, _EVENTS)]
        if not ours:
            return 0
        rows: dict[str, dict[str, Any] | None] = dict.fromkeys(sorted({e.id_number for e in ours}))
        for row in sql.fetch_any(f"SELECT {_NAMES} FROM {PEOPLE} WHERE id_number = ANY(?)", rows.keys()):
            rows[row["id_number"]] = row
        before = {key: dict(row) for key, row in rows.items() if row is not None}
        for event in ours:
            rows[event.id_number] = _fold(event, rows[event.id_number])
        changed = [
            tuple(row[c.name] for c in _COLUMNS)
            for key, row in rows.items()
            if row is not None and row != before.get(key)
        ]
        sql.insert_rows(PEOPLE, _COLUMNS, changed, conflict=_UPSERT)
        return 0


_COLUMNS = columns(
    "id_number, name_ar, name_en, nationality, sponsor, sponsor_since, inside, last_crossing_at, last_port, "
    "passport_number, passport_issue_date, passport_expiry_date, registered_at",
    types={"inside": "integer"},
)
_NAMES = ", ".join(c.name for c in _COLUMNS)
_UPSERT = "ON CONFLICT (id_number) DO UPDATE SET " + ", ".join(
    f"{c.name} = excluded.{c.name}" for c in _COLUMNS[1:]
)
_EVENTS = (Person.Registered, Person.BorderCrossed, Person.PassportRenewed, Person.SponsorshipTransferred)


@singledispatch
def _fold(event: Any, row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A person's row after one more event (None: no row); other events do not change this view."""
    return row


@_fold.register
def _(event: Person.Registered, row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is not None:  # a row is never replaced by a registration (INSERT … ON CONFLICT DO NOTHING)
        return row
    return {
        "id_number": event.id_number,
        "name_ar": event.name_ar,
        "name_en": event.name_en,
        "nationality": event.nationality,
        "sponsor": event.sponsor,
        "sponsor_since": None,
        "inside": None,
        "last_crossing_at": None,
        "last_port": None,
        "passport_number": event.passport_number,
        "passport_issue_date": event.passport_issue_date.isoformat(),
        "passport_expiry_date": event.passport_expiry_date.isoformat(),
        "registered_at": utc_iso(event.occurred_at),
    }


@_fold.register
def _(event: Person.BorderCrossed, row: dict[str, Any] | None) -> dict[str, Any] | None:
    when = utc_iso(event.occurred_at)
    if row is None or not (row["last_crossing_at"] is None or row["last_crossing_at"] <= when):
        return row
    return row | {
        "inside": 1 if event.direction == "entry" else 0,
        "last_crossing_at": when,
        "last_port": event.port,
    }


@_fold.register
def _(event: Person.PassportRenewed, row: dict[str, Any] | None) -> dict[str, Any] | None:
    issued = event.issue_date.isoformat()
    if row is None or not row["passport_issue_date"] <= issued:
        return row
    return row | {
        "passport_number": event.passport_number,
        "passport_issue_date": issued,
        "passport_expiry_date": event.expiry_date.isoformat(),
    }


@_fold.register
def _(event: Person.SponsorshipTransferred, row: dict[str, Any] | None) -> dict[str, Any] | None:
    when = utc_iso(event.occurred_at)
    if row is None or not (row["sponsor_since"] is None or row["sponsor_since"] <= when):
        return row
    return row | {"sponsor": event.to_sponsor, "sponsor_since": when}


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
