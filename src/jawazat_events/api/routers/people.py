"""`/v1/people/{id_number}/passport`: a renewed passport entered by the person, their guardian, or their
sponsoring establishment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from jawazat_events.api.errors import AUTHENTICATED, responses
from jawazat_events.api.eservice_schemas import PassportOut, PassportUpdate
from jawazat_events.api.eservices import Applicant, IdempotencyKey, Services, claim
from jawazat_events.api.schemas import IdNumber

router = APIRouter(prefix="/v1/people", tags=["people"], responses=responses(*AUTHENTICATED))


@router.post(
    "/{id_number}/passport",
    status_code=201,
    response_model=PassportOut,
    responses=responses(404, 409, 413),
    summary="Record a renewed passport",
)
def renew_passport(
    id_number: Annotated[IdNumber, Path(description="the person's ID number")],
    body: PassportUpdate,
    actor: Applicant,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> PassportOut:
    """The feed's renewal rules apply (422 naming the rule: not yet issued, expires before issue, repeats
    the current number). Anyone but the person, their guardian and their sponsor gets 404. Subscribed
    establishments are alerted as for a fed renewal; the old passport's expiry warnings stop."""
    answer = services.passports.renew(
        actor,
        id_number,
        passport_number=body.passport_number,
        issue_date=body.issue_date,
        expiry_date=body.expiry_date,
        claim=claim(
            actor, idempotency_key, f"POST /v1/people/{id_number}/passport", body.model_dump(mode="json")
        ),
    )
    return PassportOut.model_validate(answer)
