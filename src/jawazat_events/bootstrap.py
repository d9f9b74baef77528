"""The composition root: builds settings, store, services, read models, channels and jobs, typed.

Each component gets what it uses through typed, keyword-only constructor arguments (a Protocol where
several adapters can play one role); none receives the container. Nothing here runs at import time:
components are built on first use, and the adapters' modules (provider clients) are imported then.
Every dependency can be overridden for tests (assign the attribute before first use).
"""

from __future__ import annotations

import functools
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from pydantic import ValidationError

from jawazat_events.services.application import JawazatApplication
from jawazat_events.services.establishments import EstablishmentService
from jawazat_events.services.ingest import Ingestor
from jawazat_events.services.tokens import TokenService
from jawazat_events.settings import Settings
from jawazat_events.store import ConfigurationError, DatabaseUrl
from jawazat_events.store_keys import KeysGiven, StoreKeys, check_store_keys

if TYPE_CHECKING:
    from jawazat_events.audit.rebuild import PartDone, Rebuilder, RebuildPart
    from jawazat_events.eservices_wiring import EServices
    from jawazat_events.projections.read_models import ReadModels
    from jawazat_events.services.audit.trail import AuditTrail
    from jawazat_events.services.channel_settings import ChannelService
    from jawazat_events.services.channels import Channel
    from jawazat_events.services.delivery_rules import DeliveryRules
    from jawazat_events.services.digest import DigestJob
    from jawazat_events.services.dispatch import Dispatcher
    from jawazat_events.services.expiry import ExpiryJob
    from jawazat_events.services.person_directory import PersonDirectory
    from jawazat_events.services.portal_users import PortalUserService
    from jawazat_events.services.retry import RetryPolicies
    from jawazat_events.services.secretbox import SecretBox
    from jawazat_events.subscribers.ssrf import Resolver, WebhookAddressPolicy
    from jawazat_events.subscribers.twilio_callback import TwilioStatusCallbacks


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning pydantic's report into one clear sentence."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            (f"JAWAZAT_{'_'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ")
            for e in error.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@dataclass
class Container:
    """The wired product: what the CLI, the API, the worker and the scheduler use."""

    settings: Settings
    clock: Callable[[], datetime] = field(default=utc_now)
    # Retry jitter; a test seeds it (`random.Random(1)`) to make delays repeatable.
    rng: random.Random = field(default_factory=random.Random)
    # How webhook hosts are resolved (the SSRF guard's seam; None: the system's resolver).
    webhook_resolver: Resolver | None = None

    @cached_property
    def database(self) -> DatabaseUrl:
        return DatabaseUrl.parse(self.settings.database_url)

    # False only for tools that read raw stored bytes and never write (`audit verify`): they need no key.
    check_keys: bool = True
    # False only in a parallel rebuild's share: the rebuild builds the read models' secondary indexes after
    # its replay, so a share starting meanwhile must not make them (`audit.rebuild`).
    read_model_indexes: bool = True

    @cached_property
    def app(self) -> JawazatApplication:
        """The event-sourced application over the configured store (tables made on first use), refused
        (`ConfigurationError`) before anything is written when the keys given do not fit the store."""
        try:
            app = JawazatApplication(
                self.database.eventsourcing_env(
                    cipher_key=self.cipher_key(), old_cipher_keys=self.settings.old_cipher_keys
                ),
                cache_size=self.settings.aggregate_cache_size,
            )
        except Exception as error:  # the library raises many kinds; all mean "cannot open the store"
            raise ConfigurationError(
                f"cannot open the event store at {self.redacted_database_url()}: {error}"
            ) from error
        if self.check_keys:
            try:
                check_store_keys(
                    StoreKeys(app.recorder, postgres=self.database.backend == "postgres"),
                    KeysGiven(self.cipher_key(), self.settings.old_cipher_keys),
                    where=self.redacted_database_url(),
                )
            except BaseException:
                app.close()
                raise
        return app

    def cipher_key(self) -> str | None:
        """The event store's AES key (`JAWAZAT_CIPHER_KEY`), or None: states are stored in clear."""
        key = self.settings.cipher_key
        return key.get_secret_value() if key is not None else None

    def now(self) -> datetime:
        """The current time (the container's clock)."""
        return self.clock()

    def today(self) -> date:
        """Today's date in the business time zone."""
        return self.clock().astimezone(self.settings.zone).date()

    def postgres_conninfo(self) -> str | None:
        """A libpq connection string on PostgreSQL (advisory locks, heartbeats); None on SQLite."""
        return self.database.psycopg_conninfo() if self.database.backend == "postgres" else None

    # --- read side -------------------------------------------------------------------------------

    @cached_property
    def read_models(self) -> ReadModels:
        """The read models over the store's own database, tables made on first use."""
        from jawazat_events.library_internals import datastore_of
        from jawazat_events.projections.base import ReadModelDatabase
        from jawazat_events.projections.read_models import ReadModels

        db = ReadModelDatabase(datastore_of(self.app))
        return ReadModels.create(
            db, fanout_partitions=self.settings.fanout_partitions, indexes=self.read_model_indexes
        )

    def catch_up_index(self) -> None:
        """Bring the subscription index up to the store's head (read-your-writes for listings)."""
        from jawazat_events.projections.runner import catch_up

        catch_up(self.app, self.read_models.index, batch_size=self.settings.projection_batch_size)

    def catch_up_people(self) -> None:
        """Bring the people view (the passport calendar) up to the store's head."""
        from jawazat_events.projections.runner import catch_up

        catch_up(self.app, self.read_models.people, batch_size=self.settings.projection_batch_size)

    # --- delivery --------------------------------------------------------------------------------

    @cached_property
    def channels(self) -> dict[str, Channel]:
        """The delivery channels: SMTP and Twilio when configured (each a failover over the listed
        providers), else the outbox folder; and webhooks through the SSRF guard."""
        from jawazat_events.subscribers.webhook import WebhookChannel

        s = self.settings
        channels = make_channels(s)
        channels["webhook"] = WebhookChannel(
            policy=self.webhook_policy,
            timeout=s.webhook_timeout_seconds,
            max_per_second=s.webhook_max_per_second,
        )
        return channels

    # --- channel settings: webhooks, quiet hours, digests ----------------------------------------------

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
        from jawazat_events.projections.engine_keys import database_secrets_key
        from jawazat_events.services.secretbox import SecretBox

        key = self.settings.secrets_key
        if key is not None:
            return SecretBox.from_base64(key.get_secret_value())
        return SecretBox(database_secrets_key(self.read_models.db))

    @cached_property
    def channel_service(self) -> ChannelService:
        """Establishments' channel settings: webhook endpoint and secret, quiet hours, digests."""
        from jawazat_events.services.channel_settings import ChannelService
        from jawazat_events.subscribers.ssrf import registration_guard

        return ChannelService(
            app=self.app,
            secret_box=lambda: self.secret_box,
            url_guard=registration_guard(self.webhook_policy),
            clock=self.clock,
            secret_overlap=timedelta(hours=self.settings.webhook_secret_overlap_hours),
        )

    @cached_property
    def digests(self) -> DigestJob:
        """The daily digest job (docs/operations.md, "Digests")."""
        from jawazat_events.projections.channel_fanout import OpenDigestItems
        from jawazat_events.services.digest import DigestJob

        return DigestJob(app=self.app, items=OpenDigestItems(self.read_models.db))

    @cached_property
    def retry_policies(self) -> RetryPolicies:
        """Each channel's retry policy: e-mail and SMS back off exponentially (jitter from `rng`), webhooks
        follow their published schedule."""
        from jawazat_events.services.retry import (
            ExponentialBackoff,
            FixedSchedule,
            RetryPolicies,
            parse_schedule,
        )

        s = self.settings
        return RetryPolicies(
            default=ExponentialBackoff(
                base_seconds=s.retry_base_seconds, max_attempts=s.max_attempts, rng=self.rng
            ),
            by_channel={"webhook": FixedSchedule(parse_schedule(s.webhook_retry_schedule))},
        )

    @cached_property
    def delivery_rules(self) -> DeliveryRules:
        """Quiet hours and webhook messages before sending, retiring endpoints after recording."""
        from jawazat_events.projections.channel_settings import ChannelLedger
        from jawazat_events.services.delivery_rules import DeliveryRules
        from jawazat_events.subscribers.webhook import WebhookBodies

        return DeliveryRules(
            ledger=ChannelLedger(self.read_models.db),
            webhooks=WebhookBodies(),
            owners=self.channel_service,
            zone=self.settings.zone,
        )

    @cached_property
    def delivery(self) -> Dispatcher:
        """Delivery: the alert queue, names, templates and channels, the retry policies and the rules."""
        from jawazat_events.projections.alert_queue import AlertQueue
        from jawazat_events.projections.directory import NameDirectory
        from jawazat_events.services.dispatch import Dispatcher
        from jawazat_events.subscribers.rendering import TemplateRenderer

        db = self.read_models.db
        return Dispatcher(
            app=self.app,
            queue=AlertQueue(db),
            names=NameDirectory(db),
            renderer=TemplateRenderer(self.settings.zone),
            channels=self.channels,
            clock=self.clock,
            retry=self.retry_policies,
            rules=self.delivery_rules,
            worker_id=f"{socket.gethostname()}:{os.getpid()}",
            lease_seconds=self.settings.delivery_lease_seconds,
        )

    @cached_property
    def twilio_callbacks(self) -> TwilioStatusCallbacks:
        """Twilio's status callbacks, checked with the account's auth token, recorded by delivery."""
        from jawazat_events.subscribers.twilio_callback import TwilioStatusCallbacks

        return TwilioStatusCallbacks(
            auth_token=self.settings.twilio_auth_token, confirm=self.delivery.confirm
        )

    # --- services --------------------------------------------------------------------------------

    @cached_property
    def establishments(self) -> EstablishmentService:
        return EstablishmentService(self.app, channels=self.channel_service)

    @cached_property
    def expiry(self) -> ExpiryJob:
        """The passport-expiry job over the people view's calendar (docs/scheduler.md)."""
        from jawazat_events.projections.people import PassportCalendar
        from jawazat_events.services.expiry import ExpiryJob, ExpiryRules

        return ExpiryJob(
            self.app,
            calendar=PassportCalendar(self.read_models.db),
            catch_up=self.catch_up_people,
            rules=ExpiryRules.from_settings(self.settings),
            batch_size=self.settings.expiry_batch_size,
        )

    @cached_property
    def tokens(self) -> TokenService:
        """Bearer tokens of source systems and auditors."""
        return TokenService(self.app)

    @cached_property
    def portal_users(self) -> PortalUserService:
        """Portal users and their sign-in; codes go out through channels of their own."""
        from jawazat_events.services.portal_users import PortalUserService
        from jawazat_events.subscribers.sign_in import ChannelCodeSender

        return PortalUserService(
            app=self.app,
            sender=ChannelCodeSender(lambda: make_channels(self.settings)),
            clock=self.clock,
            session_lifetime=timedelta(hours=self.settings.portal_session_hours),
            people=self.person_directory,
        )

    @cached_property
    def person_directory(self) -> PersonDirectory:
        """People by the contacts and guardians on their records (individuals' sign-in, dependants)."""
        from jawazat_events.projections.person_links import PersonLinksQueries
        from jawazat_events.projections.runner import catch_up
        from jawazat_events.services.person_directory import PersonDirectory

        models = self.read_models

        def catch_up_links() -> None:
            catch_up(self.app, models.person_links, batch_size=self.settings.projection_batch_size)

        return PersonDirectory(
            app=self.app,
            links=PersonLinksQueries(models.db, catch_up=catch_up_links),
            clock=lambda: self.clock(),
        )

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.app, today=self.today, now=self.now, batch_size=self.settings.ingest_batch_size)

    @cached_property
    def audit(self) -> AuditTrail:
        """The auditors' views: timelines and subscriptions at a time."""
        from jawazat_events.projections.queries import Ledgers
        from jawazat_events.services.audit.trail import AuditTrail

        ledgers = Ledgers(self.read_models.db)
        return AuditTrail(
            app=self.app,
            alerts=ledgers,
            requests=self.eservices.queries,
            subscriptions=ledgers,
            zone=self.settings.zone,
        )

    @cached_property
    def rebuilder(self) -> Rebuilder:
        """Rebuilds of the read models from the store (takes the workers' claims on PostgreSQL)."""
        from jawazat_events.audit.rebuild import Rebuilder

        return Rebuilder(
            app=self.app,
            models=self.read_models,
            conninfo=self.postgres_conninfo(),
            catch_up_batch_size=self.settings.projection_batch_size,
            run_part=functools.partial(run_rebuild_part, self.settings),
        )

    def repair_connections(self) -> None:
        """After a failure: the store's pool checks every idle connection now and replaces the dead ones
        (a PostgreSQL restart kills them all), so the next attempt does not meet them one by one."""
        if self.database.backend != "postgres" or "app" not in self.__dict__:
            return
        from eventsourcing.postgres import PostgresDatastore

        from jawazat_events.library_internals import datastore_of

        datastore = datastore_of(self.app)
        if isinstance(datastore, PostgresDatastore):
            datastore.pool.check()

    # --- e-services (docs/eservices.md) ------------------------------------------------------------

    @cached_property
    def eservices(self) -> EServices:
        """Renewed passports, travel and Makkah permits, support tickets."""
        from jawazat_events.eservices_wiring import build_eservices

        return build_eservices(
            app=self.app,
            models=self.read_models,
            settings=self.settings,
            clock=lambda: self.clock(),
            today=self.today,
        )

    def redacted_database_url(self) -> str:
        db = self.database
        if db.backend == "sqlite":
            return f"sqlite:///{db.sqlite_path}"
        return f"postgresql://{db.user}@{db.host}:{db.port}/{db.dbname}"

    def close(self) -> None:
        if "app" in self.__dict__:
            self.app.close()


def make_channels(s: Settings) -> dict[str, Channel]:
    """A fresh set of e-mail and SMS channels: SMTP servers and Twilio API bases when configured, each list
    a failover in priority order (`smtp#N`, `twilio#N`), else the outbox folder."""
    from jawazat_events.subscribers.email import EmailChannel
    from jawazat_events.subscribers.failover import FailoverChannel, Provider, address_words, split_urls
    from jawazat_events.subscribers.outbox import OutboxChannel
    from jawazat_events.subscribers.sms import SmsChannel

    channels: dict[str, Channel] = {}
    cooldown = s.provider_cooldown_seconds
    if s.smtp_url:
        channels["email"] = FailoverChannel(
            [
                Provider(
                    f"smtp#{n}",
                    EmailChannel(
                        url,
                        s.email_from,
                        max_per_second=s.email_max_per_second,
                        connections=s.smtp_connections,
                    ),
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
    return channels


def run_rebuild_part(settings: Settings, part: RebuildPart) -> PartDone:
    """A share of a parallel rebuild, in the process it was sent to: its own container on the same store."""
    container = Container(settings=settings, read_model_indexes=False)
    try:
        return container.rebuilder.replay_part(part)
    finally:
        container.close()


def bootstrap(settings: Settings | None = None, **overrides: object) -> Container:
    """Build the container from settings (read from the environment unless given)."""
    return Container(settings=settings or load_settings(**overrides))
