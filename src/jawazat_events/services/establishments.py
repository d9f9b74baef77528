"""Application service for establishments: registration, API keys, default contacts and subscriptions.

Each command loads the aggregates it needs, applies the domain's rules, and saves everything it touched
in one `save()`. It returns plain values; library errors become domain errors at this boundary.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from jawazat_events.domain.errors import (
    AlreadyRegistered,
    AlreadySubscribed,
    NoContact,
    NotSponsored,
    NotSubscribed,
    UnknownEstablishment,
)
from jawazat_events.domain.establishment import Establishment, check_language
from jawazat_events.domain.identifiers import (
    establishment_id,
    parse_email,
    parse_id_number,
    parse_mobile,
    parse_unified_number,
    person_id,
    subscription_id,
)
from jawazat_events.domain.notification_types import parse_notification_types
from jawazat_events.domain.person import Person
from jawazat_events.domain.subscription import Subscription
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.channel_settings import ChannelChange, ChannelService

API_KEY_PREFIX = "jzk"


def hash_secret(secret: str) -> str:
    """Keys and tokens are random (≥ 256 bits), so a plain SHA-256 is the right hash to store."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_api_key(unified_number: str) -> str:
    """`jzk_<unified>_<random>`: the unified number lets the key be checked without an index."""
    return f"{API_KEY_PREFIX}_{unified_number}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription as the establishment sees it (contract's JSON shape)."""

    id_number: str
    notification_types: list[str]
    mobile: str | None
    email: str | None
    since: str
    # An extension of the subscription shape (docs/api.md): the subscription's own webhook endpoint,
    # and the establishment's webhook secret when this request made it (shown once).
    webhook_url: str | None = None
    webhook_secret: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id_number": self.id_number,
            "notification_types": self.notification_types,
            "mobile": self.mobile,
            "email": self.email,
            "since": self.since,
        }


def _view(subscription: Subscription, webhook_secret: str | None = None) -> SubscriptionView:
    return SubscriptionView(
        id_number=subscription.id_number,
        notification_types=list(subscription.notification_types),
        mobile=subscription.mobile,
        email=subscription.email,
        since=subscription.since.isoformat(),
        webhook_url=subscription.webhook_url,
        webhook_secret=webhook_secret,
    )


class EstablishmentService:
    """What establishments (and operators on their behalf) can do."""

    def __init__(self, app: JawazatApplication, *, channels: ChannelService) -> None:
        self.app = app
        self.channels = channels  # webhook endpoints and secrets, quiet hours, digests

    # --- establishments --------------------------------------------------------------------------

    def register(
        self,
        *,
        unified_number: str,
        name: str,
        email: str | None = None,
        mobile: str | None = None,
        language: str = "ar",
        city: str | None = None,
    ) -> str:
        """Register an establishment; returns its API key, which is stored only as a hash."""
        unified = parse_unified_number(unified_number, field="unified_number")
        if self._find_establishment(unified) is not None:
            raise AlreadyRegistered(f"establishment {unified} is already registered")
        key = new_api_key(unified)
        establishment = Establishment.register(
            unified_number=unified,
            name=name,
            email=parse_email(email) if email else None,
            mobile=parse_mobile(mobile) if mobile else None,
            language=check_language(language),
            api_key_hash=hash_secret(key),
            city=city,
        )
        self.app.save(establishment)
        return key

    def rotate_api_key(self, unified_number: str) -> str:
        """Issue a new API key; the old one stops working."""
        establishment = self._establishment(unified_number)
        key = new_api_key(establishment.unified_number)
        establishment.rotate_api_key(api_key_hash=hash_secret(key))
        self.app.save(establishment)
        return key

    def revoke_api_key(self, unified_number: str) -> None:
        """The API key stops working; none replaces it until `rotate_api_key` issues a new one."""
        establishment = self._establishment(unified_number)
        establishment.revoke_api_key()
        self.app.save(establishment)

    def has_api_key(self, unified_number: str) -> bool:
        """Whether the establishment has a working API key now."""
        return self._establishment(unified_number).has_api_key

    def authenticate(self, api_key: str) -> str | None:
        """The unified number an API key belongs to, or None (compared in constant time)."""
        parts = api_key.split("_", 2)
        if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
            return None
        establishment = self._find_establishment(parts[1])
        if establishment is None:
            return None
        if establishment.api_key_hash and hmac.compare_digest(
            establishment.api_key_hash, hash_secret(api_key)
        ):
            return establishment.unified_number
        return None

    def update_defaults(
        self,
        unified_number: str,
        *,
        email: str | None = None,
        mobile: str | None = None,
        language: str | None = None,
        channels: ChannelChange | None = None,
    ) -> dict[str, str | None]:
        """Change the establishment's default contacts and language (and channel settings, checked
        beforehand, in the same save)."""
        establishment = self._establishment(unified_number)
        contacts_given = email is not None or mobile is not None or language is not None
        if contacts_given or channels is None or channels.empty:
            establishment.update_defaults(
                email=parse_email(email) if email else None,
                mobile=parse_mobile(mobile) if mobile else None,
                language=language,
            )
        if channels is not None:
            self.channels.apply(establishment, channels)
        self.app.save(establishment)
        return self.defaults(unified_number)

    def defaults(self, unified_number: str) -> dict[str, str | None]:
        """The establishment's name, default contacts and language."""
        establishment = self._establishment(unified_number)
        return {
            "unified_number": establishment.unified_number,
            "name": establishment.name,
            "email": establishment.email,
            "mobile": establishment.mobile,
            "language": establishment.language,
        }

    # --- subscriptions ---------------------------------------------------------------------------

    def subscribe(
        self,
        unified_number: str,
        id_number: str,
        *,
        notification_types: Any,
        mobile: str | None = None,
        email: str | None = None,
        webhook_url: str | None = None,
    ) -> SubscriptionView:
        """Subscribe to an ID number the establishment sponsors now (optionally with its own webhook)."""
        establishment = self._establishment(unified_number)
        types = parse_notification_types(notification_types)
        number = self._sponsored(establishment.unified_number, id_number)
        own_mobile = parse_mobile(mobile) if mobile else None
        own_email = parse_email(email) if email else None
        own_webhook = self._checked_webhook(webhook_url)
        webhook = own_webhook or _enabled_webhook(establishment)
        if (
            not own_mobile
            and not own_email
            and not establishment.mobile
            and not establishment.email
            and not webhook
        ):
            raise NoContact(
                "mobile or email is required: the establishment has no default contacts to fall back on"
            )
        key = subscription_id(establishment.unified_number, number)
        existing = self._find(key)
        if existing is None:
            subscription = Subscription(
                unified_number=establishment.unified_number,
                id_number=number,
                notification_types=types,
                mobile=own_mobile,
                email=own_email,
            )
        else:
            subscription = cast(Subscription, existing)
            if subscription.active:
                raise AlreadySubscribed(f"already subscribed to {number}")
            subscription.resubscribe(notification_types=types, mobile=own_mobile, email=own_email)
        secret = self._set_subscription_webhook(establishment, subscription, own_webhook)
        self.app.save(subscription, establishment)
        return _view(subscription, secret)

    def change(
        self,
        unified_number: str,
        id_number: str,
        *,
        notification_types: Any = None,
        mobile: str | None = None,
        email: str | None = None,
        webhook_url: str | None = None,
    ) -> SubscriptionView:
        """Change a subscription's types, contacts and/or its own webhook endpoint."""
        subscription = self._subscription(unified_number, id_number)
        own_webhook = self._checked_webhook(webhook_url)
        if notification_types is not None or mobile is not None or email is not None:
            subscription.change(
                notification_types=(
                    parse_notification_types(notification_types) if notification_types is not None else None
                ),
                mobile=parse_mobile(mobile) if mobile else None,
                email=parse_email(email) if email else None,
            )
        establishment = self._establishment(unified_number)
        secret = self._set_subscription_webhook(
            establishment, subscription, own_webhook, keep=webhook_url is None
        )
        self.app.save(subscription, establishment)
        return _view(subscription, secret)

    def unsubscribe(self, unified_number: str, id_number: str) -> None:
        """Cancel the subscription for a person who no longer belongs to the establishment."""
        subscription = self._subscription(unified_number, id_number)
        subscription.unsubscribe()
        self.app.save(subscription)

    def get(self, unified_number: str, id_number: str) -> SubscriptionView:
        """One active subscription of the establishment."""
        return _view(self._subscription(unified_number, id_number))

    # --- a subscription's own webhook endpoint ----------------------------------------------------------

    def _checked_webhook(self, webhook_url: str | None) -> str | None:
        return None if webhook_url is None else self.channels.url_guard(webhook_url)

    def _set_subscription_webhook(
        self, establishment: Establishment, subscription: Subscription, url: str | None, *, keep: bool = False
    ) -> str | None:
        """Record the subscription's endpoint (None: the establishment's), making the establishment's
        signing secret if it has none; returns that new secret (shown once) or None."""
        if keep:
            return None
        subscription.set_webhook(url)
        if url is None:
            return None
        establishment.enable_webhook(url=url)
        return self.channels.ensure_secret(establishment)

    # --- helpers ---------------------------------------------------------------------------------

    def _find(self, key: UUID) -> Aggregate | None:
        try:
            return self.app.repository.get(key)
        except AggregateNotFoundError:
            return None

    def _find_establishment(self, unified: str) -> Establishment | None:
        return cast("Establishment | None", self._find(establishment_id(unified)))

    def _establishment(self, unified_number: str) -> Establishment:
        unified = parse_unified_number(unified_number, field="unified_number")
        establishment = self._find_establishment(unified)
        if establishment is None:
            raise UnknownEstablishment(f"no establishment is registered as {unified}")
        return establishment

    def _sponsored(self, unified: str, id_number: str) -> str:
        # Unknown and not-sponsored get the same answer: never reveal people of other establishments.
        number = parse_id_number(id_number)
        person = self._find(person_id(number))
        if not isinstance(person, Person) or person.current_sponsor != unified:
            raise NotSponsored(f"ID number {number} is not sponsored by establishment {unified}")
        return number

    def _subscription(self, unified_number: str, id_number: str) -> Subscription:
        establishment = self._establishment(unified_number)
        number = parse_id_number(id_number)
        subscription = self._find(subscription_id(establishment.unified_number, number))
        if not isinstance(subscription, Subscription) or not subscription.active:
            raise NotSubscribed(
                f"establishment {establishment.unified_number} has no subscription for {number}"
            )
        return subscription


def _enabled_webhook(establishment: Establishment) -> str | None:
    url = establishment.channels.webhook_url
    return url if url and url not in establishment.channels.disabled_urls else None
