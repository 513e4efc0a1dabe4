"""Offices of the city: contact, location and opening hours."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from backend.app.api.deps import SessionDep, SettingsDep
from backend.app.catalogue import WEEKDAYS, Closure
from backend.app.core.clock import now as clock_now
from backend.app.core.config import Settings
from backend.app.models import Department
from backend.app.opening_hours import closed_reason, opening_status
from backend.app.schemas import (
    ClosureOut,
    DayHoursOut,
    DepartmentOut,
    DepartmentSummary,
    OpeningHoursOut,
    OpeningOut,
    Problem,
    WeekdayHours,
)
from backend.app.search import rank

router = APIRouter(prefix="/api/v1/departments", tags=["departments"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No department with this slug"}
}


def _get(session: SessionDep, slug: str) -> Department:
    department = session.scalar(select(Department).where(Department.slug == slug))
    if department is None:
        raise HTTPException(status_code=404, detail=f"Unbekannte Dienststelle: {slug}")
    return department


@router.get("", response_model=list[DepartmentOut], summary="List offices, optionally by name")
def list_departments(
    session: SessionDep,
    q: str | None = Query(
        default=None,
        max_length=2000,
        description="Name or words citizens use for the office, or a whole sentence",
    ),
) -> list[Department]:
    departments = list(session.scalars(select(Department).order_by(Department.name)))
    if q is None:
        return departments
    return rank(q, ((d, [d.slug, d.name, *d.synonyms]) for d in departments))


@router.get("/{slug}", response_model=DepartmentOut, responses=NOT_FOUND)
def get_department(slug: str, session: SessionDep) -> Department:
    return _get(session, slug)


@router.get(
    "/{slug}/opening-hours",
    response_model=OpeningHoursOut,
    responses=NOT_FOUND,
    summary="Regular hours, open now or not, and the next opening",
)
def get_opening_hours(
    slug: str,
    session: SessionDep,
    settings: SettingsDep,
    day: Annotated[date | None, Query(description="Also the hours of this day")] = None,
) -> OpeningHoursOut:
    if day is not None and abs((day - clock_now(settings).date()).days) > 366:
        raise HTTPException(status_code=422, detail="day: at most a year from today")
    return opening_hours_of(_get(session, slug), settings, day)


def day_hours(
    department: Department, closures: list[Closure], day: date, settings: Settings
) -> DayHoursOut:
    """The intervals of one day, or why it is closed and when the office opens next."""
    reason = closed_reason(day, closures, settings.holiday_subdivision)
    weekday = WEEKDAYS[day.weekday()]
    intervals = [] if reason else list(department.opening_hours.get(weekday) or [])
    next_opening = None
    if not intervals:
        midnight = datetime.combine(day, time.min, tzinfo=settings.tz)
        found = opening_status(
            department.opening_hours, closures, midnight, settings.tz, settings.holiday_subdivision
        ).next_opening
        if found is not None:
            next_opening = OpeningOut(opens_at=found.opens_at, closes_at=found.closes_at)
    return DayHoursOut(
        date=day, intervals=intervals, closed_reason=reason, next_opening=next_opening
    )


def opening_hours_of(
    department: Department, settings: Settings, day: date | None = None
) -> OpeningHoursOut:
    closures = [Closure.model_validate(c) for c in department.closures]
    now = clock_now(settings)
    status = opening_status(
        department.opening_hours, closures, now, settings.tz, settings.holiday_subdivision
    )
    today: date = now.date()
    return OpeningHoursOut(
        department=DepartmentSummary.model_validate(department),
        timezone=settings.timezone,
        now=status.now,
        open_now=status.open_now,
        closes_at=status.closes_at,
        next_opening=(
            OpeningOut(
                opens_at=status.next_opening.opens_at, closes_at=status.next_opening.closes_at
            )
            if status.next_opening
            else None
        ),
        closed_today_reason=status.closed_today_reason,
        regular_hours=[
            WeekdayHours(weekday=day, intervals=department.opening_hours[day])
            for day in WEEKDAYS
            if department.opening_hours.get(day)
        ],
        upcoming_closures=[
            ClosureOut(start=c.start.isoformat(), end=c.end.isoformat(), reason=c.reason)
            for c in closures
            if c.end >= today
        ],
        day=day_hours(department, closures, day, settings) if day else None,
    )
