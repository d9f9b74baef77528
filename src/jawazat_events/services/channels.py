"""The channels' shared interface: the outgoing message, the typed delivery result, the Channel protocol.

Delivery (`services.dispatch`) speaks only to this interface; the channels themselves are adapters in
`jawazat_events.subscribers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal, Protocol

from jawazat_events.domain.delivery import AttemptOutcome

ChannelName = Literal["email", "sms", "webhook"]
Language = Literal["ar", "en"]
# A result's machine-readable hint beside its words: the webhook endpoint answered 410 Gone.
ENDPOINT_GONE = "endpoint_gone"

# Every Message-ID (and so every provider-side duplicate check) is derived from the alert id in this domain.
MESSAGE_ID_DOMAIN = "jawazat.example"


def message_id_for(alert_id: str) -> str:
    """The deterministic RFC 5322 Message-ID of an alert: a resend after a crash carries the same one."""
    return f"<{alert_id}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered alert, ready for one channel and one recipient."""

    alert_id: str
    channel: ChannelName
    recipient: str  # E.164 mobile number for "sms", e-mail address for "email", URL for "webhook"
    subject: str | None
    text: str
    html: str | None
    language: Language
    # Webhooks: the establishment the message belongs to, and the secrets that sign it (never shown).
    establishment: str | None = None
    signing_secrets: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class DeliveryResult:
    """What one delivery attempt came to: sent, retry later (with the reason), or failed for good."""

    outcome: AttemptOutcome  # sent, retry or failed; held (quiet hours)
    detail: str
    provider_id: str | None = None
    retry_after: float | None = None  # seconds the provider asked us to wait (`Retry-After`), for a retry
    hold_until: datetime | None = None  # for `held`
    signal: str | None = None  # e.g. ENDPOINT_GONE

    @classmethod
    def sent(cls, provider_id: str, detail: str = "") -> DeliveryResult:
        """The provider accepted the message; `provider_id` is its reference for it."""
        return cls(AttemptOutcome.SENT, detail, provider_id)

    @classmethod
    def retry(cls, reason: str, retry_after: float | None = None) -> DeliveryResult:
        """A transient failure: the same message may succeed later (not before `retry_after` s if given)."""
        return cls(AttemptOutcome.RETRY, reason, retry_after=retry_after)

    @classmethod
    def failed(cls, reason: str) -> DeliveryResult:
        """A permanent failure: sending the same message again cannot succeed."""
        return cls(AttemptOutcome.FAILED, reason)

    @classmethod
    def held(cls, until: datetime, reason: str) -> DeliveryResult:
        """Kept back on purpose (quiet hours): nothing was sent; try again at `until`."""
        return cls(AttemptOutcome.HELD, reason, hold_until=until)

    @property
    def ok(self) -> bool:
        """True when the message was accepted."""
        return self.outcome == AttemptOutcome.SENT


class Channel(Protocol):
    """A delivery channel. `send` never raises for provider or network errors: it returns a result."""

    name: ClassVar[str]
    max_per_second: float
    max_length: ClassVar[int | None]

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Try to hand one message to the provider and report the outcome."""
        ...

    async def aclose(self) -> None:
        """Release connections and sessions; the channel may be used again afterwards."""
        ...
