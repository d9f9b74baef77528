"""The feed's compiled codec: one msgspec pass decodes a feed line into a typed struct, the domain's parsers
check its values, and any line the codec cannot vouch for is handed to the reference model
(`feed.parse_event`), which gives the exact answer and the exact sentence.

So the bulk path (`services.bulk_ingest`) never builds a pydantic model for a good line, and a bad line is
refused with the very reason it always was: the codec only ever *accepts* lines (with the values the
reference would give them); refusing, and naming the field, is left to the reference. The rules stay
where they were: identifiers (`domain.identifiers`), text (`domain.text`), reference data
(`domain.reference`), plausible times (`domain.plausible`); `tests/unit/test_feed_codec.py` holds the
codec to the reference on generated lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any, ClassVar

import msgspec
from msgspec import UNSET, UnsetType

from jawazat_events.domain.identifiers import parse_email, parse_id_number, parse_mobile, parse_unified_number
from jawazat_events.domain.person import CLEARABLE_DETAILS, DETAIL_FIELDS, PersonDetails
from jawazat_events.domain.plausible import PlausibleWindow, check_business_time, check_document_date
from jawazat_events.domain.reference import (
    ISO_ALPHA3,
    MARITAL_STATUSES,
    PERSON_CATEGORIES,
    VISA_STATUSES,
    VISA_TYPES,
)
from jawazat_events.domain.text import parse_code, parse_name
from jawazat_events.services import feed


class _Line(msgspec.Struct, forbid_unknown_fields=True, tag_field="type", kw_only=True):
    """Fields every feed event has; `occurred_at` is the raw text until checked, then the parsed time."""

    type: ClassVar[str]
    event_id: str
    id_number: str
    occurred_at: Any


class PersonRegisteredLine(_Line, tag="person_registered"):
    type = "person_registered"
    sponsor: str
    name_ar: str
    name_en: str
    nationality: str
    passport_number: str
    passport_issue_date: date
    passport_expiry_date: date
    birth_date: date | None = None
    marital_status: str | None = None
    guardian: str | None = None
    mobile: str | None = None
    email: str | None = None
    category: str | None = None

    @property
    def details(self) -> PersonDetails:
        """The person's details given on this line."""
        return PersonDetails(**{name: getattr(self, name) for name in DETAIL_FIELDS})


class PersonDetailsChangedLine(_Line, tag="person_details_changed"):
    type = "person_details_changed"
    # UNSET: not on the line; None: cleared (explicit null).
    birth_date: date | UnsetType | None = UNSET
    marital_status: str | UnsetType | None = UNSET
    guardian: str | UnsetType | None = UNSET
    mobile: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    category: str | UnsetType | None = UNSET

    @property
    def given(self) -> dict[str, Any]:
        """The details this line gives a value for."""
        values = {name: getattr(self, name) for name in DETAIL_FIELDS}
        return {name: value for name, value in values.items() if value is not None and value is not UNSET}

    @property
    def cleared(self) -> tuple[str, ...]:
        """The details this line clears (explicit null)."""
        return tuple(sorted(name for name in CLEARABLE_DETAILS if getattr(self, name) is None))


class BorderCrossingLine(_Line, tag="border_crossing"):
    type = "border_crossing"
    direction: str
    port: str


class PassportRenewedLine(_Line, tag="passport_renewed"):
    type = "passport_renewed"
    passport_number: str
    issue_date: date
    expiry_date: date


class VisaIssuedLine(_Line, tag="visa_issued"):
    type = "visa_issued"
    visa_number: str
    visa_type: str
    valid_from: date
    valid_until: date


class VisaStatusChangedLine(_Line, tag="visa_status_changed"):
    type = "visa_status_changed"
    visa_number: str
    status: str
    valid_until: date | None = None


class SponsorshipTransferredLine(_Line, tag="sponsorship_transferred"):
    type = "sponsorship_transferred"
    to_sponsor: str


LeanEvent = (
    PersonRegisteredLine
    | PersonDetailsChangedLine
    | BorderCrossingLine
    | PassportRenewedLine
    | VisaIssuedLine
    | VisaStatusChangedLine
    | SponsorshipTransferredLine
)
LEAN_TYPES: dict[str, type[_Line]] = {
    cls.type: cls
    for cls in (
        PersonRegisteredLine,
        PersonDetailsChangedLine,
        BorderCrossingLine,
        PassportRenewedLine,
        VisaIssuedLine,
        VisaStatusChangedLine,
        SponsorshipTransferredLine,
    )
}
_DECODER = msgspec.json.Decoder(LeanEvent)

# --------------------------------------------------------------------------------- value checks
# Each takes the decoded value and the field's name and returns the checked value, or raises: the line
# then goes to the reference model, which refuses it with its sentence (or, in an edge the codec does not
# vouch for, accepts it).


class _NotVouched(Exception):
    """The codec does not vouch for this value: the reference model decides."""


# A business time the codec parses itself: RFC 3339 with seconds and an explicit offset (what source
# systems send). Anything else (no seconds, other separators, >6 fraction digits) goes to the reference.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def _time(value: object, _: str) -> datetime:
    if type(value) is not str or not _RFC3339.fullmatch(value):
        raise _NotVouched
    return datetime.fromisoformat(value)


# Checks that return the very value they were given (or raise): nothing to write back.
_UNCHANGING: set[Callable[[Any, str], Any]] = set()


def _event_id(value: str, _: str) -> str:
    # The reference strips surrounding white space (by a slightly different definition): such ids, and
    # reserved prefixes, are left to it.
    if (
        not value
        or len(value) > 200
        or value[0].isspace()
        or value[-1].isspace()
        or value.startswith(feed.RESERVED_EVENT_ID_PREFIXES)
    ):
        raise _NotVouched
    return value


_UNCHANGING.add(_event_id)


def _id_number(value: str, field: str) -> str:
    return parse_id_number(value, field=field)


def _unified(value: str, field: str) -> str:
    return parse_unified_number(value, field=field)


def _name(value: str, field: str) -> str:
    return parse_name(value, field=field)


def _code(value: str, field: str) -> str:
    return parse_code(value, field=field)


def _one_of(allowed: Iterable[str]) -> Callable[[str, str], str]:
    choices = frozenset(allowed)

    def check(value: str, _: str) -> str:
        if value not in choices:
            raise _NotVouched
        return value

    _UNCHANGING.add(check)
    return check


def _mobile(value: str, _: str) -> str:
    if len(value) > 32:
        raise _NotVouched
    return parse_mobile(value)


def _email(value: str, _: str) -> str:
    if len(value) > 320:
        raise _NotVouched
    return parse_email(value)


Check = Callable[[Any, str], Any]
_COMMON: tuple[tuple[str, Check], ...] = (
    ("event_id", _event_id),
    ("id_number", _id_number),
    ("occurred_at", _time),
)
_DETAILS: tuple[tuple[str, Check], ...] = (
    ("marital_status", _one_of(MARITAL_STATUSES)),
    ("guardian", _id_number),
    ("mobile", _mobile),
    ("email", _email),
    ("category", _one_of(PERSON_CATEGORIES)),
)
# The fields each type checks beyond msgspec's types (strings, dates); optional ones only when given.
_CHECKS: dict[type[_Line], tuple[tuple[str, Check], ...]] = {
    PersonRegisteredLine: (
        *_COMMON,
        ("sponsor", _unified),
        ("name_ar", _name),
        ("name_en", _name),
        ("nationality", _one_of(ISO_ALPHA3)),
        ("passport_number", _code),
        *_DETAILS,
    ),
    PersonDetailsChangedLine: (*_COMMON, *_DETAILS),
    BorderCrossingLine: (*_COMMON, ("direction", _one_of(("entry", "exit"))), ("port", _code)),
    PassportRenewedLine: (*_COMMON, ("passport_number", _code)),
    VisaIssuedLine: (*_COMMON, ("visa_number", _code), ("visa_type", _one_of(VISA_TYPES))),
    VisaStatusChangedLine: (*_COMMON, ("visa_number", _code), ("status", _one_of(VISA_STATUSES))),
    SponsorshipTransferredLine: (*_COMMON, ("to_sponsor", _unified)),
}


# Per type: (field, check, whether an absent value (None or UNSET) skips it, whether the check may return
# another value than it was given (else nothing is written back)).
_PLANS: dict[type[_Line], tuple[tuple[str, Check, bool, bool], ...]] = {
    cls: tuple(
        (
            name,
            check,
            name in DETAIL_FIELDS,
            check not in _UNCHANGING,
        )
        for name, check in checks
    )
    for cls, checks in _CHECKS.items()
}


def _checked(line: _Line) -> _Line:
    for name, check, optional, replaces in _PLANS[type(line)]:
        value = getattr(line, name)
        if optional and (value is None or value is UNSET):
            continue  # an optional detail not given (or cleared)
        if replaces:
            setattr(line, name, check(value, name))
        else:
            check(value, name)
    if type(line) is PersonDetailsChangedLine:
        given = [name for name in DETAIL_FIELDS if getattr(line, name) is not UNSET]
        if not given or any(getattr(line, n) is None and n not in CLEARABLE_DETAILS for n in given):
            raise _NotVouched
    return line


def decode(raw: str | bytes) -> LeanEvent:
    """One feed line as a checked lean event, or `feed.FeedLineError` with the reference's reason."""
    try:
        return _checked(_DECODER.decode(raw))  # type: ignore[return-value]
    except Exception:
        return from_model(feed.parse_event(raw))


def decode_item(item: object) -> LeanEvent:
    """One decoded JSON item (a `POST /v1/events` body item), under the same rules as a line."""
    if not isinstance(item, dict):
        raise feed.FeedLineError("an event must be a JSON object with the event's fields")
    try:
        text = json.dumps(item, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return from_model(feed.parse_event(item))  # its sentence
    return decode(text)


def from_model(event: feed.FeedEvent) -> LeanEvent:
    """The lean form of an event the reference model parsed (its values as they are)."""
    cls = LEAN_TYPES[event.type]
    names = [name for name in cls.__struct_fields__ if name in event.model_fields_set]
    if not isinstance(event, feed.PersonDetailsChanged):
        names = list(cls.__struct_fields__)
    return cls(**{name: getattr(event, name) for name in names})  # type: ignore[return-value]


def as_lean(event: feed.FeedEvent | LeanEvent) -> LeanEvent:
    """Either form of a parsed feed event, as the lean one."""
    if isinstance(event, _Line):
        return event
    return from_model(event)


Decoded = tuple[int, "LeanEvent | str"]  # (line number, event or the reason it was rejected)


def decode_lines(lines: Iterable[str | bytes], *, first_line: int = 1) -> Iterator[Decoded]:
    """Decode JSON lines lazily; blank lines are skipped but still counted for line numbers."""
    for number, raw in enumerate(lines, start=first_line):
        text = raw.strip()
        if not text:
            continue
        try:
            yield number, decode(text)
        except feed.FeedLineError as error:
            yield number, str(error)


def decode_items(items: Iterable[object], *, first_line: int = 1) -> Iterator[Decoded]:
    """Decode the items of a posted batch, numbered from `first_line`."""
    for number, item in enumerate(items, start=first_line):
        try:
            yield number, decode_item(item)
        except feed.FeedLineError as error:
            yield number, str(error)


def _time_fields(cls: type[_Line]) -> tuple[str, ...]:
    hints = {name: cls.__annotations__.get(name) for name in cls.__struct_fields__}
    return tuple(
        name
        for name in cls.__struct_fields__
        if name == "occurred_at" or "date" in str(hints.get(name) or "")
    )


_TIME_FIELDS = {cls: _time_fields(cls) for cls in LEAN_TYPES.values()}


def check_times(event: LeanEvent, *, now: datetime, today: date) -> None:
    """`feed.check_times` for a lean event: the same windows (`domain.plausible`), the same field order."""
    for name in _TIME_FIELDS[type(event)]:
        value = getattr(event, name)
        if isinstance(value, datetime):
            check_business_time(value, now=now, field=name)
        elif isinstance(value, date):
            check_document_date(value, today=today, field=name)


def times_check(*, now: datetime, today: date) -> Callable[[LeanEvent], None]:
    """`check_times(event, now=now, today=today)` for many events, the windows worked out once."""
    window = PlausibleWindow(now=now, today=today)
    business_time, document_date = window.business_time, window.document_date
    time_fields = _TIME_FIELDS

    def check(event: LeanEvent) -> None:
        for name in time_fields[type(event)]:
            value = getattr(event, name)
            if isinstance(value, datetime):
                business_time(value, name)
            elif isinstance(value, date):
                document_date(value, name)

    return check
