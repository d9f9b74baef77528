"""The Establishment aggregate: an employer or sponsor, its default contacts, language and API key."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from jawazat_events.domain.channel_settings import ChannelSettings, NoWebhookSecret
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
        self.channels = ChannelSettings()

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

    # --- delivery channels: webhook endpoint and secrets, quiet hours, digests ------------------------

    class WebhookSecretCreated(Event):
        sealed_secret: str  # sealed by the engine (services.secretbox); never stored in clear

    @property
    def has_webhook_secret(self) -> bool:
        """True once a webhook signing secret exists (it is shown once, when made)."""
        return self.channels.sealed_secret is not None

    def create_webhook_secret(self, *, sealed_secret: str) -> None:
        """The establishment's first webhook signing secret (every endpoint of it is signed with it)."""
        if self.has_webhook_secret:
            raise ValueError("the establishment already has a webhook secret; rotate it instead")
        self._secret_created(unified_number=self.unified_number, sealed_secret=sealed_secret)

    @event(WebhookSecretCreated)
    def _secret_created(self, *, unified_number: str, sealed_secret: str) -> None:
        self.channels.sealed_secret = sealed_secret

    class WebhookEndpointSet(Event):
        url: str

    def set_webhook(self, *, url: str) -> bool:
        """Point webhooks at `url` (enabling it again if it was disabled); False when nothing changes."""
        if not self.has_webhook_secret:
            raise ValueError("a webhook endpoint needs the establishment's webhook secret first")
        if url == self.channels.webhook_url and url not in self.channels.disabled_urls:
            return False
        self._webhook_set(unified_number=self.unified_number, url=url)
        return True

    @event(WebhookEndpointSet)
    def _webhook_set(self, *, unified_number: str, url: str) -> None:
        self.channels.webhook_url = url
        self.channels.disabled_urls.discard(url)

    class WebhookEndpointRemoved(Event):
        url: str

    def remove_webhook(self) -> bool:
        """Stop delivering the establishment's alerts by webhook; False when none was set."""
        if self.channels.webhook_url is None:
            return False
        self._webhook_removed(unified_number=self.unified_number, url=self.channels.webhook_url)
        return True

    @event(WebhookEndpointRemoved)
    def _webhook_removed(self, *, unified_number: str, url: str) -> None:
        self.channels.webhook_url = None

    class WebhookSecretRotated(Event):
        sealed_secret: str
        previous_valid_until: datetime

    def rotate_webhook_secret(self, *, sealed_secret: str, previous_valid_until: datetime) -> None:
        """A new signing secret; the one it replaces keeps signing until `previous_valid_until`."""
        if self.channels.sealed_secret is None:
            raise NoWebhookSecret(
                "webhook_url: the establishment has no webhook secret to rotate; set a webhook_url first"
            )
        self._secret_rotated(
            unified_number=self.unified_number,
            sealed_secret=sealed_secret,
            previous_valid_until=previous_valid_until,
        )

    @event(WebhookSecretRotated)
    def _secret_rotated(
        self, *, unified_number: str, sealed_secret: str, previous_valid_until: datetime
    ) -> None:
        self.channels.previous_sealed_secret = self.channels.sealed_secret
        self.channels.previous_valid_until = previous_valid_until
        self.channels.sealed_secret = sealed_secret

    class WebhookEndpointDisabled(Event):
        url: str
        reason: str
        cause_alert_id: str | None

    def disable_webhook(self, *, url: str, reason: str, cause_alert_id: str | None) -> bool:
        """Stop delivering to `url` (it answered 410, or failed for days); False if already disabled."""
        if url in self.channels.disabled_urls:
            return False
        self._webhook_disabled(
            unified_number=self.unified_number, url=url, reason=reason, cause_alert_id=cause_alert_id
        )
        return True

    @event(WebhookEndpointDisabled)
    def _webhook_disabled(
        self, *, unified_number: str, url: str, reason: str, cause_alert_id: str | None
    ) -> None:
        self.channels.disabled_urls.add(url)

    class WebhookEndpointEnabled(Event):
        url: str

    def enable_webhook(self, *, url: str) -> bool:
        """Deliver to a disabled endpoint again (the establishment registered it anew); False if enabled."""
        if url not in self.channels.disabled_urls:
            return False
        self._webhook_enabled(unified_number=self.unified_number, url=url)
        return True

    @event(WebhookEndpointEnabled)
    def _webhook_enabled(self, *, unified_number: str, url: str) -> None:
        self.channels.disabled_urls.discard(url)

    class DeliveryPreferencesChanged(Event):
        quiet_hours: str | None
        urgent_types: tuple[str, ...]
        webhook_full_id_number: bool
        digest_types: tuple[str, ...]

    def set_delivery_preferences(
        self,
        *,
        quiet_hours: str | None,
        urgent_types: tuple[str, ...],
        webhook_full_id_number: bool,
        digest_types: tuple[str, ...],
    ) -> bool:
        """Quiet hours, urgent types, full ID numbers in webhooks, digests (checked); False if unchanged."""
        current = self.channels
        wanted = (quiet_hours, tuple(urgent_types), webhook_full_id_number, tuple(digest_types))
        if wanted == (
            current.quiet_hours,
            current.urgent_types,
            current.webhook_full_id_number,
            current.digest_types,
        ):
            return False
        self._preferences_changed(
            unified_number=self.unified_number,
            quiet_hours=quiet_hours,
            urgent_types=tuple(urgent_types),
            webhook_full_id_number=webhook_full_id_number,
            digest_types=tuple(digest_types),
        )
        return True

    @event(DeliveryPreferencesChanged)
    def _preferences_changed(
        self,
        *,
        unified_number: str,
        quiet_hours: str | None,
        urgent_types: tuple[str, ...],
        webhook_full_id_number: bool,
        digest_types: tuple[str, ...],
    ) -> None:
        self.channels.quiet_hours = quiet_hours
        self.channels.urgent_types = tuple(urgent_types)
        self.channels.webhook_full_id_number = webhook_full_id_number
        self.channels.digest_types = tuple(digest_types)
