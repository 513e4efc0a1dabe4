"""Every backend setting is documented in .env.example; production refuses test clocks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import AliasChoices, ValidationError

from backend.app.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))


def test_backend_settings_are_documented() -> None:
    prefix = Settings.model_config["env_prefix"]
    names = {
        "GOVBOT_ENV" if name == "environment" else f"{prefix}{name}".upper()
        for name, field in Settings.model_fields.items()
        if field.validation_alias is None
    } | {
        choice
        for field in Settings.model_fields.values()
        if isinstance(field.validation_alias, AliasChoices)
        for choice in field.validation_alias.choices
        if isinstance(choice, str) and choice.startswith("GOVBOT_")
    }
    assert names - DOCUMENTED == set()


def test_production_refuses_a_fixed_clock() -> None:
    with pytest.raises(ValidationError, match="FIXED_NOW"):
        Settings(environment="production", fixed_now="2026-12-02T10:00:00+01:00", _env_file=None)  # type: ignore[arg-type, call-arg]


def test_an_unknown_federal_state_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="HOLIDAY_SUBDIVISION"):
        Settings(holiday_subdivision="XX", _env_file=None)  # type: ignore[call-arg]


def test_webdav_needs_a_url_and_https_in_production() -> None:
    with pytest.raises(ValidationError, match="needs BACKEND_DMS_WEBDAV_URL"):
        Settings(dms_sink="webdav", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="https"):
        Settings(
            environment="production",
            dms_sink="webdav",
            dms_webdav_url="http://dms.example/dav/",
            _env_file=None,  # type: ignore[call-arg]
        )
    Settings(
        environment="production",
        dms_sink="webdav",
        dms_webdav_url="https://dms.example/dav/",
        internal_token="x" * 40,
        _env_file=None,  # type: ignore[call-arg]
    )


def test_production_needs_a_real_internal_token_and_secure_cookies() -> None:
    with pytest.raises(ValidationError, match="GOVBOT_INTERNAL_TOKEN"):
        Settings(environment="production", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="GOVBOT_INTERNAL_TOKEN"):
        Settings(environment="production", internal_token="short", _env_file=None)  # type: ignore[arg-type, call-arg]
    with pytest.raises(ValidationError, match="COOKIE_SECURE"):
        Settings(
            environment="production",
            internal_token="x" * 40,
            staff_cookie_secure=False,
            _env_file=None,  # type: ignore[call-arg]
        )
