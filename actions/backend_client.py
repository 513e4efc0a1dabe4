"""The one typed client through which actions reach the backend API."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from actions.settings import get_settings


class BackendUnavailable(Exception):
    """The backend did not answer, or answered with an error or an unexpected body."""


class DepartmentNotFound(Exception):
    """The backend knows no department by that slug."""


class Department(BaseModel):
    slug: str
    name: str
    sample_data: bool = False


class Opening(BaseModel):
    opens_at: datetime
    closes_at: datetime


class WeekdayHours(BaseModel):
    weekday: str
    intervals: list[str]


class OpeningHours(BaseModel):
    department: Department
    now: datetime
    open_now: bool
    closes_at: datetime | None
    next_opening: Opening | None
    closed_today_reason: str | None
    regular_hours: list[WeekdayHours]


class BackendClient:
    """Async client of the backend API; pass ``transport`` to talk to a stand-in in tests."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "govbot-actions"},
        )

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as error:
            raise BackendUnavailable(f"GET {path}: {error!r}") from error
        if response.status_code == 404:
            raise DepartmentNotFound(path)
        if response.status_code != 200:
            raise BackendUnavailable(f"GET {path}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as error:
            raise BackendUnavailable(f"GET {path}: body is not JSON") from error

    async def opening_hours(self, slug: str) -> OpeningHours:
        body = await self._get(f"/api/v1/departments/{quote(slug, safe='')}/opening-hours")
        try:
            return OpeningHours.parse_obj(body)
        except ValidationError as error:
            raise BackendUnavailable(f"opening hours of {slug}: {error}") from error

    async def find_departments(self, query: str | None = None) -> list[Department]:
        body = await self._get("/api/v1/departments", {"q": query} if query else None)
        try:
            return [Department.parse_obj(item) for item in body]
        except (ValidationError, TypeError) as error:
            raise BackendUnavailable(f"departments: {error}") from error

    async def aclose(self) -> None:
        await self._http.aclose()


_shared: BackendClient | None = None


def shared_client() -> BackendClient:
    """The action server's client: one connection pool for all actions."""
    global _shared
    if _shared is None:
        settings = get_settings()
        _shared = BackendClient(str(settings.backend_url), settings.backend_timeout)
    return _shared
