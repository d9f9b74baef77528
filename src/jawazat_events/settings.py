"""Configuration: one pydantic-settings class reading the contract's `JAWAZAT_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    outbox_dir: Path = Path("./outbox")
    expiry_lead_days: str = "90,60,30,7"
    timezone: str = "Asia/Riyadh"
    retry_base_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    ingest_batch_size: int = Field(default=1000, ge=1, le=10_000)
    aggregate_cache_size: int = Field(default=50_000, ge=0)
    projection_batch_size: int = Field(default=1000, ge=1, le=20_000)
    fanout_partitions: int = Field(default=1, ge=1, le=1024)

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

    @property
    def zone(self) -> ZoneInfo:
        """The business time zone."""
        return ZoneInfo(self.timezone)

    @property
    def lead_days(self) -> tuple[int, ...]:
        """Warning thresholds in days before expiry, largest first."""
        return tuple(sorted({int(p) for p in self.expiry_lead_days.split(",") if p.strip()}, reverse=True))
