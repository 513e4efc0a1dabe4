"""The backend on a real PostgreSQL server (the ``postgres_server`` fixture: PostgreSQL 15,
loopback only, max_connections 32): migrations up and down, applications through the API,
the idempotency key under a forced race, the retention command on both databases, the
connection budget against the server's real limit, and the pool timeout.

Each test gets a database of its own, owned by an ordinary role as a city would set it up.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from backend import retention as retention_cli
from backend.app import submissions
from backend.app.core.config import DEVELOPMENT_INTERNAL_TOKEN, Settings
from backend.app.core.connection_budget import (
    ConnectionBudgetExceeded,
    connection_budget,
    server_limit,
)
from backend.app.core.db import alembic_config, engine_url, make_engine, migrate
from backend.app.main import create_app
from backend.app.models import Application, Base, Delivery, StatusCheckFailure
from backend.app.retention import load_retention_policy
from forms.privacy import uninstall_log_redaction
from tests.backend.builders import APPLICATIONS, body, new_key, submit
from tests.backend.conftest import ROOT, WEDNESDAY_MORNING, ManualClock, make_settings
from tests.backend.postgres_server import MAX_CONNECTIONS, PostgresServer


@pytest.fixture
def settings(tmp_path: Path, postgres_url: str) -> Settings:
    """The conftest's ``app`` and ``client`` fixtures, on PostgreSQL."""
    return make_settings(tmp_path, database_url=postgres_url)


def production(tmp_path: Path, postgres_url: str, **overrides: object) -> Settings:
    return make_settings(
        tmp_path,
        database_url=postgres_url,
        environment="production",
        fixed_now=None,
        internal_token="p" * 40,
        **overrides,
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings, ManualClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {DEVELOPMENT_INTERNAL_TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://backend.test", headers=headers
        ) as http:
            yield app, http


def test_migrations_reach_head_and_match_the_models(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        assert engine.dialect.driver == "psycopg"
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            diff = compare_metadata(context, Base.metadata)
            revision = context.get_current_revision()
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(postgres_url)).get_current_head()
    assert revision == head
    assert diff == []


def test_migrations_keep_old_applications_and_go_down_to_base_and_up_again(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url)
    config = alembic_config(postgres_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
            # No created_at: the column's server default (CURRENT_TIMESTAMP) fills it in.
            connection.execute(
                text(
                    "INSERT INTO application (reference, service_slug, postal_code, status) "
                    "VALUES ('BPA-2026-000123', 'bewohnerparkausweis', '12345', 'in_progress')"
                )
            )
        migrate(engine)
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT form_id, answers, status, created_at FROM application")
            ).one()
        assert tuple(row[:3]) == ("bewohnerparkausweis", {}, "in_progress")
        assert row.created_at.utcoffset() is not None

        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == ["alembic_version"]
            assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 0
        migrate(engine)
        with engine.connect() as connection:
            assert "handoff_ticket" in inspect(connection).get_table_names()
    finally:
        engine.dispose()


async def test_an_application_is_stored_read_back_and_delivered(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await submit(client, body())
    assert response.status_code == 201
    reference = response.json()["reference"]

    state = await client.get(f"{APPLICATIONS}/{reference}")
    assert state.status_code == 200
    assert state.json()["created_at"] == "2026-12-02T10:00:00+01:00"
    status = await client.post(
        f"{APPLICATIONS}/status", json={"reference": reference, "postal_code": "12345"}
    )
    assert status.status_code == 200

    with app.state.session_factory() as session:
        application = session.scalar(select(Application).where(Application.reference == reference))
        assert application is not None
        assert application.created_at == WEDNESDAY_MORNING
        assert application.created_at.utcoffset() is not None
        assert application.answers["kennzeichen"] == "MU-AB 123"
        assert application.answers["nachname"] == "Müller-Lüdenscheidt"

    # The outbox's claims and leases compare timestamps in SQL: on PostgreSQL too.
    result = app.state.outbox.deliver_due()
    assert (result.delivered, result.failed) == (1, 0)
    folder = settings.dms_folder / "strassenverkehrsamt" / reference
    assert (folder / f"{reference}.pdf").is_file()
    after = await client.get(f"{APPLICATIONS}/{reference}")
    assert after.json()["deliveries"][0]["status"] == "delivered"


async def test_a_forced_race_on_one_idempotency_key_makes_one_application(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every request looks the key up before any of them has stored it, so each goes on to
    # insert: only the unique constraint can keep the application single.
    racers = 4
    barrier = threading.Barrier(racers, timeout=10)
    calls = itertools.count()
    look_up = submissions._by_key

    def racing_look_up(session, key):  # type: ignore[no-untyped-def]
        found = look_up(session, key)
        if next(calls) < racers:
            barrier.wait()
        return found

    monkeypatch.setattr(submissions, "_by_key", racing_look_up)
    key = new_key()
    responses = await asyncio.gather(*(submit(client, body(), key) for _ in range(racers)))

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["reference"] for r in responses}) == 1
    # Three requests lost at the constraint and looked the key up once more.
    assert next(calls) == racers + 3
    with app.state.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Application)) == 1
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1


async def test_a_failed_status_question_with_a_long_conversation_id_is_counted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # "conversation:" and a 200-character id exceed the 200 characters of the key column,
    # which PostgreSQL (unlike SQLite) enforces.
    conversation = "c" * 200
    query = {"reference": "BPA-2026-000000", "postal_code": "12345", "conversation": conversation}

    response = await client.post(f"{APPLICATIONS}/status", json=query)

    assert response.status_code == 404
    with app.state.session_factory() as session:
        keys = session.scalars(select(StatusCheckFailure.key)).all()
    conversation_key = next(key for key in keys if key.startswith("conversation:"))
    assert len(conversation_key) <= 200
    assert conversation_key.startswith("conversation:sha256:")


def test_the_retention_command_runs_on_postgresql_for_both_databases(
    tmp_path: Path,
    postgres_server: PostgresServer,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The backend database and Rasa's tracker store on one server, both as postgresql://."""
    period = load_retention_policy(ROOT / "data" / "retention.yml").periods.conversation
    old = (WEDNESDAY_MORNING - timedelta(days=period + 1)).timestamp()
    tracker_database = postgres_server.create_database()
    tracker = create_engine(engine_url(postgres_server.url(tracker_database)), poolclass=NullPool)
    try:
        with tracker.begin() as connection:
            # Rasa's SQLTrackerStore table (rasa.core.tracker_store.SQLEvent).
            connection.execute(
                text(
                    "CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, "
                    "intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, data) "
                    "VALUES (:sender, 'user', :at, '{}')"
                ),
                [
                    {"sender": "old", "at": old},
                    {"sender": "recent", "at": WEDNESDAY_MORNING.timestamp()},
                ],
            )
        settings = make_settings(
            tmp_path,
            database_url=postgres_url,
            retention_tracker_url=postgres_server.url(tracker_database),
        )
        monkeypatch.setattr(retention_cli, "get_settings", lambda: settings)

        assert retention_cli.main(["--once"]) == 0

        assert "conversation 1" in capsys.readouterr().out
        with tracker.connect() as connection:
            assert connection.scalars(text("SELECT sender_id FROM events")).all() == ["recent"]
    finally:
        uninstall_log_redaction()
        tracker.dispose()
        postgres_server.drop_database(tracker_database)


async def test_production_refuses_to_start_when_the_pool_does_not_fit(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = production(tmp_path, postgres_url, db_pool_size=6)
    app = create_app(settings, ManualClock())

    with pytest.raises(ConnectionBudgetExceeded) as refused:
        async with app.router.lifespan_context(app):
            pass

    message = str(refused.value)
    assert message.startswith(
        "GovBot may open 30 connections to PostgreSQL, but the server admits only 29 "
        f"(max_connections {MAX_CONNECTIONS} - superuser_reserved_connections 3)"
    )
    assert "BACKEND_DB_POOL_SIZE 6" in message
    # Refused before anything was changed: no migration ran.
    engine = create_engine(engine_url(postgres_url), poolclass=NullPool)
    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == []
    engine.dispose()


async def test_production_starts_with_the_default_pool(
    tmp_path: Path, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = production(tmp_path, postgres_url)
    with caplog.at_level(logging.INFO, logger="govbot.backend.db"):
        async with running(settings) as (_app, http):
            assert (await http.get("/api/v1/departments")).status_code == 200
    assert "GovBot may open 29 of the 29 connections PostgreSQL admits" in caplog.text


async def test_outside_production_a_pool_that_does_not_fit_is_a_warning(
    tmp_path: Path, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, database_url=postgres_url, db_connection_reserve=16)
    with caplog.at_level(logging.WARNING, logger="govbot.backend.db"):
        async with running(settings) as (_app, http):
            assert (await http.get("/api/v1/departments")).status_code == 200
    [warning] = [r for r in caplog.records if r.name == "govbot.backend.db"]
    assert warning.levelno == logging.WARNING
    assert "GovBot may open 30 connections" in warning.getMessage()


def test_the_server_admits_exactly_the_connections_the_budget_counts_with(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    """Measured, not assumed: the backend's (ordinary) role gets ``available`` connections."""
    engine = create_engine(engine_url(postgres_url), poolclass=NullPool)
    held = []
    try:
        with engine.connect() as connection:
            limit = server_limit(connection)
        assert (limit.max_connections, limit.available) == (MAX_CONNECTIONS, 29)
        defaults = Settings(_env_file=None)  # type: ignore[call-arg]
        assert connection_budget(defaults, limit).needed == limit.available
        # Whatever else is connected now (the count's own connection left out).
        others = postgres_server.client_connections() - 1
        held = [engine.connect() for _ in range(limit.available - others)]
        with pytest.raises(OperationalError, match="remaining connection slots are reserved"):
            engine.connect()
    finally:
        for connection in held:
            connection.close()
        engine.dispose()


async def test_an_exhausted_pool_answers_503_after_the_pool_timeout(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        database_url=postgres_url,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout_seconds=0.5,
    )
    async with running(settings) as (app, http):
        with app.state.engine.connect():  # the pool's only connection
            started = time.monotonic()
            state = await http.get(f"{APPLICATIONS}/BPA-2026-000000")
            waited = time.monotonic() - started
            submitted = await submit(http, body())

        assert state.status_code == 503
        assert state.headers["retry-after"] == "2"
        assert state.json() == {
            "detail": "The database is busy just now; please try again shortly."
        }
        assert 0.5 <= waited < 5
        assert submitted.status_code == 503
        assert "same Idempotency-Key" in submitted.json()["detail"]
        # Free again: the next request is served.
        assert (await submit(http, body())).status_code == 201
