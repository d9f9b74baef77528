"""Application service for an establishment's channel settings: webhook endpoint and signing secret, quiet
hours, urgent types, digests; and what delivery asks of them (signing secrets, disabling an endpoint).

Every setting is an event of the Establishment (or Subscription) aggregate. Input is checked in full
(`prepare`) before anything changes, so a bad field never half-writes. A webhook secret is made when the
establishment first needs one, returned once in clear, and stored only sealed (`services.secretbox`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from eventsourcing.application import AggregateNotFoundError

from jawazat_events.domain.channel_settings import (
    check_digest_types,
    check_quiet_hours,
    check_urgent_types,
)
from jawazat_events.domain.errors import UnknownEstablishment
from jawazat_events.domain.establishment import Establishment
from jawazat_events.domain.identifiers import establishment_id, parse_unified_number
from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.secretbox import SecretBox, new_webhook_secret


class Unset:
    """A field the request left out (distinct from an explicit null)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()
# Checks a webhook URL (form and addresses) and returns it normalised, or raises InvalidValue naming
# `webhook_url`: the SSRF guard of `subscribers.ssrf`, handed over by the composition root.
UrlGuard = Callable[[str], str]


@dataclass
class ChannelChange:
    """Checked channel settings, to apply to the establishment before it is saved."""

    webhook_url: str | Unset | None = UNSET
    quiet_hours: str | Unset | None = UNSET
    urgent_types: tuple[str, ...] | Unset = UNSET
    webhook_full_id_number: bool | Unset = UNSET
    digest_types: tuple[str, ...] | Unset = UNSET
    new_secret: str | None = None  # set by `apply` when it made the establishment's first secret

    @property
    def empty(self) -> bool:
        return all(
            isinstance(value, Unset)
            for value in (
                self.webhook_url,
                self.quiet_hours,
                self.urgent_types,
                self.webhook_full_id_number,
                self.digest_types,
            )
        )


class ChannelService:
    """What establishments set for their channels, and what delivery reads or records about them."""

    def __init__(
        self,
        *,
        app: JawazatApplication,
        secret_box: Callable[[], SecretBox],
        url_guard: UrlGuard,
        clock: Callable[[], datetime],
        secret_overlap: timedelta = timedelta(hours=24),
    ) -> None:
        self.app = app
        self._box = secret_box
        self.url_guard = url_guard
        self.clock = clock
        self.secret_overlap = secret_overlap

    # --- establishments' settings -------------------------------------------------------------------

    def prepare(
        self,
        *,
        webhook_url: str | Unset | None = UNSET,
        quiet_hours: str | Unset | None = UNSET,
        urgent_types: object = UNSET,
        webhook_full_id_number: bool | Unset = UNSET,
        digest_types: object = UNSET,
    ) -> ChannelChange:
        """Check every given field (raises naming the first bad one); nothing changes yet."""
        return ChannelChange(
            webhook_url=webhook_url if isinstance(webhook_url, Unset | None) else self.url_guard(webhook_url),
            quiet_hours=quiet_hours if isinstance(quiet_hours, Unset) else check_quiet_hours(quiet_hours),
            urgent_types=urgent_types
            if isinstance(urgent_types, Unset)
            else check_urgent_types(urgent_types),
            webhook_full_id_number=webhook_full_id_number,
            digest_types=digest_types
            if isinstance(digest_types, Unset)
            else check_digest_types(digest_types),
        )

    def apply(self, establishment: Establishment, change: ChannelChange) -> None:
        """Record the change's events on the (loaded, not yet saved) establishment."""
        if change.webhook_url is None:
            establishment.remove_webhook()
        elif not isinstance(change.webhook_url, Unset):
            change.new_secret = self.ensure_secret(establishment)
            establishment.set_webhook(url=change.webhook_url)
        current = establishment.channels

        def pick(value: Any, default: Any) -> Any:
            return default if isinstance(value, Unset) else value

        establishment.set_delivery_preferences(
            quiet_hours=pick(change.quiet_hours, current.quiet_hours),
            urgent_types=pick(change.urgent_types, current.urgent_types),
            webhook_full_id_number=pick(change.webhook_full_id_number, current.webhook_full_id_number),
            digest_types=pick(change.digest_types, current.digest_types),
        )

    def update(self, unified_number: str, change: ChannelChange) -> None:
        """Apply a change to an establishment on its own and save it."""
        establishment = self.establishment(unified_number)
        self.apply(establishment, change)
        self.app.save(establishment)

    def view(self, unified_number: str) -> dict[str, Any]:
        """The establishment's channel settings as the API shows them (never a secret)."""
        channels = self.establishment(unified_number).channels
        return {
            "webhook_url": channels.webhook_url,
            "webhook_enabled": bool(channels.webhook_url)
            and channels.webhook_url not in channels.disabled_urls,
            "quiet_hours": channels.quiet_hours,
            "urgent_types": list(channels.urgent_types),
            "webhook_full_id_number": channels.webhook_full_id_number,
            "digest_types": list(channels.digest_types),
        }

    # --- secrets ---------------------------------------------------------------------------------------

    def ensure_secret(self, establishment: Establishment) -> str | None:
        """Make the establishment's first webhook secret if it has none: returns it (once) in clear."""
        if establishment.has_webhook_secret:
            return None
        secret = new_webhook_secret()
        establishment.create_webhook_secret(
            sealed_secret=self._box().seal(secret, owner=establishment.unified_number)
        )
        return secret

    def rotate_secret(self, unified_number: str) -> tuple[str, datetime]:
        """A new signing secret; the old one signs beside it until the returned time."""
        establishment = self.establishment(unified_number)
        secret = new_webhook_secret()
        until = self.clock() + self.secret_overlap
        establishment.rotate_webhook_secret(
            sealed_secret=self._box().seal(secret, owner=establishment.unified_number),
            previous_valid_until=until,
        )
        self.app.save(establishment)
        return secret, until

    def signing_secrets(self, unified_numbers: Iterable[str], *, at: datetime) -> dict[str, tuple[str, ...]]:
        """The secrets that sign each establishment's webhooks at `at` (current first), opened."""
        keys = {establishment_id(number): number for number in set(unified_numbers)}
        with self.app.batch_lock:
            loaded = self.app.load_many(keys)
        box = self._box()
        found: dict[str, tuple[str, ...]] = {}
        for key, number in keys.items():
            establishment = cast("Establishment | None", loaded.get(key))
            if establishment is None:
                continue
            sealed = establishment.channels.sealed_secrets(at)
            found[number] = tuple(box.open(item, owner=number) for item in sealed)
        return found

    # --- endpoints ---------------------------------------------------------------------------------------

    def disable_webhook(
        self, unified_number: str, *, url: str, reason: str, cause_alert_id: str | None
    ) -> bool:
        """Stop delivering to `url` (410 Gone, or days of failure); the fan-out e-mails the establishment."""
        establishment = self.establishment(unified_number)
        if not establishment.disable_webhook(url=url, reason=reason, cause_alert_id=cause_alert_id):
            return False
        self.app.save(establishment)
        return True

    def establishment(self, unified_number: str) -> Establishment:
        unified = parse_unified_number(unified_number, field="unified_number")
        try:
            return cast(Establishment, self.app.repository.get(establishment_id(unified)))
        except AggregateNotFoundError:
            raise UnknownEstablishment(f"no establishment is registered as {unified}") from None
