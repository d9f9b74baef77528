"""`/v1/travel-permits`: family travel permits; guardians request and cancel, officers decide."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from jawazat_events.api.errors import AUTHENTICATED, responses
from jawazat_events.api.eservice_schemas import (
    Created,
    DecisionIn,
    PermitPage,
    TravelPermitCreate,
    TravelPermitOut,
)
from jawazat_events.api.eservices import (
    IdempotencyKey,
    Individual,
    IndividualOrOfficer,
    Officer,
    Services,
    claim,
)
from jawazat_events.domain.requests import Decision

router = APIRouter(prefix="/v1/travel-permits", tags=["travel permits"], responses=responses(*AUTHENTICATED))

PermitId = Annotated[str, Path(max_length=64, description="the permit's id")]
PermitStatusFilter = Literal["pending", "approved", "rejected", "cancelled"]
Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Cursor = Annotated[str | None, Query(max_length=400, description="`next_cursor` of the previous page")]


@router.post(
    "",
    status_code=201,
    response_model=Created,
    responses=responses(404, 409, 413),
    summary="Request a travel permit for a dependant",
)
def request_permit(
    body: TravelPermitCreate, actor: Individual, services: Services, idempotency_key: IdempotencyKey = None
) -> Created:
    """By the person's guardian (404 for anyone else). 422 names the rule when the person is not single or
    is 21 or older on the day of the request, or the window is not sensible; 409 when it overlaps another
    pending or approved permit of the person."""
    answer = services.travel_permits.request(
        actor,
        id_number=body.id_number,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        claim=claim(actor, idempotency_key, "POST /v1/travel-permits", body.model_dump(mode="json")),
    )
    return Created.model_validate(answer)


@router.get("", response_model=PermitPage, summary="The caller's permits (officers: every permit)")
def list_permits(
    actor: IndividualOrOfficer,
    services: Services,
    status: Annotated[PermitStatusFilter | None, Query(description="only this status")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> PermitPage:
    """Oldest first; `?status=pending` is the officers' queue."""
    page = services.travel_permits.list(actor, status=status, limit=limit, cursor=cursor)
    return PermitPage.model_validate({"items": page.items, "next_cursor": page.next_cursor})


@router.get(
    "/{permit_id}", response_model=TravelPermitOut, responses=responses(404), summary="One travel permit"
)
def read_permit(permit_id: PermitId, actor: IndividualOrOfficer, services: Services) -> TravelPermitOut:
    """For the guardian who asked and officers; 404 for anyone else."""
    return TravelPermitOut.model_validate(services.travel_permits.get(actor, permit_id))


@router.post(
    "/{permit_id}/decision",
    response_model=TravelPermitOut,
    responses=responses(404, 409, 413),
    summary="Approve or reject a pending permit (officers)",
)
def decide(
    permit_id: PermitId,
    body: DecisionIn,
    actor: Officer,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> TravelPermitOut:
    """A reason is required to reject; 409 when the permit is no longer pending."""
    answer = services.travel_permits.decide(
        actor,
        permit_id,
        decision=Decision(body.decision),
        reason=body.reason,
        claim=claim(
            actor,
            idempotency_key,
            f"POST /v1/travel-permits/{permit_id}/decision",
            body.model_dump(mode="json"),
        ),
    )
    return TravelPermitOut.model_validate(answer)


@router.post(
    "/{permit_id}/cancel",
    response_model=TravelPermitOut,
    responses=responses(404, 409),
    summary="Cancel a pending or approved permit (the guardian)",
)
def cancel(
    permit_id: PermitId, actor: Individual, services: Services, idempotency_key: IdempotencyKey = None
) -> TravelPermitOut:
    """By the guardian who asked; 409 when it is already rejected or cancelled."""
    answer = services.travel_permits.cancel(
        actor,
        permit_id,
        claim=claim(actor, idempotency_key, f"POST /v1/travel-permits/{permit_id}/cancel", {}),
    )
    return TravelPermitOut.model_validate(answer)
