"""People found by what their records hold: the person who signs in with a contact, a guardian's dependants.

The look-ups go through the `PersonLinks` port (a read model of every contact and guardian a record has
named); every candidate is then checked against the person's record as it stands now (`Person.details_at`)
and, for dependants, against the e-services' own rule of who acts for whom (`people.may_act_for`), so a
lagging or stale row never lets anyone in.

A contact that the records of several people hold signs in as the one of them who is the guardian of all
the others (a head of family whose number is also on a child's record); when there is no such one, the
contact signs in as nobody (the records need correcting), and nothing says so to the person asking.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.person import Person
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.people import PeopleRecords, may_act_for


class PersonLinks(Protocol):
    """Candidates, from a read model: people whose records have named a contact, or a guardian."""

    def people_with_contact(self, contact: str) -> list[str]:
        """ID numbers of people whose record has held this e-mail address (any case) or mobile (E.164)."""
        ...

    def people_with_guardian(self, guardian: str) -> list[str]:
        """ID numbers of people whose record has named this ID number as their guardian."""
        ...


def holds_contact(person: Person, contact: str, at: datetime) -> bool:
    """Whether the person's record at `at` holds this e-mail address (any case) or mobile."""
    details = person.details_at(at)
    if "@" in contact:
        return bool(details.email) and str(details.email).lower() == contact.lower()
    return details.mobile == contact


class PersonDirectory:
    """The person a contact signs in as, and the people a guardian may act for."""

    def __init__(self, *, app: JawazatApplication, links: PersonLinks, clock: Callable[[], datetime]) -> None:
        self.records = PeopleRecords(app)
        self.links = links
        self.clock = clock

    def person(self, id_number: str) -> Person | None:
        """A person's record (None when never registered)."""
        return self.records.person(id_number)

    def signing_in(self, contact: str) -> Person | None:
        """The person whose record holds this contact now (see the module's note on shared contacts)."""
        now = self.clock()
        holders = [
            person
            for id_number in self.links.people_with_contact(contact)
            if (person := self.records.person(id_number)) is not None and holds_contact(person, contact, now)
        ]
        if len(holders) <= 1:
            return holders[0] if holders else None
        heads = [
            head
            for head in holders
            if all(other is head or other.details_at(now).guardian == head.id_number for other in holders)
        ]
        return heads[0] if len(heads) == 1 else None

    def dependants(self, actor: Actor) -> list[Person]:
        """The people an individual is the guardian of now, by ID number (empty for anyone else)."""
        if actor.kind is not ActorKind.INDIVIDUAL:
            return []
        now = self.clock()
        found = [self.records.person(n) for n in self.links.people_with_guardian(actor.principal)]
        return [p for p in found if p is not None and may_act_for(actor, p, at=now, guardian_only=True)]

    def household(self, actor: Actor) -> list[Person]:
        """An individual's own record (when registered) and their dependants': whom they may choose."""
        own = self.records.person(actor.principal) if actor.kind is ActorKind.INDIVIDUAL else None
        return ([own] if own is not None else []) + self.dependants(actor)
