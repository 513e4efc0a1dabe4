"""Backend settings: typed, from the environment (prefix ``BACKEND_``) or a ``.env`` file."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import holidays
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Stands in for GOVBOT_INTERNAL_TOKEN outside production, so that `make run` works as is;
# the same value is known to the action server and the channels (their settings).
DEVELOPMENT_INTERNAL_TOKEN = "govbot-development-internal-token"  # noqa: S105


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
    # A server database (PostgreSQL; a SQLite file ignores these): the connections the
    # backend process keeps open, how many more it may open under load, how long a request
    # waits for a free one before it fails with 503, and the age at which one is replaced.
    db_pool_size: int = Field(default=5, ge=1, le=200)
    db_max_overflow: int = Field(default=5, ge=0, le=200)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    db_pool_recycle_seconds: int = Field(default=1800, ge=1, le=24 * 3600)
    # Connections of the same server that others need, added to GovBot's budget: Rasa's
    # SQLTrackerStore with SQL_POOL_SIZE=5 and SQL_MAX_OVERFLOW=10 (.env.example) when the
    # tracker store is on this server (0 when it is not, more for other clients).
    db_connection_reserve: int = Field(default=15, ge=0, le=10_000)
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

    # Form assistants: their specs, and the city's postal codes and streets they check against.
    forms_dir: Path = Path("data/forms")
    city_file: Path = Path("data/catalogue/city.yml")
    # Largest application body accepted (bytes); each answer's length comes from its spec.
    submission_max_bytes: int = Field(default=64 * 1024, ge=1024, le=1024 * 1024)
    # Unicode TrueType fonts for the PDFs (Debian: fonts-dejavu-core).
    pdf_font_dir: Path = Path("/usr/share/fonts/truetype/dejavu")

    # Delivery of applications to the departments' DMS, through the outbox.
    delivery_worker: bool = True
    delivery_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    delivery_batch_size: int = Field(default=20, ge=1, le=1000)
    # Wait before retry n: base * 2^(n-1), at most the cap, less up to the jitter fraction.
    delivery_backoff_base_seconds: float = Field(default=30.0, gt=0)
    delivery_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    delivery_backoff_jitter: float = Field(default=0.1, ge=0, lt=1)
    # Failed deliveries are retried for ever; from this attempt on each failure is logged as
    # an error and `python -m backend.deliver --once` exits with status 1, for monitoring.
    delivery_alert_after_attempts: int = Field(default=8, ge=1)
    # A claimed delivery whose worker died is taken over by another after this long.
    delivery_lease_seconds: float = Field(default=300.0, gt=0)
    dms_sink: Literal["folder", "webdav"] = "folder"
    dms_folder: Path = Path("var/dms")
    dms_webdav_url: str | None = None
    dms_webdav_username: str | None = None
    dms_webdav_password: SecretStr | None = None
    dms_webdav_timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    # Web widget (the browser client of the REST channel, channels/widget/): served below
    # /widget/, and embedded in the demo page of a city portal at /demo.
    widget_dir: Path = Path("channels/widget")
    # The Rasa server as the citizen's browser reaches it (through the reverse proxy in
    # production). Rendered into the demo page and its Content-Security-Policy.
    public_rasa_url: str = "http://127.0.0.1:5005"

    # Internal API (action server, input channels, staff relay): one shared bearer token.
    # Outside production a well-known development token stands in when none is set.
    internal_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GOVBOT_INTERNAL_TOKEN")
    )
    # The Rasa server as the backend reaches it, for staff replies and hand-backs
    # (POST /webhooks/handoff/relay); on loopback or the internal network, never public.
    rasa_internal_url: str = "http://127.0.0.1:5005"
    relay_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Human handoff: whose opening hours say whether the service center is staffed.
    handoff_department: str = "buergerbuero"

    # Staff intranet (/intern): session lifetime and idle timeout, cookie, sign-in limits.
    staff_session_hours: float = Field(default=9.0, gt=0, le=24)
    staff_idle_minutes: float = Field(default=30.0, gt=0, le=24 * 60)
    # Only false for plain-http development on loopback; production refuses false.
    staff_cookie_secure: bool = True
    staff_login_max_failures: int = Field(default=5, ge=1)
    staff_login_max_failures_per_address: int = Field(default=20, ge=1)
    staff_login_window_minutes: int = Field(default=15, ge=1)

    # Data protection: how long each kind of data is kept (data/retention.yml).
    retention_file: Path = Path("data/retention.yml")
    # Minutes between passes of the retention job (`python -m backend.retention`).
    retention_interval_minutes: float = Field(default=60.0, gt=0, le=7 * 24 * 60)
    # The Rasa tracker store whose old conversations the job deletes; empty: not touched.
    # The default is Rasa's SQLite file of `make run` (RASA_TRACKER_DB).
    retention_tracker_url: str = "sqlite:///var/tracker.sqlite3"

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

    @model_validator(mode="after")
    def _webdav_needs_a_url(self) -> Settings:
        if self.dms_sink == "webdav" and not self.dms_webdav_url:
            raise ValueError("BACKEND_DMS_SINK=webdav needs BACKEND_DMS_WEBDAV_URL")
        if self.dms_webdav_url and not self.dms_webdav_url.startswith(("http://", "https://")):
            raise ValueError("BACKEND_DMS_WEBDAV_URL must start with http:// or https://")
        # Applications and the DMS password must not cross a network in clear text.
        if (
            self.environment == "production"
            and self.dms_sink == "webdav"
            and not (self.dms_webdav_url or "").startswith("https://")
        ):
            raise ValueError("BACKEND_DMS_WEBDAV_URL must use https:// in production")
        return self

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        if self.environment != "production":
            return self
        token = self.internal_token.get_secret_value() if self.internal_token else ""
        if len(token) < 32 or token == DEVELOPMENT_INTERNAL_TOKEN:
            raise ValueError("GOVBOT_INTERNAL_TOKEN needs at least 32 random characters")
        if not self.staff_cookie_secure:
            raise ValueError("BACKEND_STAFF_COOKIE_SECURE must be true in production")
        return self

    @property
    def internal_token_value(self) -> str:
        """The internal API's token (the development token outside production)."""
        if self.internal_token is not None and self.internal_token.get_secret_value():
            return self.internal_token.get_secret_value()
        return DEVELOPMENT_INTERNAL_TOKEN

    @field_validator("public_rasa_url")
    @classmethod
    def _plain_http_url(cls, value: str) -> str:
        # It goes into an HTML attribute and a CSP header: a plain URL, nothing else.
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.username is not None
            or parts.query
            or parts.fragment
            or re.search(r"[\s\"'<>;,\\]", value)
        ):
            raise ValueError(
                "BACKEND_PUBLIC_RASA_URL must be a plain http(s) URL such as "
                "https://portal.example/govbot"
            )
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        return value.rstrip("/")

    @property
    def public_rasa_origin(self) -> str:
        parts = urlsplit(self.public_rasa_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
