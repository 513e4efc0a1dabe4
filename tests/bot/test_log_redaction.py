"""The action server and the Rasa server redact personal data from their logs (forms/privacy.py)."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
from rasa_sdk import endpoint

from actions import serve
from forms.privacy import log_redaction_installed, uninstall_log_redaction
from tests.bot.conftest import ROOT


@pytest.fixture(autouse=True)
def clean_logging() -> Iterator[None]:
    yield
    uninstall_log_redaction()


def test_the_action_server_redacts(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    monkeypatch.setattr(endpoint, "run", lambda actions, **_: started.append(actions))
    uninstall_log_redaction()

    serve.main()

    assert started == ["actions"] and log_redaction_installed()


def test_the_rasa_server_redacts_once_it_loads_our_channels() -> None:
    # Rasa imports channels.rest (bot/credentials.yml) in the process that serves, after its
    # own logging is set up: a fresh interpreter shows what that import does.
    program = (
        "import logging; logging.basicConfig(format='%(message)s');"
        "import channels.rest;"
        "logging.getLogger('rasa').warning('Nachricht von %s', 'anna@example.org')"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "Nachricht von [E-Mail]" in result.stderr
    assert "anna@" not in result.stderr


def test_importing_the_channels_package_installs_it() -> None:
    uninstall_log_redaction()
    importlib.reload(importlib.import_module("channels"))
    assert log_redaction_installed()
    assert logging.getLogRecordFactory() is not logging.LogRecord
