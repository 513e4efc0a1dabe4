"""Backend test fixtures: an app on a clean SQLite database per test, an HTTP client, a
clock the test moves by hand, and a throwaway PostgreSQL server with a clean database per
test for the tests that ask for one."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from backend.app.core.config import DEVELOPMENT_INTERNAL_TOKEN, Settings
from backend.app.main import create_app
from tests.backend.postgres_server import (
    PostgresServer,
    PostgresUnavailable,
    remove_server,
    start_server,
)

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
        "forms_dir": forms_dir(tmp_path),
        "city_file": ROOT / "data" / "catalogue" / "city.yml",
        "dms_folder": tmp_path / "dms",
        "retention_file": ROOT / "data" / "retention.yml",
        # Tests run the outbox themselves, with a clock they move.
        "delivery_worker": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def forms_dir(tmp_path: Path, *extra: tuple[str, str]) -> Path:
    """A forms folder with the Bewohnerparkausweis spec and the given (file name, YAML) pairs.

    Only that one spec of data/forms/ is used, so that these tests do not depend on
    specs being written elsewhere; test_real_forms.py checks all of them.
    """
    directory = tmp_path / "forms"
    directory.mkdir(exist_ok=True)
    shutil.copy(ROOT / "data" / "forms" / "bewohnerparkausweis.yml", directory)
    for name, text in extra:
        (directory / name).write_text(text, encoding="utf-8")
    return directory


class ManualClock:
    """The backend clock in tests: stands still until the test moves it."""

    def __init__(self, start: datetime = WEDNESDAY_MORNING) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    # The bot's side of the API: the internal token, as the action server sends it.
    headers = {"Authorization": f"Bearer {DEVELOPMENT_INTERNAL_TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://backend.test", headers=headers
    ) as http:
        yield http


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run (tests/backend/postgres_server.py).

    Missing server programs fail the tests that need it, with the reason: CI has them, and
    a skipped test would hide that PostgreSQL went untested.
    """
    try:
        server = start_server()
    except PostgresUnavailable as error:
        problem = str(error)
    else:
        problem = ""
    if problem:
        pytest.fail(problem, pytrace=False)
    try:
        yield server
    finally:
        remove_server(server)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty database on that server, as ``postgresql://govbot:...@127.0.0.1:port/...``."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)
