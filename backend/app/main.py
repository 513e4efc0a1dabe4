"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend.app.api.main import api_router
from backend.app.catalogue import load_catalogue
from backend.app.core.config import Settings, get_settings
from backend.app.core.db import make_engine, make_session_factory, migrate

logger = logging.getLogger("govbot.backend")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        migrate(engine)
        app.state.session_factory = make_session_factory(engine)
        with app.state.session_factory() as session:
            count = load_catalogue(session, settings.catalogue_dir)
        logger.info("catalogue loaded: %d departments and services", count)
        yield
        engine.dispose()

    app = FastAPI(
        title="GovBot backend",
        description="Catalogue of the city's offices and services; applications (later).",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(api_router)
    return app
