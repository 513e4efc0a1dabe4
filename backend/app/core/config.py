"""Backend settings: typed, from the environment (prefix ``BACKEND_``) or a ``.env`` file."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import holidays
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BACKEND_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    environment: Literal["development", "test", "production"] = Field(
        default="development", validation_alias=AliasChoices("GOVBOT_ENV", "BACKEND_ENVIRONMENT")
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str = "sqlite:///var/backend.sqlite3"
    catalogue_dir: Path = Path("data/catalogue")
    timezone: str = "Europe/Berlin"
    # Federal state whose public holidays close the offices (ISO 3166-2 subdivision of DE).
    holiday_subdivision: str = "NW"
    # Where citizens fill in a service's form online; {form} is the form's slug.
    portal_form_url: str = "https://service.musterstadt.example/formulare/{form}"
    # Status questions: failed attempts allowed per conversation and per reference number
    # within the window before further attempts are refused (HTTP 429).
    status_max_failures: int = Field(default=5, ge=1)
    # Also per postal code, so that changing the conversation id does not reset the count.
    status_max_failures_per_postal_code: int = Field(default=20, ge=1)
    status_failure_window_minutes: int = Field(default=15, ge=1)
    # A fixed "now" for tests and demonstrations; refused in production.
    fixed_now: datetime | None = None

    @field_validator("holiday_subdivision")
    @classmethod
    def _known_subdivision(cls, value: str) -> str:
        known = holidays.country_holidays("DE").subdivisions
        if value not in known:
            raise ValueError(f"BACKEND_HOLIDAY_SUBDIVISION must be one of {', '.join(known)}")
        return value

    @model_validator(mode="after")
    def _refuse_test_clock_in_production(self) -> Settings:
        if self.environment == "production" and self.fixed_now is not None:
            raise ValueError("BACKEND_FIXED_NOW must not be set in production")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
