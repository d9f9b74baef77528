"""People as users: whom an actor may act for, and where a requester is told about their requests."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from eventsourcing.application import AggregateNotFoundError

from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.establishment import Establishment
from jawazat_events.domain.identifiers import establishment_id, parse_id_number, person_id
from jawazat_events.domain.person import Person
from jawazat_events.domain.requests import Contacts, Requester, RequestNotFound
from jawazat_events.services.application import JawazatApplication


class PeopleRecords:
    """Reads people and establishments from the store (always current, never a lagging read model)."""

    def __init__(self, app: JawazatApplication) -> None:
        self.app = app

    def person(self, id_number: str) -> Person | None:
        """The person's record, or None for an ID number never registered."""
        try:
            return cast(Person, self.app.repository.get(person_id(id_number)))
        except AggregateNotFoundError:
            return None

    def establishment(self, unified_number: str) -> Establishment | None:
        """The establishment's record, or None."""
        try:
            return cast(Establishment, self.app.repository.get(establishment_id(unified_number)))
        except AggregateNotFoundError:
            return None

    def acting_for(
        self, actor: Actor, id_number: str, *, at: datetime, guardian_only: bool = False
    ) -> Person:
        """The person `actor` may act for at `at`: themselves, a dependant (as guardian), or a person the
        establishment sponsors. Anyone else, and unknown ID numbers, get the same `RequestNotFound`."""
        number = parse_id_number(id_number)
        person = self.person(number)
        if person is not None and may_act_for(actor, person, at=at, guardian_only=guardian_only):
            return person
        if guardian_only:
            raise RequestNotFound(f"id_number {number}: the caller is not this person's guardian")
        raise RequestNotFound(f"id_number {number}: no such person the caller may act for")

    def contacts(self, actor: Actor, *, subject: Person | None, at: datetime) -> Contacts:
        """Where the requester is told: an establishment's defaults; an individual's mobile and e-mail on
        their own record, else those on the record of the person the request is about."""
        if actor.kind is ActorKind.ESTABLISHMENT:
            found = self.establishment(actor.principal)
            if found is None:
                return Contacts()
            return Contacts(mobile=found.mobile, email=found.email, language=found.language)
        for record in (self.person(actor.principal), subject):
            if record is None:
                continue
            details = record.details_at(at)
            if details.mobile or details.email:
                return Contacts(mobile=details.mobile, email=details.email)
        return Contacts()

    def requester_contacts(self, requester: Requester, *, id_number: str, at: datetime) -> Contacts:
        """Where the requester of a request about `id_number` is told now (see `contacts`)."""
        subject = self.person(id_number) if id_number else None
        return self.contacts(Actor(ActorKind(requester.kind), requester.principal), subject=subject, at=at)


def may_act_for(actor: Actor, person: Person, *, at: datetime, guardian_only: bool = False) -> bool:
    """Whether `actor` may act for `person` at `at` (the record as it stood then)."""
    if actor.kind is ActorKind.INDIVIDUAL:
        is_guardian = person.details_at(at).guardian == actor.principal
        return is_guardian if guardian_only else (is_guardian or person.id_number == actor.principal)
    if actor.kind is ActorKind.ESTABLISHMENT and not guardian_only:
        return person.sponsor_at(at) == actor.principal
    return False
