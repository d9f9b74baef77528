"""The contacts page's channel settings: what the page shows of them, its delivery form as the
channel-settings service takes it, and the service's refusals as catalogue keys beside their fields.

The page changes settings through the same services as `PUT /v1/contacts` (`ChannelService.prepare`,
then `EstablishmentService.update_defaults(..., channels=...)`), so the rules and the events are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jawazat_events.domain.channel_settings import DIGESTIBLE
from jawazat_events.domain.errors import DomainError
from jawazat_events.domain.notification_types import NotificationType
from jawazat_events.portal.forms import Errors, field_errors

# The window the page suggests while quiet hours are off.
SUGGESTED_START, SUGGESTED_END = "22:00", "07:00"
URGENT_CHOICES = tuple(kind.value for kind in NotificationType)
DIGEST_CHOICES = DIGESTIBLE


@dataclass
class DeliveryForm:
    """The quiet-hours and digest form, as posted (or as the settings stand)."""

    quiet: bool = False
    quiet_start: str = SUGGESTED_START
    quiet_end: str = SUGGESTED_END
    urgent_types: list[str] = field(default_factory=list)
    digest_types: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, channels: dict[str, Any]) -> DeliveryForm:
        """The form filled with the settings in force (the suggested window when quiet hours are off)."""
        quiet = channels.get("quiet_hours")
        start, end = quiet.split("-", 1) if quiet else (SUGGESTED_START, SUGGESTED_END)
        return cls(
            quiet=bool(quiet),
            quiet_start=start,
            quiet_end=end,
            urgent_types=list(channels.get("urgent_types") or []),
            digest_types=list(channels.get("digest_types") or []),
        )

    def quiet_hours(self) -> str | None:
        """`HH:MM-HH:MM` when quiet hours are on, None (off) otherwise."""
        return f"{self.quiet_start.strip()}-{self.quiet_end.strip()}" if self.quiet else None


def _webhook_url_key(message: str) -> str:
    if "user name or password" in message:
        return "field.webhook_url.credentials"
    if "public addresses" in message:
        return "field.webhook_url.private"
    if "https" in message and ("plain http" in message or "must be an https" in message):
        return "field.webhook_url.https"
    return "field.webhook_url.invalid"


def channel_errors(error: DomainError) -> Errors:
    """Which channel-settings field a refusal concerns, and what to say about it."""
    message = str(error)
    name = message.split(" ", 1)[0].rstrip(":")
    if name == "webhook_url":
        return {"webhook_url": _webhook_url_key(message)}
    if name == "quiet_hours":
        return {"quiet_hours": "field.quiet_hours.invalid"}
    if name in ("urgent_types", "digest_types"):
        return {name: f"field.{name}.invalid"}
    return field_errors(error)
