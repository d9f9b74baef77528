"""The e-services' rules without I/O: details as facts at a date, eligibility tables, validity windows, Hajj
seasons, tracking numbers (property-based), attachments by content, and the permit ledger's invariant."""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jawazat_events.domain.actors import ActorKind
from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.establishment import check_city
from jawazat_events.domain.makkah_permit import (
    INDIVIDUAL_CATEGORIES,
    check_documents,
    check_makkah_eligibility,
    is_makkah,
    parse_season_overrides,
)
from jawazat_events.domain.permit_ledger import PermitLedger
from jawazat_events.domain.person import Person, PersonDetails, Visa
from jawazat_events.domain.reference import PERSON_CATEGORIES
from jawazat_events.domain.requests import NotEligible, RequestConflict, check_reason
from jawazat_events.domain.ticket import (
    ALPHABET,
    check_ticket_text,
    new_tracking_number,
    parse_tracking_number,
    sniff_content_type,
)
from jawazat_events.domain.travel_permit import check_travel_eligibility, check_travel_window
from jawazat_events.services.hajj_seasons import HajjSeasons, umm_al_qura_window
from tests.support.eservices import JPEG, PDF, png


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def registered(**details: object) -> Person:
    return Person.register(
        id_number="2000000006",
        event_id="reg",
        occurred_at=at("2025-01-01T10:00:00+03:00"),
        sponsor="7001234567",
        name_ar="س",
        name_en="S",
        nationality="IND",
        passport_number="P1",
        passport_issue_date=date(2020, 1, 1),
        passport_expiry_date=date(2030, 1, 1),
        details=PersonDetails(**details),  # type: ignore[arg-type]
    )


# --- details at a date --------------------------------------------------------------------------------


def test_details_follow_business_time_whatever_the_order_they_arrive_in() -> None:
    person = registered(marital_status="single", mobile="+966501234567")
    person.change_details(
        event_id="c2", occurred_at=at("2026-03-01T10:00:00+03:00"), given={"marital_status": "divorced"}
    )
    person.change_details(
        event_id="c1", occurred_at=at("2026-01-01T10:00:00+03:00"), given={"marital_status": "married"}
    )
    person.change_details(
        event_id="c3", occurred_at=at("2026-02-01T10:00:00+03:00"), given={}, cleared=("mobile",)
    )

    assert person.details_at(at("2025-12-31T23:59:00+03:00")).marital_status == "single"
    assert person.details_at(at("2026-01-01T10:00:00+03:00")).marital_status == "married"
    assert person.details_at(at("2026-02-15T10:00:00+03:00")) == PersonDetails(marital_status="married")
    assert person.details.marital_status == "divorced"
    replayed = None
    for event in person.collect_events():
        replayed = event.mutate(replayed)
    assert isinstance(replayed, Person) and replayed.details == person.details


@pytest.mark.parametrize(
    ("given", "cleared", "words"),
    [
        ({}, (), "at least one"),
        ({"category": None}, ("category",), "cannot be cleared"),
        ({"guardian": "2000000006"}, (), "own ID"),
    ],
)
def test_detail_changes_are_checked(given: dict[str, object], cleared: tuple[str, ...], words: str) -> None:
    with pytest.raises(InvalidValue, match=words):
        registered().change_details(
            event_id="c", occurred_at=at("2026-01-01T10:00:00+03:00"), given=given, cleared=cleared
        )


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        ("2005-07-02", "2026-07-01", 20),
        ("2005-07-01", "2026-07-01", 21),
        ("2004-02-29", "2025-02-28", 20),
        ("2004-02-29", "2025-03-01", 21),
    ],
)
def test_age_on_a_day(born: str, on: str, age: int) -> None:
    assert PersonDetails(birth_date=date.fromisoformat(born)).age_on(date.fromisoformat(on)) == age


# --- travel permits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("details", "rule"),
    [
        (PersonDetails(birth_date=date(2010, 1, 1), marital_status="single"), None),
        (PersonDetails(birth_date=date(2005, 7, 1), marital_status="single"), "under_21"),
        (PersonDetails(marital_status="single"), "under_21"),
        (PersonDetails(birth_date=date(2010, 1, 1), marital_status="married"), "single"),
        (PersonDetails(birth_date=date(2010, 1, 1)), "single"),
    ],
)
def test_travel_eligibility(details: PersonDetails, rule: str | None) -> None:
    if rule is None:
        check_travel_eligibility(details, date(2026, 7, 1))
        return
    with pytest.raises(NotEligible) as refused:
        check_travel_eligibility(details, date(2026, 7, 1))
    assert (refused.value.field, refused.value.rule) == ("id_number", rule)


@given(start=st.integers(-30, 400), length=st.integers(-5, 400))
def test_a_window_is_accepted_exactly_when_it_is_sensible(start: int, length: int) -> None:
    today = date(2026, 7, 1)
    valid_from, valid_until = today + timedelta(days=start), today + timedelta(days=start + length)
    sensible = 0 <= start <= 365 and length >= 0 and length + 1 <= 90
    try:
        check_travel_window(valid_from, valid_until, today=today, max_days=90)
    except NotEligible:
        assert not sensible
    else:
        assert sensible


# --- Makkah permits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("category", [*PERSON_CATEGORIES, None])
def test_the_individuals_channel_serves_exactly_the_contracts_categories(category: str | None) -> None:
    def check() -> None:
        check_makkah_eligibility(
            channel=ActorKind.INDIVIDUAL,
            id_number="2000000006",
            details=PersonDetails(category=category),
            establishment_city=None,
            visas=[],
            day=date(2026, 7, 1),
        )

    if category in INDIVIDUAL_CATEGORIES:
        check()
    else:
        with pytest.raises(NotEligible, match="individual_category"):
            check()


@pytest.mark.parametrize(
    ("city", "visa", "eligible"),
    [
        ("Makkah", None, True),
        (" mecca ", None, True),
        ("Makkah Al-Mukarramah", None, True),
        ("Madinah", None, False),
        (None, Visa("V", "seasonal_work", "issued", date(2026, 1, 1), date(2026, 7, 1)), True),
        (None, Visa("V", "seasonal_work", "extended", date(2026, 1, 1), date(2026, 12, 1)), True),
        (None, Visa("V", "seasonal_work", "issued", date(2026, 1, 1), date(2026, 6, 30)), False),
        (None, Visa("V", "seasonal_work", "used", date(2026, 1, 1), date(2026, 12, 1)), False),
        (None, Visa("V", "hajj", "issued", date(2026, 1, 1), date(2026, 12, 1)), False),
    ],
)
def test_the_establishments_channel(city: str | None, visa: Visa | None, eligible: bool) -> None:
    def check() -> None:
        check_makkah_eligibility(
            channel=ActorKind.ESTABLISHMENT,
            id_number="2000000006",
            details=PersonDetails(category="worker"),
            establishment_city=city,
            visas=[visa] if visa else [],
            day=date(2026, 7, 1),
        )

    if eligible:
        check()
    else:
        with pytest.raises(NotEligible, match="makkah_establishment_or_seasonal_visa"):
            check()
    assert is_makkah(city) == (city is not None and "mad" not in city.lower())


def test_seasons_follow_the_umm_al_qura_calendar_unless_the_operator_says_otherwise() -> None:
    window = umm_al_qura_window("1447")
    assert (window.opens, window.closes) == (date(2026, 3, 20), date(2026, 6, 1))
    assert (umm_al_qura_window("1448").opens, umm_al_qura_window("1448").closes) == (
        date(2027, 3, 9),
        date(2027, 5, 21),
    )
    seasons = HajjSeasons(parse_season_overrides("1447=2026-03-01..2026-07-15"))
    assert seasons.open_window("1447", date(2026, 7, 1)).closes == date(2026, 7, 15)
    with pytest.raises(NotEligible, match="season_open"):
        HajjSeasons().open_window("1447", date(2026, 7, 1))
    assert HajjSeasons().next_open(date(2026, 7, 1)).season == "1448"


@pytest.mark.parametrize(
    "text",
    ["1448", "1448=2027-03-09", "1448=2027-05-21..2027-03-09", "1448=2027-02-30..2027-03-09", "x=1..2"],
)
def test_bad_season_overrides_are_named(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_season_overrides(text)


def test_documents_are_named_and_hashed() -> None:
    assert check_documents([{"name": " a.pdf ", "sha256": "AB" * 32}]) == [
        {"name": "a.pdf", "sha256": "ab" * 32}
    ]
    with pytest.raises(NotEligible, match="document_name"):
        check_documents([{"name": "", "sha256": "ab" * 32}])


# --- the ledger: no two active windows overlap, whatever the order of holds and releases -------------


@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 9), st.integers(0, 60), st.integers(0, 20)), max_size=40)
)
def test_a_ledger_never_holds_two_overlapping_windows(steps: list[tuple[bool, int, int, int]]) -> None:
    ledger = PermitLedger(kind="travel_permit", id_number="2000000006", scope="")
    base = date(2026, 7, 1)
    for hold, permit, start, length in steps:
        if not hold:
            ledger.release(f"p{permit}")
            continue
        start_day, end_day = base + timedelta(days=start), base + timedelta(days=start + length)
        clashes = any(
            s <= end_day and start_day <= e for other, (s, e) in ledger.held.items() if other != f"p{permit}"
        )
        try:
            ledger.hold(permit_id=f"p{permit}", valid_from=start_day, valid_until=end_day, conflict="overlap")
            assert not clashes
        except RequestConflict:
            assert clashes
        windows = sorted(ledger.held.values())
        assert all(a[1] < b[0] for a, b in pairwise(windows))


# --- tracking numbers ---------------------------------------------------------------------------------


@given(st.text(alphabet=ALPHABET, min_size=9, max_size=9), st.integers(0, 9), st.sampled_from(ALPHABET))
def test_every_single_mistyped_symbol_is_caught(payload: str, index: int, typo: str) -> None:
    number = new_tracking_number(choose=_chooser(payload))
    symbols = number.replace("-", "")
    mistyped = symbols[:index] + typo + symbols[index + 1 :]
    if mistyped == symbols:
        assert parse_tracking_number(mistyped) == number
    else:
        with pytest.raises(InvalidValue, match="check symbol"):
            parse_tracking_number(mistyped)


def _chooser(payload: str) -> Callable[[str], str]:
    symbols = iter(payload)
    return lambda _alphabet: next(symbols)


def test_numbers_read_over_the_phone_are_understood() -> None:
    number = new_tracking_number()
    spoken = number.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert parse_tracking_number(spoken) == number
    assert len(number) == 11 and number[5] == "-"


def test_numbers_are_random_not_sequential() -> None:
    numbers = [new_tracking_number() for _ in range(2000)]
    assert len(set(numbers)) == len(numbers)
    # Every position uses the whole alphabet: nothing counts up.
    for position in (0, 4, 8):
        assert len({n.replace("-", "")[position] for n in numbers}) == 32


@pytest.mark.parametrize("bad", ["", "ABCDE-FGHJ", "ABCDE-FGHJKM", "UUUUU-UUUUU", "ABCDE_FGHJ!"])
def test_malformed_numbers_are_named(bad: str) -> None:
    with pytest.raises(InvalidValue, match="tracking_number"):
        parse_tracking_number(bad)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "application/pdf"),
        (png(), "image/png"),
        (JPEG, "image/jpeg"),
        (b"GIF89a", None),
        (b"PK\x03\x04 a zip", None),
        (b"<html>", None),
        (string.ascii_letters.encode(), None),
    ],
)
def test_content_types_by_content(content: bytes, expected: str | None) -> None:
    assert sniff_content_type(content[:16]) == expected


# --- free text follows the one text rule (domain.text) ---------------------------------------------------

FORGED = ["\u202eevil", "a\x00b", "\u2066x\u2069", "\u200b\u200c"]


@pytest.mark.parametrize("text", FORGED)
def test_reasons_procedures_and_document_names_refuse_what_could_forge_a_line(text: str) -> None:
    with pytest.raises(NotEligible) as reason:
        check_reason(text, required=True)
    assert (reason.value.field, reason.value.rule) == ("reason", "plain_text")
    with pytest.raises(NotEligible) as procedure:
        check_ticket_text(procedure=text, description="the fee was taken")
    assert (procedure.value.field, procedure.value.rule) == ("procedure", "plain_text")
    with pytest.raises(NotEligible) as document:
        check_documents([{"name": text, "sha256": "ab" * 32}])
    assert (document.value.field, document.value.rule) == ("documents.0.name", "plain_text")
    with pytest.raises(InvalidValue, match=r"^city "):
        check_city(text)


def test_free_text_is_one_line_in_nfc() -> None:
    assert check_reason("  no\r\nvalid\tdocument  ", required=True) == "no valid document"
    assert check_reason(None, required=False) == ""
    assert check_city("Makkah  Al-Mukarramah") == "Makkah Al-Mukarramah"
    assert check_city("  ") is None
    assert check_ticket_text(procedure="cafe\u0301", description="a\nb") == ("caf\u00e9", "a\nb")
