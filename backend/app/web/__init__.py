"""The citizen-facing web pages of the backend: the web widget's files and a demo portal.

Where things live, and why:

- ``channels/widget/`` holds the widget (``govbot-widget.js`` and ``.css``). It is the
  browser client of the REST channel in ``channels/rest.py`` and talks to the Rasa server
  only, so it sits beside that channel. It is plain JavaScript: nothing is built, and a city
  can copy the two files to its own web server instead.
- The backend serves that folder below ``/widget/`` (setting ``BACKEND_WIDGET_DIR``), so
  that ``make run`` shows the widget without another server, and
- serves ``/demo``, a sample page of the fictional city portal with the widget embedded by
  one script tag, and ``/datenschutz``, a placeholder privacy notice. Both are marked as
  samples. The Rasa URL in the script tag comes from ``BACKEND_PUBLIC_RASA_URL``.

The pages carry no inline script or style; their Content-Security-Policy allows scripts,
styles and images from the backend itself and connections only to it and the Rasa server.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.app.core.config import Settings

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html templates

router = APIRouter(tags=["web"], include_in_schema=False)


def page_headers(settings: Settings) -> dict[str, str]:
    """Security headers of the HTML pages."""
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {settings.public_rasa_origin}",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }


def render(request: Request, template: str) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    return templates.TemplateResponse(
        request,
        template,
        {"rasa_url": settings.public_rasa_url},
        headers=page_headers(settings),
    )


@router.get("/demo", response_class=HTMLResponse)
def demo_portal(request: Request) -> HTMLResponse:
    """Sample page of the city portal with the web widget."""
    return render(request, "demo.html")


@router.get("/datenschutz", response_class=HTMLResponse)
def privacy_notice(request: Request) -> HTMLResponse:
    """Placeholder privacy notice, linked from the widget."""
    return render(request, "datenschutz.html")


class NoSniff:
    """Browsers take each file as the type the backend says it is (JS, CSS, HTML, JSON)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-content-type-options", b"nosniff"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_header)


def mount_web(app: FastAPI, settings: Settings) -> None:
    """The widget's files, the demo portal's style sheet and the two pages."""
    app.mount("/widget", StaticFiles(directory=settings.widget_dir), name="widget")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router)
    app.add_middleware(NoSniff)
