"""Every backend process redacts personal data from its logs (forms/privacy.py).

The retention command is checked in test_retention.py; the action server and the Rasa
server in tests/bot/test_log_redaction.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from backend import deliver, serve
from backend.app.core.db import make_engine
from forms.privacy import RedactingFilter, log_redaction_installed, uninstall_log_redaction
from tests.backend.conftest import make_settings


@pytest.fixture(autouse=True)
def clean_logging() -> Iterator[None]:
    access = logging.getLogger("uvicorn.access")
    filters = list(access.filters)
    yield
    uninstall_log_redaction()
    access.filters = filters


def test_the_backend_server_redacts_uvicorns_logs_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[uvicorn.Config] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server: started.append(server.config))
    monkeypatch.setattr(serve, "get_settings", lambda: make_settings(tmp_path))

    serve.main()

    assert started and log_redaction_installed()
    # uvicorn configured its loggers before the installation: their handlers have the filter.
    handlers = logging.getLogger("uvicorn.access").handlers
    assert handlers and all(
        any(isinstance(item, RedactingFilter) for item in handler.filters) for handler in handlers
    )


def test_the_access_log_keeps_no_query_string() -> None:
    serve.install_logging()
    record = logging.getLogRecordFactory()(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/services?q=Anna+M%C3%BCller", "1.1", 200),
        None,
    )
    logging.getLogger("uvicorn.access").filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/v1/services?… HTTP/1.1" 200'


def test_the_delivery_command_redacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deliver, "get_settings", lambda: make_settings(tmp_path))
    assert deliver.main(["--once"]) == 0
    assert log_redaction_installed()


def test_database_errors_do_not_show_the_values(tmp_path: Path) -> None:
    # A logged OperationalError of a submission would otherwise carry the answers.
    engine = make_engine(f"sqlite:///{tmp_path / 'backend.sqlite3'}")
    try:
        with pytest.raises(OperationalError) as raised, engine.connect() as connection:
            connection.execute(text("SELECT * FROM missing WHERE name = :name"), {"name": "Anna"})
    finally:
        engine.dispose()
    assert "Anna" not in str(raised.value)
