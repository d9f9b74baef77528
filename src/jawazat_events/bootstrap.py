"""The composition root: builds settings, store, services, projections, channels and scheduler.

Nothing here runs at import time; every dependency can be overridden for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

from pydantic import ValidationError

from jawazat_events.application import JawazatApplication
from jawazat_events.ingest import Ingestor
from jawazat_events.settings import Settings
from jawazat_events.store import ConfigurationError, DatabaseUrl


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning pydantic's report into one clear sentence."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            f"JAWAZAT_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None


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
                self.database.eventsourcing_env(), cache_size=self.settings.aggregate_cache_size
            )
        except (
            Exception
        ) as error:  # the library raises many kinds; all mean "cannot open the store"
            raise ConfigurationError(
                f"cannot open the event store at {self.redacted_database_url()}: {error}"
            ) from error

    def today(self) -> date:
        """Today's date in the business time zone."""
        return self.clock().astimezone(self.settings.zone).date()

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
