"""Refusals of the services, as catalogue keys beside the field they concern.

The services raise domain errors with English sentences that start with the field's name; pages show the
catalogue's sentence for that field and problem in the page's language instead.
"""

from __future__ import annotations

from jawazat_events.domain.errors import (
    AlreadySubscribed,
    DomainError,
    NoContact,
    NotSponsored,
    NotSubscribed,
)
from jawazat_events.domain.portal_user import PortalUserExists

Errors = dict[str, str]  # field -> catalogue key


def _id_number_key(message: str) -> str:
    if "check digit" in message:
        return "field.id_number.check_digit"
    if "must start with" in message:
        return "field.id_number.first_digit"
    return "field.id_number.digits"


def field_errors(error: DomainError) -> Errors:
    """Which fields a refusal concerns, and what to say about each."""
    message = str(error)
    if isinstance(error, NotSponsored | NotSubscribed):
        return {"id_number": "field.id_number.not_sponsored"}
    if isinstance(error, AlreadySubscribed):
        return {"id_number": "field.id_number.already"}
    if isinstance(error, NoContact):
        return {"mobile": "field.contact.required", "email": "field.contact.required"}
    if isinstance(error, PortalUserExists):
        return {"email": "field.user.exists"}
    field = message.split(" ", 1)[0].rstrip(":'").split("'", 1)[0]
    if field == "id_number":
        return {"id_number": _id_number_key(message)}
    if field == "notification_types":
        key = "unknown" if "unknown" in message else "required"
        return {"notification_types": f"field.notification_types.{key}"}
    if field in ("mobile", "email"):
        return {field: f"field.{field}.invalid"}
    if field == "name":
        return {"name": "field.name.invalid"}
    if field == "language":
        return {"language": "field.language.invalid"}
    if field == "unified_number":
        return {"unified": "field.unified.invalid"}
    return {"form": "field.generic"}


def outcome_of(error: DomainError) -> str:
    """The bulk upload's outcome for a refused line."""
    if isinstance(error, AlreadySubscribed):
        return "already_subscribed"
    if isinstance(error, NotSponsored):
        return "not_sponsored"
    return "invalid"
