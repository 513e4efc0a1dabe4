"""The retention job: delete what has outlived its period (data/retention.yml).

    python -m backend.retention          # a pass every BACKEND_RETENTION_INTERVAL_MINUTES
    python -m backend.retention --once   # one pass, then end (e.g. from cron)

Uses the backend's settings (environment variables and ``.env``). A broken retention file
stops it with a message and status 2. Without ``--once`` it runs beside the backend (a
process of ``make run``): it waits until the backend has brought the database schema up to
date, and a failed pass is logged and tried again at the next interval. ``--once`` brings
the schema up to date itself, as ``python -m backend.deliver --once`` does.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from backend.app.core.clock import Clock, SettingsClock
from backend.app.core.config import Settings, get_settings
from backend.app.core.db import (
    alembic_config,
    make_engine,
    make_session_factory,
    migrate,
    retention_pool,
)
from backend.app.retention import (
    RetentionPolicy,
    RetentionPolicyError,
    RetentionReport,
    load_retention_policy,
    run_retention,
    tracker_engine,
)
from forms.privacy import install_log_redaction

logger = logging.getLogger("govbot.backend.retention")

SCHEMA_POLL_SECONDS = 5.0


def one_pass(
    engine: Engine, settings: Settings, policy: RetentionPolicy, clock: Clock
) -> RetentionReport:
    url = settings.retention_tracker_url
    tracker = tracker_engine(url, retention_pool(settings)) if url else None
    if url and tracker is None:
        logger.info("no tracker store at %s yet: no conversations to check", _shown(url))
    try:
        with make_session_factory(engine)() as session:
            return run_retention(session, policy, clock.now(), tracker)
    finally:
        if tracker is not None:
            tracker.dispose()


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="one pass, then end")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    settings = get_settings()
    try:
        policy = load_retention_policy(settings.retention_file)
    except RetentionPolicyError as error:
        print(f"retention: {error}", file=sys.stderr)
        return 2
    clock = SettingsClock(settings)
    # One connection at a time (RETENTION_POOL_SIZE): the job is counted with that in the
    # backend's connection budget.
    engine = make_engine(settings.database_url, retention_pool(settings))
    try:
        if args.once:
            migrate(engine)
            report = one_pass(engine, settings, policy, clock)
            print(
                "deleted "
                + ", ".join(f"{kind} {count}" for kind, count in report.deleted.items())
                + f"; open tickets untouched too long {report.stale_open_tickets}"
            )
            return 0
        return _loop(engine, settings, policy, clock)
    finally:
        engine.dispose()


def _loop(engine: Engine, settings: Settings, policy: RetentionPolicy, clock: Clock) -> int:
    interval = settings.retention_interval_minutes * 60
    logger.info("retention job: a pass every %g minutes", settings.retention_interval_minutes)
    try:
        waiting_logged = False
        while True:
            try:
                if schema_is_current(engine):
                    break
            except Exception as error:
                logger.debug("database not ready: %s", type(error).__name__)
            if not waiting_logged:
                logger.info("waiting for the backend to bring the database schema up to date")
                waiting_logged = True
            time.sleep(SCHEMA_POLL_SECONDS)
        while True:
            try:
                one_pass(engine, settings, policy, clock)
            except Exception:
                # The database may be away for a moment; the next pass tries again.
                logger.exception("retention pass failed")
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
