"""Person links view: which people's records have held an e-mail address, a mobile or a guardian.

The portal finds the person who signs in with a contact (`email:…`, `mobile:…`) and the dependants of a
guardian (`guardian:…`) here. A row says only that some registration or detail change of that person named
the value once: rows are never removed (details are facts at a date, and changes may arrive out of order),
so every answer is a list of *candidates* that the services check against the person's record as it stands
at the moment (`services.person_directory`). Every row comes from the events, so a rebuild gives the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.utils import get_topic

from jawazat_events.domain.person import Person
from jawazat_events.projections.base import Positioned, ReadModel, ReadModelDatabase, Sql, columns
from jawazat_events.projections.tables import PERSON_LINKS

# The details that link a record to a value someone may look the person up by.
LINKED_DETAILS = ("email", "mobile", "guardian")


def link_of(kind: str, value: str) -> str:
    """The key of a link: `email:` + the address in lower case, `mobile:` + E.164, `guardian:` + ID."""
    return f"{kind}:{value.lower() if kind == 'email' else value}"


class PersonLinksView(ReadModel):
    """(link, ID number) for every contact and guardian a person's record has named."""

    name = "person_links"
    tables = (PERSON_LINKS,)
    topics = tuple(get_topic(cls) for cls in (Person.Registered, Person.DetailsChanged))

    def schema(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {PERSON_LINKS} ("
            "link TEXT NOT NULL, id_number TEXT NOT NULL, PRIMARY KEY (link, id_number))",
        ]

    def apply(self, sql: Sql, item: Positioned) -> None:
        self.apply_batch(sql, [item])

    def apply_batch(self, sql: Sql, items: Sequence[Positioned]) -> int:
        """Every link the batch's registrations and detail changes name, in ONE set-wise insert (rows are
        only ever added, so order within the batch does not matter; a link already present stays)."""
        links: dict[tuple[str, str], None] = {}
        for item in items:
            event: Any = item.event
            if not isinstance(event, Person.Registered | Person.DetailsChanged):
                continue  # other events do not change this view
            for kind in LINKED_DETAILS:
                value = getattr(event, kind, None)
                if value:
                    links[(link_of(kind, str(value)), event.id_number)] = None
        sql.insert_rows(PERSON_LINKS, _COLUMNS, list(links), conflict="ON CONFLICT DO NOTHING")
        return 0


_COLUMNS = columns("link, id_number")


class PersonLinksQueries:
    """The `services.person_directory.PersonLinks` port: candidates by contact, dependants by guardian.

    Each look-up brings the view to the store's head first (`catch_up`), so a person registered a moment
    ago can sign in at once, with no worker running."""

    def __init__(self, db: ReadModelDatabase, *, catch_up: Callable[[], None]) -> None:
        self.db = db
        self.catch_up = catch_up
        self._lock = threading.Lock()

    def _ids(self, link: str, limit: int) -> list[str]:
        with self._lock:
            self.catch_up()
        with self.db.reading() as sql:
            rows = sql.execute(
                f"SELECT id_number FROM {PERSON_LINKS} WHERE link = ? ORDER BY id_number LIMIT ?",
                (link, limit),
            ).fetchall()
        return [row["id_number"] for row in rows]

    def people_with_contact(self, contact: str, *, limit: int = 20) -> list[str]:
        """People whose record has named this e-mail address (any case) or mobile (E.164)."""
        return self._ids(link_of("email" if "@" in contact else "mobile", contact), limit)

    def people_with_guardian(self, guardian: str, *, limit: int = 50) -> list[str]:
        """People whose record has named this ID number as their guardian."""
        return self._ids(link_of("guardian", guardian), limit)
