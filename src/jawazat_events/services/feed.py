"""The event feed's line format: parse and validate one JSON line into a typed feed event."""

from __future__ import annotations

import functools
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from jawazat_events.domain.person import CLEARABLE_DETAILS, DETAIL_FIELDS, PersonDetails
from jawazat_events.domain.plausible import check_business_time, check_document_date
from jawazat_events.domain.reference import (
    ISO_ALPHA3,
    MARITAL_STATUSES,
    PERSON_CATEGORIES,
    VISA_STATUSES,
    VISA_TYPES,
)
from jawazat_events.domain.requests import EVENT_ID_PREFIX
from jawazat_events.services.fields import Code, Email, IdNumber, Mobile, Name, UnifiedNumber

ENGINE_MADE_TYPES = ("passport_expiry_approaching", "passport_expired")


def _nationality(value: str) -> str:
    if value not in ISO_ALPHA3:
        raise ValueError(f"'{value}' is not an ISO 3166 alpha-3 country code")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Ids the engine gives the events it makes itself (scheduler, e-services); a source system may not take them.
RESERVED_EVENT_ID_PREFIXES = ("expiry:", "expired:", EVENT_ID_PREFIX)


def _source_event_id(value: str) -> str:
    if value.startswith(RESERVED_EVENT_ID_PREFIXES):
        raise ValueError(
            f"event_id '{value}' starts with a prefix reserved for events the engine makes "
            f"({', '.join(RESERVED_EVENT_ID_PREFIXES)})"
        )
    return value


SourceEventId = Annotated[Text, AfterValidator(_source_event_id)]
Nationality = Annotated[str, AfterValidator(_nationality)]
MaritalStatus = Literal[MARITAL_STATUSES]  # type: ignore[valid-type]
Category = Literal[PERSON_CATEGORIES]  # type: ignore[valid-type]


class _FeedEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    event_id: SourceEventId
    id_number: IdNumber
    occurred_at: AwareDatetime


class PersonRegistered(_FeedEvent):
    """A person enters the record with sponsor and passport."""

    type: Literal["person_registered"]
    sponsor: UnifiedNumber
    name_ar: Name
    name_en: Name
    nationality: Nationality
    passport_number: Code
    passport_issue_date: date
    passport_expiry_date: date
    # Optional (older feeds stay valid): what the directorate's e-services need to know about the person.
    birth_date: date | None = None
    marital_status: MaritalStatus | None = None
    guardian: IdNumber | None = None
    mobile: Mobile | None = None
    email: Email | None = None
    category: Category | None = None

    @property
    def details(self) -> PersonDetails:
        """The person's details given on this line."""
        return PersonDetails(**{name: getattr(self, name) for name in DETAIL_FIELDS})


class PersonDetailsChanged(_FeedEvent):
    """New values of some of the person's details; `null` clears a guardian, mobile or e-mail."""

    type: Literal["person_details_changed"]
    birth_date: date | None = None
    marital_status: MaritalStatus | None = None
    guardian: IdNumber | None = None
    mobile: Mobile | None = None
    email: Email | None = None
    category: Category | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> PersonDetailsChanged:
        given = self.model_fields_set & set(DETAIL_FIELDS)
        if not given:
            raise ValueError(f"give at least one of {', '.join(DETAIL_FIELDS)}")
        for name in sorted(given):
            if getattr(self, name) is None and name not in CLEARABLE_DETAILS:
                raise ValueError(f"{name} cannot be cleared (null), only corrected")
        return self

    @property
    def given(self) -> dict[str, Any]:
        """The details this line gives a value for."""
        return {name: getattr(self, name) for name in DETAIL_FIELDS if getattr(self, name) is not None}

    @property
    def cleared(self) -> tuple[str, ...]:
        """The details this line clears (explicit null)."""
        return tuple(
            sorted(n for n in self.model_fields_set & set(CLEARABLE_DETAILS) if getattr(self, n) is None)
        )


class BorderCrossing(_FeedEvent):
    """An entry into or exit from the kingdom."""

    type: Literal["border_crossing"]
    direction: Literal["entry", "exit"]
    port: Code


class PassportRenewed(_FeedEvent):
    """A renewed passport's data."""

    type: Literal["passport_renewed"]
    passport_number: Code
    issue_date: date
    expiry_date: date


class VisaIssued(_FeedEvent):
    """A new visa."""

    type: Literal["visa_issued"]
    visa_number: Code
    visa_type: Literal[VISA_TYPES]  # type: ignore[valid-type]
    valid_from: date
    valid_until: date


class VisaStatusChanged(_FeedEvent):
    """A visa's status moved."""

    type: Literal["visa_status_changed"]
    visa_number: Code
    status: Literal[VISA_STATUSES]  # type: ignore[valid-type]
    valid_until: date | None = None


class SponsorshipTransferred(_FeedEvent):
    """The person's sponsorship moved to another establishment."""

    type: Literal["sponsorship_transferred"]
    to_sponsor: UnifiedNumber


FeedEvent = (
    PersonRegistered
    | BorderCrossing
    | PassportRenewed
    | VisaIssued
    | VisaStatusChanged
    | SponsorshipTransferred
    | PersonDetailsChanged
)
FEED_TYPES = (
    "person_registered",
    "person_details_changed",
    "border_crossing",
    "passport_renewed",
    "visa_issued",
    "visa_status_changed",
    "sponsorship_transferred",
)

_ADAPTER: TypeAdapter[FeedEvent] = TypeAdapter(Annotated[FeedEvent, Field(discriminator="type")])


class FeedLineError(ValueError):
    """A feed line that cannot become an event; the message names the field and what is wrong."""


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        loc = [str(p) for p in item["loc"]]
        # The discriminated union puts the type's name first: drop it, it is not a field.
        if loc and loc[0] in FEED_TYPES:
            loc = loc[1:]
        message = str(item["msg"]).removeprefix("Value error, ")
        kind = item["type"]
        if kind == "missing":
            message = "is required"
        elif kind == "extra_forbidden":
            message = "is not a field of this event type"
        elif kind == "json_invalid":
            return f"invalid JSON: {item['ctx'].get('error', message) if item.get('ctx') else message}"
        field = ".".join(loc)
        if not field and kind == "value_error":
            parts.append(message)  # a rule across fields (the sentence names them)
            continue
        if not field:
            return "a feed line must be a JSON object with the event's fields"
        # Domain messages already start with the field's name.
        parts.append(message if message.startswith(f"{field} ") else f"{field}: {message}")
    return "; ".join(parts)


def parse_event(data: dict[str, Any] | str | bytes) -> FeedEvent:
    """Validate one feed item (a decoded JSON object or the raw line) or raise `FeedLineError`."""
    if not isinstance(data, str | bytes):
        # A decoded item (a `POST /v1/events` body item) obeys the same JSON rules as a feed line:
        # strict validation of Python objects would refuse the ISO strings JSON carries for dates.
        try:
            data = json.dumps(data, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise FeedLineError(f"an event must hold only JSON values: {error}") from None
    try:
        return _ADAPTER.validate_json(data)
    except ValidationError as error:
        raise FeedLineError(_check_type(error, data) or _describe(error)) from None


@functools.cache
def _time_fields(kind: type[BaseModel]) -> tuple[str, ...]:
    """The names of an event type's time and date fields."""
    return tuple(
        name
        for name, field in kind.model_fields.items()
        if {field.annotation, *get_args(field.annotation)} & {date, datetime, AwareDatetime}
    )


def check_times(event: FeedEvent, *, now: datetime, today: date) -> None:
    """Every time and date of the event inside its plausible window (`domain.plausible`): `occurred_at` at
    most a day ahead of `now`, passport and visa dates within sane bounds; `InvalidValue` names the field."""
    for name in _time_fields(type(event)):
        value = getattr(event, name)
        if isinstance(value, datetime):
            check_business_time(value, now=now, field=name)
        elif isinstance(value, date):
            check_document_date(value, today=today, field=name)


def _check_type(error: ValidationError, data: dict[str, Any] | str | bytes) -> str | None:
    for item in error.errors(include_url=False):
        if item["type"] == "union_tag_invalid":
            tag = item.get("ctx", {}).get("tag")
            if tag in ENGINE_MADE_TYPES:
                return f"type: '{tag}' is made by the engine and never accepted from a feed"
            return f"type: unknown event type '{tag}' (known: {', '.join(FEED_TYPES)})"
        if item["type"] == "union_tag_not_found":
            return "type: is required"
    return None
