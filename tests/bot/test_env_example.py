"""Every setting of the bot-side packages is documented in .env.example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseSettings

from actions.settings import ActionSettings
from channels.settings import ChannelSettings, TelegramSettings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))


def variables(settings: type[BaseSettings]) -> set[str]:
    names = set()
    for field in settings.__fields__.values():
        names |= {name.upper() for name in field.field_info.extra.get("env_names", set())}
    return names


@pytest.mark.parametrize("settings", [ActionSettings, ChannelSettings, TelegramSettings])
def test_settings_are_documented(settings: type[BaseSettings]) -> None:
    assert variables(settings)
    assert variables(settings) - DOCUMENTED == set()
