"""What the e-services' pages share beside the services' answers: people's names, a guardian's household,
the listing page (paged, filtered by status) and the permit page, and "not found" for anything the user
may not see."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import Response

from jawazat_events.domain.actors import Actor, ActorKind
from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.person import Person
from jawazat_events.domain.requests import RequestNotFound
from jawazat_events.domain.ticket import TicketStatus
from jawazat_events.portal.eservice_forms import new_request_key
from jawazat_events.portal.web import PageNotFound, PortalState, page_language, render
from jawazat_events.projections.directory import NameDirectory
from jawazat_events.services.request_listing import Page

PAGE_SIZE = 50
RECORD_LOOKUPS = 10  # names read from records when the people view lags, at most per page
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


class Listed(Protocol):
    """An e-service whose requests a user lists (the requester's own; officers: every one)."""

    def list(self, actor: Actor, *, status: str | None, limit: int, cursor: str | None) -> Page: ...


def list_page(
    request: Request,
    portal: PortalState,
    actor: Actor,
    service: Listed,
    template: str,
    *,
    title_key: str,
    defaults: dict[str, str],
    status: str | None = None,
    cursor: str | None = None,
    code: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """A listing page: one page of the user's requests (officers: everyone's, by status) with the names of
    the people concerned, and the page's form (empty, or as posted with its errors) with a fresh key."""
    page = listing(lambda c: service.list(actor, status=status, limit=PAGE_SIZE, cursor=c), cursor)
    return render(
        request,
        template,
        title_key=title_key,
        status=code,
        items=page.items,
        next_cursor=page.next_cursor,
        names=person_names(portal, [i.get("id_number", "") for i in page.items], page_language(request)),
        filter_status=status,
        officer=actor.is_officer,
        form=form or defaults,
        errors=errors or {},
        request_key=new_request_key(),
        **context,
    )


def permit_page(
    request: Request,
    portal: PortalState,
    actor: Actor,
    read: Callable[[], dict[str, Any]],
    *,
    template: str,
    title_key: str,
    people: tuple[str, ...],
    empty_form: dict[str, str],
    code: int = 200,
    shown: dict[str, Any],
    allowed: Callable[[dict[str, Any]], dict[str, bool]],
) -> Response:
    """A permit's page for its requester or an officer (else "not found"): the permit, the names of the
    people it names (`people`: its fields), what the user may do with it (`allowed`), and the form state."""
    permit = visible(read)
    return render(
        request,
        template,
        title_key=title_key,
        title_values={"ref": permit["permit_id"][:8]},
        status=code,
        permit=permit,
        names=person_names(portal, [permit[field] for field in people], page_language(request)),
        officer=actor.is_officer,
        **allowed(permit),
        **with_form(shown, empty_form),
    )


def with_form(shown: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """A page's form state: as posted (its values, errors, a notice) over an empty form."""
    return {"errors": {}, "form": form, "notice": None, **shown}


def visible(read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A request the user may see, or the "not found" page (someone else's, unknown, or not an id)."""
    try:
        return read()
    except (RequestNotFound, InvalidValue):
        raise PageNotFound from None
