"""Settings of the Rasa server and its input channels (prefix ``RASA_`` / ``CHANNELS_``)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseSettings, Field, SecretStr, root_validator

# The backend's stand-in token outside production (backend/app/core/config.py has the same).
DEVELOPMENT_INTERNAL_TOKEN = "govbot-development-internal-token"  # noqa: S105


class ChannelSettings(BaseSettings):
    environment: Literal["development", "test", "production"] = Field(
        default="development", env="GOVBOT_ENV"
    )
    # Rasa server. Bound to loopback: a reverse proxy exposes only /webhooks/* to citizens.
    rasa_host: str = Field(default="127.0.0.1", env="RASA_HOST")
    rasa_port: int = Field(default=5005, ge=1, le=65535, env="RASA_PORT")
    # Rasa's HTTP API (tracker access, injecting messages) is off unless a token is set.
    rasa_enable_api: bool = Field(default=False, env="RASA_ENABLE_API")
    rasa_token: str | None = Field(default=None, env="RASA_TOKEN")
    rasa_cors: str = Field(default="", env="RASA_CORS")
    action_endpoint_url: str = Field(
        default="http://127.0.0.1:5055/webhook", env="RASA_ACTION_ENDPOINT_URL"
    )
    # Seconds Rasa waits for the action server per action. Rasa 3.6 waits 300 s and has no
    # setting for it (channels/rasa_patches.py sets it); an action makes one or two backend
    # calls with ACTIONS_BACKEND_TIMEOUT (5 s) per phase each; the widget gives up after 45 s.
    action_timeout: float = Field(default=15.0, gt=0, le=120, env="RASA_ACTION_TIMEOUT")
    tracker_dialect: str = Field(default="sqlite", env="RASA_TRACKER_DIALECT")
    tracker_url: str = Field(default="", env="RASA_TRACKER_URL")
    tracker_db: str = Field(default="var/tracker.sqlite3", env="RASA_TRACKER_DB")
    # Conversations the Rasa server keeps in memory after saving them, so that the next
    # message need not read them back (channels/tracker_store.py); 0 turns it off.
    tracker_cache_size: int = Field(default=500, ge=0, le=100_000, env="RASA_TRACKER_CACHE_SIZE")
    # At most an hour: the retention job (another process) cannot empty this cache.
    tracker_cache_seconds: float = Field(
        default=1800.0, gt=0, le=3600, env="RASA_TRACKER_CACHE_SECONDS"
    )

    # Messages the Rasa server works on at the same time (channels/rasa_patches.py); the
    # others wait their turn in the order they came. 0: no limit (Rasa's own way).
    concurrent_messages: int = Field(default=4, ge=0, le=1000, env="RASA_CONCURRENT_MESSAGES")
    # Longest wait for a turn; then the message is worked on anyway (below the 60 s that a
    # conversation's lock in Rasa's lock store lasts).
    message_queue_seconds: float = Field(
        default=30.0, gt=0, le=50, env="RASA_MESSAGE_QUEUE_SECONDS"
    )

    # What a citizen's message may be; longer ones are answered, not processed.
    max_message_length: int = Field(default=2000, ge=1, env="CHANNELS_MAX_MESSAGE_LENGTH")
    max_sender_length: int = Field(default=128, ge=1, env="CHANNELS_MAX_SENDER_LENGTH")

    # Human handoff: the channels pass citizens' messages during a handoff to the backend's
    # internal API, and the relay (channels/handoff.py) accepts staff replies, both with
    # one shared bearer token. Outside production a well-known development token stands in.
    backend_url: str = Field(default="http://127.0.0.1:8000", env="CHANNELS_BACKEND_URL")
    internal_token: SecretStr | None = Field(default=None, env="GOVBOT_INTERNAL_TOKEN")
    # Seconds per backend call; the citizen waits for it.
    backend_timeout: float = Field(default=5.0, gt=0, le=60, env="CHANNELS_BACKEND_TIMEOUT")

    class Config:
        env_file = ".env"
        extra = "ignore"

    @root_validator(skip_on_failure=True)
    def _api_needs_token(cls, values: dict) -> dict:
        token = values.get("rasa_token")
        if values.get("rasa_enable_api"):
            if not token:
                raise ValueError("RASA_ENABLE_API=true needs RASA_TOKEN")
            if values.get("environment") == "production" and len(token) < 32:
                raise ValueError("RASA_TOKEN must have at least 32 characters in production")
        return values

    @root_validator(skip_on_failure=True)
    def _production_internal_token(cls, values: dict) -> dict:
        if values.get("environment") != "production":
            return values
        secret = values.get("internal_token")
        token = secret.get_secret_value() if secret else ""
        if len(token) < 32 or token == DEVELOPMENT_INTERNAL_TOKEN:
            raise ValueError("GOVBOT_INTERNAL_TOKEN needs at least 32 random characters")
        return values

    @property
    def internal_token_value(self) -> str:
        """The internal API's token (the development token outside production)."""
        if self.internal_token is not None and self.internal_token.get_secret_value():
            return self.internal_token.get_secret_value()
        return DEVELOPMENT_INTERNAL_TOKEN


@lru_cache
def get_settings() -> ChannelSettings:
    return ChannelSettings()


# What Telegram accepts as a webhook's secret_token: 1-256 of these characters.
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")


class TelegramSettings(BaseSettings):
    """The Telegram channel; it is off until a bot token is set."""

    environment: Literal["development", "test", "production"] = Field(
        default="development", env="GOVBOT_ENV"
    )
    bot_token: SecretStr | None = Field(default=None, env="CHANNELS_TELEGRAM_BOT_TOKEN")
    # Telegram sends it in X-Telegram-Bot-Api-Secret-Token with every update.
    webhook_secret: SecretStr | None = Field(default=None, env="CHANNELS_TELEGRAM_WEBHOOK_SECRET")
    # The Bot API, with the token appended (tests point it at a stand-in on loopback).
    api_base_url: str = Field(
        default="https://api.telegram.org/bot", env="CHANNELS_TELEGRAM_API_BASE_URL"
    )
    # Public https URL of /webhooks/telegram/webhook, registered by `make telegram-webhook`.
    webhook_url: str = Field(default="", env="CHANNELS_TELEGRAM_WEBHOOK_URL")

    class Config:
        env_file = ".env"
        extra = "ignore"

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token and self.bot_token.get_secret_value())

    @root_validator(skip_on_failure=True)
    def _token_needs_secret(cls, values: dict) -> dict:
        token = values.get("bot_token")
        if not (token and token.get_secret_value()):
            return values
        secret = values.get("webhook_secret")
        if secret is None or not _TELEGRAM_SECRET.fullmatch(secret.get_secret_value()):
            raise ValueError(
                "CHANNELS_TELEGRAM_BOT_TOKEN needs CHANNELS_TELEGRAM_WEBHOOK_SECRET: 16 to 256 "
                "characters from A-Z, a-z, 0-9, _ and -, e.g. `openssl rand -hex 32`"
            )
        if values.get("environment") == "production" and not str(
            values.get("api_base_url")
        ).startswith("https://"):
            raise ValueError("CHANNELS_TELEGRAM_API_BASE_URL must use https in production")
        return values


@lru_cache
def get_telegram_settings() -> TelegramSettings:
    return TelegramSettings()
