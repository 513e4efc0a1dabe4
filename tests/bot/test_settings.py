"""Safe defaults: Rasa's HTTP API only with a token, on loopback; telemetry off."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.run_rasa import rasa_command
from channels.settings import ChannelSettings


def test_defaults_bind_to_loopback_with_the_api_off() -> None:
    settings = ChannelSettings(_env_file=None)
    assert settings.rasa_host == "127.0.0.1"
    assert settings.rasa_enable_api is False


def test_enabling_the_api_without_a_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="RASA_TOKEN"):
        ChannelSettings(_env_file=None, rasa_enable_api=True)


def test_production_refuses_a_short_token() -> None:
    with pytest.raises(ValidationError, match="32 characters"):
        ChannelSettings(
            _env_file=None, environment="production", rasa_enable_api=True, rasa_token="secret"
        )


def test_rasa_is_started_without_api_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import run_rasa

    monkeypatch.setattr(run_rasa, "get_settings", lambda: ChannelSettings(_env_file=None))
    monkeypatch.setattr(run_rasa, "model_path", lambda: run_rasa.ROOT / "pyproject.toml")
    command = rasa_command()
    assert "--enable-api" not in command
    assert command[command.index("--interface") + 1] == "127.0.0.1"

    with_api = ChannelSettings(_env_file=None, rasa_enable_api=True, rasa_token="t" * 40)
    monkeypatch.setattr(run_rasa, "get_settings", lambda: with_api)
    command = rasa_command()
    assert command[command.index("--auth-token") + 1] == "t" * 40
