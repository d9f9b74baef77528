"""`/portal/travel-permits`: a guardian's family travel permits (list, request for a dependant, cancel) and
the officers' view of every permit (decide with a reason). Every step is `TravelPermitService`'s."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from jawazat_events.domain.actors import Actor
from jawazat_events.domain.errors import DomainError
from jawazat_events.domain.requests import ACTIVE_PERMIT
from jawazat_events.portal.actors import IndividualActor, IndividualOrOfficer, OfficerActor
from jawazat_events.portal.eservice_forms import (
    decide_permit,
    form_claim,
    parse_day,
    refusal,
)
from jawazat_events.portal.eservice_views import (
    chosen,
    household,
    is_individual,
    list_page,
    permit_page,
    person_names,
    visible,
)
from jawazat_events.portal.forms import Errors
from jawazat_events.portal.web import Portal, page_language, redirect, render, url

router = APIRouter()
EMPTY_DECISION = {"decision": "", "reason": ""}

STATUSES = ["pending", "approved", "rejected", "cancelled"]
DONE = {"requested": "travel.requested", "decided": "permit.decided", "cancelled": "travel.cancelled"}
OVERLAP = ("valid_from", "conflict.travel_overlap")
NOT_DEPENDANT = ("id_number", "field.id_number.not_dependant")


def _list_page(request: Request, portal: Portal, actor: Actor, **shown: Any) -> Response:
    language = page_language(request)
    choices = [p for p in household(portal, actor, language) if not p["self"]] if is_individual(actor) else []
    return list_page(
        request,
        portal,
        actor,
        portal.container.eservices.travel_permits,
        "travel_permits.html",
        title_key="travel.officer_title" if actor.is_officer else "travel.title",
        defaults={"id_number": "", "valid_from": "", "valid_until": ""},
        statuses=STATUSES,
        dependants=choices,
        max_days=portal.container.settings.travel_permit_max_days,
        **shown,
    )


@router.get("/travel-permits")
def travel_permits(
    request: Request,
    portal: Portal,
    actor: IndividualOrOfficer,
    status: str | None = None,
    cursor: str | None = None,
) -> Response:
    return _list_page(request, portal, actor, status=chosen(status, STATUSES), cursor=cursor)


@router.post("/travel-permits")
def request_permit(
    request: Request,
    portal: Portal,
    actor: IndividualActor,
    id_number: Annotated[str, Form(max_length=100)] = "",
    valid_from: Annotated[str, Form(max_length=100)] = "",
    valid_until: Annotated[str, Form(max_length=100)] = "",
    request_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    form = {"id_number": id_number, "valid_from": valid_from, "valid_until": valid_until}
    errors: Errors = {}
    if not id_number.strip():
        errors["id_number"] = "field.id_number.required"
    start = parse_day(valid_from, "valid_from", errors)
    end = parse_day(valid_until, "valid_until", errors)
    if errors or start is None or end is None:
        return _list_page(request, portal, actor, code=422, form=form, errors=errors)
    body = {"id_number": id_number.strip(), "valid_from": start.isoformat(), "valid_until": end.isoformat()}
    try:
        answer = portal.container.eservices.travel_permits.request(
            actor,
            id_number=id_number.strip(),
            valid_from=start,
            valid_until=end,
            claim=form_claim(actor, request_key, "POST /travel-permits", body),
        )
    except DomainError as error:
        code, errors = refusal(error, conflict=OVERLAP, not_found=NOT_DEPENDANT)
        return _list_page(request, portal, actor, code=code, form=form, errors=errors)
    return redirect(request, url(f"/travel-permits/{answer['permit_id']}", done="requested"))


def _permit_page(
    request: Request, portal: Portal, actor: Actor, permit_id: str, *, code: int = 200, **shown: Any
) -> Response:
    return permit_page(
        request,
        portal,
        actor,
        lambda: portal.container.eservices.travel_permits.get(actor, permit_id),
        template="travel_permit.html",
        title_key="travel.permit_title",
        people=("id_number", "guardian"),
        empty_form=EMPTY_DECISION,
        code=code,
        shown=shown,
        allowed=lambda permit: {"may_cancel": not actor.is_officer and permit["status"] in ACTIVE_PERMIT},
    )


@router.get("/travel-permits/{permit_id}")
def travel_permit(
    request: Request, portal: Portal, actor: IndividualOrOfficer, permit_id: str, done: str = ""
) -> Response:
    return _permit_page(request, portal, actor, permit_id, notice=DONE.get(done))


@router.post("/travel-permits/{permit_id}/decision")
def decide(
    request: Request,
    portal: Portal,
    actor: OfficerActor,
    permit_id: str,
    decision: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    service = portal.container.eservices.travel_permits
    answer, code, errors = decide_permit(service, actor, permit_id, decision=decision, reason=reason)
    if answer is None:
        form = {"decision": decision, "reason": reason}
        return _permit_page(request, portal, actor, permit_id, code=code, errors=errors, form=form)
    return redirect(request, url(f"/travel-permits/{answer['permit_id']}", done="decided"))


@router.get("/travel-permits/{permit_id}/cancel")
def confirm_cancel(request: Request, portal: Portal, actor: IndividualActor, permit_id: str) -> Response:
    permit = visible(lambda: portal.container.eservices.travel_permits.get(actor, permit_id))
    return render(
        request,
        "travel_permit_cancel.html",
        title_key="travel.cancel_title",
        permit=permit,
        names=person_names(portal, [permit["id_number"]], page_language(request)),
    )


@router.post("/travel-permits/{permit_id}/cancel")
def cancel(request: Request, portal: Portal, actor: IndividualActor, permit_id: str) -> Response:
    try:
        answer = portal.container.eservices.travel_permits.cancel(actor, permit_id)
    except DomainError as error:
        code, errors = refusal(error, conflict=("cancel", "conflict.not_active"))
        return _permit_page(request, portal, actor, permit_id, code=code, errors=errors)
    return redirect(request, url(f"/travel-permits/{answer['permit_id']}", done="cancelled"))
