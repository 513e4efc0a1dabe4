"""Liveness and readiness of the backend."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from backend.app.api.deps import SessionDep
from backend.app.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="The backend and its database answer")
def health(session: SessionDep) -> Health:
    session.execute(text("SELECT 1"))
    return Health()
