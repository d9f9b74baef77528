"""Names for messages: people's names from the people view, establishments' from the subscription index."""

from __future__ import annotations

from collections.abc import Sequence

from jawazat_events.projections.base import ReadModelDatabase
from jawazat_events.projections.tables import ESTABLISHMENTS, PEOPLE


class NameDirectory:
    """Looks names up for a group of alerts in two queries."""

    def __init__(self, db: ReadModelDatabase) -> None:
        self.db = db

    def person_names(self, id_numbers: Sequence[str]) -> dict[str, tuple[str, str]]:
        """(Arabic, English) names by ID number, for those the people view holds."""
        ids = sorted(id_numbers)
        with self.db.reading() as sql:
            rows = sql.execute(
                f"SELECT id_number, name_ar, name_en FROM {PEOPLE} "
                f"WHERE id_number IN {sql.in_list(len(ids))}",
                ids,
            ).fetchall()
        return {row["id_number"]: (row["name_ar"], row["name_en"]) for row in rows}

    def establishment_names(self, unified_numbers: Sequence[str]) -> dict[str, str]:
        """Current names by unified number."""
        numbers = sorted(unified_numbers)
        with self.db.reading() as sql:
            rows = sql.execute(
                f"SELECT unified_number, name FROM {ESTABLISHMENTS} "
                f"WHERE to_position IS NULL AND unified_number IN {sql.in_list(len(numbers))}",
                numbers,
            ).fetchall()
        return {row["unified_number"]: row["name"] for row in rows}
