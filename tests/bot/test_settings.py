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


def launched_environment(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment ``python -m bot.run_rasa`` hands to Rasa (the exec is caught)."""
    import os

    from bot import run_rasa

    monkeypatch.setattr(run_rasa, "get_settings", lambda: ChannelSettings(_env_file=None))
    monkeypatch.setattr(run_rasa, "model_path", lambda: run_rasa.ROOT / "pyproject.toml")
    # A copy: what the launcher sets must not leak into the other tests.
    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.setattr(os, "chdir", lambda path: None)
    monkeypatch.setattr(os, "makedirs", lambda *args, **kwargs: None)
    launched: dict[str, str] = {}

    def execv(path: str, command: list[str]) -> None:
        launched.update(os.environ)

    monkeypatch.setattr(os, "execv", execv)
    run_rasa.main()
    return launched


def test_tensorflow_runs_on_one_thread_per_pool_unless_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("TF_INTER_OP_PARALLELISM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    launched = launched_environment(monkeypatch)
    assert launched["TF_INTER_OP_PARALLELISM_THREADS"] == "1"
    assert launched["TF_INTRA_OP_PARALLELISM_THREADS"] == "1"
    assert launched["SQL_POOL_SIZE"] == "5"

    monkeypatch.setenv("TF_INTRA_OP_PARALLELISM_THREADS", "2")
    monkeypatch.setenv("SQL_POOL_SIZE", "8")
    launched = launched_environment(monkeypatch)
    assert launched["TF_INTRA_OP_PARALLELISM_THREADS"] == "2"
    assert launched["SQL_POOL_SIZE"] == "8"
