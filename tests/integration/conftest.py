"""One running stack for all integration tests: backend, action server and Rasa server.

The processes are the real ones (see tests/stack.py), on free loopback ports, with their
databases in a temporary folder and the backend's clock fixed to a Wednesday, 10:00.
The backend reads a copy of the catalogue with one service more than the shipped one,
which the model was never trained on.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser, sync_playwright

from bot.model import model_path
from tests.stack import ROOT, Stack
from tests.telegram_api import ThreadedBotApi

FIXED_NOW = "2026-12-02T10:00:00+01:00"
NEW_SERVICE = {
    "slug": "baumfaellgenehmigung",
    "name": "Baumfällgenehmigung",
    "synonyms": ["Baum fällen", "Fällgenehmigung", "Baumfällung"],
    "description": "Erlaubnis, einen geschützten Baum auf Ihrem Grundstück zu fällen.",
    "fees": "ab 40,00 €, je nach Zahl der Bäume",
    "documents": ["Lageplan mit dem Standort des Baums", "Fotos des Baums"],
    "processing_time": "Etwa vier Wochen.",
    "department": "tiefbauamt",
}


def catalogue_with_a_new_service(folder: Path) -> Path:
    shutil.copytree(ROOT / "data" / "catalogue", folder)
    path = folder / "services.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["services"].append(NEW_SERVICE)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


TELEGRAM_TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
TELEGRAM_SECRET = "integration-webhook_secret-0123456789"


@pytest.fixture(scope="session")
def telegram_api() -> Iterator[ThreadedBotApi]:
    """The stand-in of the Telegram Bot API that the Rasa server's Telegram channel talks to."""
    api = ThreadedBotApi()
    api.start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, telegram_api: ThreadedBotApi
) -> Iterator[Stack]:
    if not model_path().exists():
        pytest.fail(f"no trained model {model_path().name}: run `make train` first")
    state = tmp_path_factory.mktemp("stack")
    catalogue = catalogue_with_a_new_service(state / "catalogue")
    running = Stack(
        state=state,
        env={
            "BACKEND_FIXED_NOW": FIXED_NOW,
            "ACTIONS_FIXED_NOW": FIXED_NOW,
            "BACKEND_CATALOGUE_DIR": str(catalogue),
            # Deliveries go to a DMS folder of this test run, and are picked up quickly.
            "BACKEND_DMS_FOLDER": str(state / "dms"),
            "BACKEND_DELIVERY_INTERVAL_SECONDS": "0.5",
            # The Telegram channel, talking to the stand-in of the Bot API.
            "CHANNELS_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "CHANNELS_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "CHANNELS_TELEGRAM_API_BASE_URL": telegram_api.base_url,
        },
    )
    try:
        running.start()
        running.wait_healthy()
        yield running
    finally:
        running.stop()


# Debian's chromium, driven by Playwright (never a downloaded browser); one per test session
# for the widget's and the staff intranet's browser tests.
CHROMIUM = os.environ.get("GOVBOT_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if os.environ.get("GOVBOT_SKIP_BROWSER") == "1":
        pytest.skip("GOVBOT_SKIP_BROWSER=1: the web widget's browser tests are skipped")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no chromium at {CHROMIUM}: install Debian's package (`apt-get install chromium`) "
            "or set GOVBOT_CHROMIUM to a chromium binary. Without a browser, set "
            "GOVBOT_SKIP_BROWSER=1 to skip these tests on purpose."
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            launched.close()
