"""Rendering the intranet's pages: templates, German dates, security headers, error pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.app.core.config import Settings
from backend.app.staff.auth import CSRF_FIELD, LoginRequired, Staff, StaffProblem
from backend.app.staff.roles import ROLE_LABELS, START_PAGES

HERE = Path(__file__).resolve().parent
PREFIX = "/intern"
LOGIN_PAGE = f"{PREFIX}/anmelden"

# Starlette's Jinja2Templates escapes every template; citizens' text is never marked safe.
templates = Jinja2Templates(directory=HERE / "templates")

STAFF_HEADERS = {
    "content-security-policy": "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    ),
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
}


class StaffHeaders:
    """Every response below /intern carries the intranet's security headers, errors too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.encode() for name in STAFF_HEADERS}
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in names
                ]
                headers += [
                    (name.encode(), value.encode()) for name, value in STAFF_HEADERS.items()
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def local(moment: datetime | None, settings: Settings) -> datetime | None:
    return moment.astimezone(settings.tz) if moment is not None else None


def german_time(moment: datetime | None, settings: Settings) -> str:
    shown = local(moment, settings)
    return f"{shown:%d.%m.%Y, %H:%M} Uhr" if shown is not None else ""


def clock_time(moment: datetime | None, settings: Settings) -> str:
    shown = local(moment, settings)
    return f"{shown:%H:%M}" if shown is not None else ""


def duration(delta: timedelta) -> str:
    """``4 Min.``, ``2 Std. 5 Min.``, ``3 Tg. 1 Std.``"""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} Tg. {hours} Std."
    if hours:
        return f"{hours} Std. {minutes} Min."
    return f"{minutes} Min."


def render(
    request: Request,
    template: str,
    staff: Staff | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    return templates.TemplateResponse(
        request,
        template,
        {
            "staff": staff,
            "csrf_field": CSRF_FIELD,
            "role_labels": ROLE_LABELS,
            "start_pages": START_PAGES,
            "time": lambda moment: german_time(moment, settings),
            "clock": lambda moment: clock_time(moment, settings),
            **context,
        },
        status_code=status_code,
    )


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def login_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    if error.api:
        return JSONResponse({"detail": "Bitte melden Sie sich an."}, status_code=401)
    return see_other(LOGIN_PAGE)


async def staff_problem(request: Request, error: Exception) -> Response:
    assert isinstance(error, StaffProblem)
    return render(request, "error.html", None, status_code=error.status_code, message=error.message)
