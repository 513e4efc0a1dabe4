"""The connection budget: do GovBot's pools fit the PostgreSQL server's connection limit?

PostgreSQL refuses a client beyond ``max_connections``, less the slots it keeps for
superusers (``superuser_reserved_connections``) and, from version 16, for roles with
``pg_use_reserved_connections`` (``reserved_connections``). A pool that may open more than
that works in a quiet test and fails under load, at the worst moment, with "too many
clients". So the backend adds up what GovBot's processes may open when it starts: in
production it refuses to start when the sum does not fit, elsewhere it warns.

What is counted is each pool's upper bound, not what is open at the moment:

- the backend process: ``BACKEND_DB_POOL_SIZE + BACKEND_DB_MAX_OVERFLOW`` (API requests,
  staff pages and the delivery worker share it);
- the retention job: one connection to the backend database and one to a tracker store on
  a server (its two pools hold one each, without overflow);
- ``python -m backend.deliver --once`` (from cron): its pool of one plus one overflow;
- ``BACKEND_DB_CONNECTION_RESERVE`` for everything else on the server, by default 15 for
  Rasa's SQLTrackerStore with ``SQL_POOL_SIZE=5`` and ``SQL_MAX_OVERFLOW=10`` as
  ``.env.example`` sets them (without them Rasa 3.6 opens up to 50 + 100).

One-off commands (``python -m backend.staff``, ``psql``) must fit into what is left.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from backend.app.core.config import Settings
from backend.app.core.db import backend_pool, retention_pool, tool_pool

logger = logging.getLogger("govbot.backend.db")

SERVER_SETTINGS = ("max_connections", "superuser_reserved_connections", "reserved_connections")


class ConnectionBudgetExceeded(RuntimeError):
    """GovBot's pools may open more connections than the PostgreSQL server admits."""


@dataclass(frozen=True)
class ServerLimit:
    """The connection settings of a PostgreSQL server (``SHOW max_connections`` etc.)."""

    max_connections: int
    superuser_reserved_connections: int
    # PostgreSQL 16 and newer; 0 before.
    reserved_connections: int = 0

    @property
    def available(self) -> int:
        """Connections an ordinary role (such as GovBot's) can open."""
        return (
            self.max_connections - self.superuser_reserved_connections - self.reserved_connections
        )

    def describe(self) -> str:
        text = (
            f"max_connections {self.max_connections} - superuser_reserved_connections "
            f"{self.superuser_reserved_connections}"
        )
        if self.reserved_connections:
            text += f" - reserved_connections {self.reserved_connections}"
        return text


@dataclass(frozen=True)
class Claim:
    """Connections one part of GovBot (or the reserve) may hold at once."""

    who: str
    connections: int
    # How they come about, with the settings that change them.
    detail: str


@dataclass(frozen=True)
class ConnectionBudget:
    claims: tuple[Claim, ...]
    limit: ServerLimit

    @property
    def needed(self) -> int:
        return sum(claim.connections for claim in self.claims)

    @property
    def fits(self) -> bool:
        return self.needed <= self.limit.available

    def explain(self) -> str:
        parts = ", ".join(f"{c.who} {c.connections} ({c.detail})" for c in self.claims)
        if self.fits:
            return (
                f"connection budget: GovBot may open {self.needed} of the "
                f"{self.limit.available} connections PostgreSQL admits "
                f"({self.limit.describe()}): {parts}"
            )
        return (
            f"GovBot may open {self.needed} connections to PostgreSQL, but the server admits "
            f"only {self.limit.available} ({self.limit.describe()}): {parts}. Lower "
            "BACKEND_DB_POOL_SIZE, BACKEND_DB_MAX_OVERFLOW or BACKEND_DB_CONNECTION_RESERVE, "
            "or raise max_connections on the server."
        )


def connection_budget(settings: Settings, limit: ServerLimit) -> ConnectionBudget:
    """What GovBot's processes may open with these settings, against the server's limit."""
    backend = backend_pool(settings)
    retention = retention_pool(settings)
    deliver = tool_pool(settings)
    claims = (
        Claim(
            "backend",
            backend.connections,
            f"BACKEND_DB_POOL_SIZE {backend.size} + BACKEND_DB_MAX_OVERFLOW {backend.overflow}",
        ),
        Claim(
            "retention job",
            2 * retention.connections,
            "1 to the backend database + 1 to the tracker store",
        ),
        Claim(
            "python -m backend.deliver",
            deliver.connections,
            f"pool {deliver.size} + overflow {deliver.overflow}",
        ),
        Claim(
            "reserve",
            settings.db_connection_reserve,
            "BACKEND_DB_CONNECTION_RESERVE: Rasa's tracker store and other clients",
        ),
    )
    return ConnectionBudget(claims, limit)


def server_limit(connection: Connection) -> ServerLimit:
    """The server's connection settings; ``pg_settings`` holds what ``SHOW`` shows."""
    rows = connection.execute(
        text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
        {"names": list(SERVER_SETTINGS)},
    )
    values = {name: int(setting) for name, setting in rows}
    return ServerLimit(
        max_connections=values["max_connections"],
        superuser_reserved_connections=values["superuser_reserved_connections"],
        reserved_connections=values.get("reserved_connections", 0),
    )


def check_connection_budget(engine: Engine, settings: Settings) -> ConnectionBudget | None:
    """Compare the budget with the server's limit (PostgreSQL only; None for SQLite).

    Raises ``ConnectionBudgetExceeded`` in production when it does not fit; elsewhere a
    warning is logged, so that a developer's small test server still works.
    """
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        limit = server_limit(connection)
    budget = connection_budget(settings, limit)
    if budget.fits:
        logger.info(budget.explain())
    elif settings.environment == "production":
        raise ConnectionBudgetExceeded(budget.explain())
    else:
        logger.warning(budget.explain())
    return budget
