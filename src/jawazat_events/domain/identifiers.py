"""Value objects for identifiers and contacts: ID numbers, unified numbers, mobiles, e-mails, codes."""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from jawazat_events.domain.errors import InvalidValue

# Every deterministic aggregate id lives under this namespace (uuid5 of the natural key).
NAMESPACE = uuid5(NAMESPACE_URL, "https://jawazat.example/events")
_NAMESPACE_BYTES = NAMESPACE.bytes

# ASCII digits only: `\d` would also take Arabic-Indic and other digits, giving one person two ID numbers.
_TEN_DIGITS = re.compile(r"[0-9]{10}")

# The id caches hold a working set, not every ID the process meets: an entry costs about 250 bytes and
# saves 3 µs, where the same memory in the aggregate cache saves a reload of 90 µs (docs/capacity.md).
ID_CACHE_SIZE = 32_768


class PersonKind(StrEnum):
    """What the first digit of an ID number says about its holder."""

    CITIZEN = "citizen"
    RESIDENT = "resident"
    VISITOR = "visitor"


def luhn_ok(digits: str) -> bool:
    """The contract's check: double digits at even 0-based index from the left, sum digits, % 10 == 0."""
    total = 0
    for index, char in enumerate(digits):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def parse_id_number(raw: object, *, field: str = "id_number") -> str:
    """Return a valid 10-digit ID number or raise `InvalidValue` saying what is wrong with it."""
    if not isinstance(raw, str):
        raise InvalidValue(f"{field} must be a string of 10 digits, not {type(raw).__name__}")
    return _parse_id_text(raw, field)


# A feed names each person many times: a pure function's answers are kept (refusals are not).
@lru_cache(maxsize=ID_CACHE_SIZE)
def _parse_id_text(raw: str, field: str) -> str:
    value = raw.strip()
    if not _TEN_DIGITS.fullmatch(value):
        raise InvalidValue(f"{field} '{raw}' must be exactly 10 digits")
    kind = person_kind(value)
    if kind is None:
        raise InvalidValue(f"{field} '{value}' must start with 1 (citizen), 2 (resident) or 3/4 (visitor)")
    if kind is not PersonKind.VISITOR and not luhn_ok(value):
        raise InvalidValue(f"{field} '{value}' fails its check digit")
    return value


def person_kind(id_number: str) -> PersonKind | None:
    """The holder's kind from the first digit, or None for a digit the contract does not know."""
    return {
        "1": PersonKind.CITIZEN,
        "2": PersonKind.RESIDENT,
        "3": PersonKind.VISITOR,
        "4": PersonKind.VISITOR,
    }.get(id_number[:1])


def parse_unified_number(raw: object, *, field: str = "sponsor") -> str:
    """Return a valid establishment unified number (10 digits starting with 7) or raise."""
    if not isinstance(raw, str):
        raise InvalidValue(f"{field} must be a string of 10 digits, not {type(raw).__name__}")
    return _parse_unified_text(raw, field)


@lru_cache(maxsize=16_384)
def _parse_unified_text(raw: str, field: str) -> str:
    value = raw.strip()
    if not _TEN_DIGITS.fullmatch(value) or not value.startswith("7"):
        raise InvalidValue(f"{field} '{raw}' must be a 10-digit unified number starting with 7")
    return value


def parse_mobile(raw: str, *, field: str = "mobile", region: str = "SA") -> str:
    """Parse a mobile number (region SA by default) and return it in E.164, or raise."""
    return _parse_mobile(raw, field, region)


@lru_cache(maxsize=16_384)
def _parse_mobile(raw: str, field: str, region: str) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidValue(f"{field} '{raw}' is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(f"{field} '{raw}' is not a valid phone number")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidValue(f"{field} '{raw}' is not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_email(raw: str, *, field: str = "email") -> str:
    """Validate an e-mail address (syntax only, no DNS) and return its normalised form, or raise."""
    return _parse_email(raw, field)


@lru_cache(maxsize=16_384)
def _parse_email(raw: str, field: str) -> str:
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidValue(f"{field} '{raw}' is not a valid e-mail address: {error}") from None


def mask_id_number(id_number: str) -> str:
    """The ID number reduced to its last four digits, for messages and logs."""
    return "******" + id_number[-4:]


def uuid5_text(name: str) -> str:
    """`str(uuid5(NAMESPACE, name))`, the same text without the UUID object in between: the fan-out makes one
    id per alert, and `uuid5` (its import, the UUID's construction and formatting) cost more than the hash.

    Steps as RFC 4122 and `uuid.uuid5` take them: SHA-1 of the namespace's bytes and the name's UTF-8, the
    first 16 bytes, the version (5) in the high nibble of byte 6, the variant (10) in the top bits of byte 8.
    """
    raw = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8")).digest()[:16])
    raw[6] = raw[6] & 0x0F | 0x50
    raw[8] = raw[8] & 0x3F | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@lru_cache(maxsize=ID_CACHE_SIZE)
def person_id(id_number: str) -> UUID:
    """The deterministic aggregate id of the person with this ID number."""
    return uuid5(NAMESPACE, f"person:{id_number}")


@lru_cache(maxsize=ID_CACHE_SIZE)
def establishment_id(unified_number: str) -> UUID:
    """The deterministic aggregate id of the establishment with this unified number."""
    return uuid5(NAMESPACE, f"establishment:{unified_number}")


@lru_cache(maxsize=ID_CACHE_SIZE)
def subscription_id(unified_number: str, id_number: str) -> UUID:
    """The deterministic aggregate id of one establishment's subscription for one ID number."""
    return uuid5(NAMESPACE, f"subscription:{unified_number}:{id_number}")
