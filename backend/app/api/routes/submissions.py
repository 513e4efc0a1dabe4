"""Submitting applications, and their processing state (for the bot and for operators).

The body is read here rather than by FastAPI, for two reasons: its size is limited before
it is parsed, and a malformed body is answered without repeating what was sent (FastAPI's
own validation errors echo the input, and a citizen's answers do not belong in a client's
error log).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from backend.app.api.deps import (
    ClockDep,
    FormLibraryDep,
    InternalTokenDep,
    SessionDep,
    SettingsDep,
)
from backend.app.api.routes.applications import normalise_reference
from backend.app.form_specs import FormLibrary
from backend.app.models import Application
from backend.app.schemas import (
    ApplicationStatusOut,
    DeliveryStatusOut,
    Problem,
    RoutedDeliveryOut,
    SubmissionOut,
    SubmissionProblem,
)
from backend.app.submissions import (
    IDEMPOTENCY_KEY,
    INCOMPLETE,
    InvalidSubmission,
    KeyReused,
    Outcome,
    SubmissionIn,
    UnknownForm,
    department_names,
    submit,
)

router = APIRouter(
    prefix="/api/v1/applications", tags=["applications"], dependencies=[InternalTokenDep]
)
logger = logging.getLogger("govbot.backend.submissions")

REFERENCE = re.compile(r"^[A-Z]{2,4}-20[0-9]{2}-[0-9]{4,8}$")
MALFORMED = "Die Anfrage hat nicht das erwartete Format."
KEY_DESCRIPTION = (
    "Chosen by the client, e.g. a UUID, and sent again with a repeated submission: the same "
    "key with the same body returns the stored application, with another body it is a 409."
)

SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": SubmissionOut, "description": "Sent before with this key: the same application"},
    400: {"model": Problem, "description": "Idempotency-Key missing or malformed; body not JSON"},
    404: {"model": Problem, "description": "No form with this id"},
    409: {"model": Problem, "description": "The Idempotency-Key was used for another submission"},
    413: {"model": Problem, "description": "Body larger than BACKEND_SUBMISSION_MAX_BYTES"},
    422: {"model": SubmissionProblem, "description": "Answers missing or invalid, per field"},
    503: {"model": Problem, "description": "Database busy; send again with the same key"},
}


async def _read_body(request: Request, limit: int) -> bytes:
    too_large = HTTPException(status_code=413, detail=f"Request body larger than {limit} bytes.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes) -> SubmissionIn:
    try:
        return SubmissionIn.model_validate_json(body)
    except ValidationError as invalid:
        problems = invalid.errors(include_input=False, include_url=False)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise HTTPException(status_code=400, detail="Request body is not valid JSON.") from None
        errors: dict[str, str] = {}
        for problem in problems:
            location = [str(part) for part in problem["loc"]]
            if location[:1] == ["answers"] and len(location) >= 2:
                if location[-1] == "[key]":
                    errors["answers"] = "Feldnamen bestehen aus Kleinbuchstaben, Ziffern und „_“."
                else:
                    errors[f"answers.{location[1]}"] = (
                        "Erwartet wird ein Text, eine Zahl, true/false oder null."
                    )
            elif problem["type"] == "missing":
                errors[".".join(location)] = "Diese Angabe fehlt."
            elif problem["type"] == "extra_forbidden":
                errors[".".join(location)[:64]] = "Diese Angabe ist nicht vorgesehen."
            else:
                errors[".".join(location)[:64] or "body"] = "Das Format stimmt nicht."
        raise HTTPException(
            status_code=422, detail={"message": MALFORMED, "errors": errors}
        ) from None


def _submit(
    request: Request, library: FormLibrary, submission: SubmissionIn, key: str, moment: datetime
) -> tuple[Outcome, SubmissionOut]:
    with request.app.state.session_factory() as session:
        outcome = submit(session, library, submission, key, moment)
        return outcome, _submission_out(session, library, outcome.application, request)


def _submission_out(
    session: Session, library: FormLibrary, application: Application, request: Request
) -> SubmissionOut:
    spec = library.specs.get(application.form_id)
    names = department_names(session, [d.department_slug for d in application.deliveries])
    return SubmissionOut(
        reference=application.reference,
        form=application.form_id,
        title=spec.title if spec else application.form_id,
        status=application.status,
        created_at=application.created_at.astimezone(request.app.state.settings.tz),
        deliveries=[
            RoutedDeliveryOut(
                department=delivery.department_slug,
                department_name=names.get(delivery.department_slug, delivery.department_slug),
                purpose=delivery.purpose,
                next_steps=delivery.next_steps,
                status=delivery.status,
            )
            for delivery in application.deliveries
        ],
    )


@router.post(
    "",
    status_code=201,
    response_model=SubmissionOut,
    responses=SUBMIT_RESPONSES,
    summary="Submit a finished application; checked against its form spec, stored, routed",
    openapi_extra={
        # The header is read as optional (its absence is a 400, not FastAPI's 422) and
        # documented here as what it is: required.
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern},
                "description": KEY_DESCRIPTION,
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SubmissionIn.model_json_schema()}},
        },
    },
)
async def submit_application(
    request: Request,
    response: Response,
    library: FormLibraryDep,
    settings: SettingsDep,
    clock: ClockDep,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", include_in_schema=False),
    ] = None,
) -> SubmissionOut:
    if idempotency_key is None or not IDEMPOTENCY_KEY.match(idempotency_key):
        raise HTTPException(
            status_code=400,
            detail="Header Idempotency-Key is required: 8 to 128 characters of A-Za-z0-9._:-",
        )
    submission = _parse(await _read_body(request, settings.submission_max_bytes))
    try:
        outcome, body = await run_in_threadpool(
            _submit,
            request,
            library,
            submission,
            idempotency_key,
            clock.now().astimezone(settings.tz),
        )
    except UnknownForm:
        raise HTTPException(status_code=404, detail="Unbekanntes Formular.") from None
    except KeyReused:
        raise HTTPException(
            status_code=409,
            detail="This Idempotency-Key was used for a different submission.",
        ) from None
    except InvalidSubmission as invalid:
        raise HTTPException(
            status_code=422, detail={"message": INCOMPLETE, "errors": invalid.errors}
        ) from None
    except (OperationalError, PoolTimeout):
        # The database is locked, away for a moment or has no free connection: the client
        # sends the same submission again with the same key, which is safe whether or not
        # this one was stored.
        logger.exception("submission could not be stored")
        raise HTTPException(
            status_code=503,
            detail="The application could not be stored just now; send it again with the "
            "same Idempotency-Key.",
            headers={"Retry-After": "2"},
        ) from None
    if outcome.created:
        worker = getattr(request.app.state, "delivery_worker", None)
        if worker is not None:
            worker.wake()
    else:
        response.status_code = 200
    return body


@router.get(
    "/{reference}",
    response_model=ApplicationStatusOut,
    responses={404: {"model": Problem, "description": "No application with this reference"}},
    summary="Processing state of an application and of its deliveries (no answers)",
)
def application_state(
    reference: str, session: SessionDep, settings: SettingsDep
) -> ApplicationStatusOut:
    normalised = normalise_reference(reference)
    application = (
        session.scalar(select(Application).where(Application.reference == normalised))
        if REFERENCE.match(normalised)
        else None
    )
    if application is None:
        raise HTTPException(status_code=404, detail="Unbekannte Vorgangsnummer.")
    names = department_names(session, [d.department_slug for d in application.deliveries])
    return ApplicationStatusOut(
        reference=application.reference,
        form=application.form_id,
        status=application.status,
        created_at=application.created_at.astimezone(settings.tz),
        updated_at=application.updated_at.astimezone(settings.tz),
        deliveries=[
            DeliveryStatusOut(
                department=delivery.department_slug,
                department_name=names.get(delivery.department_slug, delivery.department_slug),
                status=delivery.status,
                attempts=delivery.attempts,
                next_attempt_at=(
                    None
                    if delivery.status == "delivered"
                    else delivery.next_attempt_at.astimezone(settings.tz)
                ),
                delivered_at=(
                    delivery.delivered_at.astimezone(settings.tz) if delivery.delivered_at else None
                ),
                last_error=delivery.last_error,
            )
            for delivery in application.deliveries
        ],
    )
