"""Backend test fixtures: an app on a clean SQLite database per test, and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from backend.app.core.config import Settings
from backend.app.main import create_app

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
# A Wednesday, 10:00 in Musterstadt: the Bürgerbüro is open.
WEDNESDAY_MORNING = datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": f"sqlite:///{tmp_path / 'backend.sqlite3'}",
        "catalogue_dir": ROOT / "data" / "catalogue",
        "fixed_now": WEDNESDAY_MORNING,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://backend.test") as http:
        yield http
