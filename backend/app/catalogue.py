"""The catalogue in ``data/catalogue/``: its schema, and loading it into the database.

Loading is idempotent: departments and services are matched by their slugs, changed
values are updated, and entries that were removed from the files are removed from the
database.
"""

from __future__ import annotations

import re
from datetime import date, time
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.app.models import Department, Service

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_INTERVAL = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")


class Interval(BaseModel):
    """One opening interval on a day, local time; ``closes`` is exclusive."""

    model_config = ConfigDict(frozen=True)
    opens: time
    closes: time

    @classmethod
    def parse(cls, text: str) -> Interval:
        match = _INTERVAL.match(text.strip())
        if not match:
            raise ValueError(f"opening interval {text!r} is not of the form HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        closes = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        interval = cls(opens=time(h1, m1), closes=closes)
        if interval.closes <= interval.opens:
            raise ValueError(f"opening interval {text!r} closes before it opens")
        return interval

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


class Closure(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    reason: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end < self.start:
            raise ValueError(f"closure {self.reason!r} ends before it starts")
        return self


Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")]


class DepartmentEntry(BaseModel):
    """A department as written in ``data/catalogue/departments.yml``."""

    model_config = ConfigDict(extra="forbid")
    slug: Slug
    name: str = Field(min_length=2, max_length=200)
    synonyms: list[str] = Field(default_factory=list)
    phone: str | None = None
    email: str | None = None
    building: str | None = None
    floor: str | None = None
    room: str | None = None
    directions: str | None = None
    barrier_free: bool | None = None
    opening_hours: dict[str, list[str]] = Field(default_factory=dict)
    closures: list[Closure] = Field(default_factory=list)

    @field_validator("opening_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, intervals in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}")
            parsed = sorted((Interval.parse(i) for i in intervals), key=lambda i: i.opens)
            for earlier, later in pairwise(parsed):
                if later.opens < earlier.closes:
                    raise ValueError(f"opening intervals on {day} overlap")
        return value


class DepartmentFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sample_data: bool = False
    departments: list[DepartmentEntry]

    @model_validator(mode="after")
    def _unique_slugs(self) -> DepartmentFile:
        slugs = [d.slug for d in self.departments]
        duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicates:
            raise ValueError(f"department slugs appear twice: {', '.join(duplicates)}")
        return self


class ServiceEntry(BaseModel):
    """A service as written in ``data/catalogue/services.yml``."""

    model_config = ConfigDict(extra="forbid")
    slug: Slug
    name: str = Field(min_length=2, max_length=200)
    synonyms: list[str] = Field(default_factory=list)
    leika: str | None = Field(default=None, pattern=r"^[0-9]{14}$")
    description: str = Field(min_length=10)
    eligibility: str | None = None
    fees: str | None = None
    documents: list[str] = Field(default_factory=list)
    processing_time: str | None = None
    department: Slug
    online_form: Slug | None = None
    legal_basis: str | None = None


class ServiceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sample_data: bool = False
    services: list[ServiceEntry] = Field(default_factory=list)


class Catalogue(BaseModel):
    departments: DepartmentFile
    services: ServiceFile

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        departments = {d.slug for d in self.departments.departments}
        slugs = [s.slug for s in self.services.services]
        duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicates:
            raise ValueError(f"service slugs appear twice: {', '.join(duplicates)}")
        for service in self.services.services:
            if service.department not in departments:
                raise ValueError(
                    f"service {service.slug!r} names unknown department {service.department!r}"
                )
        return self


# libyaml's loader where PyYAML was built with it: ten times faster than the pure-Python
# one, and the catalogue is read at every start (and in every backend test).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_SafeLoader)  # noqa: S506 - a safe loader


def read_departments(catalogue_dir: Path) -> DepartmentFile:
    return DepartmentFile.model_validate(_read_yaml(catalogue_dir / "departments.yml"))


def read_catalogue(catalogue_dir: Path) -> Catalogue:
    services = catalogue_dir / "services.yml"
    return Catalogue(
        departments=read_departments(catalogue_dir),
        services=ServiceFile.model_validate(_read_yaml(services) if services.exists() else {}),
    )


def load_catalogue(session: Session, catalogue_dir: Path) -> int:
    """Synchronise departments and services with the catalogue; returns their number."""
    catalogue = read_catalogue(catalogue_dir)
    existing = {d.slug: d for d in session.scalars(select(Department))}
    for entry in catalogue.departments.departments:
        values = entry.model_dump(mode="json", by_alias=True)
        values["sample_data"] = catalogue.departments.sample_data
        department = existing.pop(entry.slug, None)
        if department is None:
            session.add(Department(**values))
        else:
            _update(department, values)
    session.flush()

    by_slug = {d.slug: d for d in session.scalars(select(Department))}
    services = {s.slug: s for s in session.scalars(select(Service))}
    for service_entry in catalogue.services.services:
        values = service_entry.model_dump(mode="json", exclude={"department"})
        values["department_id"] = by_slug[service_entry.department].id
        values["sample_data"] = catalogue.services.sample_data
        service = services.pop(service_entry.slug, None)
        if service is None:
            session.add(Service(**values))
        else:
            _update(service, values)
    for removed_service in services.values():
        session.delete(removed_service)
    session.flush()
    for removed in existing.values():
        session.delete(removed)
    session.commit()
    return len(catalogue.departments.departments) + len(catalogue.services.services)


def _update(row: Department | Service, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
