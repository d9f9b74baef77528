"""Request and response bodies of the HTTP API (separate from domain objects), with OpenAPI examples.

Request fields go through the domain's own parsers (ID numbers, mobiles, e-mails, notification types), so a
bad value is refused with the domain's sentence and named by its field before any service runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from jawazat_events.domain.notification_types import NotificationType, parse_notification_types
from jawazat_events.domain.plausible import check_query_time
from jawazat_events.services.fields import Email as EmailText
from jawazat_events.services.fields import IdNumberText, QuietHoursText, UnifiedNumberText, WebhookUrlText
from jawazat_events.services.fields import Mobile as MobileText
from jawazat_events.services.ingest import LineStatus

EXAMPLE_ID = "2000000006"
EXAMPLE_UNIFIED = "7001234567"


def _query_time(value: datetime) -> datetime:
    return check_query_time(value)


def _types(value: list[NotificationType]) -> list[str]:
    return list(parse_notification_types([str(v) for v in value]))


IdNumber = Annotated[
    IdNumberText,
    Field(description="10-digit ID number (1/2: Luhn check digit; 3/4: visitor)", examples=[EXAMPLE_ID]),
]
UnifiedNumber = Annotated[
    UnifiedNumberText,
    Field(description="establishment's 10-digit unified number starting with 7", examples=[EXAMPLE_UNIFIED]),
]
Mobile = Annotated[
    MobileText,
    Field(description="mobile number (region SA by default), stored in E.164", examples=["0501234567"]),
]
Email = Annotated[
    EmailText,
    Field(description="e-mail address (syntax checked, stored normalised)", examples=["hr@example.sa"]),
]
# A time given to a query (`since`, `at`): with offset, inside the domain's query window (else 422).
QueryTime = Annotated[
    AwareDatetime,
    AfterValidator(_query_time),
    Field(
        description="ISO 8601 with offset, from 1900 to before 9000", examples=["2026-07-01T09:00:00+03:00"]
    ),
]
NotificationTypes = Annotated[
    list[NotificationType],
    Field(min_length=1, max_length=16, examples=[["entry_exit", "visa"]]),
    AfterValidator(_types),
]
# Channel settings: the URL's length here; its form and addresses (the SSRF guard) in the service.
WebhookUrl = Annotated[
    WebhookUrlText,
    Field(
        description="https URL receiving the alerts as Standard Webhooks POSTs (http only to allowed hosts)",
        examples=["https://hr.example.sa/hooks/jawazat"],
    ),
]
QuietHours = Annotated[
    QuietHoursText,
    Field(description="HH:MM-HH:MM in the business time zone; null: off", examples=["22:00-07:00"]),
]
TypeList = Annotated[list[NotificationType], Field(max_length=16, examples=[["entry_exit"]])]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------------------- subscriptions


class SubscriptionCreate(_Request):
    """Subscribe to an ID number the establishment sponsors."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id_number": EXAMPLE_ID,
                    "notification_types": ["entry_exit", "visa"],
                    "mobile": "0501234567",
                }
            ]
        },
    )

    id_number: IdNumber
    notification_types: NotificationTypes
    mobile: Mobile | None = None
    email: Email | None = None
    webhook_url: WebhookUrl | None = Field(
        default=None, description="this subscription's own webhook endpoint (else the establishment's)"
    )


class SubscriptionChange(_Request):
    """Change a subscription's types and/or contacts; fields left out (or null) keep their value."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"notification_types": ["passport_expiry"], "email": "hr@example.sa"}]
        },
    )

    notification_types: NotificationTypes | None = None
    mobile: Mobile | None = None
    email: Email | None = None
    webhook_url: WebhookUrl | None = Field(
        default=None, description="this subscription's own webhook endpoint"
    )

    @model_validator(mode="after")
    def _something(self) -> SubscriptionChange:
        if (
            self.notification_types is None
            and self.mobile is None
            and self.email is None
            and not self.webhook_url
        ):
            raise ValueError("give at least one of notification_types, mobile, email, webhook_url")
        return self


class SubscriptionOut(BaseModel):
    """A subscription as the contract shows it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id_number": EXAMPLE_ID,
                    "notification_types": ["entry_exit", "visa"],
                    "mobile": "+966501234567",
                    "email": None,
                    "since": "2026-07-01T09:00:00+00:00",
                }
            ]
        }
    )

    id_number: str
    notification_types: list[str]
    mobile: str | None
    email: str | None
    since: str
    # Present only when set; the secret only in the answer that made it.
    webhook_url: str | None = Field(default=None, exclude_if=lambda value: value is None)
    webhook_secret: str | None = Field(
        default=None,
        description="the establishment's webhook signing secret (whsec_…), shown once when made",
        exclude_if=lambda value: value is None,
    )


class SubscriptionPage(BaseModel):
    """One page of active subscriptions, by ID number; pass `next_cursor` as `cursor` for the next."""

    items: list[SubscriptionOut]
    next_cursor: str | None = Field(description="null on the last page")


# -------------------------------------------------------------------------------------------- contacts


class ContactsUpdate(_Request):
    """The establishment's default contacts and message language; fields left out keep their value."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"mobile": "0501234567", "email": "hr@example.sa", "language": "en"}]
        },
    )

    mobile: Mobile | None = None
    email: Email | None = None
    language: Literal["ar", "en"] | None = None
    # Channel settings (docs/api.md, "Webhooks, quiet hours, digests"): null clears; left out keeps.
    webhook_url: WebhookUrl | None = None
    quiet_hours: QuietHours | None = None
    urgent_types: TypeList | None = Field(default=None, description="types whose SMS are never held")
    webhook_full_id_number: bool | None = Field(
        default=None, description="send full ID numbers in webhooks (masked by default)"
    )
    digest_types: TypeList | None = Field(
        default=None, description="types whose e-mails are folded into one daily digest (passport_expiry)"
    )


CHANNEL_FIELDS = ("webhook_url", "quiet_hours", "urgent_types", "webhook_full_id_number", "digest_types")


class ChannelsOut(BaseModel):
    """The establishment's channel settings: webhook endpoint, quiet hours, urgent and digest types."""

    webhook_url: str | None
    webhook_enabled: bool
    quiet_hours: str | None
    urgent_types: list[str]
    webhook_full_id_number: bool
    digest_types: list[str]


class WebhookSecretOut(BaseModel):
    """A new webhook signing secret (shown once); the previous one signs beside it until the given time."""

    webhook_secret: str
    previous_secret_valid_until: str


class ContactsOut(BaseModel):
    """The establishment's defaults, used by subscriptions without their own contacts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "unified_number": EXAMPLE_UNIFIED,
                    "name": "Al Noor Contracting",
                    "mobile": "+966501234567",
                    "email": "hr@example.sa",
                    "language": "en",
                }
            ]
        }
    )

    unified_number: str
    name: str
    mobile: str | None
    email: str | None
    language: str
    # Present only when the request set a channel field; the secret only when this request made it.
    channels: ChannelsOut | None = Field(default=None, exclude_if=lambda value: value is None)
    webhook_secret: str | None = Field(
        default=None,
        description="the webhook signing secret (whsec_…), shown once, when the first webhook_url is set",
        exclude_if=lambda value: value is None,
    )


# ---------------------------------------------------------------------------------------------- alerts


class AttemptOut(BaseModel):
    """One delivery attempt of an alert."""

    at: str
    outcome: str
    detail: str | None = None


class AlertOut(BaseModel):
    """An alert in the contract's shape."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "alert_id": "5b0c3c55-4a5e-5f0e-9f39-0d2f3c1b7a11",
                    "event_id": "src-000123",
                    "event_type": "border_crossing",
                    "notification_type": "entry_exit",
                    "id_number": EXAMPLE_ID,
                    "establishment": EXAMPLE_UNIFIED,
                    "channel": "sms",
                    "recipient": "+966501234567",
                    "status": "sent",
                    "created_at": "2026-07-01T09:00:00+00:00",
                    "attempts": [{"at": "2026-07-01T09:00:01+00:00", "outcome": "sent", "detail": "SM123"}],
                }
            ]
        }
    )

    alert_id: str
    event_id: str
    event_type: str
    notification_type: str
    id_number: str
    establishment: str
    channel: str
    recipient: str
    status: str
    created_at: str
    attempts: list[AttemptOut]


class AlertList(BaseModel):
    """The establishment's alerts, oldest first (at most `limit`; continue with `since`)."""

    items: list[AlertOut]


# ---------------------------------------------------------------------------------------------- events


class EventsBatch(_Request):
    """A batch of feed events (the contract's event feed format, one object per event)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "event_id": "src-000123",
                            "type": "border_crossing",
                            "id_number": EXAMPLE_ID,
                            "occurred_at": "2026-07-01T08:15:00+03:00",
                            "direction": "exit",
                            "port": "RUH",
                        }
                    ]
                }
            ]
        },
    )

    events: list[Any] = Field(
        description="feed events (see the contract's event feed); each is validated and reported on its own"
    )


class EventResult(BaseModel):
    """What became of one posted event (`index` is its 0-based position in `events`)."""

    index: int
    status: LineStatus
    event_id: str | None
    reason: str | None = Field(
        default=None, description="only for rejected events", exclude_if=lambda value: value is None
    )


class IngestOut(BaseModel):
    """Per-event results, in the order posted, and the counts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {"index": 0, "status": "accepted", "event_id": "src-000123"},
                        {"index": 1, "status": "duplicate", "event_id": "src-000122"},
                        {
                            "index": 2,
                            "status": "rejected",
                            "event_id": "src-000124",
                            "reason": "port: is required",
                        },
                    ],
                    "accepted": 1,
                    "duplicate": 1,
                    "rejected": 1,
                }
            ]
        }
    )

    results: list[EventResult]
    accepted: int
    duplicate: int
    rejected: int


# ----------------------------------------------------------------------------------------------- audit


class AuditEvent(BaseModel):
    """One stored event: its position in the store, type, recording time and fields (secrets left out)."""

    position: int
    type: str
    originator_id: str
    version: int
    recorded_at: str
    fields: dict[str, Any]


class AuditEventPage(BaseModel):
    """Stored events after a position, in recording order; pass `next_after` as `after` to go on."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "position": 42,
                            "type": "border_crossing",
                            "originator_id": "0b6f1f0e-3c9a-5a55-9d1e-6f4a8b7c2d10",
                            "version": 3,
                            "recorded_at": "2026-07-01T09:00:00.123456+00:00",
                            "fields": {
                                "event_id": "src-000123",
                                "id_number": EXAMPLE_ID,
                                "occurred_at": "2026-07-01T08:15:00+03:00",
                                "sponsor": EXAMPLE_UNIFIED,
                                "direction": "exit",
                                "port": "RUH",
                            },
                        }
                    ],
                    "next_after": 42,
                }
            ]
        }
    )

    items: list[AuditEvent]
    next_after: int


class SponsorshipOut(BaseModel):
    """One sponsorship period in business time (null: open-ended)."""

    model_config = ConfigDict(populate_by_name=True)

    sponsor: str
    from_: str | None = Field(alias="from")
    until: str | None


class TimelineOut(BaseModel):
    """A person's events (business-time order), alerts and sponsorships, as known at `at`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id_number": EXAMPLE_ID,
                    "at": None,
                    "events": [
                        {
                            "event_id": "src-000123",
                            "type": "border_crossing",
                            "occurred_at": "2026-07-01T08:15:00+03:00",
                            "recorded_at": "2026-07-01T09:00:00+00:00",
                            "direction": "exit",
                            "port": "RUH",
                        }
                    ],
                    "alerts": [],
                    "sponsorships": [{"sponsor": EXAMPLE_UNIFIED, "from": None, "until": None}],
                }
            ]
        }
    )

    id_number: str
    at: str | None
    events: list[dict[str, Any]]
    alerts: list[AlertOut]
    sponsorships: list[SponsorshipOut]


class SubscriptionsAtOut(BaseModel):
    """An establishment's subscriptions as they stood at `at` (now when not given)."""

    unified_number: str
    at: str | None
    items: list[SubscriptionOut]


# ---------------------------------------------------------------------------------------------- health


class HealthOut(BaseModel):
    """The store answered."""

    status: Literal["ok"]
    head: int = Field(description="the store's last position")


# ---------------------------------------------------------------------------------------------- errors


class ErrorBody(BaseModel):
    """One sentence saying what went wrong."""

    detail: str


class FieldProblem(BaseModel):
    """One invalid field and what is wrong with it."""

    field: str
    message: str


class ValidationErrorBody(BaseModel):
    """Every invalid field, named."""

    detail: list[FieldProblem]


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
