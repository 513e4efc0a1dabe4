"""Action-server settings, from the environment (prefix ``ACTIONS_``) or a ``.env`` file."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import AnyHttpUrl, BaseSettings, Field, SecretStr, root_validator

# Stands in for GOVBOT_INTERNAL_TOKEN outside production; the backend accepts the same one
# (backend/app/core/config.py) and production refuses it.
DEVELOPMENT_INTERNAL_TOKEN = "govbot-development-internal-token"  # noqa: S105
MIN_TOKEN_LENGTH = 32


class ActionSettings(BaseSettings):
    # The action server; only the Rasa server calls it, so it stays on loopback.
    host: str = "127.0.0.1"
    port: int = Field(default=5055, ge=1, le=65535)
    # Where the backend API answers; the action server is its only bot-side client.
    backend_url: AnyHttpUrl = Field(default="http://127.0.0.1:8000")  # type: ignore[assignment]
    # Seconds per backend call; far below Rasa's own action timeout.
    backend_timeout: float = Field(default=5.0, gt=0, le=60)
    # Office whose hours are meant when a citizen asks without naming one.
    default_department: str = "buergerbuero"
    # The form assistants' specs and the city's streets and postal codes (see docs/forms.md).
    forms_dir: Path = Path("data/forms")
    city_file: Path = Path("data/catalogue/city.yml")
    # "Today" for dates in forms ("nächsten Montag") is taken in this time zone.
    timezone: str = "Europe/Berlin"
    # A fixed "now" for tests and demonstrations; refused in production.
    fixed_now: datetime | None = None
    environment: str = Field(default="development", env="GOVBOT_ENV")
    # Bearer token of the backend's internal API (handoffs, applications); shared with the
    # backend and the input channels.
    internal_token: SecretStr | None = Field(default=None, env="GOVBOT_INTERNAL_TOKEN")
    # The service center that takes handed-over conversations: the backend's variable, so
    # that both name the same office (its contact is given when nobody can be reached).
    handoff_department: str = Field(default="buergerbuero", env="BACKEND_HANDOFF_DEPARTMENT")
    # Services and questions that always go to a person (data/handoff.yml), checked against
    # the catalogue's services when loaded.
    handoff_file: Path = Path("data/handoff.yml")
    referrals_file: Path = Path("data/referrals.yml")
    services_file: Path = Path("data/catalogue/services.yml")

    @root_validator(skip_on_failure=True)
    def _refuse_test_settings_in_production(cls, values: dict[str, Any]) -> dict[str, Any]:
        if values.get("environment") == "production":
            if values.get("fixed_now") is not None:
                raise ValueError("ACTIONS_FIXED_NOW must not be set in production")
            token = values.get("internal_token")
            secret = token.get_secret_value() if token is not None else ""
            if len(secret) < MIN_TOKEN_LENGTH or secret == DEVELOPMENT_INTERNAL_TOKEN:
                raise ValueError(
                    f"GOVBOT_INTERNAL_TOKEN needs at least {MIN_TOKEN_LENGTH} random characters "
                    "in production"
                )
        ZoneInfo(values["timezone"])
        return values

    @property
    def internal_token_value(self) -> str:
        """The internal API's token (the development token outside production)."""
        if self.internal_token is not None and self.internal_token.get_secret_value():
            return self.internal_token.get_secret_value()
        return DEVELOPMENT_INTERNAL_TOKEN

    def today(self) -> date:
        """The local date of "now", which is fixed in tests."""
        zone = ZoneInfo(self.timezone)
        if self.fixed_now is not None:
            now = self.fixed_now
            return (now.astimezone(zone) if now.tzinfo else now).date()
        return datetime.now(zone).date()

    class Config:
        env_prefix = "ACTIONS_"
        env_file = ".env"
        extra = "ignore"


@lru_cache
def get_settings() -> ActionSettings:
    return ActionSettings()
