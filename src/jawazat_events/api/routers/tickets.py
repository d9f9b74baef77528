"""`/v1/tickets`: support requests (Tawasul) with attachments; owners and officers, nobody else."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.responses import Response

from jawazat_events.api.errors import AUTHENTICATED, responses
from jawazat_events.api.eservice_schemas import (
    TicketCreated,
    TicketMessageIn,
    TicketOut,
    TicketPage,
    TicketStatusIn,
)
from jawazat_events.api.eservices import AnyUser, Applicant, IdempotencyKey, Officer, Services, claim
from jawazat_events.domain.requests import NotEligible
from jawazat_events.domain.ticket import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS
from jawazat_events.services.tickets import Upload

router = APIRouter(prefix="/v1/tickets", tags=["tickets"], responses=responses(*AUTHENTICATED))

TrackingNumber = Annotated[str, Path(max_length=40, description="the ticket's tracking number (XXXXX-XXXXX)")]
TicketStatusFilter = Literal["received", "in_progress", "needs_information", "resolved", "closed"]
ProblemType = Literal["transaction_failed", "data_mismatch", "payment_issue", "access_issue", "other"]


def _read(files: list[UploadFile]) -> list[Upload]:
    if len(files) > MAX_ATTACHMENTS:
        raise NotEligible("attachments", "attachments_count", f"at most {MAX_ATTACHMENTS} files")
    uploads: list[Upload] = []
    for index, upload in enumerate(files):
        content = upload.file.read(MAX_ATTACHMENT_BYTES + 1)  # one byte more tells "too large"
        uploads.append(Upload(upload.filename or f"attachment-{index + 1}", content))
    return uploads


@router.post(
    "",
    status_code=201,
    response_model=TicketCreated,
    responses=responses(413),
    summary="Open a support ticket (multipart form)",
)
def open_ticket(
    actor: Applicant,
    services: Services,
    problem_type: Annotated[ProblemType, Form(description="what went wrong")],
    procedure: Annotated[
        str, Form(max_length=200, description="the failed procedure, e.g. exit_reentry_visa")
    ],
    description: Annotated[str, Form(max_length=5000, description="what happened")],
    attachments: Annotated[
        list[UploadFile] | None, File(description="up to 5 files of at most 5 MB: PDF, PNG or JPEG")
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> TicketCreated:
    """By an establishment or an individual; attachments are judged by their content, not their names, and
    kept outside the event store with their SHA-256 on the ticket. The answer's tracking number is short,
    has a check symbol, and says nothing about other tickets' numbers."""
    uploads = _read(attachments or [])
    body = {
        "problem_type": problem_type,
        "procedure": procedure,
        "description": description,
        "attachments": [[u.filename, u.sha256] for u in uploads],
    }
    answer = services.tickets.open(
        actor,
        problem_type=problem_type,
        procedure=procedure,
        description=description,
        uploads=uploads,
        claim=claim(actor, idempotency_key, "POST /v1/tickets", body),
    )
    return TicketCreated.model_validate(answer)


@router.get("", response_model=TicketPage, summary="The caller's tickets (officers: every ticket)")
def list_tickets(
    actor: AnyUser,
    services: Services,
    status: Annotated[TicketStatusFilter | None, Query(description="only this status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="page size")] = 100,
    cursor: Annotated[
        str | None, Query(max_length=400, description="`next_cursor` of the previous page")
    ] = None,
) -> TicketPage:
    """Oldest first; officers' queue of new tickets: `?status=received`."""
    page = services.tickets.list(actor, status=status, limit=limit, cursor=cursor)
    return TicketPage.model_validate({"items": page.items, "next_cursor": page.next_cursor})


@router.get("/{tracking_number}", response_model=TicketOut, responses=responses(404), summary="One ticket")
def read_ticket(tracking_number: TrackingNumber, actor: AnyUser, services: Services) -> TicketOut:
    """For its owner and officers; 404 for anyone else."""
    return TicketOut.model_validate(services.tickets.get(actor, tracking_number))


@router.get(
    "/{tracking_number}/attachments/{sha256}",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}},
        **responses(404),
    },
    summary="One attachment's content",
)
def read_attachment(
    tracking_number: TrackingNumber,
    sha256: Annotated[str, Path(max_length=64)],
    actor: AnyUser,
    services: Services,
) -> Response:
    """For the ticket's owner and officers."""
    record, content = services.tickets.attachment(actor, tracking_number, sha256)
    return Response(content, media_type=record["content_type"])


@router.post(
    "/{tracking_number}/status",
    response_model=TicketOut,
    responses=responses(404, 409, 413),
    summary="Move a ticket on, with a message for its owner (officers)",
)
def change_status(
    tracking_number: TrackingNumber,
    body: TicketStatusIn,
    actor: Officer,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> TicketOut:
    """409 once the ticket is closed, or when it already has this status."""
    answer = services.tickets.change_status(
        actor,
        tracking_number,
        status=body.status,
        message=body.message,
        claim=claim(
            actor, idempotency_key, f"POST /v1/tickets/{tracking_number}/status", body.model_dump(mode="json")
        ),
    )
    return TicketOut.model_validate(answer)


@router.post(
    "/{tracking_number}/messages",
    response_model=TicketOut,
    responses=responses(404, 409, 413),
    summary="Reply on a ticket (its owner)",
)
def reply(
    tracking_number: TrackingNumber,
    body: TicketMessageIn,
    actor: Applicant,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> TicketOut:
    """409 once the ticket is closed."""
    answer = services.tickets.reply(
        actor,
        tracking_number,
        message=body.message,
        claim=claim(
            actor,
            idempotency_key,
            f"POST /v1/tickets/{tracking_number}/messages",
            body.model_dump(mode="json"),
        ),
    )
    return TicketOut.model_validate(answer)
