"""Services (Leistungen): what they are, cost, need, take, and who handles them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from backend.app.api.deps import SessionDep, SettingsDep
from backend.app.api.routes.departments import opening_hours_of
from backend.app.core.config import Settings
from backend.app.models import Service
from backend.app.schemas import DepartmentOut, OpeningHoursOut, Problem, ServiceOut
from backend.app.search import rank

router = APIRouter(prefix="/api/v1/services", tags=["services"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No service with this slug"}
}


def service_out(service: Service, settings: Settings) -> ServiceOut:
    return ServiceOut(
        slug=service.slug,
        name=service.name,
        sample_data=service.sample_data,
        synonyms=service.synonyms,
        leika=service.leika,
        description=service.description,
        eligibility=service.eligibility,
        fees=service.fees,
        documents=service.documents,
        processing_time=service.processing_time,
        legal_basis=service.legal_basis,
        department=DepartmentOut.model_validate(service.department),
        online_form=service.online_form,
        online_form_url=(
            settings.portal_form_url.format(form=service.online_form)
            if service.online_form
            else None
        ),
    )


def _get(session: SessionDep, slug: str) -> Service:
    service = session.scalar(select(Service).where(Service.slug == slug))
    if service is None:
        raise HTTPException(status_code=404, detail=f"Unbekannte Leistung: {slug}")
    return service


@router.get("", response_model=list[ServiceOut], summary="List services, or search them")
def list_services(
    session: SessionDep,
    settings: SettingsDep,
    q: str | None = Query(
        default=None,
        max_length=2000,
        description="Official name, words citizens use, or a whole sentence; best match first",
    ),
) -> list[ServiceOut]:
    services = list(session.scalars(select(Service).order_by(Service.name)))
    if q is not None:
        services = rank(q, ((s, [s.slug, s.name, *s.synonyms]) for s in services))
    return [service_out(s, settings) for s in services]


@router.get("/{slug}", response_model=ServiceOut, responses=NOT_FOUND)
def get_service(slug: str, session: SessionDep, settings: SettingsDep) -> ServiceOut:
    return service_out(_get(session, slug), settings)


@router.get(
    "/{slug}/opening-hours",
    response_model=OpeningHoursOut,
    responses=NOT_FOUND,
    summary="Opening hours of the office responsible for the service",
)
def get_service_opening_hours(
    slug: str, session: SessionDep, settings: SettingsDep
) -> OpeningHoursOut:
    return opening_hours_of(_get(session, slug).department, settings)
