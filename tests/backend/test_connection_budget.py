"""The connection budget's arithmetic, and the pools make_engine gives each process.

The check against a real server is in test_postgresql.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.app.core.config import Settings
from backend.app.core.connection_budget import (
    ServerLimit,
    check_connection_budget,
    connection_budget,
)
from backend.app.core.db import (
    Pool,
    backend_pool,
    engine_url,
    make_engine,
    retention_pool,
    tool_pool,
)


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_the_defaults_take_29_of_the_97_connections_of_a_100_connection_server() -> None:
    budget = connection_budget(settings(), ServerLimit(100, 3))

    assert [(claim.who, claim.connections) for claim in budget.claims] == [
        ("backend", 10),
        ("retention job", 2),
        ("python -m backend.deliver", 2),
        ("reserve", 15),
    ]
    assert budget.needed == 29
    assert budget.limit.available == 97
    assert budget.fits
    assert budget.explain().startswith(
        "connection budget: GovBot may open 29 of the 97 connections PostgreSQL admits "
        "(max_connections 100 - superuser_reserved_connections 3): backend 10 "
        "(BACKEND_DB_POOL_SIZE 5 + BACKEND_DB_MAX_OVERFLOW 5)"
    )


def test_a_budget_that_just_fits_fits_and_one_more_does_not() -> None:
    limit = ServerLimit(max_connections=32, superuser_reserved_connections=3)
    assert connection_budget(settings(), limit).fits

    budget = connection_budget(settings(db_max_overflow=6), limit)

    assert (budget.needed, budget.limit.available, budget.fits) == (30, 29, False)
    message = budget.explain()
    assert message.startswith(
        "GovBot may open 30 connections to PostgreSQL, but the server admits only 29 "
        "(max_connections 32 - superuser_reserved_connections 3)"
    )
    for setting in (
        "BACKEND_DB_POOL_SIZE 5",
        "BACKEND_DB_MAX_OVERFLOW 6",
        "BACKEND_DB_CONNECTION_RESERVE",
        "raise max_connections",
    ):
        assert setting in message


def test_postgresql_16_reserved_connections_are_not_available_either() -> None:
    limit = ServerLimit(100, 3, reserved_connections=10)
    assert limit.available == 87
    assert "- reserved_connections 10" in connection_budget(settings(), limit).explain()


def test_without_a_tracker_store_on_the_server_the_reserve_can_be_zero() -> None:
    budget = connection_budget(
        settings(db_connection_reserve=0, db_pool_size=10, db_max_overflow=10), ServerLimit(25, 3)
    )
    assert (budget.needed, budget.fits) == (24, False)
    assert connection_budget(settings(db_connection_reserve=0), ServerLimit(25, 3)).fits


def test_the_tools_and_the_retention_job_get_small_pools() -> None:
    values = settings(db_pool_size=7, db_max_overflow=3, db_pool_timeout_seconds=2.5)
    assert backend_pool(values) == Pool(7, 3, 2.5, 1800)
    assert tool_pool(values) == Pool(1, 1, 2.5, 1800)
    assert retention_pool(values) == Pool(1, 0, 2.5, 1800)


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://govbot:secret@db/govbot", "postgresql+psycopg"),
        ("postgres://govbot:secret@db/govbot", "postgresql+psycopg"),
        ("postgresql+psycopg://govbot:secret@db/govbot", "postgresql+psycopg"),
        ("postgresql+psycopg2://govbot:secret@db/govbot", "postgresql+psycopg2"),
        ("sqlite:///var/backend.sqlite3", "sqlite"),
    ],
)
def test_a_url_without_a_driver_means_psycopg_3(url: str, driver: str) -> None:
    assert engine_url(url).drivername == driver


def test_a_postgresql_engine_gets_the_pool_it_is_given() -> None:
    engine = make_engine(
        "postgresql://govbot:secret@db.invalid/govbot",
        Pool(size=3, overflow=2, timeout_seconds=4.0, recycle_seconds=600),
    )
    # Nothing connects yet: creating an engine does not reach the server.
    pool = engine.pool
    assert engine.dialect.driver == "psycopg"
    assert pool.size() == 3  # type: ignore[attr-defined]
    assert pool._max_overflow == 2  # type: ignore[attr-defined]
    assert pool.timeout() == 4.0  # type: ignore[attr-defined]
    assert pool._recycle == 600
    assert pool._pre_ping
    assert engine.hide_parameters
    engine.dispose()


def test_a_sqlite_engine_keeps_sqlalchemys_own_pool_and_has_no_budget(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}", Pool(size=1, overflow=0))
    assert engine.pool.size() == 5  # type: ignore[attr-defined]
    assert not engine.pool._pre_ping
    assert check_connection_budget(engine, settings()) is None
    engine.dispose()
