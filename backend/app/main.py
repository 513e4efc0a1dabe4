"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backend.app.api.main import api_router
from backend.app.catalogue import load_catalogue
from backend.app.core.clock import Clock, SettingsClock
from backend.app.core.config import Settings, get_settings
from backend.app.core.connection_budget import check_connection_budget
from backend.app.core.db import backend_pool, make_engine, make_session_factory, migrate
from backend.app.delivery.outbox import Outbox
from backend.app.delivery.sinks import make_sink
from backend.app.delivery.worker import DeliveryWorker
from backend.app.documents import check_fonts
from backend.app.form_specs import load_form_library
from backend.app.relay import RasaRelay, Relay
from backend.app.retention import load_retention_policy
from backend.app.staff import mount_staff
from backend.app.web import mount_web

logger = logging.getLogger("govbot.backend")


def create_app(
    settings: Settings | None = None, clock: Clock | None = None, relay: Relay | None = None
) -> FastAPI:
    """The backend; ``clock`` lets tests move time forward (default: the settings' clock),
    ``relay`` carries staff replies to the citizen (default: the Rasa server's relay)."""
    settings = settings or get_settings()
    clock = clock or SettingsClock(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Forms, fonts and retention periods first: a broken spec, a missing font or a broken
        # retention file stops the start with a clear message before anything is changed.
        library = load_form_library(settings.forms_dir, settings.city_file, settings.catalogue_dir)
        check_fonts(settings.pdf_font_dir)
        # The retention job runs in its own process; a broken policy stops the backend too,
        # so that nobody runs a city's GovBot whose data is never deleted.
        app.state.retention_policy = load_retention_policy(settings.retention_file)
        if app.state.retention_policy.sample_data:
            logger.warning("retention periods are sample values: have them confirmed")
        engine = make_engine(settings.database_url, backend_pool(settings))
        try:
            # Before anything is changed: a pool that does not fit the server's connection
            # limit stops a production start here, not under load.
            check_connection_budget(engine, settings)
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        with app.state.session_factory() as session:
            count = load_catalogue(session, settings.catalogue_dir)
        logger.info("catalogue loaded: %d departments and services", count)
        app.state.forms = library
        logger.info("form specs loaded: %s", ", ".join(sorted(library.specs)) or "none")
        outbox = Outbox(app.state.session_factory, library, make_sink(settings), settings, clock)
        app.state.outbox = outbox
        worker = None
        if settings.delivery_worker:
            worker = DeliveryWorker(outbox, settings.delivery_interval_seconds)
            worker.start()
        app.state.delivery_worker = worker
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            engine.dispose()

    app = FastAPI(
        title="GovBot backend",
        description="Catalogue of the city's offices and services; applications submitted "
        "through the form assistants, their delivery to the departments, and their status.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.relay = relay or RasaRelay(settings)
    app.add_exception_handler(PoolTimeout, pool_exhausted)
    app.include_router(api_router)
    mount_web(app, settings)
    mount_staff(app)
    return app


async def pool_exhausted(request: Request, error: Exception) -> JSONResponse:
    """Every database connection stayed busy for BACKEND_DB_POOL_TIMEOUT_SECONDS: the client
    gets a 503 to try again shortly, instead of a 500 or a request that hangs."""
    logger.warning(
        "no free database connection within %g s: answered with 503",
        request.app.state.settings.db_pool_timeout_seconds,
    )
    return JSONResponse(
        status_code=503,
        content={"detail": "The database is busy just now; please try again shortly."},
        headers={"Retry-After": "2"},
    )
