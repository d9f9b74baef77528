"""`/v1/contacts`: an establishment's default contacts and message language."""

from __future__ import annotations

from fastapi import APIRouter

from jawazat_events.api.deps import CurrentEstablishment, State
from jawazat_events.api.errors import AUTHENTICATED, responses
from jawazat_events.api.schemas import ContactsOut, ContactsUpdate

router = APIRouter(prefix="/v1/contacts", tags=["contacts"], responses=responses(*AUTHENTICATED))


@router.put("", response_model=ContactsOut, responses=responses(413), summary="Set the default contacts")
def put_contacts(body: ContactsUpdate, establishment: CurrentEstablishment, state: State) -> ContactsOut:
    """Fields left out keep their value; the answer is the defaults now in force."""
    defaults = state.container.establishments.update_defaults(
        establishment, mobile=body.mobile, email=body.email, language=body.language
    )
    state.catch_up_index()
    return ContactsOut.model_validate(defaults)
