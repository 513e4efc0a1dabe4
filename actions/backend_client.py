"""The one typed client through which actions reach the backend API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError, parse_obj_as

from actions.settings import get_settings


class BackendUnavailable(Exception):
    """The backend did not answer, or answered with an error or an unexpected body."""


class NotFound(Exception):
    """The backend knows no such department, service or application."""


class TooManyAttempts(Exception):
    """The backend refuses further status questions for a while."""


class SubmissionRejected(Exception):
    """The backend refused an application; ``errors`` says per field what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


class Department(BaseModel):
    slug: str
    name: str
    sample_data: bool = False
    phone: str | None = None
    email: str | None = None
    building: str | None = None
    floor: str | None = None
    room: str | None = None
    directions: str | None = None
    barrier_free: bool | None = None


class Service(BaseModel):
    slug: str
    name: str
    sample_data: bool = False
    description: str
    eligibility: str | None
    fees: str | None
    documents: list[str]
    processing_time: str | None
    legal_basis: str | None
    department: Department
    online_form: str | None
    online_form_url: str | None


class Opening(BaseModel):
    opens_at: datetime
    closes_at: datetime


class WeekdayHours(BaseModel):
    weekday: str
    intervals: list[str]


class DayHours(BaseModel):
    date: date
    intervals: list[str]
    closed_reason: str | None
    next_opening: Opening | None


class OpeningHours(BaseModel):
    department: Department
    now: datetime
    open_now: bool
    closes_at: datetime | None
    next_opening: Opening | None
    closed_today_reason: str | None
    regular_hours: list[WeekdayHours]
    day: DayHours | None = None


class ServiceName(BaseModel):
    slug: str
    name: str


class ApplicationStatus(BaseModel):
    reference: str
    service: ServiceName | None
    status: str
    status_note: str | None
    updated_at: datetime


class DeliveryPlan(BaseModel):
    department: str
    department_name: str
    purpose: str
    next_steps: str
    status: str


class Submission(BaseModel):
    reference: str
    form: str
    title: str
    status: str
    deliveries: list[DeliveryPlan]


class HandoffTicket(BaseModel):
    """A handoff ticket: ``live`` (a person joins the chat now) or ``callback`` (outside the
    service center's hours; ``next_opening_at`` says when it opens again, if known)."""

    ticket_id: int
    kind: Literal["live", "callback"]
    status: str
    staffed: bool
    next_opening_at: datetime | None


Model = TypeVar("Model")


class BackendClient:
    """Async client of the backend API; pass ``transport`` to talk to a stand-in in tests.

    Every request carries the internal API's bearer token (``GOVBOT_INTERNAL_TOKEN``, by
    default from the settings): the handoff and application routes require it.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        token: str | None = None,
    ) -> None:
        token = token or get_settings().internal_token_value
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "govbot-actions", "Authorization": f"Bearer {token}"},
        )

    async def _request(
        self,
        method: str,
        path: str,
        model: Any,
        *,
        params: Any = None,
        json: Any = None,
        ok: tuple[int, ...] = (200,),
    ) -> Any:
        try:
            response = await self._http.request(method, path, params=params, json=json)
        except httpx.HTTPError as error:
            raise BackendUnavailable(f"{method} {path}: {error!r}") from error
        if response.status_code == 404:
            raise NotFound(path)
        if response.status_code == 429:
            raise TooManyAttempts(path)
        if response.status_code not in ok:
            raise BackendUnavailable(f"{method} {path}: HTTP {response.status_code}")
        if model is None:
            return None
        try:
            return parse_obj_as(model, response.json())
        except (ValueError, ValidationError) as error:
            raise BackendUnavailable(f"{method} {path}: unexpected body: {error}") from error

    async def opening_hours(self, department: str, day: date | None = None) -> OpeningHours:
        """The office's hours; with ``day``, also that day's (holidays and closures known)."""
        path = f"/api/v1/departments/{quote(department, safe='')}/opening-hours"
        params = {"day": day.isoformat()} if day else None
        result: OpeningHours = await self._request("GET", path, OpeningHours, params=params)
        return result

    async def department(self, slug: str) -> Department:
        path = f"/api/v1/departments/{quote(slug, safe='')}"
        result: Department = await self._request("GET", path, Department)
        return result

    async def find_departments(self, query: str | None = None) -> list[Department]:
        params = {"q": query} if query else None
        result: list[Department] = await self._request(
            "GET", "/api/v1/departments", list[Department], params=params
        )
        return result

    async def service(self, slug: str) -> Service:
        path = f"/api/v1/services/{quote(slug, safe='')}"
        result: Service = await self._request("GET", path, Service)
        return result

    async def find_services(self, query: str) -> list[Service]:
        result: list[Service] = await self._request(
            "GET", "/api/v1/services", list[Service], params={"q": query}
        )
        return result

    async def application_status(
        self, reference: str, postal_code: str, conversation: str
    ) -> ApplicationStatus:
        body = {
            "reference": reference[:64],
            "postal_code": postal_code[:16],
            "conversation": conversation[:200],
        }
        result: ApplicationStatus = await self._request(
            "POST", "/api/v1/applications/status", ApplicationStatus, json=body
        )
        return result

    async def submit_application(
        self,
        form: str,
        answers: dict[str, Any],
        key: str,
        *,
        service: str | None = None,
        channel: str | None = None,
        conversation: str | None = None,
    ) -> Submission:
        """Submit a finished application; the same ``key`` never creates a second one."""
        body = {
            "form": form,
            "answers": answers,
            "service": service,
            "channel": channel,
            "conversation_id": conversation[:200] if conversation else None,
        }
        path = "/api/v1/applications"
        try:
            response = await self._http.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError as error:
            raise BackendUnavailable(f"POST {path}: {error!r}") from error
        if response.status_code == 422:
            try:
                detail = response.json()["detail"]
                errors = {str(k): str(v) for k, v in dict(detail["errors"]).items()}
            except (ValueError, KeyError, TypeError) as error:
                raise BackendUnavailable(f"POST {path}: unexpected 422 body") from error
            raise SubmissionRejected(errors)
        if response.status_code not in (200, 201):
            raise BackendUnavailable(f"POST {path}: HTTP {response.status_code}")
        try:
            return Submission.parse_obj(response.json())
        except (ValueError, ValidationError) as error:
            raise BackendUnavailable(f"POST {path}: unexpected body: {error}") from error

    async def open_handoff(
        self,
        *,
        sender_id: str,
        channel: str,
        reason: str,
        topic: str | None,
        transcript: list[dict[str, Any]],
        form: dict[str, Any] | None,
    ) -> HandoffTicket:
        """Hand the conversation to the service center; an open ticket is returned as is."""
        body = {
            "sender_id": sender_id[:200],
            "channel": channel,
            "reason": reason,
            "topic": topic,
            "transcript": transcript,
            "form": form,
        }
        result: HandoffTicket = await self._request(
            "POST", "/api/v1/internal/handoffs", HandoffTicket, json=body, ok=(200, 201)
        )
        return result

    async def set_handoff_contact(self, ticket_id: int, sender_id: str, contact: str) -> None:
        """The phone number or e-mail address for a callback; NotFound if the ticket is closed."""
        path = f"/api/v1/internal/handoffs/{int(ticket_id)}/contact"
        body = {"sender_id": sender_id[:200], "contact": contact[:200]}
        await self._request("PUT", path, None, json=body, ok=(200, 204))

    async def delete_conversation(self, sender_id: str) -> None:
        """Delete what the backend keeps of a conversation (handoff tickets, transcripts)."""
        path = f"/api/v1/internal/conversations/{quote(sender_id[:200], safe='')}"
        await self._request("DELETE", path, None, ok=(200, 204))

    async def aclose(self) -> None:
        await self._http.aclose()


_shared: BackendClient | None = None


def shared_client() -> BackendClient:
    """The action server's client: one connection pool for all actions."""
    global _shared
    if _shared is None:
        settings = get_settings()
        _shared = BackendClient(
            str(settings.backend_url),
            settings.backend_timeout,
            token=settings.internal_token_value,
        )
    return _shared
