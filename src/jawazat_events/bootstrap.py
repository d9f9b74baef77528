"""The composition root: builds settings, store, services, projections, channels and scheduler.

Nothing here runs at import time; every dependency can be overridden for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from jawazat_events.application import JawazatApplication
from jawazat_events.establishments import EstablishmentService
from jawazat_events.ingest import Ingestor
from jawazat_events.settings import Settings
from jawazat_events.store import ConfigurationError, DatabaseUrl
from jawazat_events.tokens import TokenService

if TYPE_CHECKING:
    from jawazat_events.channel_service import ChannelService
    from jawazat_events.digest import DigestJob
    from jawazat_events.expiry import ExpiryJob
    from jawazat_events.secretbox import SecretBox
    from jawazat_events.subscribers.ssrf import Resolver, WebhookAddressPolicy


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning pydantic's report into one clear sentence."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            f"JAWAZAT_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None
    from jawazat_events.subscribers.ssrf import parse_allow_list

    try:
        parse_allow_list(settings.webhook_allow_hosts)
    except ValueError as error:
        raise ConfigurationError(f"invalid configuration: JAWAZAT_WEBHOOK_ALLOW_HOSTS: {error}") from None
    return settings


@dataclass
class ReadModels:
    """The projections the worker runs, sharing one read-model database."""

    db: Any
    index: Any
    people: Any
    fanout: Any

    def all(self) -> list[Any]:
        return [self.index, self.people, self.fanout]


@dataclass
class Container:
    """The wired product: what the CLI, the API, the worker and the scheduler use."""

    settings: Settings
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # How webhook hosts are resolved (the SSRF guard's seam; None: the system's resolver).
    webhook_resolver: Resolver | None = None

    @cached_property
    def database(self) -> DatabaseUrl:
        return DatabaseUrl.parse(self.settings.database_url)

    @cached_property
    def app(self) -> JawazatApplication:
        """The event-sourced application over the configured store (tables made on first use)."""
        try:
            return JawazatApplication(
                self.database.eventsourcing_env(cipher_key=self.cipher_key()),
                cache_size=self.settings.aggregate_cache_size,
            )
        except Exception as error:  # the library raises many kinds; all mean "cannot open the store"
            raise ConfigurationError(
                f"cannot open the event store at {self.redacted_database_url()}: {error}"
            ) from error

    def cipher_key(self) -> str | None:
        """The event store's AES key (`JAWAZAT_CIPHER_KEY`), or None: states are stored in clear."""
        key = self.settings.cipher_key
        return key.get_secret_value() if key is not None else None

    def today(self) -> date:
        """Today's date in the business time zone."""
        return self.clock().astimezone(self.settings.zone).date()

    @cached_property
    def read_models(self) -> ReadModels:
        """The projections over the store's own database, tables made on first use."""
        from jawazat_events.projections.base import ReadModelDatabase
        from jawazat_events.projections.fanout import AlertFanout
        from jawazat_events.projections.people import PeopleView
        from jawazat_events.projections.subscription_index import SubscriptionIndex

        db = ReadModelDatabase(self.app.factory.datastore)  # type: ignore[attr-defined]
        models = ReadModels(
            db=db,
            index=SubscriptionIndex(db),
            people=PeopleView(db),
            fanout=AlertFanout(db, partitions=self.settings.fanout_partitions),
        )
        for projection in models.all():
            projection.create_tables()
        return models

    @cached_property
    def channels(self) -> dict[str, Any]:
        """The delivery channels: SMTP and Twilio when configured (each a failover over the listed
        providers), else the outbox folder; and webhooks."""
        from jawazat_events.subscribers.email import EmailChannel
        from jawazat_events.subscribers.failover import FailoverChannel, Provider, address_words, split_urls
        from jawazat_events.subscribers.outbox import OutboxChannel
        from jawazat_events.subscribers.sms import SmsChannel
        from jawazat_events.subscribers.webhook import WebhookChannel

        s = self.settings
        channels: dict[str, Any] = {}
        cooldown = s.provider_cooldown_seconds
        if s.smtp_url:
            channels["email"] = FailoverChannel(
                [
                    Provider(
                        f"smtp#{n}",
                        EmailChannel(url, s.email_from, max_per_second=s.email_max_per_second),
                        address_words(url),
                    )
                    for n, url in enumerate(split_urls(s.smtp_url), start=1)
                ],
                cooldown_seconds=cooldown,
            )
        else:
            channels["email"] = OutboxChannel(s.outbox_dir, "email", sender=s.email_from)
        if s.twilio_account_sid and s.twilio_auth_token and s.twilio_from:
            bases: list[str | None] = [*split_urls(s.twilio_api_base or "")] or [None]
            channels["sms"] = FailoverChannel(
                [
                    Provider(
                        f"twilio#{n}",
                        SmsChannel(
                            s.twilio_account_sid,
                            s.twilio_auth_token,
                            s.twilio_from,
                            api_base=base,
                            status_callback=s.twilio_status_callback_url,
                            max_per_second=s.sms_max_per_second,
                        ),
                        address_words(base) if base else (),
                    )
                    for n, base in enumerate(bases, start=1)
                ],
                cooldown_seconds=cooldown,
            )
        else:
            channels["sms"] = OutboxChannel(s.outbox_dir, "sms")
        channels["webhook"] = WebhookChannel(
            policy=self.webhook_policy,
            timeout=s.webhook_timeout_seconds,
            max_per_second=s.webhook_max_per_second,
        )
        return channels

    # --- webhooks, quiet hours, digests (issue 15) ------------------------------------------------------

    @cached_property
    def webhook_policy(self) -> WebhookAddressPolicy:
        """The SSRF guard: `JAWAZAT_WEBHOOK_ALLOW_HOSTS` and the resolver seam."""
        from jawazat_events.subscribers.ssrf import WebhookAddressPolicy, parse_allow_list, system_resolver

        return WebhookAddressPolicy(
            allow=parse_allow_list(self.settings.webhook_allow_hosts),
            resolver=self.webhook_resolver or system_resolver,
        )

    @cached_property
    def secret_box(self) -> SecretBox:
        """Seals webhook secrets: `JAWAZAT_SECRETS_KEY`, else the key kept in the database."""
        from jawazat_events.secretbox import SecretBox, database_key

        key = self.settings.secrets_key
        if key is not None:
            return SecretBox.from_base64(key.get_secret_value())
        return SecretBox(database_key(self.read_models.db))

    @cached_property
    def channel_service(self) -> ChannelService:
        """Establishments' channel settings: webhook endpoint and secret, quiet hours, digests."""
        from datetime import timedelta

        from jawazat_events.channel_service import ChannelService
        from jawazat_events.subscribers.ssrf import registration_guard

        return ChannelService(
            self.app,
            secret_box=lambda: self.secret_box,
            url_guard=registration_guard(self.webhook_policy),
            clock=self.clock,
            secret_overlap=timedelta(hours=self.settings.webhook_secret_overlap_hours),
        )

    @cached_property
    def digests(self) -> DigestJob:
        """The daily digest job (docs/operations.md, "Digests")."""
        from jawazat_events.digest import DigestJob
        from jawazat_events.projections.channel_fanout import OpenDigestItems

        return DigestJob(app=self.app, items=OpenDigestItems(self.read_models.db))

    def delivery_rules(self) -> Any:
        """Quiet hours, webhook messages, digests and per-channel retry policies for delivery."""
        from jawazat_events.retry_policy import (
            ExponentialBackoff,
            FixedSchedule,
            RetryPolicies,
            parse_schedule,
        )
        from jawazat_events.subscribers.channel_rules import ChannelRules

        s = self.settings
        policies = RetryPolicies(
            default=ExponentialBackoff(base_seconds=s.retry_base_seconds, max_attempts=s.max_attempts),
            by_channel={"webhook": FixedSchedule(parse_schedule(s.webhook_retry_schedule))},
        )
        return ChannelRules(
            db=self.read_models.db, zone=s.zone, policies=policies, owners=self.channel_service
        )

    @cached_property
    def delivery(self) -> Any:
        """The delivery service over the alerts read model and the channels."""
        import os
        import socket

        from jawazat_events.delivery import DeliveryService

        return DeliveryService(
            app=self.app,
            db=self.read_models.db,
            channels=self.channels,
            clock=self.clock,
            zone=self.settings.zone,
            retry_base_seconds=self.settings.retry_base_seconds,
            max_attempts=self.settings.max_attempts,
            worker_id=f"{socket.gethostname()}:{os.getpid()}",
            twilio_auth_token=self.settings.twilio_auth_token,
            lease_seconds=self.settings.delivery_lease_seconds,
            rules=self.delivery_rules(),
        )

    @cached_property
    def establishments(self) -> EstablishmentService:
        return EstablishmentService(self.app, channels=self.channel_service)

    def catch_up_index(self) -> None:
        """Bring the subscription index up to the store's head (read-your-writes for listings)."""
        from jawazat_events.projections.runner import Follower

        Follower(self.app, self.read_models.index, batch_size=self.settings.projection_batch_size).drain()

    @cached_property
    def expiry(self) -> ExpiryJob:
        """The passport-expiry job over the people view (docs/scheduler.md)."""
        from jawazat_events.expiry import ExpiryJob

        return ExpiryJob.from_container(self)

    @cached_property
    def tokens(self) -> TokenService:
        """Bearer tokens of source systems and auditors."""
        return TokenService(self.app)

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.app, today=self.today, batch_size=self.settings.ingest_batch_size)

    def redacted_database_url(self) -> str:
        db = self.database
        if db.backend == "sqlite":
            return f"sqlite:///{db.sqlite_path}"
        return f"postgresql://{db.user}@{db.host}:{db.port}/{db.dbname}"

    def close(self) -> None:
        if "app" in self.__dict__:
            self.app.close()


def bootstrap(settings: Settings | None = None, **overrides: object) -> Container:
    """Build the container from settings (read from the environment unless given)."""
    return Container(settings=settings or load_settings(**overrides))
