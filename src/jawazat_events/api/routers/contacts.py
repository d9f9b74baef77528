"""`/v1/contacts`: an establishment's default contacts, message language and channel settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from jawazat_events.api.deps import CurrentEstablishment, State
from jawazat_events.api.errors import AUTHENTICATED, responses
from jawazat_events.api.schemas import CHANNEL_FIELDS, ContactsOut, ContactsUpdate, WebhookSecretOut

router = APIRouter(prefix="/v1/contacts", tags=["contacts"], responses=responses(*AUTHENTICATED))


@router.put("", response_model=ContactsOut, responses=responses(413), summary="Set the default contacts")
def put_contacts(body: ContactsUpdate, establishment: CurrentEstablishment, state: State) -> ContactsOut:
    """Fields left out keep their value; the answer is the defaults now in force (with the channel
    settings when the request set one, and `webhook_secret` once, when the first webhook_url is set)."""
    channels = state.container.channel_service
    given = body.model_fields_set & set(CHANNEL_FIELDS)
    change = channels.prepare(**{name: _value(body, name) for name in given}) if given else None
    defaults: dict[str, Any] = dict(
        state.container.establishments.update_defaults(
            establishment, mobile=body.mobile, email=body.email, language=body.language, channels=change
        )
    )
    state.catch_up_index()
    if change is not None:
        defaults["channels"] = channels.view(establishment)
        defaults["webhook_secret"] = change.new_secret
    return ContactsOut.model_validate(defaults)


def _value(body: ContactsUpdate, name: str) -> Any:
    value = getattr(body, name)
    if name in ("urgent_types", "digest_types"):
        return [str(kind) for kind in value or ()]
    if name == "webhook_full_id_number":
        return bool(value)
    return value


@router.post(
    "/webhook-secret",
    response_model=WebhookSecretOut,
    summary="Rotate the webhook signing secret",
)
def rotate_webhook_secret(establishment: CurrentEstablishment, state: State) -> WebhookSecretOut:
    """A new `whsec_…` secret, shown once. For 24 hours both the old and the new secret sign every
    message (`webhook-signature` carries both signatures), so the receiver can switch without a gap."""
    secret, until = state.container.channel_service.rotate_secret(establishment)
    return WebhookSecretOut(webhook_secret=secret, previous_secret_valid_until=until.isoformat())
