"""Configuration: one pydantic-settings class reading the contract's `JAWAZAT_*` environment variables."""

from __future__ import annotations

import base64
import email.utils
import ipaddress
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jawazat_events.domain.makkah_permit import SeasonWindow, parse_season_overrides
from jawazat_events.services.retry import parse_schedule


class Settings(BaseSettings):
    """Everything an operator can configure; defaults are the contract's."""

    model_config = SettingsConfigDict(env_prefix="JAWAZAT_", extra="ignore")

    database_url: str = "sqlite:///jawazat.db"
    smtp_url: str | None = None
    email_from: str = "notifications@jawazat.example"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_base: str | None = None
    twilio_status_callback_url: str | None = None
    # Each channel paces itself to this rate (per worker process).
    email_max_per_second: float = Field(default=250.0, gt=0)
    # SMTP connections each worker process keeps open to each server at most (one message in flight on each).
    smtp_connections: int = Field(default=4, ge=1, le=50)
    sms_max_per_second: float = Field(default=10.0, gt=0)
    outbox_dir: Path = Path("./outbox")
    expiry_lead_days: str = "90,60,30,7"
    timezone: str = "Asia/Riyadh"
    retry_base_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    # How long a worker's claim on an alert lasts; after it, a dead worker's sends are taken over.
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    ingest_batch_size: int = Field(default=1000, ge=1, le=10_000)
    # People kept in a process's aggregate cache, 1.1-2.2 KB each; a person the cache dropped costs a reload
    # (about 90 µs) when a feed names them again. 60,000 holds every person of a 200,000-event feed over
    # 50,000 people (`bench.ingest` 1.17 times as fast as with 20,000) and keeps `jawazat ingest` of 1M
    # events over 250,000 people near 255 MB, now that the id caches are smaller (docs/capacity.md).
    aggregate_cache_size: int = Field(default=60_000, ge=0)
    projection_batch_size: int = Field(default=1000, ge=1, le=20_000)
    fanout_partitions: int = Field(default=1, ge=1, le=1024)
    # The worker's waits between passes (projections and delivery, each its own loop): on PostgreSQL they
    # are woken by LISTEN/NOTIFY and only fall back to polling every `worker_listen_poll_seconds`; without
    # NOTIFY (SQLite, or while the LISTEN connection is down) they poll every `worker_poll_seconds`.
    worker_poll_seconds: float = Field(default=0.1, gt=0, le=60)
    worker_listen_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    # HTTP API (docs/api.md): per-key rate limit and body limits.
    api_rate_limit_per_minute: int = Field(default=3000, ge=1)
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    api_max_events: int = Field(default=1000, ge=1)
    # Failed authentications allowed a minute per client address and per presented key prefix before
    # further failures get 429 (valid credentials are never refused for them); unset: the rate limit.
    api_auth_failures_per_minute: int | None = Field(default=None, ge=1)
    # Addresses (or CIDR networks) of reverse proxies whose `X-Forwarded-For` names the real client.
    api_trusted_proxies: str = ""
    # How long /healthz and /metrics reuse what they read from the store.
    api_health_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    # A request body must have arrived within this long (else 408 and the connection is closed).
    api_body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Scheduler (docs/scheduler.md): the daily expiry run's time, how late a missed expiry is still
    # announced, the expiry job's batch, and the projection lag that earns a warning.
    expiry_job_time: str = "06:00"
    expiry_catch_up_days: int = Field(default=30, ge=0, le=366)
    expiry_batch_size: int = Field(default=1000, ge=1, le=10_000)
    projection_lag_warning: int = Field(default=10_000, ge=0)
    # Privacy at rest (docs/audit.md): base64 of a 16, 24 or 32-byte AES key; event states are encrypted
    # with it when set. Never logged or shown (SecretStr).
    cipher_key: SecretStr | None = None
    # Key rotation (docs/operations.md): earlier keys, comma-separated, still read but never written with.
    cipher_old_keys: SecretStr | None = None
    # Web portal (docs/portal.md): how long a sign-in lasts, whether the session cookie is marked Secure
    # (unset: when the request came over HTTPS), sign-in attempts a minute per client address, and the
    # largest CSV a bulk upload may hold.
    portal_session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    portal_cookie_secure: bool | None = None
    portal_signin_per_minute: int = Field(default=10, ge=1)
    portal_upload_max_lines: int = Field(default=2000, ge=1, le=100_000)
    # E-services (docs/eservices.md): where ticket attachments are kept, Hajj season dates set by the
    # operator (`1448=2027-03-09..2027-05-21,…`), the longest travel permit, and the body limit of
    # `POST /v1/tickets` (five attachments of 5 MB and the form around them).
    attachments_dir: Path = Path("./attachments")
    hajj_seasons: str = ""
    travel_permit_max_days: int = Field(default=365, ge=1, le=730)
    api_max_upload_bytes: int = Field(default=27_000_000, ge=1024)
    # --- delivery channels beyond e-mail and SMS (docs/operations.md, "Webhooks") ----------------------
    # Hosts (names, IP addresses or networks) that webhooks may reach over plain http and at private,
    # loopback or link-local addresses; empty: https to public addresses only.
    webhook_allow_hosts: str = ""
    # The webhook channel's own retry schedule (delays after each failed attempt), then dead letter.
    webhook_retry_schedule: str = "5s,5m,30m,2h,5h,10h,14h,20h,24h"
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    webhook_max_per_second: float = Field(default=250.0, gt=0)
    # How long a rotated-out webhook secret keeps signing beside the new one.
    webhook_secret_overlap_hours: float = Field(default=24.0, ge=0)
    # base64 AES key sealing webhook secrets in the store; unset: a key kept in the database (engine_keys).
    secrets_key: SecretStr | None = None
    # A provider (SMTP server, Twilio base URL) that failed transiently is skipped this long.
    provider_cooldown_seconds: float = Field(default=30.0, ge=0)
    # When the daily digest job folds the day's warnings into one e-mail per establishment (business time).
    digest_job_time: str = "07:00"

    @field_validator("hajj_seasons")
    @classmethod
    def _seasons(cls, value: str) -> str:
        parse_season_overrides(value)
        return value

    @property
    def season_overrides(self) -> dict[str, SeasonWindow]:
        """Hajj seasons whose dates the operator set."""
        return parse_season_overrides(self.hajj_seasons)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value

    @field_validator("expiry_lead_days")
    @classmethod
    def _lead_days(cls, value: str) -> str:
        try:
            days = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise ValueError(f"'{value}' must be comma-separated whole numbers of days") from None
        if any(d <= 0 for d in days):
            raise ValueError(f"'{value}': lead days must be positive")
        return value

    @field_validator("cipher_key", "secrets_key")
    @classmethod
    def _aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        return SecretStr(_check_aes_key(value.get_secret_value().strip()))

    @field_validator("cipher_old_keys")
    @classmethod
    def _old_aes_keys(cls, value: SecretStr | None) -> SecretStr | None:
        keys = [k.strip() for k in (value.get_secret_value() if value else "").split(",") if k.strip()]
        for number, key in enumerate(keys, start=1):
            try:
                _check_aes_key(key)
            except ValueError as error:
                raise ValueError(f"key {number}: {error}") from None
        return SecretStr(",".join(keys)) if keys else None

    @model_validator(mode="after")
    def _old_keys_need_a_key(self) -> Settings:
        if self.cipher_old_keys is not None and self.cipher_key is None:
            raise ValueError(
                "JAWAZAT_CIPHER_OLD_KEYS needs JAWAZAT_CIPHER_KEY: old keys are read beside a current key"
            )
        return self

    @field_validator("email_from")
    @classmethod
    def _sender(cls, value: str) -> str:
        # It becomes the From header: one address (optionally with a display name), nothing that could
        # end the header line.
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise ValueError("must not contain control characters or line breaks")
        _, address = email.utils.parseaddr(value)
        if not address or "@" not in address:
            raise ValueError(f"'{value}' is not an e-mail address")
        return value

    @field_validator("api_trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(",")):
            if part:
                try:
                    ipaddress.ip_network(part, strict=False)
                except ValueError:
                    raise ValueError(f"'{part}' is not an IP address or network") from None
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @field_validator("webhook_allow_hosts")
    @classmethod
    def _allow_hosts(cls, value: str) -> str:
        from jawazat_events.subscribers.ssrf import parse_allow_list  # the SSRF guard's own reading

        parse_allow_list(value)
        return value

    @field_validator("expiry_job_time", "digest_job_time")
    @classmethod
    def _job_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError(f"'{value}' must be a time of day as HH:MM") from None
        return value

    @property
    def trusted_proxies(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The networks whose `X-Forwarded-For` header is believed (empty: none)."""
        parts = [p.strip() for p in self.api_trusted_proxies.split(",")]
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts if p)

    @property
    def old_cipher_keys(self) -> tuple[str, ...]:
        """Earlier AES keys (base64), read but never written with."""
        secret = self.cipher_old_keys
        return tuple(secret.get_secret_value().split(",")) if secret is not None else ()

    @property
    def expiry_time(self) -> time:
        """The business time of day of the daily passport-expiry run."""
        return time.fromisoformat(self.expiry_job_time)

    @property
    def digest_time(self) -> time:
        """The business time of day of the daily digest run."""
        return time.fromisoformat(self.digest_job_time)

    @property
    def zone(self) -> ZoneInfo:
        """The business time zone."""
        return ZoneInfo(self.timezone)

    @property
    def lead_days(self) -> tuple[int, ...]:
        """Warning thresholds in days before expiry, largest first."""
        return tuple(sorted({int(p) for p in self.expiry_lead_days.split(",") if p.strip()}, reverse=True))


def _check_aes_key(text: str) -> str:
    try:
        size = len(base64.b64decode(text, validate=True))
    except ValueError:
        raise ValueError("must be a base64-encoded AES key (`jawazat audit new-key` makes one)") from None
    if size not in (16, 24, 32):
        raise ValueError(f"must decode to a 16, 24 or 32-byte AES key, not {size} bytes")
    return text
