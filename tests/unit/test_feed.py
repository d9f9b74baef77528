"""Table-driven tests of the feed line format: every valid event type, and every kind of bad line named."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from jawazat_events.services import feed
from jawazat_events.services.ingest import parse_items, parse_lines

OCCURRED = "2026-01-05T09:30:00+03:00"
COMMON = {"event_id": "src-1", "id_number": "2000000006", "occurred_at": OCCURRED}

VALID: dict[str, dict[str, Any]] = {
    "person_registered": {
        **COMMON,
        "type": "person_registered",
        "sponsor": "7001234567",
        "name_ar": "محمد علي",
        "name_en": "Mohammed Ali",
        "nationality": "IND",
        "passport_number": "P1234567",
        "passport_issue_date": "2020-03-01",
        "passport_expiry_date": "2030-02-28",
    },
    "border_crossing": {**COMMON, "type": "border_crossing", "direction": "exit", "port": "Batha"},
    "passport_renewed": {
        **COMMON,
        "type": "passport_renewed",
        "passport_number": "P7654321",
        "issue_date": "2025-12-01",
        "expiry_date": "2035-11-30",
    },
    "visa_issued": {
        **COMMON,
        "type": "visa_issued",
        "visa_number": "V100",
        "visa_type": "exit_reentry",
        "valid_from": "2026-01-05",
        "valid_until": "2026-04-05",
    },
    "visa_status_changed": {
        **COMMON,
        "type": "visa_status_changed",
        "visa_number": "V100",
        "status": "extended",
        "valid_until": "2026-07-05",
    },
    "sponsorship_transferred": {
        **COMMON,
        "type": "sponsorship_transferred",
        "to_sponsor": "7007654321",
    },
    "person_details_changed": {**COMMON, "type": "person_details_changed", "marital_status": "married"},
}

EXPECTED_CLASS = {
    "person_registered": feed.PersonRegistered,
    "border_crossing": feed.BorderCrossing,
    "passport_renewed": feed.PassportRenewed,
    "visa_issued": feed.VisaIssued,
    "visa_status_changed": feed.VisaStatusChanged,
    "sponsorship_transferred": feed.SponsorshipTransferred,
    "person_details_changed": feed.PersonDetailsChanged,
}

DROP = object()  # marks a field to remove from the valid example


def variant(event_type: str, **changes: object) -> dict[str, Any]:
    """The valid example of `event_type` with fields changed (or removed with DROP)."""
    item = dict(VALID[event_type])
    for key, value in changes.items():
        if value is DROP:
            item.pop(key, None)
        else:
            item[key] = value
    return item


def reason_of(item: dict[str, Any]) -> str:
    with pytest.raises(feed.FeedLineError) as caught:
        feed.parse_event(json.dumps(item, ensure_ascii=False))
    return str(caught.value)


def test_every_feed_type_has_a_valid_example() -> None:
    assert set(VALID) == set(feed.FEED_TYPES) == set(EXPECTED_CLASS)


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_every_event_type_is_accepted_from_a_line(event_type: str) -> None:
    parsed = feed.parse_event(json.dumps(VALID[event_type], ensure_ascii=False))

    assert type(parsed) is EXPECTED_CLASS[event_type]
    assert parsed.type == event_type
    assert parsed.event_id == "src-1"
    assert parsed.id_number == "2000000006"
    assert parsed.occurred_at == datetime(2026, 1, 5, 6, 30, tzinfo=UTC)
    assert parsed.occurred_at.utcoffset() == timedelta(hours=3)


@pytest.mark.parametrize("event_type", sorted(VALID))
def test_a_decoded_item_follows_the_same_rules_as_a_line(event_type: str) -> None:
    # `POST /v1/events` hands the ingestor decoded JSON objects, not text.
    from_item = feed.parse_event(dict(VALID[event_type]))
    from_line = feed.parse_event(json.dumps(VALID[event_type]).encode())

    assert from_item == from_line


def test_typed_values_are_decoded() -> None:
    registered = feed.parse_event(json.dumps(VALID["person_registered"]))
    assert isinstance(registered, feed.PersonRegistered)
    assert registered.passport_issue_date == date(2020, 3, 1)
    assert registered.passport_expiry_date == date(2030, 2, 28)
    assert registered.sponsor == "7001234567"

    changed = feed.parse_event(json.dumps(VALID["visa_status_changed"]))
    assert isinstance(changed, feed.VisaStatusChanged)
    assert changed.valid_until == date(2026, 7, 5)


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"valid_until": DROP}, lambda e: e.valid_until is None),  # valid_until is optional
        ({"status": "used", "valid_until": DROP}, lambda e: e.status == "used"),
    ],
)
def test_optional_valid_until_of_a_status_change(changes: dict[str, object], check: Any) -> None:
    assert check(feed.parse_event(json.dumps(variant("visa_status_changed", **changes))))


@pytest.mark.parametrize(
    "occurred_at",
    ["2026-01-05T09:30:00Z", "2026-01-05T06:30:00+00:00", "2026-01-05T01:30:00-05:00"],
)
def test_any_explicit_offset_is_accepted(occurred_at: str) -> None:
    parsed = feed.parse_event(json.dumps(variant("border_crossing", occurred_at=occurred_at)))
    assert parsed.occurred_at.tzinfo is not None
    assert parsed.occurred_at.astimezone(UTC).date() == date(2026, 1, 5)


@pytest.mark.parametrize(
    "visa_type", ["exit_reentry", "final_exit", "work", "visit", "seasonal_work", "hajj", "umrah"]
)
def test_every_contract_visa_type_is_accepted(visa_type: str) -> None:
    parsed = feed.parse_event(json.dumps(variant("visa_issued", visa_type=visa_type)))
    assert isinstance(parsed, feed.VisaIssued)
    assert parsed.visa_type == visa_type


@pytest.mark.parametrize("status", ["used", "cancelled", "expired", "extended"])
def test_every_contract_visa_status_is_accepted(status: str) -> None:
    parsed = feed.parse_event(json.dumps(variant("visa_status_changed", status=status)))
    assert isinstance(parsed, feed.VisaStatusChanged)
    assert parsed.status == status


# (case, event type, changes, fragments that must all appear in the reason: the field, then what is wrong)
INVALID: list[tuple[str, str, dict[str, object], tuple[str, ...]]] = [
    # missing fields
    ("missing event_id", "border_crossing", {"event_id": DROP}, ("event_id", "is required")),
    ("missing id_number", "border_crossing", {"id_number": DROP}, ("id_number", "is required")),
    ("missing occurred_at", "visa_issued", {"occurred_at": DROP}, ("occurred_at", "is required")),
    ("missing type", "border_crossing", {"type": DROP}, ("type", "is required")),
    ("missing port", "border_crossing", {"port": DROP}, ("port", "is required")),
    ("missing direction", "border_crossing", {"direction": DROP}, ("direction", "is required")),
    ("missing sponsor", "person_registered", {"sponsor": DROP}, ("sponsor", "is required")),
    (
        "missing passport_expiry_date",
        "person_registered",
        {"passport_expiry_date": DROP},
        ("passport_expiry_date", "is required"),
    ),
    ("missing issue_date", "passport_renewed", {"issue_date": DROP}, ("issue_date", "is required")),
    ("missing visa_type", "visa_issued", {"visa_type": DROP}, ("visa_type", "is required")),
    ("missing status", "visa_status_changed", {"status": DROP}, ("status", "is required")),
    ("missing to_sponsor", "sponsorship_transferred", {"to_sponsor": DROP}, ("to_sponsor", "is required")),
    # extra fields
    ("unknown field", "border_crossing", {"gate": "B7"}, ("gate", "is not a field of this event type")),
    (
        "another type's field",
        "border_crossing",
        {"to_sponsor": "7007654321"},
        ("to_sponsor", "is not a field of this event type"),
    ),
    (
        "engine field on a renewal",
        "passport_renewed",
        {"days_left": 30},
        ("days_left", "is not a field of this event type"),
    ),
    # wrong types: numbers (and others) where strings are expected
    ("numeric id_number", "border_crossing", {"id_number": 2000000006}, ("id_number", "valid string")),
    ("numeric event_id", "border_crossing", {"event_id": 17}, ("event_id", "valid string")),
    ("numeric port", "border_crossing", {"port": 401}, ("port", "valid string")),
    ("numeric sponsor", "person_registered", {"sponsor": 7001234567}, ("sponsor", "valid string")),
    (
        "numeric to_sponsor",
        "sponsorship_transferred",
        {"to_sponsor": 7007654321},
        ("to_sponsor", "valid string"),
    ),
    (
        "numeric passport_number",
        "passport_renewed",
        {"passport_number": 7654321},
        ("passport_number", "valid string"),
    ),
    ("numeric visa_number", "visa_issued", {"visa_number": 100}, ("visa_number", "valid string")),
    ("null name_en", "person_registered", {"name_en": None}, ("name_en", "valid string")),
    ("boolean port", "border_crossing", {"port": True}, ("port", "valid string")),
    ("list name_ar", "person_registered", {"name_ar": ["محمد"]}, ("name_ar", "valid string")),
    ("empty event_id", "border_crossing", {"event_id": ""}, ("event_id", "at least 1 character")),
    ("blank port", "border_crossing", {"port": "   "}, ("port", "at least 1 character")),
    # occurred_at without an offset, or not a date-time at all
    (
        "naive occurred_at",
        "border_crossing",
        {"occurred_at": "2026-01-05T09:30:00"},
        ("occurred_at", "timezone"),
    ),
    (
        "date-only occurred_at",
        "border_crossing",
        {"occurred_at": "2026-01-05"},
        ("occurred_at", "valid datetime"),
    ),
    (
        "words as occurred_at",
        "border_crossing",
        {"occurred_at": "yesterday"},
        ("occurred_at", "valid datetime"),
    ),
    ("epoch occurred_at", "border_crossing", {"occurred_at": 1767594600}, ("occurred_at", "valid datetime")),
    (
        "impossible day in occurred_at",
        "border_crossing",
        {"occurred_at": "2026-02-30T09:00:00+03:00"},
        ("occurred_at", "day value is outside expected range"),
    ),
    (
        "impossible hour in occurred_at",
        "border_crossing",
        {"occurred_at": "2026-01-05T25:00:00+03:00"},
        ("occurred_at", "hour value is outside expected range"),
    ),
    # bad dates
    (
        "month 13",
        "person_registered",
        {"passport_issue_date": "2020-13-01"},
        ("passport_issue_date", "month value is outside expected range"),
    ),
    (
        "30 February",
        "passport_renewed",
        {"expiry_date": "2035-02-30"},
        ("expiry_date", "day value is outside expected range"),
    ),
    ("day-first date", "visa_issued", {"valid_from": "05/01/2026"}, ("valid_from", "valid date")),
    ("number as date", "visa_issued", {"valid_until": 20260405}, ("valid_until", "valid date")),
    (
        "date-time as date",
        "passport_renewed",
        {"issue_date": "2025-12-01T10:00:00+03:00"},
        ("issue_date", "date"),
    ),
    ("bad optional date", "visa_status_changed", {"valid_until": "soon"}, ("valid_until", "valid date")),
    # unknown and engine-made types
    ("unknown type", "border_crossing", {"type": "teleport"}, ("type", "unknown event type 'teleport'")),
    ("type in capitals", "border_crossing", {"type": "BORDER_CROSSING"}, ("type", "unknown event type")),
    (
        "engine-made passport_expired",
        "border_crossing",
        {"type": "passport_expired", "direction": DROP, "port": DROP, "expiry_date": "2026-01-05"},
        ("type", "'passport_expired' is made by the engine and never accepted from a feed"),
    ),
    (
        "engine-made passport_expiry_approaching",
        "border_crossing",
        {
            "type": "passport_expiry_approaching",
            "direction": DROP,
            "port": DROP,
            "days_left": 30,
            "expiry_date": "2026-02-04",
        },
        ("type", "'passport_expiry_approaching' is made by the engine"),
    ),
    # nationality, visa type and status, direction outside the reference data
    (
        "unknown country",
        "person_registered",
        {"nationality": "XXX"},
        ("nationality", "'XXX' is not an ISO 3166"),
    ),
    (
        "lower-case country",
        "person_registered",
        {"nationality": "ind"},
        ("nationality", "'ind' is not an ISO 3166"),
    ),
    (
        "alpha-2 country",
        "person_registered",
        {"nationality": "IN"},
        ("nationality", "'IN' is not an ISO 3166"),
    ),
    ("country name", "person_registered", {"nationality": "India"}, ("nationality", "alpha-3")),
    ("unknown visa_type", "visa_issued", {"visa_type": "tourist"}, ("visa_type", "'exit_reentry'")),
    ("visa_type in capitals", "visa_issued", {"visa_type": "WORK"}, ("visa_type", "'umrah'")),
    ("unknown status", "visa_status_changed", {"status": "lost"}, ("status", "'used', 'cancelled'")),
    (
        "status 'issued' is not a change",
        "visa_status_changed",
        {"status": "issued"},
        ("status", "'extended'"),
    ),
    ("unknown direction", "border_crossing", {"direction": "transit"}, ("direction", "'entry' or 'exit'")),
    # unified numbers
    (
        "sponsor not starting with 7",
        "person_registered",
        {"sponsor": "8001234567"},
        ("sponsor", "'8001234567' must be a 10-digit unified number starting with 7"),
    ),
    ("short sponsor", "person_registered", {"sponsor": "700123456"}, ("sponsor", "10-digit unified number")),
    ("long to_sponsor", "sponsorship_transferred", {"to_sponsor": "70076543210"}, ("to_sponsor", "10-digit")),
    (
        "letter in to_sponsor",
        "sponsorship_transferred",
        {"to_sponsor": "70076x4321"},
        ("to_sponsor", "10-digit"),
    ),
    # ID numbers
    (
        "bad check digit",
        "border_crossing",
        {"id_number": "2000000001"},
        ("id_number", "fails its check digit"),
    ),
    ("unknown first digit", "visa_issued", {"id_number": "5000000001"}, ("id_number", "must start with 1")),
    ("nine digits", "passport_renewed", {"id_number": "200000000"}, ("id_number", "exactly 10 digits")),
]


@pytest.mark.parametrize(
    ("event_type", "changes", "fragments"),
    [pytest.param(t, c, f, id=case) for case, t, c, f in INVALID],
)
def test_bad_lines_name_the_field_and_what_is_wrong(
    event_type: str, changes: dict[str, object], fragments: tuple[str, ...]
) -> None:
    reason = reason_of(variant(event_type, **changes))

    field, *what = fragments
    # The reason starts with the field's name, so a reader finds it at once.
    assert reason.startswith(field), reason
    for fragment in what:
        assert fragment in reason, reason


@pytest.mark.parametrize(
    ("event_type", "changes"),
    [pytest.param(t, c, id=case) for case, t, c, _ in INVALID],
)
def test_a_decoded_item_is_refused_with_the_same_reason(event_type: str, changes: dict[str, object]) -> None:
    item = variant(event_type, **changes)
    [(number, reason)] = list(parse_items([item], first_line=7))

    assert number == 7
    assert reason == reason_of(item)


def test_every_problem_of_a_line_is_named() -> None:
    item = variant("border_crossing", port=DROP, direction="sideways", occurred_at="2026-01-05T09:30:00")
    reason = reason_of(item)

    assert "port: is required" in reason
    assert "direction:" in reason
    assert "occurred_at:" in reason
    assert reason.count(";") == 2


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ('{"event_id": "x", "type": "border_crossing"', "invalid JSON: EOF while parsing"),
        ("{'event_id': 'x'}", "invalid JSON"),
        ('{"event_id": "x"} trailing', "invalid JSON: trailing characters"),
        ("border_crossing,2000000006,RUH", "invalid JSON"),
        ('{"event_id": "x",}', "invalid JSON"),
    ],
)
def test_invalid_json_is_named_as_such(raw: str, fragment: str) -> None:
    with pytest.raises(feed.FeedLineError, match=r"^invalid JSON") as caught:
        feed.parse_event(raw)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    "raw",
    [json.dumps([VALID["border_crossing"]]), "[]", '"border_crossing"', "42", "null", "true"],
)
def test_a_line_that_is_not_a_json_object_is_refused(raw: str) -> None:
    with pytest.raises(feed.FeedLineError, match="must be a JSON object"):
        feed.parse_event(raw)


@pytest.mark.parametrize("item", [[VALID["border_crossing"]], "border_crossing", 42, None])
def test_a_posted_item_that_is_not_an_object_is_refused(item: object) -> None:
    [(number, reason)] = list(parse_items([item]))
    assert number == 1
    assert isinstance(reason, str)
    assert "must be a JSON object" in reason


def test_an_empty_object_says_the_type_is_required() -> None:
    with pytest.raises(feed.FeedLineError, match=r"^type: is required$"):
        feed.parse_event("{}")


def test_parse_lines_counts_blank_lines_and_keeps_going_after_a_bad_one() -> None:
    good = json.dumps(VALID["border_crossing"])
    lines = [good + "\n", "\n", "   \n", "{oops\n", good.encode() + b"\n"]

    parsed = list(parse_lines(lines))

    assert [number for number, _ in parsed] == [1, 4, 5]
    assert isinstance(parsed[0][1], feed.BorderCrossing)
    assert isinstance(parsed[1][1], str)
    assert parsed[1][1].startswith("invalid JSON")
    assert isinstance(parsed[2][1], feed.BorderCrossing)


def test_surrounding_blanks_in_values_are_forgiven() -> None:
    parsed = feed.parse_event(json.dumps(variant("border_crossing", id_number=" 2000000006 ", port=" RUH ")))
    assert isinstance(parsed, feed.BorderCrossing)
    assert parsed.id_number == "2000000006"
    assert parsed.port == "RUH"
