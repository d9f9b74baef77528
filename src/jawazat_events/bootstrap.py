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
    from jawazat_events.eservices_wiring import EServices
    from jawazat_events.expiry import ExpiryJob


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning pydantic's report into one clear sentence."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            f"JAWAZAT_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None


@dataclass
class ReadModels:
    """The projections the worker runs, sharing one read-model database."""

    db: Any
    index: Any
    people: Any
    fanout: Any
    requests: Any = None
    request_notifications: Any = None

    def eservices(self) -> list[Any]:
        """The e-services' projections (requests view, request notifications), when wired."""
        return [p for p in (self.requests, self.request_notifications) if p is not None]

    def all(self) -> list[Any]:
        # Request notifications come before the fan-out: a rebuild replays delivery events (applied by the
        # fan-out) only after the alert rows they update exist.
        return [self.index, self.people, *self.eservices(), self.fanout]


@dataclass
class Container:
    """The wired product: what the CLI, the API, the worker and the scheduler use."""

    settings: Settings
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

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
        from jawazat_events.projections.request_notifications import RequestNotifications
        from jawazat_events.projections.requests import RequestsView
        from jawazat_events.projections.subscription_index import SubscriptionIndex

        db = ReadModelDatabase(self.app.factory.datastore)  # type: ignore[attr-defined]
        models = ReadModels(
            db=db,
            index=SubscriptionIndex(db),
            people=PeopleView(db),
            fanout=AlertFanout(db, partitions=self.settings.fanout_partitions),
            requests=RequestsView(db),
            request_notifications=RequestNotifications(db),
        )
        for projection in models.all():
            projection.create_tables()
        return models

    @cached_property
    def channels(self) -> dict[str, Any]:
        """The delivery channels: SMTP and Twilio when configured, else the outbox folder."""
        from jawazat_events.subscribers.email import EmailChannel
        from jawazat_events.subscribers.outbox import OutboxChannel
        from jawazat_events.subscribers.sms import SmsChannel

        s = self.settings
        channels: dict[str, Any] = {}
        if s.smtp_url:
            channels["email"] = EmailChannel(s.smtp_url, s.email_from, max_per_second=s.email_max_per_second)
        else:
            channels["email"] = OutboxChannel(s.outbox_dir, "email", sender=s.email_from)
        if s.twilio_account_sid and s.twilio_auth_token and s.twilio_from:
            channels["sms"] = SmsChannel(
                s.twilio_account_sid,
                s.twilio_auth_token,
                s.twilio_from,
                api_base=s.twilio_api_base,
                status_callback=s.twilio_status_callback_url,
                max_per_second=s.sms_max_per_second,
            )
        else:
            channels["sms"] = OutboxChannel(s.outbox_dir, "sms")
        return channels

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
        )

    @cached_property
    def establishments(self) -> EstablishmentService:
        return EstablishmentService(self.app)

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

    # --- e-services (docs/eservices.md) ------------------------------------------------------------

    @cached_property
    def eservices(self) -> EServices:
        """Renewed passports, travel and Makkah permits, support tickets."""
        from jawazat_events.eservices_wiring import build_eservices

        return build_eservices(self)

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
