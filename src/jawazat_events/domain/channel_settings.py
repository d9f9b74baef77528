"""An establishment's delivery settings beyond contacts (value objects): webhook endpoint and secrets,
quiet hours, urgent types, digests. The Establishment aggregate holds one `ChannelSettings` and changes it
only through its events, so every setting is on the record and a point-in-time view is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from jawazat_events.domain.digest import DIGEST_EVENT_TYPE
from jawazat_events.domain.errors import DomainError, InvalidValue
from jawazat_events.domain.notification_types import NotificationType, parse_notification_types
from jawazat_events.domain.quiet_hours import parse_quiet_hours

# The longest webhook URL accepted.
MAX_WEBHOOK_URL_LENGTH = 2048
# The alert row of the e-mail telling an establishment its webhook endpoint was disabled.
WEBHOOK_DISABLED_EVENT_TYPE = "webhook_disabled"
# Alerts about no single event: e-mails to the establishment itself (a digest, a disabled endpoint).
NOTICE_EVENT_TYPES = (DIGEST_EVENT_TYPE, WEBHOOK_DISABLED_EVENT_TYPE)
# Notification types whose e-mails may be folded into a daily digest (the scheduler's warnings).
DIGESTIBLE = (NotificationType.PASSPORT_EXPIRY.value,)


class NoWebhookSecret(DomainError):
    """The establishment has no webhook secret to rotate: it never set a webhook URL."""


@dataclass
class ChannelSettings:
    """Current webhook endpoint, its secrets (sealed: only the engine can open them) and preferences."""

    webhook_url: str | None = None
    sealed_secret: str | None = None
    previous_sealed_secret: str | None = None
    previous_valid_until: datetime | None = None
    disabled_urls: set[str] = field(default_factory=set)
    quiet_hours: str | None = None
    urgent_types: tuple[str, ...] = ()
    webhook_full_id_number: bool = False
    digest_types: tuple[str, ...] = ()

    def sealed_secrets(self, at: datetime) -> list[str]:
        """The secrets that sign at `at`: the current one, and the previous one during the overlap."""
        secrets = [self.sealed_secret] if self.sealed_secret else []
        if self.previous_sealed_secret and self.previous_valid_until and at < self.previous_valid_until:
            secrets.append(self.previous_sealed_secret)
        return secrets


def check_quiet_hours(value: str | None) -> str | None:
    """`HH:MM-HH:MM` normalised, or None (quiet hours off)."""
    return str(parse_quiet_hours(value)) if value is not None else None


def check_urgent_types(value: object) -> tuple[str, ...]:
    """Known notification types, sorted; an empty list is allowed (nothing urgent)."""
    if isinstance(value, list | tuple) and not value:
        return ()
    return parse_notification_types(value, field="urgent_types")


def check_digest_types(value: object) -> tuple[str, ...]:
    """Notification types whose e-mails go in the daily digest (only passport_expiry can)."""
    if isinstance(value, list | tuple) and not value:
        return ()
    types = parse_notification_types(value, field="digest_types")
    for kind in types:
        if kind not in DIGESTIBLE:
            raise InvalidValue(
                f"digest_types: '{kind}' cannot be folded into a digest (only {', '.join(DIGESTIBLE)})"
            )
    return types
