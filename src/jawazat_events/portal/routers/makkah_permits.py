"""`/portal/makkah-permits`: Makkah entry permits in Hajj season. Individuals apply for themselves or a
dependant, establishments for a person they sponsor (documents: the files' names and SHA-256, hashed by the
portal); officers see every application, decide with a reason and revoke. Every step is
`MakkahPermitService`'s."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from jawazat_events.domain.actors import Actor
from jawazat_events.domain.errors import DomainError
from jawazat_events.domain.makkah_permit import SeasonWindow
from jawazat_events.domain.requests import NotEligible, PermitStatus
from jawazat_events.portal.actors import AnyActor, ApplicantActor, OfficerActor
from jawazat_events.portal.eservice_forms import (
    chosen_files,
    decide_permit,
    document_records,
    form_claim,
    refusal,
)
from jawazat_events.portal.eservice_views import (
    chosen,
    household,
    is_individual,
    list_page,
    permit_page,
)
from jawazat_events.portal.web import Portal, PortalState, page_language, redirect, url

router = APIRouter()
EMPTY_DECISION = {"decision": "", "reason": "", "revoke_reason": ""}

STATUSES = ["pending", "approved", "rejected", "revoked"]
DONE = {"applied": "makkah.applied", "decided": "permit.decided", "revoked": "permit.revoked"}
DUPLICATE = ("season", "conflict.makkah_season")
NOT_ALLOWED = ("id_number", "field.id_number.not_actable")


def open_seasons(portal: PortalState) -> list[SeasonWindow]:
    """The seasons taking applications today (this one's and, when it is already open, the next)."""
    seasons = portal.container.eservices.seasons
    today = portal.container.today()
    first = seasons.next_open(today)
    windows = [first]
    with contextlib.suppress(NotEligible):
        windows.append(seasons.open_window(str(int(first.season) + 1), today))
    return windows


def _list_page(request: Request, portal: Portal, actor: Actor, **shown: Any) -> Response:
    seasons = [] if actor.is_officer else open_seasons(portal)
    return list_page(
        request,
        portal,
        actor,
        portal.container.eservices.makkah_permits,
        "makkah_permits.html",
        title_key="makkah.title",
        defaults={"id_number": "", "season": seasons[0].season if seasons else ""},
        statuses=STATUSES,
        individual=is_individual(actor),
        people=household(portal, actor, page_language(request)) if is_individual(actor) else [],
        seasons=seasons,
        **shown,
    )


@router.get("/makkah-permits")
def makkah_permits(
    request: Request, portal: Portal, actor: AnyActor, status: str | None = None, cursor: str | None = None
) -> Response:
    return _list_page(request, portal, actor, status=chosen(status, STATUSES), cursor=cursor)


@router.post("/makkah-permits")
def apply(
    request: Request,
    portal: Portal,
    actor: ApplicantActor,
    id_number: Annotated[str, Form(max_length=100)] = "",
    season: Annotated[str, Form(max_length=20)] = "",
    request_key: Annotated[str, Form(max_length=100)] = "",
    documents: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    form = {"id_number": id_number, "season": season}
    if not id_number.strip():
        return _list_page(
            request, portal, actor, code=422, form=form, errors={"id_number": "field.id_number.required"}
        )
    records = document_records(chosen_files(documents))
    body = {"id_number": id_number.strip(), "season": season.strip(), "documents": records}
    try:
        answer = portal.container.eservices.makkah_permits.apply(
            actor,
            id_number=id_number.strip(),
            season=season.strip(),
            documents=records,
            claim=form_claim(actor, request_key, "POST /makkah-permits", body),
        )
    except DomainError as error:
        code, errors = refusal(error, conflict=DUPLICATE, not_found=NOT_ALLOWED)
        return _list_page(request, portal, actor, code=code, form=form, errors=errors)
    return redirect(request, url(f"/makkah-permits/{answer['permit_id']}", done="applied"))


def _permit_page(
    request: Request, portal: Portal, actor: Actor, permit_id: str, *, code: int = 200, **shown: Any
) -> Response:
    return permit_page(
        request,
        portal,
        actor,
        lambda: portal.container.eservices.makkah_permits.get(actor, permit_id),
        template="makkah_permit.html",
        title_key="makkah.permit_title",
        people=("id_number",),
        empty_form=EMPTY_DECISION,
        code=code,
        shown=shown,
        allowed=lambda permit: {"may_revoke": actor.is_officer and permit["status"] == PermitStatus.APPROVED},
    )


@router.get("/makkah-permits/{permit_id}")
def makkah_permit(
    request: Request, portal: Portal, actor: AnyActor, permit_id: str, done: str = ""
) -> Response:
    return _permit_page(request, portal, actor, permit_id, notice=DONE.get(done))


@router.post("/makkah-permits/{permit_id}/decision")
def decide(
    request: Request,
    portal: Portal,
    actor: OfficerActor,
    permit_id: str,
    decision: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    service = portal.container.eservices.makkah_permits
    answer, code, errors = decide_permit(service, actor, permit_id, decision=decision, reason=reason)
    if answer is None:
        form = {"decision": decision, "reason": reason, "revoke_reason": ""}
        return _permit_page(request, portal, actor, permit_id, code=code, errors=errors, form=form)
    return redirect(request, url(f"/makkah-permits/{answer['permit_id']}", done="decided"))


@router.post("/makkah-permits/{permit_id}/revoke")
def revoke(
    request: Request,
    portal: Portal,
    actor: OfficerActor,
    permit_id: str,
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    form = {"decision": "", "reason": "", "revoke_reason": reason}
    try:
        answer = portal.container.eservices.makkah_permits.revoke(actor, permit_id, reason=reason or None)
    except DomainError as error:
        code, errors = refusal(error, conflict=("revoke_reason", "conflict.not_active"))
        errors = {("revoke_reason" if k == "reason" else k): v for k, v in errors.items()}
        return _permit_page(request, portal, actor, permit_id, code=code, errors=errors, form=form)
    return redirect(request, url(f"/makkah-permits/{answer['permit_id']}", done="revoked"))
