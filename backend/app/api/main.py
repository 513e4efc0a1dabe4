"""All routers of the API in one place."""

from fastapi import APIRouter

from backend.app.api.routes import (
    applications,
    departments,
    health,
    internal,
    services,
    submissions,
)

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(departments.router)
api_router.include_router(services.router)
api_router.include_router(applications.router)
api_router.include_router(submissions.router)
api_router.include_router(internal.router)
