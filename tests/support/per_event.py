"""The people view as it was applied before it went set-wise: one statement per event, in recording order.

Kept as the reference the set-wise fold (`projections/people.py`) is compared with
(`tests/integration/test_setwise_property.py`): same table, same conditions, executed by the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jawazat_events.domain.moments import utc_iso
from jawazat_events.domain.person import Person
from jawazat_events.projections.base import Positioned, Sql
from jawazat_events.projections.people import PeopleView
from jawazat_events.projections.tables import PEOPLE


class PerEventPeople(PeopleView):
    """The people view's former statements, one per event."""

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        for item in items:
            statement(sql, item.event)
        return 0


def statement(sql: Sql, event: Any) -> None:
    """The one statement an event ran (none for other events)."""
    if isinstance(event, Person.Registered):
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
    elif isinstance(event, Person.BorderCrossed):
        when = utc_iso(event.occurred_at)
        sql.execute(
            f"UPDATE {PEOPLE} SET inside = ?, last_crossing_at = ?, last_port = ? "
            "WHERE id_number = ? AND (last_crossing_at IS NULL OR last_crossing_at <= ?)",
            (1 if event.direction == "entry" else 0, when, event.port, event.id_number, when),
        )
    elif isinstance(event, Person.PassportRenewed):
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
    elif isinstance(event, Person.SponsorshipTransferred):
        sql.execute(
            f"UPDATE {PEOPLE} SET sponsor = ?, sponsor_since = ? "
            "WHERE id_number = ? AND (sponsor_since IS NULL OR sponsor_since <= ?)",
            (event.to_sponsor, utc_iso(event.occurred_at), event.id_number, utc_iso(event.occurred_at)),
        )
