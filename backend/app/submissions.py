"""Receiving an application: check it against its form spec, store it once, route it.

The bot has checked every answer already; the backend checks the whole application again
with the very same code (``forms.answers.validate_submission``), because it is the system
of record and other clients may submit too. What is stored: the canonical answers, a
reference number, and one outbox row per department that receives a part of it, all in
one transaction, so that an application is never stored without its deliveries.

A client that does not know whether its submission arrived sends it again with the same
``Idempotency-Key`` and gets the same application back; the key is stored with a unique
constraint, so two submissions racing with one key still make one application.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.app.documents import ApplicationRecord, DepartmentPart
from backend.app.form_specs import FormLibrary
from backend.app.models import Application, Delivery, Department, Service
from forms.answers import Answers, validate_submission
from forms.spec import FormSpec

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
INCOMPLETE = "Der Antrag ist unvollständig oder fehlerhaft."
# Six random digits give a million numbers per form and year; a collision is retried.
REFERENCE_DIGITS = 6
REFERENCE_TRIES = 8

FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
# Plain JSON values only: what the bot's slots hold. Integers are bounded so that no answer
# becomes a number too long to print; floats must be finite.
AnswerValue = (
    StrictBool
    | Annotated[StrictInt, Field(ge=-(10**15), le=10**15)]
    | Annotated[StrictFloat, Field(allow_inf_nan=False)]
    | StrictStr
    | None
)


class SubmissionIn(BaseModel):
    """A finished application, as the bot (or another client) submits it."""

    model_config = ConfigDict(extra="forbid")

    form: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Id of the form spec (data/forms/<id>.yml)", examples=["bewohnerparkausweis"]
    )
    answers: Annotated[dict[FieldName, AnswerValue], Field(max_length=200)] = Field(
        description="Field name -> answer; canonical values as the bot stores them, or what the "
        'citizen wrote. Optional fields left out: "" or absent.',
        examples=[{"vorname": "Anna", "gueltig_ab": "2026-12-07", "telefon": ""}],
    )
    service: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")] | None = (
        Field(default=None, description="Catalogue slug of the service the citizen asked for")
    )
    channel: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] | None = Field(
        default=None, description="rest | telegram | web | ...", examples=["telegram"]
    )
    conversation_id: (
        Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,200}$")] | None
    ) = Field(default=None, description="The bot's conversation (sender) id")


class UnknownForm(LookupError):
    """No form spec with this id is loaded."""


class InvalidSubmission(ValueError):
    """The answers do not fit the form; ``errors`` holds a German hint per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(INCOMPLETE)
        self.errors = errors


class KeyReused(ValueError):
    """The idempotency key belongs to a different submission."""


@dataclass(frozen=True)
class Outcome:
    application: Application
    # False when the key had been used for this very submission before.
    created: bool


def request_hash(submission: SubmissionIn) -> str:
    """SHA-256 of the submission's content, independent of key order and spacing."""
    content = submission.model_dump(mode="json")
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def new_reference(spec: FormSpec, moment: datetime) -> str:
    """``BPA-2026-483920``: the form's prefix, the year, random digits (not guessable in order)."""
    digits = f"{secrets.randbelow(10**REFERENCE_DIGITS):0{REFERENCE_DIGITS}d}"
    return f"{spec.reference_prefix}-{moment.year}-{digits}"


def submit(
    session: Session,
    library: FormLibrary,
    submission: SubmissionIn,
    idempotency_key: str,
    moment: datetime,
) -> Outcome:
    """Store a submission once and create its deliveries, or return the stored one.

    ``moment`` is the backend clock's "now" in the city's time zone: the day answers such as
    "ab heute" are checked against, and the time of receipt.
    """
    digest = request_hash(submission)
    # A repeated submission is answered from what was stored, before any check: the answers
    # were valid when they arrived, and a date such as "today" may not be valid tomorrow.
    stored = _by_key(session, idempotency_key)
    if stored is not None:
        return _replay(stored, digest)
    spec = library.specs.get(submission.form)
    if spec is None:
        raise UnknownForm(submission.form)
    service = _service(session, spec, submission.service)
    answers, errors = validate_submission(spec, submission.answers, library.context(moment.date()))
    if errors:
        raise InvalidSubmission(_without_submitted_values(spec, errors, submission.answers))
    parts = routed_parts(spec, answers)
    for _ in range(REFERENCE_TRIES):
        application = Application(
            reference=new_reference(spec, moment),
            service_slug=service,
            form_id=spec.id,
            answers=answers,
            postal_code=_postal_code(spec, answers),
            status="received",
            idempotency_key=idempotency_key,
            request_hash=digest,
            channel=submission.channel,
            conversation_id=submission.conversation_id,
            created_at=moment,
            updated_at=moment,
            deliveries=[
                Delivery(
                    department_slug=department,
                    fields=list(fields),
                    purpose=purpose,
                    next_steps=next_steps,
                    status="pending",
                    attempts=0,
                    next_attempt_at=moment,
                )
                for department, (fields, purpose, next_steps) in parts.items()
            ],
        )
        session.add(application)
        try:
            session.commit()
        except IntegrityError:
            # Either another request with the same key won the race, or the reference
            # number was taken: the stored key tells which.
            session.rollback()
            stored = _by_key(session, idempotency_key)
            if stored is not None:
                return _replay(stored, digest)
            continue
        return Outcome(application, created=True)
    raise RuntimeError(f"no free reference number for {spec.id} after {REFERENCE_TRIES} tries")


def _by_key(session: Session, key: str) -> Application | None:
    return session.scalar(select(Application).where(Application.idempotency_key == key))


def _replay(stored: Application, digest: str) -> Outcome:
    if stored.request_hash != digest:
        raise KeyReused(stored.reference)
    return Outcome(stored, created=False)


def _service(session: Session, spec: FormSpec, requested: str | None) -> str:
    if requested is None:
        return spec.services[0] if spec.services else spec.id
    if spec.services:
        if requested not in spec.services:
            raise InvalidSubmission({"service": "Diese Leistung gehört nicht zu diesem Antrag."})
        return requested
    if session.scalar(select(Service.slug).where(Service.slug == requested)) is None:
        raise InvalidSubmission({"service": "Diese Leistung ist nicht bekannt."})
    return requested


def _postal_code(spec: FormSpec, answers: Answers) -> str:
    """The answer to the form's first postal code field: the citizen's key for status questions."""
    for item in spec.fields:
        if item.type == "postal_code":
            value = answers.get(item.name)
            return value if isinstance(value, str) else ""
    return ""


def routed_parts(spec: FormSpec, answers: Answers) -> dict[str, tuple[list[str], str, str]]:
    """Per receiving department: its fields in form order, purpose and next steps.

    Only the fields this case asked are routed. Two routes to the same department (under
    different conditions) become one part, so a department gets one document per
    application.
    """
    order = [item.name for item in spec.fields]
    parts: dict[str, tuple[list[str], list[str], list[str]]] = {}
    for route in spec.routes_for(answers):
        fields, purposes, next_steps = parts.setdefault(route.department, ([], [], []))
        fields.extend(name for name in route.fields if name in answers and name not in fields)
        if route.purpose not in purposes:
            purposes.append(route.purpose)
        if route.next_steps not in next_steps:
            next_steps.append(route.next_steps)
    return {
        department: (sorted(fields, key=order.index), "; ".join(purposes), " ".join(steps))
        for department, (fields, purposes, steps) in parts.items()
    }


def _without_submitted_values(
    spec: FormSpec, errors: dict[str, str], submitted: Mapping[str, Any]
) -> dict[str, str]:
    """The errors, minus any hint that quotes what was submitted.

    Some hints name the citizen's own words ("Die Straße „…“ finde ich nicht"); in a chat
    that helps, but an API response ends up in logs, so such a hint is replaced by the
    field's general hint from the spec. A word of the answer counts as quoted if it has three
    or more letters, or five or more digits (years and house numbers say nothing about a
    person; postal codes might).
    """
    result = {}
    for name, hint in errors.items():
        if _quotes(hint, submitted.get(name)):
            general = next((item.hint for item in spec.fields if item.name == name), None)
            hint = general or "Diese Angabe ist ungültig."
        result[name] = hint
    return result


def _quotes(hint: str, value: Any) -> bool:
    if value is None:
        return False
    words = {
        word
        for word in re.findall(r"\w{3,}", str(value).casefold())
        if not word.isdigit() or len(word) >= 5
    }
    return bool(words & set(re.findall(r"\w{3,}", hint.casefold())))


def department_names(session: Session, slugs: list[str]) -> dict[str, str]:
    """Department names by slug, as the catalogue has them now."""
    query = select(Department.slug, Department.name).where(Department.slug.in_(slugs))
    return {slug: name for slug, name in session.execute(query)}


def application_record(
    application: Application, spec: FormSpec, city: str, zone: tzinfo
) -> ApplicationRecord:
    """What the documents show of a stored application; times in the city's time zone."""
    return ApplicationRecord(
        reference=application.reference,
        spec=spec,
        answers=application.answers,
        received_at=application.created_at.astimezone(zone),
        city=city,
        channel=application.channel,
    )


def department_part(delivery: Delivery, department_name: str) -> DepartmentPart:
    return DepartmentPart(
        slug=delivery.department_slug,
        name=department_name,
        purpose=delivery.purpose,
        fields=tuple(delivery.fields),
    )
