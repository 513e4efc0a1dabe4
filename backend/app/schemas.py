"""Response bodies of the API (pydantic 2); what the OpenAPI schema documents."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Health(BaseModel):
    status: str = "ok"


class ClosureOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    start: str = Field(serialization_alias="from")
    end: str = Field(serialization_alias="to")
    reason: str


class DepartmentSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    slug: str
    name: str
    sample_data: bool = Field(description="The values are examples that the city must check.")


class DepartmentOut(DepartmentSummary):
    synonyms: list[str]
    phone: str | None
    email: str | None
    building: str | None
    floor: str | None
    room: str | None
    directions: str | None
    barrier_free: bool | None


class WeekdayHours(BaseModel):
    weekday: str = Field(description="monday ... sunday")
    intervals: list[str] = Field(description='"HH:MM-HH:MM", local time')


class OpeningOut(BaseModel):
    opens_at: datetime
    closes_at: datetime


class DayHoursOut(BaseModel):
    """The hours of one day a citizen asked about ("hat das Standesamt am Samstag offen?")."""

    date: date
    intervals: list[str] = Field(description="Opening intervals that day, empty when closed")
    closed_reason: str | None = Field(description="Holiday or special closure on that day")
    next_opening: OpeningOut | None = Field(
        description="When closed that day: the next opening after it"
    )


class OpeningHoursOut(BaseModel):
    department: DepartmentSummary
    timezone: str
    now: datetime
    open_now: bool
    closes_at: datetime | None = Field(description="End of the current interval while open")
    next_opening: OpeningOut | None
    closed_today_reason: str | None = Field(
        description="Holiday or special closure on a regular opening day"
    )
    regular_hours: list[WeekdayHours]
    upcoming_closures: list[ClosureOut]
    day: DayHoursOut | None = Field(default=None, description="The day asked for with ?day=")


class Problem(BaseModel):
    detail: str


class ServiceSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    slug: str
    name: str
    sample_data: bool


class ServiceOut(ServiceSummary):
    synonyms: list[str]
    leika: str | None
    description: str
    eligibility: str | None
    fees: str | None
    documents: list[str]
    processing_time: str | None
    legal_basis: str | None
    department: DepartmentOut
    online_form: str | None = Field(description="Slug of the form assistant, if there is one")
    online_form_url: str | None = Field(description="Where citizens fill in the form online")


class StatusQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reference: str = Field(min_length=1, max_length=64)
    postal_code: str = Field(min_length=1, max_length=16)
    conversation: str = Field(
        default="", max_length=200, description="Conversation id, to slow down guessing"
    )


class StatusOut(BaseModel):
    reference: str
    service: ServiceSummary | None
    status: str = Field(
        description="received | in_progress | needs_information | completed | rejected"
    )
    status_note: str | None
    updated_at: datetime


class RoutedDeliveryOut(BaseModel):
    department: str = Field(description="Catalogue slug of the receiving department")
    department_name: str
    purpose: str = Field(description="What the department does with its part")
    next_steps: str = Field(description="What the citizen is told will happen there")
    status: str = Field(description="pending | delivering | retrying | delivered")


class SubmissionOut(BaseModel):
    reference: str = Field(examples=["BPA-2026-483920"])
    form: str
    title: str
    status: str = Field(description="received | in_progress | ...")
    created_at: datetime = Field(description="Time of receipt, in the city's time zone")
    deliveries: list[RoutedDeliveryOut]


class DeliveryStatusOut(BaseModel):
    department: str
    department_name: str
    status: str = Field(description="pending | delivering | retrying | delivered")
    attempts: int
    next_attempt_at: datetime | None = Field(description="When a retry is due, if not delivered")
    delivered_at: datetime | None
    last_error: str | None = Field(description="Why the last attempt failed (technical)")


class ApplicationStatusOut(BaseModel):
    """An application's processing state; none of the citizen's answers."""

    reference: str
    form: str
    status: str
    created_at: datetime
    updated_at: datetime
    deliveries: list[DeliveryStatusOut]


class SubmissionErrors(BaseModel):
    message: str = Field(examples=["Der Antrag ist unvollständig oder fehlerhaft."])
    errors: dict[str, str] = Field(
        description="Field name -> what is wrong, in German; the submitted values are not echoed"
    )


class SubmissionProblem(BaseModel):
    detail: SubmissionErrors
