"""What the e-services' pages show beside the services' answers: people's names, a guardian's household,
the kinds and statuses of requests, and the listings' paging."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.person import Person
from jawazat_events.domain.requests import PermitStatus
from jawazat_events.domain.ticket import TicketStatus
from jawazat_events.portal.web import PortalState
from jawazat_events.projections.directory import NameDirectory
from jawazat_events.services.request_listing import Page

PAGE_SIZE = 50
RECORD_LOOKUPS = 10  # names read from records when the people view lags, at most per page
PERMIT_STATUSES = [s.value for s in PermitStatus]
TICKET_STATUSES = [s.value for s in TicketStatus]


def name_in(person: Person, language: str) -> str:
    """A person's name in the page's language (the other when that one is empty)."""
    first, second = (person.name_en, person.name_ar) if language == "en" else (person.name_ar, person.name_en)
    return first or second


def person_names(portal: PortalState, id_numbers: Iterable[str], language: str) -> dict[str, str]:
    """Names by ID number in the page's language: from the people view (one query), and for a few it does
    not know yet (the worker is behind) from their records."""
    wanted = sorted({n for n in id_numbers if n})
    if not wanted:
        return {}
    found = NameDirectory(portal.container.read_models.db).person_names(wanted)
    names = {n: (en or ar) if language == "en" else (ar or en) for n, (ar, en) in found.items()}
    for id_number in [n for n in wanted if n not in names][:RECORD_LOOKUPS]:
        record = portal.container.person_directory.person(id_number)
        if record is not None:
            names[id_number] = name_in(record, language)
    return names


def household(portal: PortalState, actor: Actor, language: str) -> list[dict[str, Any]]:
    """An individual's own record and their dependants', as choices: ID number, name, whether it is them."""
    people = portal.container.person_directory.household(actor)
    return [
        {"id_number": p.id_number, "name": name_in(p, language), "self": p.id_number == actor.principal}
        for p in people
    ]


def listing(fetch: Callable[[str | None], Page], cursor: str | None) -> Page:
    """One page of a service's listing; a cursor the page never gave starts from the first page."""
    try:
        return fetch(cursor[:400] if cursor else None)
    except InvalidValue:
        return fetch(None)


def chosen(value: str | None, allowed: list[str]) -> str | None:
    """A filter's value when it is one of the allowed ones, else no filter."""
    return value if value in allowed else None


def is_individual(actor: Actor) -> bool:
    return actor.kind is ActorKind.INDIVIDUAL
