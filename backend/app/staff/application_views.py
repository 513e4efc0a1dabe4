"""The clerks' pages: the applications routed to their departments, and nothing else.

An application is a clerk's when one of its deliveries (``Delivery.department_slug``) goes
to one of the clerk's departments; of it the clerk sees only the fields those departments
receive. Any other application answers 404, exactly as one that does not exist.

A status change is written to the application (what the citizen's status question answers,
``POST /api/v1/applications/status``) and to its history (``ApplicationEvent``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.app.api.deps import SessionDep
from backend.app.core.config import Settings
from backend.app.documents import Entry, department_pdf, entries
from backend.app.form_specs import FormLibrary
from backend.app.models import Application, ApplicationEvent, Delivery
from backend.app.staff import audit
from backend.app.staff.auth import NOT_FOUND, Staff, StaffProblem, require, require_post
from backend.app.staff.pages import PREFIX, render, see_other
from backend.app.staff.roles import CLERK
from backend.app.submissions import application_record, department_names, department_part

router = APIRouter(prefix=f"{PREFIX}/antraege", include_in_schema=False)

StaffDep = Annotated[Staff, Depends(require(CLERK))]
StaffPostDep = Annotated[Staff, Depends(require_post(CLERK))]
ApplicationId = Annotated[int, Path(ge=1, le=2**31)]

PAGE_SIZE = 25
NOTE_LENGTH = 1000

# The statuses the citizen's status question knows (actions/status.py STATUS_TEXTS and
# backend.app.schemas.StatusOut); the first is what a new application has.
STATUSES = {
    "received": "Eingegangen",
    "in_progress": "In Bearbeitung",
    "needs_information": "Rückfrage (Angaben oder Unterlagen fehlen)",
    "completed": "Abgeschlossen",
    "rejected": "Abgelehnt",
}
FINAL_STATUSES = ("completed", "rejected")
DELIVERY_STATES = {
    "pending": "wartet auf Zustellung",
    "delivering": "wird zugestellt",
    "retrying": "Zustellung wird wiederholt",
    "delivered": "an das Dokumentenmanagement zugestellt",
}
NOTICES = {
    "status": (
        "ok",
        "Der Status ist geändert. Die Antragstellerin oder der Antragsteller sieht "
        "ihn bei der nächsten Statusabfrage.",
    ),
    "ungueltig": ("error", "Bitte wählen Sie einen der angebotenen Status."),
}


def _departments(staff: Staff) -> list[str]:
    return list(staff.account.departments or [])


def _mine(session: Session, staff: Staff, application_id: int) -> Application:
    """The application if it is routed to one of the clerk's departments; else 404."""
    application = session.get(Application, application_id)
    if application is None or not any(
        delivery.department_slug in _departments(staff) for delivery in application.deliveries
    ):
        raise StaffProblem(404, NOT_FOUND)
    return application


@dataclass
class Part:
    """What the detail page shows of one of the clerk's departments."""

    delivery: Delivery
    name: str
    entries: list[Entry]


def _parts(
    session: Session, library: FormLibrary, settings: Settings, staff: Staff, app: Application
) -> list[Part]:
    mine = [d for d in app.deliveries if d.department_slug in _departments(staff)]
    names = department_names(session, [d.department_slug for d in mine])
    spec = library.specs.get(app.form_id)
    parts = []
    for delivery in mine:
        shown: list[Entry] = []
        if spec is not None:
            record = application_record(app, spec, library.city.city, settings.tz)
            shown = entries(record, delivery.fields)
        else:
            shown = [
                Entry(
                    name, "Angaben", name, "text", app.answers.get(name), str(app.answers.get(name))
                )
                for name in delivery.fields
                if name in app.answers
            ]
        parts.append(
            Part(delivery, names.get(delivery.department_slug, delivery.department_slug), shown)
        )
    return parts


@router.get("")
def application_list(
    request: Request,
    session: SessionDep,
    staff: StaffDep,
    status: Annotated[str, Query(max_length=32)] = "",
    formular: Annotated[str, Query(max_length=64)] = "",
    abteilung: Annotated[str, Query(max_length=64)] = "",
    seite: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    library: FormLibrary = request.app.state.forms
    departments = _departments(staff)
    wanted = [abteilung] if abteilung in departments else departments
    routed = select(Delivery.application_id).where(Delivery.department_slug.in_(wanted))
    query = select(Application).where(Application.id.in_(routed))
    if status in STATUSES:
        query = query.where(Application.status == status)
    if formular in library.specs:
        query = query.where(Application.form_id == formular)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    page = min(seite, pages)
    applications = session.scalars(
        query.order_by(Application.created_at.desc(), Application.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    filters = {"status": status, "formular": formular, "abteilung": abteilung}
    active_filters = {key: value for key, value in filters.items() if value}
    now = request.app.state.clock.now()
    audit.record(
        session, now, staff.username, "application.list_viewed", page=page, **active_filters
    )
    session.commit()
    names = department_names(session, departments)
    return render(
        request,
        "application_list.html",
        staff,
        applications=applications,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        page_url=lambda number: "?" + urlencode({**active_filters, "seite": number}),
        statuses=STATUSES,
        forms={form_id: spec.title for form_id, spec in sorted(library.specs.items())},
        department_names={slug: names.get(slug, slug) for slug in departments},
        mine=lambda application: [
            d.department_slug for d in application.deliveries if d.department_slug in departments
        ],
    )


@router.get("/{application_id}")
def application_detail(
    request: Request,
    session: SessionDep,
    staff: StaffDep,
    application_id: ApplicationId,
    hinweis: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    application = _mine(session, staff, application_id)
    library: FormLibrary = request.app.state.forms
    settings: Settings = request.app.state.settings
    parts = _parts(session, library, settings, staff, application)
    events = session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application.id)
        .order_by(ApplicationEvent.at, ApplicationEvent.id)
    ).all()
    spec = library.specs.get(application.form_id)
    audit.record(
        session,
        request.app.state.clock.now(),
        staff.username,
        "application.viewed",
        "application",
        application.reference,
    )
    session.commit()
    return render(
        request,
        "application_detail.html",
        staff,
        application=application,
        title=spec.title if spec else application.form_id,
        parts=parts,
        events=events,
        statuses=STATUSES,
        delivery_states=DELIVERY_STATES,
        notice=NOTICES.get(hinweis or ""),
        note_length=NOTE_LENGTH,
    )


@router.get("/{application_id}/pdf/{department}")
def application_pdf(
    request: Request,
    session: SessionDep,
    staff: StaffDep,
    application_id: ApplicationId,
    department: Annotated[str, Path(max_length=64)],
) -> Response:
    """The department's part as the PDF its DMS receives."""
    application = _mine(session, staff, application_id)
    delivery = next(
        (
            d
            for d in application.deliveries
            if d.department_slug == department and department in _departments(staff)
        ),
        None,
    )
    library: FormLibrary = request.app.state.forms
    spec = library.specs.get(application.form_id)
    if delivery is None or spec is None:
        raise StaffProblem(404, NOT_FOUND)
    settings: Settings = request.app.state.settings
    names = department_names(session, [department])
    record = application_record(application, spec, library.city.city, settings.tz)
    content = department_pdf(
        record, department_part(delivery, names.get(department, department)), settings.pdf_font_dir
    )
    audit.record(
        session,
        request.app.state.clock.now(),
        staff.username,
        "application.pdf",
        "application",
        application.reference,
        department=department,
    )
    session.commit()
    # Reference and slug are [A-Z0-9-] and [a-z0-9_-]: safe in the header as they are.
    file_name = f"{application.reference}-{delivery.department_slug}.pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


@router.post("/{application_id}/status")
def change_status(
    request: Request,
    session: SessionDep,
    staff: StaffPostDep,
    application_id: ApplicationId,
    status: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=NOTE_LENGTH)] = "",
    department: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    application = _mine(session, staff, application_id)
    page = f"{PREFIX}/antraege/{application.id}"
    if status not in STATUSES:
        return see_other(f"{page}?hinweis=ungueltig#status")
    receiving = [
        d.department_slug
        for d in application.deliveries
        if d.department_slug in _departments(staff)
    ]
    if department not in receiving:
        department = receiving[0]
    now = request.app.state.clock.now()
    note = note.strip()
    application.status = status
    application.status_note = note or None
    application.updated_at = now
    session.add(
        ApplicationEvent(
            application_id=application.id,
            department_slug=department,
            status=status,
            note=note or None,
            actor=staff.username,
            at=now,
        )
    )
    session.flush()
    # Decided only when every receiving department's latest status is final: retention
    # counts from here (data/retention.yml), and a department still at work keeps it alive.
    latest: dict[str, str] = {}
    for event in session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application.id)
        .order_by(ApplicationEvent.id)
    ):
        latest[event.department_slug] = event.status
    decided = all(latest.get(d.department_slug) in FINAL_STATUSES for d in application.deliveries)
    application.closed_at = (application.closed_at or now) if decided else None
    # The note is the clerk's text for the citizen; the log keeps only that there was one.
    audit.record(
        session,
        now,
        staff.username,
        "application.status",
        "application",
        application.reference,
        status=status,
        department=department,
        note=bool(note),
    )
    session.commit()
    return see_other(f"{page}?hinweis=status#status")
