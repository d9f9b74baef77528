"""`/v1/makkah-permits`: permits to enter Makkah in Hajj season; individuals and establishments apply,
officers decide and revoke."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from jawazat_events.api.errors import AUTHENTICATED, responses
from jawazat_events.api.eservice_schemas import (
    Created,
    DecisionIn,
    MakkahPermitCreate,
    MakkahPermitOut,
    PermitPage,
    RevokeIn,
)
from jawazat_events.api.eservices import AnyUser, Applicant, IdempotencyKey, Officer, Services, claim
from jawazat_events.domain.requests import Decision

router = APIRouter(prefix="/v1/makkah-permits", tags=["Makkah permits"], responses=responses(*AUTHENTICATED))

PermitId = Annotated[str, Path(max_length=64, description="the permit's id")]
PermitStatusFilter = Literal["pending", "approved", "rejected", "revoked"]
Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Cursor = Annotated[str | None, Query(max_length=400, description="`next_cursor` of the previous page")]


@router.post(
    "",
    status_code=201,
    response_model=Created,
    responses=responses(404, 409, 413),
    summary="Apply for a Makkah entry permit",
)
def apply(
    body: MakkahPermitCreate, actor: Applicant, services: Services, idempotency_key: IdempotencyKey = None
) -> Created:
    """An individual for themselves or a dependant (categories domestic_worker, dependant,
    premium_residency, investor, citizen, gcc_citizen), or an establishment for a person it sponsors (based
    in Makkah, or the person holds a valid seasonal_work visa). 404 when the caller may not act for the
    person; 422 names the failed rule; 409 when the person already has a pending or approved permit for the
    season."""
    answer = services.makkah_permits.apply(
        actor,
        id_number=body.id_number,
        season=body.season,
        documents=[d.model_dump() for d in body.documents],
        claim=claim(actor, idempotency_key, "POST /v1/makkah-permits", body.model_dump(mode="json")),
    )
    return Created.model_validate(answer)


@router.get("", response_model=PermitPage, summary="The caller's applications (officers: every one)")
def list_permits(
    actor: AnyUser,
    services: Services,
    status: Annotated[PermitStatusFilter | None, Query(description="only this status")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> PermitPage:
    """Oldest first; `?status=pending` is the officers' queue."""
    page = services.makkah_permits.list(actor, status=status, limit=limit, cursor=cursor)
    return PermitPage.model_validate({"items": page.items, "next_cursor": page.next_cursor})


@router.get(
    "/{permit_id}", response_model=MakkahPermitOut, responses=responses(404), summary="One Makkah permit"
)
def read_permit(permit_id: PermitId, actor: AnyUser, services: Services) -> MakkahPermitOut:
    """For the applicant and officers; 404 for anyone else."""
    return MakkahPermitOut.model_validate(services.makkah_permits.get(actor, permit_id))


@router.post(
    "/{permit_id}/decision",
    response_model=MakkahPermitOut,
    responses=responses(404, 409, 413),
    summary="Approve or reject a pending application (officers)",
)
def decide(
    permit_id: PermitId,
    body: DecisionIn,
    actor: Officer,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> MakkahPermitOut:
    """A reason is required to reject; 409 when the application is no longer pending."""
    answer = services.makkah_permits.decide(
        actor,
        permit_id,
        decision=Decision(body.decision),
        reason=body.reason,
        claim=claim(
            actor,
            idempotency_key,
            f"POST /v1/makkah-permits/{permit_id}/decision",
            body.model_dump(mode="json"),
        ),
    )
    return MakkahPermitOut.model_validate(answer)


@router.post(
    "/{permit_id}/revoke",
    response_model=MakkahPermitOut,
    responses=responses(404, 409, 413),
    summary="Revoke an approved permit (officers)",
)
def revoke(
    permit_id: PermitId,
    body: RevokeIn,
    actor: Officer,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> MakkahPermitOut:
    """With a reason; 409 when the permit is not approved."""
    answer = services.makkah_permits.revoke(
        actor,
        permit_id,
        reason=body.reason,
        claim=claim(
            actor,
            idempotency_key,
            f"POST /v1/makkah-permits/{permit_id}/revoke",
            body.model_dump(mode="json"),
        ),
    )
    return MakkahPermitOut.model_validate(answer)
