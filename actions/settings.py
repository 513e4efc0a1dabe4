"""Action-server settings, from the environment (prefix ``ACTIONS_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AnyHttpUrl, BaseSettings, Field


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

    class Config:
        env_prefix = "ACTIONS_"
        env_file = ".env"
        extra = "ignore"


@lru_cache
def get_settings() -> ActionSettings:
    return ActionSettings()
