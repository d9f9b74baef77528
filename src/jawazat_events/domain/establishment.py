"""The Establishment aggregate: an employer or sponsor, its default contacts, language and API key."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from jawazat_events.domain.errors import InvalidValue
from jawazat_events.domain.identifiers import establishment_id
from jawazat_events.domain.text import clean_text, parse_name

LANGUAGES = ("ar", "en")


def check_language(language: str) -> str:
    """Messages go out in Arabic or English."""
    if language not in LANGUAGES:
        raise InvalidValue(f"language '{language}' must be 'ar' or 'en'")
    return language


MAX_CITY_LENGTH = 100


def check_city(city: str | None) -> str | None:
    """The city the establishment is based in, as given (spaces made one; the one text rule,
    `domain.text`); None when not given."""
    if city is None or not city.strip():
        return None
    return clean_text(" ".join(city.split()), field="city", max_length=MAX_CITY_LENGTH)


class Establishment(Aggregate):
    """An establishment registered for the notification service."""

    @staticmethod
    def create_id(unified_number: str, **_: Any) -> UUID:
        return establishment_id(unified_number)

    class Registered(Aggregate.Created):
        unified_number: str
        name: str
        email: str | None
        mobile: str | None
        language: str
        api_key_hash: str
        city: str | None

    @event(Registered)
    def __init__(
        self,
        *,
        unified_number: str,
        name: str,
        email: str | None,
        mobile: str | None,
        language: str,
        api_key_hash: str,
        city: str | None = None,  # registrations recorded before cities were known have none
    ) -> None:
        self.unified_number = unified_number
        self.name = name
        self.email = email
        self.mobile = mobile
        self.language = language
        self.api_key_hash = api_key_hash
        self.city = city

    @classmethod
    def register(
        cls,
        *,
        unified_number: str,
        name: str,
        email: str | None,
        mobile: str | None,
        language: str,
        api_key_hash: str,
        city: str | None = None,
    ) -> Establishment:
        """Register an establishment; its API key is given here already hashed."""
        return cls(
            unified_number=unified_number,
            name=parse_name(name, field="name"),
            email=email,
            mobile=mobile,
            language=check_language(language),
            api_key_hash=api_key_hash,
            city=check_city(city),
        )

    class Event(Aggregate.Event):
        """Every establishment event names its unified number."""

        unified_number: str

    class DefaultContactsUpdated(Event):
        email: str | None
        mobile: str | None
        language: str

    def update_defaults(
        self, *, email: str | None = None, mobile: str | None = None, language: str | None = None
    ) -> None:
        """Change the default contacts and language; fields not given keep their value."""
        self._defaults_updated(
            unified_number=self.unified_number,
            email=email if email is not None else self.email,
            mobile=mobile if mobile is not None else self.mobile,
            language=check_language(language) if language is not None else self.language,
        )

    @event(DefaultContactsUpdated)
    def _defaults_updated(
        self, *, unified_number: str, email: str | None, mobile: str | None, language: str
    ) -> None:
        self.email = email
        self.mobile = mobile
        self.language = language

    class ApiKeyRotated(Event):
        api_key_hash: str

    def rotate_api_key(self, *, api_key_hash: str) -> None:
        """Replace the API key (given hashed); the old one stops working."""
        self._key_rotated(unified_number=self.unified_number, api_key_hash=api_key_hash)

    @event(ApiKeyRotated)
    def _key_rotated(self, *, unified_number: str, api_key_hash: str) -> None:
        self.api_key_hash = api_key_hash

    class ApiKeyRevoked(Event):
        pass

    @property
    def has_api_key(self) -> bool:
        """Whether an API key works now (after a revocation none does until a new one is issued)."""
        return bool(self.api_key_hash)

    def revoke_api_key(self) -> None:
        """The API key stops working and no other replaces it (issue one with `rotate_api_key`)."""
        if self.has_api_key:
            self._key_revoked(unified_number=self.unified_number)

    @event(ApiKeyRevoked)
    def _key_revoked(self, *, unified_number: str) -> None:
        self.api_key_hash = ""
