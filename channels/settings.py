"""Settings of the Rasa server and its input channels (prefix ``RASA_`` / ``CHANNELS_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseSettings, Field, root_validator


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
    tracker_dialect: str = Field(default="sqlite", env="RASA_TRACKER_DIALECT")
    tracker_url: str = Field(default="", env="RASA_TRACKER_URL")
    tracker_db: str = Field(default="var/tracker.sqlite3", env="RASA_TRACKER_DB")

    # What a citizen's message may be; longer ones are answered, not processed.
    max_message_length: int = Field(default=2000, ge=1, env="CHANNELS_MAX_MESSAGE_LENGTH")
    max_sender_length: int = Field(default=128, ge=1, env="CHANNELS_MAX_SENDER_LENGTH")

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


@lru_cache
def get_settings() -> ChannelSettings:
    return ChannelSettings()
