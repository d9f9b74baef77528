"""The notification types an establishment picks per ID number, and which event types fire each."""

from __future__ import annotations

from enum import StrEnum

from jawazat_events.domain.errors import InvalidValue


class NotificationType(StrEnum):
    """What an establishment chooses to be told about, per ID number."""

    ENTRY_EXIT = "entry_exit"
    PASSPORT_EXPIRY = "passport_expiry"
    PASSPORT_RENEWAL = "passport_renewal"
    VISA = "visa"


# Contract event type -> the notification type it fires. Types absent here alert nobody.
FIRED_BY: dict[str, NotificationType] = {
    "border_crossing": NotificationType.ENTRY_EXIT,
    "passport_expiry_approaching": NotificationType.PASSPORT_EXPIRY,
    "passport_expired": NotificationType.PASSPORT_EXPIRY,
    "passport_renewed": NotificationType.PASSPORT_RENEWAL,
    "visa_issued": NotificationType.VISA,
    "visa_status_changed": NotificationType.VISA,
}


def parse_notification_types(raw: object, *, field: str = "notification_types") -> tuple[str, ...]:
    """A non-empty, de-duplicated, sorted tuple of known notification type names, or raise."""
    if isinstance(raw, str):
        items = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list | tuple | set | frozenset):
        items = list(raw)
    else:
        raise InvalidValue(f"{field} must be a list of notification types")
    if not items:
        raise InvalidValue(f"{field} must name at least one notification type")
    known = {t.value for t in NotificationType}
    for item in items:
        if not isinstance(item, str) or item not in known:
            raise InvalidValue(
                f"{field}: unknown notification type '{item}' (known: {', '.join(sorted(known))})"
            )
    return tuple(sorted(set(items)))
