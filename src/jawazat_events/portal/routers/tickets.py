"""`/portal/tickets`: support tickets (Tawasul). Individuals and establishments open them (problem type,
procedure, description, attachments), read them with their messages and reply; officers see every ticket
and move it on with a message. Only the owner and officers see a ticket. Every step is `TicketService`'s."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from jawazat_events.domain.actors import Actor
from jawazat_events.domain.errors import DomainError, InvalidValue
from jawazat_events.domain.requests import RequestNotFound
from jawazat_events.domain.ticket import OFFICER_STATUSES, ProblemType, TicketStatus
from jawazat_events.portal.actors import AnyActor, ApplicantActor, OfficerActor
from jawazat_events.portal.eservice_forms import (
    chosen_files,
    form_claim,
    read_uploads,
    refusal,
)
from jawazat_events.portal.eservice_views import (
    TICKET_STATUSES,
    chosen,
    list_page,
    visible,
)
from jawazat_events.portal.forms import Errors
from jawazat_events.portal.web import PageNotFound, Portal, redirect, render, url

router = APIRouter()

PROBLEM_TYPES = [p.value for p in ProblemType]
# The procedures the ticket form offers (docs/eservices.md lists them); the service takes any name.
PROCEDURES = [
    "exit_reentry_visa",
    "final_exit_visa",
    "iqama_renewal",
    "passport_update",
    "sponsorship_transfer",
    "visit_visa_extension",
    "muqeem_report",
    "other",
]
SET_STATUSES = [s.value for s in OFFICER_STATUSES]
DONE = {"replied": "ticket.replied", "status": "ticket.status_changed"}


def _list_page(request: Request, portal: Portal, actor: Actor, **shown: Any) -> Response:
    return list_page(
        request,
        portal,
        actor,
        portal.container.eservices.tickets,
        "tickets.html",
        title_key="tickets.title",
        defaults={"problem_type": "", "procedure": "", "description": ""},
        statuses=TICKET_STATUSES,
        problem_types=PROBLEM_TYPES,
        procedures=PROCEDURES,
        **shown,
    )


@router.get("/tickets")
def tickets(
    request: Request, portal: Portal, actor: AnyActor, status: str | None = None, cursor: str | None = None
) -> Response:
    return _list_page(request, portal, actor, status=chosen(status, TICKET_STATUSES), cursor=cursor)


@router.post("/tickets")
def open_ticket(
    request: Request,
    portal: Portal,
    actor: ApplicantActor,
    problem_type: Annotated[str, Form(max_length=100)] = "",
    procedure: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=20000)] = "",
    request_key: Annotated[str, Form(max_length=100)] = "",
    attachments: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    form = {"problem_type": problem_type, "procedure": procedure, "description": description}
    uploads = read_uploads(chosen_files(attachments))
    body = {
        "problem_type": problem_type,
        "procedure": procedure,
        "description": description,
        "attachments": [[u.filename, u.sha256] for u in uploads],
    }
    try:
        answer = portal.container.eservices.tickets.open(
            actor,
            problem_type=problem_type,
            procedure=procedure,
            description=description,
            uploads=uploads,
            claim=form_claim(actor, request_key, "POST /tickets", body),
        )
    except DomainError as error:
        code, errors = refusal(error)
        return _list_page(request, portal, actor, code=code, form=form, errors=errors)
    return redirect(request, url(f"/tickets/{answer['tracking_number']}", done="created"))


def _get(portal: Portal, actor: Actor, tracking_number: str) -> dict[str, Any]:
    return visible(lambda: portal.container.eservices.tickets.get(actor, tracking_number[:40]))


def _ticket_page(
    request: Request,
    portal: Portal,
    actor: Actor,
    tracking_number: str,
    *,
    code: int = 200,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    ticket = _get(portal, actor, tracking_number)
    is_open = ticket["status"] != TicketStatus.CLOSED
    return render(
        request,
        "ticket.html",
        title_key="ticket.title",
        title_values={"number": ticket["tracking_number"]},
        status=code,
        ticket=ticket,
        known_procedure=ticket["procedure"] in PROCEDURES,
        officer=actor.is_officer,
        may_reply=not actor.is_officer and is_open,
        may_move=actor.is_officer and is_open,
        set_statuses=[s for s in SET_STATUSES if s != ticket["status"]],
        errors=errors or {},
        form=form or {"message": "", "status": "", "officer_message": ""},
        notice=notice,
        created=notice == "tickets.created",
    )


@router.get("/tickets/{tracking_number}")
def ticket(
    request: Request, portal: Portal, actor: AnyActor, tracking_number: str, done: str = ""
) -> Response:
    notice = "tickets.created" if done == "created" else DONE.get(done)
    return _ticket_page(request, portal, actor, tracking_number, notice=notice)


@router.post("/tickets/{tracking_number}/messages")
def reply(
    request: Request,
    portal: Portal,
    actor: ApplicantActor,
    tracking_number: str,
    message: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    form = {"message": message, "status": "", "officer_message": ""}
    try:
        answer = portal.container.eservices.tickets.reply(actor, tracking_number[:40], message=message)
    except DomainError as error:
        if isinstance(error, InvalidValue):
            raise PageNotFound from None
        code, errors = refusal(error, conflict=("message", "conflict.ticket_closed"))
        return _ticket_page(request, portal, actor, tracking_number, code=code, errors=errors, form=form)
    return redirect(request, url(f"/tickets/{answer['tracking_number']}", done="replied"))


@router.post("/tickets/{tracking_number}/status")
def change_status(
    request: Request,
    portal: Portal,
    actor: OfficerActor,
    tracking_number: str,
    status: Annotated[str, Form(max_length=40)] = "",
    message: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    form = {"message": "", "status": status, "officer_message": message}
    try:
        answer = portal.container.eservices.tickets.change_status(
            actor, tracking_number[:40], status=status, message=message or None
        )
    except DomainError as error:
        if isinstance(error, InvalidValue):
            raise PageNotFound from None
        code, errors = refusal(error, conflict=("status", "conflict.ticket_status"))
        errors = {("officer_message" if k == "message" else k): v for k, v in errors.items()}
        return _ticket_page(request, portal, actor, tracking_number, code=code, errors=errors, form=form)
    return redirect(request, url(f"/tickets/{answer['tracking_number']}", done="status"))


@router.get("/tickets/{tracking_number}/attachments/{sha256}")
def attachment(
    request: Request, portal: Portal, actor: AnyActor, tracking_number: str, sha256: str
) -> Response:
    """One attachment, for the ticket's owner and officers; always downloaded, never shown in the page."""
    try:
        record, content = portal.container.eservices.tickets.attachment(
            actor, tracking_number[:40], sha256[:64]
        )
    except (RequestNotFound, InvalidValue):
        raise PageNotFound from None
    disposition = f"attachment; filename*=UTF-8''{quote(record['name'], safe='')}"
    return Response(content, media_type=record["content_type"], headers={"Content-Disposition": disposition})
