"""What one API instance holds beside the container: its rate limiter and the locks of its writers."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum

from jawazat_events.api.auth_failures import AuthFailures, Network
from jawazat_events.api.ratelimit import RateLimiter
from jawazat_events.api.snapshots import Snapshots
from jawazat_events.bootstrap import Container


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
    auth_failures: AuthFailures
    trusted_proxies: tuple[Network, ...] = ()
    # What /healthz and /metrics read from the store, reused for a moment.
    snapshots: Snapshots = field(default_factory=lambda: Snapshots(0.0))
    # The ingestor keeps a cache of aggregates it changes in place: one ingest at a time per process
    # (the store serialises writers anyway; other processes are handled by its conflict retries).
    ingest_lock: threading.Lock = field(default_factory=threading.Lock)
    index_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def for_container(cls, container: Container) -> ApiState:
        settings = container.settings
        failures = settings.api_auth_failures_per_minute or settings.api_rate_limit_per_minute
        return cls(
            container=container,
            limiter=RateLimiter(settings.api_rate_limit_per_minute),
            auth_failures=AuthFailures(failures),
            trusted_proxies=settings.trusted_proxies,
            snapshots=Snapshots(settings.api_health_cache_seconds),
        )

    def warm_up(self) -> None:
        """Open the store and the read models before the first request (tables made on first use)."""
        container = self.container
        _ = container.app, container.read_models, container.establishments, container.tokens
        _ = container.ingestor

    def catch_up_index(self) -> None:
        """Read-your-writes: bring the subscription index to the store's head after a change (one
        catch-up at a time in this process; another process's is waited out by `runner.catch_up`)."""
        with self.index_lock:
            self.container.catch_up_index()
