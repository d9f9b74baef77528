"""Table-driven tests of the identifier and contact value objects."""

from __future__ import annotations

import pytest

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.identifiers import (
    luhn_ok,
    mask_id_number,
    parse_email,
    parse_id_number,
    parse_mobile,
    parse_unified_number,
    person_id,
)
from jawazat_events.generate import luhn_complete


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1000000008", "1000000008"),  # citizen, valid check digit
        ("2000000006", "2000000006"),  # resident, valid check digit
        (" 2000000006 ", "2000000006"),  # surrounding blanks are forgiven
        ("3000000001", "3000000001"),  # visitor: no check digit
        ("4123456789", "4123456789"),
    ],
)
def test_valid_id_numbers(raw: str, expected: str) -> None:
    assert parse_id_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("2000000001", "fails its check digit"),
        ("1000000001", "fails its check digit"),
        ("5000000001", "must start with 1"),
        ("0000000000", "must start with 1"),
        ("200000000", "exactly 10 digits"),
        ("20000000066", "exactly 10 digits"),
        ("20000000a6", "exactly 10 digits"),
        ("", "exactly 10 digits"),
        (2000000006, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_invalid_id_numbers_say_why(raw: object, fragment: str) -> None:
    with pytest.raises(InvalidValue, match=fragment):
        parse_id_number(raw)


def test_luhn_matches_contract_definition() -> None:
    # Double every digit at an even 0-based index from the left, sum digits, total % 10 == 0.
    for nine in ("100000000", "212345678", "299999999", "155555555"):
        full = luhn_complete(nine)
        assert luhn_ok(full)
        assert sum(luhn_ok(nine + d) for d in "0123456789") == 1


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("7001234567", True),
        ("7000000000", True),
        ("8001234567", False),
        ("700123456", False),
        ("70012345678", False),
        ("70012x4567", False),
    ],
)
def test_unified_numbers(raw: str, ok: bool) -> None:
    if ok:
        assert parse_unified_number(raw) == raw
    else:
        with pytest.raises(InvalidValue, match="unified number starting with 7"):
            parse_unified_number(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0501234567", "+966501234567"),
        ("+966 50 123 4567", "+966501234567"),
        ("966501234567", "+966501234567"),
        ("+447911123456", "+447911123456"),
    ],
)
def test_mobiles_become_e164(raw: str, expected: str) -> None:
    assert parse_mobile(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "not a phone", "0112345678", "+9665"])
def test_bad_mobiles_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue, match="mobile"):
        parse_mobile(raw)


def test_emails_are_normalised_and_checked_without_dns() -> None:
    assert parse_email("Ops@Example.COM") == "Ops@example.com"
    with pytest.raises(InvalidValue, match="email 'no-at-sign' is not a valid e-mail address"):
        parse_email("no-at-sign")


def test_masking_and_deterministic_ids() -> None:
    assert mask_id_number("2000000006") == "******0006"
    assert person_id("2000000006") == person_id("2000000006")
    assert person_id("2000000006") != person_id("3000000001")
