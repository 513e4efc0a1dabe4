"""Status of submitted applications, for citizens who know reference number and postal code.

Every unsuccessful question gets the same answer, whether the reference number is
malformed, unknown, or belongs to another postal code, so the answer reveals nothing.
Failed questions are counted per conversation, per reference number and per postal code;
past a limit, further questions are refused for a while (HTTP 429).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backend.app.api.deps import InternalTokenDep, SessionDep, SettingsDep
from backend.app.core.clock import now as clock_now
from backend.app.core.config import Settings
from backend.app.models import Application, Service, StatusCheckFailure
from backend.app.schemas import Problem, ServiceSummary, StatusOut, StatusQuery

router = APIRouter(
    prefix="/api/v1/applications", tags=["applications"], dependencies=[InternalTokenDep]
)

REFERENCE = re.compile(r"^[A-Z]{2,4}-20[0-9]{2}-[0-9]{4,8}$")
POSTAL_CODE = re.compile(r"^[0-9]{5}$")
KEY_LENGTH = 200  # StatusCheckFailure.key: String(200)
NO_MATCH = "Zu dieser Vorgangsnummer und Postleitzahl ist kein Antrag bekannt."
TOO_MANY = "Zu viele erfolglose Versuche. Bitte versuchen Sie es später erneut."

RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No application for this combination (uniform)"},
    429: {"model": Problem, "description": "Too many failed questions; try again later"},
}


def normalise_reference(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def _keys(query: StatusQuery, reference: str) -> list[str]:
    # The conversation id is chosen by the client; the reference number and the postal code
    # are what a guesser must vary, so each of them has a count of its own.
    keys = [f"reference:{reference[:64]}", f"postal_code:{query.postal_code[:16]}"]
    if query.conversation:
        keys.append(_fitting(f"conversation:{query.conversation}"))
    return keys


def _fitting(key: str) -> str:
    """The key, or for a long conversation id its digest: PostgreSQL refuses text longer
    than the column (``StatusCheckFailure.key``) where SQLite stored it whole."""
    if len(key) <= KEY_LENGTH:
        return key
    name, _, value = key.partition(":")
    return f"{name}:sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def _limit(key: str, settings: Settings) -> int:
    if key.startswith("postal_code:"):
        return settings.status_max_failures_per_postal_code
    return settings.status_max_failures


def _too_many(session: Session, keys: list[str], settings: Settings) -> bool:
    since = clock_now(settings) - timedelta(minutes=settings.status_failure_window_minutes)
    session.execute(delete(StatusCheckFailure).where(StatusCheckFailure.at < since))
    for key in keys:
        count = session.scalar(
            select(func.count())
            .select_from(StatusCheckFailure)
            .where(StatusCheckFailure.key == key)
        )
        if (count or 0) >= _limit(key, settings):
            return True
    return False


@router.post(
    "/status",
    response_model=StatusOut,
    responses=RESPONSES,
    summary="Status of an application, given its reference number and postal code",
)
def application_status(query: StatusQuery, session: SessionDep, settings: SettingsDep) -> StatusOut:
    reference = normalise_reference(query.reference)
    keys = _keys(query, reference)
    if _too_many(session, keys, settings):
        session.commit()
        raise HTTPException(status_code=429, detail=TOO_MANY)

    application = None
    if REFERENCE.match(reference) and POSTAL_CODE.match(query.postal_code):
        candidate = session.scalar(select(Application).where(Application.reference == reference))
        if candidate is not None and hmac.compare_digest(
            candidate.postal_code.encode(), query.postal_code.encode()
        ):
            application = candidate
    if application is None:
        moment = clock_now(settings)
        session.add_all(StatusCheckFailure(key=key, at=moment) for key in keys)
        session.commit()
        raise HTTPException(status_code=404, detail=NO_MATCH)

    session.commit()
    service = session.scalar(select(Service).where(Service.slug == application.service_slug))
    return StatusOut(
        reference=application.reference,
        service=ServiceSummary.model_validate(service) if service else None,
        status=application.status,
        status_note=application.status_note,
        updated_at=application.updated_at,
    )
