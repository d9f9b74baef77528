"""What one API instance holds beside the container: its rate limiter and the locks of its writers."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum

from eventsourcing.persistence import IntegrityError

from jawazat_events.api.ratelimit import RateLimiter
from jawazat_events.bootstrap import Container

INDEX_CATCH_UP_ATTEMPTS = 5


class CallerRole(StrEnum):
    """Who is calling: an establishment (API key), or a token's holder (source, auditor, individual,
    officer)."""

    ESTABLISHMENT = "establishment"
    SOURCE = "source"
    AUDITOR = "auditor"
    INDIVIDUAL = "individual"
    OFFICER = "officer"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: its role and who it is (unified number, or the token's id); an
    individual's token also names the person (`id_number`)."""

    role: CallerRole
    principal: str
    id_number: str | None = None
    name: str = ""

    @property
    def label(self) -> str:
        """How logs name the caller: never a secret, never an ID number."""
        return f"{self.role.value}:{self.principal}"


@dataclass
class ApiState:
    """The container and this process's API machinery, shared by every request."""

    container: Container
    limiter: RateLimiter
    # The ingestor keeps a cache of aggregates it changes in place: one ingest at a time per process
    # (the store serialises writers anyway; other processes are handled by its conflict retries).
    ingest_lock: threading.Lock = field(default_factory=threading.Lock)
    index_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_container(cls, container: Container) -> ApiState:
        return cls(container=container, limiter=RateLimiter(container.settings.api_rate_limit_per_minute))

    def warm_up(self) -> None:
        """Open the store and the read models before the first request (tables made on first use)."""
        container = self.container
        _ = container.app, container.read_models, container.establishments, container.tokens
        _ = container.ingestor

    def catch_up_index(self) -> None:
        """Read-your-writes: bring the subscription index to the store's head after a change.

        The worker (or another API process) may be advancing the same index: its tracking record then
        refuses our batch, and the next attempt starts from where it got to.
        """
        with self.index_lock:
            for attempt in range(INDEX_CATCH_UP_ATTEMPTS):
                try:
                    self.container.catch_up_index()
                    return
                except IntegrityError:
                    if attempt == INDEX_CATCH_UP_ATTEMPTS - 1:
                        raise
