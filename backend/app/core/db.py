"""Database engine and sessions (SQLAlchemy 2), and the schema migrations (Alembic)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from backend.app.core.config import Settings

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

# Drivers meant by a URL without one: ``postgresql://`` is psycopg 3, the driver the backend
# installs (SQLAlchemy alone would pick psycopg2); ``postgres://`` is what many hosting
# panels print.
_DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


@dataclass(frozen=True)
class Pool:
    """How many connections an engine may hold to a database server, and for how long.

    At most ``size + overflow`` connections are open at once; a request that finds all of
    them busy waits ``timeout_seconds`` and then fails (``sqlalchemy.exc.TimeoutError``)
    instead of queueing for ever. Connections older than ``recycle_seconds`` are replaced, so
    that a firewall or the server dropping idle ones is not noticed by a citizen.
    """

    size: int = 5
    overflow: int = 5
    timeout_seconds: float = 10.0
    recycle_seconds: int = 1800

    @property
    def connections(self) -> int:
        return self.size + self.overflow


# The command-line tools (``python -m backend.deliver``, ``backend.staff``) do one thing at a
# time; the overflow connection is slack for a pre-ping or a migration, not parallel work.
TOOL_POOL_SIZE = 1
TOOL_MAX_OVERFLOW = 1
# The retention job holds one connection to the backend database and, on a server tracker
# store, one to that; neither pool has overflow, so it never holds more than two.
RETENTION_POOL_SIZE = 1
RETENTION_MAX_OVERFLOW = 0


def _pool(settings: Settings, size: int, overflow: int) -> Pool:
    return Pool(
        size=size,
        overflow=overflow,
        timeout_seconds=settings.db_pool_timeout_seconds,
        recycle_seconds=settings.db_pool_recycle_seconds,
    )


def backend_pool(settings: Settings) -> Pool:
    """The backend process's pool: API requests, staff pages and the delivery worker."""
    return _pool(settings, settings.db_pool_size, settings.db_max_overflow)


def tool_pool(settings: Settings) -> Pool:
    """A command-line tool's pool (delivery, staff accounts)."""
    return _pool(settings, TOOL_POOL_SIZE, TOOL_MAX_OVERFLOW)


def retention_pool(settings: Settings) -> Pool:
    """The retention job's pool, for the backend database and for the tracker store each."""
    return _pool(settings, RETENTION_POOL_SIZE, RETENTION_MAX_OVERFLOW)


def engine_url(database_url: str) -> URL:
    """The URL with the driver the backend installs when it names none."""
    url = make_url(database_url)
    driver = _DEFAULT_DRIVERS.get(url.drivername)
    return url.set(drivername=driver) if driver else url


def make_engine(database_url: str, pool: Pool | None = None) -> Engine:
    """An engine whose errors never show statement parameters: they hold citizens' answers,
    and a logged ``OperationalError`` would put them into the log.

    On a server database (PostgreSQL) it keeps at most ``pool.connections`` connections
    (default: ``Pool()``); a SQLite file has no connection limit to respect and keeps
    SQLAlchemy's own pooling.
    """
    url = engine_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    pool = pool or Pool()
    return create_engine(
        url,
        pool_size=pool.size,
        max_overflow=pool.overflow,
        pool_timeout=pool.timeout_seconds,
        pool_recycle=pool.recycle_seconds,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
