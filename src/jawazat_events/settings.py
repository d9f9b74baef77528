"""Configuration: one pydantic-settings class reading the contract's `JAWAZAT_*` environment variables."""

from __future__ import annotations

import base64
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jawazat_events.retry_policy import parse_schedule


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
    sms_max_per_second: float = Field(default=10.0, gt=0)
    outbox_dir: Path = Path("./outbox")
    expiry_lead_days: str = "90,60,30,7"
    timezone: str = "Asia/Riyadh"
    retry_base_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    # How long a worker's claim on an alert lasts; after it, a dead worker's sends are taken over.
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    ingest_batch_size: int = Field(default=1000, ge=1, le=10_000)
    aggregate_cache_size: int = Field(default=50_000, ge=0)
    projection_batch_size: int = Field(default=1000, ge=1, le=20_000)
    fanout_partitions: int = Field(default=1, ge=1, le=1024)
    # HTTP API (docs/api.md): per-key rate limit and body limits.
    api_rate_limit_per_minute: int = Field(default=3000, ge=1)
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    api_max_events: int = Field(default=1000, ge=1)
    # Scheduler (docs/scheduler.md): the daily expiry run's time, how late a missed expiry is still
    # announced, the expiry job's batch, and the projection lag that earns a warning.
    expiry_job_time: str = "06:00"
    expiry_catch_up_days: int = Field(default=30, ge=0, le=366)
    expiry_batch_size: int = Field(default=1000, ge=1, le=10_000)
    projection_lag_warning: int = Field(default=10_000, ge=0)
    # Privacy at rest (docs/audit.md): base64 of a 16, 24 or 32-byte AES key; event states are encrypted
    # with it when set. Never logged or shown (SecretStr).
    cipher_key: SecretStr | None = None
    # --- delivery channels beyond e-mail and SMS (issue 15; docs/operations.md, "Webhooks") ---------
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
        try:
            size = len(base64.b64decode(value.get_secret_value().strip(), validate=True))
        except ValueError:
            raise ValueError("must be a base64-encoded AES key (`jawazat audit new-key` makes one)") from None
        if size not in (16, 24, 32):
            raise ValueError(f"must decode to a 16, 24 or 32-byte AES key, not {size} bytes")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
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
