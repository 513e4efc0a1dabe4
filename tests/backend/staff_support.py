"""Staff intranet test support: an app with a recording relay, a browser-like https client
without the internal token, accounts, signing in, CSRF tokens, tickets and applications.

Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backend.app import handoffs
from backend.app.core.config import DEVELOPMENT_INTERNAL_TOKEN, Settings
from backend.app.main import create_app
from backend.app.models import (
    Application,
    AuditEntry,
    HandoffTicket,
    StaffAccount,
    StaffSession,
)
from backend.app.relay import RelayKind
from backend.app.staff.auth import hash_password, start_session
from tests.backend.builders import MOVE_SPEC, body, move_answers, submit
from tests.backend.conftest import ManualClock, forms_dir, make_settings

BASE_URL = "https://intern.test"
PASSWORD = "ein sicheres Passwort 2026"
SESSION_COOKIE = "__Host-govbot_staff"
LOGIN_COOKIE = "__Host-govbot_staff_login"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

# Accounts of the authorization matrix: user name -> (role, departments)
ACCOUNTS = {
    "sc": ("service_center", []),
    "clerk_a": ("clerk", ["buergerbuero"]),
    "clerk_b": ("clerk", ["strassenverkehrsamt"]),
    "admin": ("admin", []),
}


@dataclass
class Sent:
    sender_id: str
    channel: str
    kind: RelayKind
    text: str


@dataclass
class RecordingRelay:
    """Stands in for the Rasa server's relay; ``delivers`` says whether it gets through."""

    delivers: bool = True
    sent: list[Sent] = field(default_factory=list)

    async def send(self, ticket: HandoffTicket, kind: RelayKind, text: str) -> bool:
        self.sent.append(Sent(ticket.sender_id, ticket.channel, kind, text))
        return self.delivers


@pytest.fixture
def staff_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, forms_dir=forms_dir(tmp_path, ("umzug-test.yml", MOVE_SPEC)))


@pytest.fixture
def relay() -> RecordingRelay:
    return RecordingRelay()


@pytest.fixture
async def staff_app(
    staff_settings: Settings, clock: ManualClock, relay: RecordingRelay
) -> AsyncIterator[FastAPI]:
    application = create_app(staff_settings, clock, relay)
    async with application.router.lifespan_context(application):
        yield application


def browser(app: FastAPI, client: tuple[str, int] = ("192.0.2.10", 50000)) -> httpx.AsyncClient:
    """A client as a staff browser is: https, cookies, no internal token."""
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


@pytest.fixture
async def web(staff_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(staff_app) as http:
        yield http


@pytest.fixture
async def api(staff_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The bot's side of the same app: the internal token."""
    transport = httpx.ASGITransport(app=staff_app)
    headers = {"Authorization": f"Bearer {DEVELOPMENT_INTERNAL_TOKEN}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://backend.test", headers=headers
    ) as http:
        yield http


@lru_cache(maxsize=4)
def _hash(password: str) -> str:
    return hash_password(password)


def add_account(
    app: FastAPI,
    username: str,
    role: str,
    departments: list[str] | None = None,
    *,
    active: bool = True,
    password: str = PASSWORD,
    display_name: str | None = None,
) -> int:
    with app.state.session_factory() as session:
        account = StaffAccount(
            username=username,
            display_name=display_name or f"{username.title()} Muster",
            password_hash=_hash(password),
            role=role,
            departments=departments or [],
            active=active,
            created_at=app.state.clock.now(),
        )
        session.add(account)
        session.commit()
        return account.id


def add_matrix_accounts(app: FastAPI) -> None:
    for username, (role, departments) in ACCOUNTS.items():
        add_account(app, username, role, departments)


def session_for(app: FastAPI, web: httpx.AsyncClient, username: str) -> None:
    """Sign the client in as ``username`` without the password (quick, for many requests)."""
    with app.state.session_factory() as session:
        account = session.scalar(select(StaffAccount).where(StaffAccount.username == username))
        assert account is not None
        token, _ = start_session(session, app.state.settings, account, app.state.clock.now())
        session.commit()
    web.cookies.set(SESSION_COOKIE, token, domain="intern.test")


def csrf_in(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def sign_in(
    web: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    page = await web.get("/intern/anmelden")
    return await web.post(
        "/intern/anmelden",
        data={"username": username, "password": password, "csrf": csrf_in(page.text)},
    )


def session_row(app: FastAPI, web: httpx.AsyncClient) -> StaffSession | None:
    token = web.cookies.get(SESSION_COOKIE)
    if token is None:
        return None
    with app.state.session_factory() as session:
        return session.scalar(
            select(StaffSession).where(
                StaffSession.token_hash == hashlib.sha256(token.encode()).hexdigest()
            )
        )


def csrf_of(app: FastAPI, web: httpx.AsyncClient) -> str:
    row = session_row(app, web)
    assert row is not None, "not signed in"
    return row.csrf_token


async def post(
    app: FastAPI, web: httpx.AsyncClient, path: str, data: dict[str, Any] | None = None
) -> httpx.Response:
    """A form POST as the page sends it, with the session's CSRF token."""
    return await web.post(path, data={**(data or {}), "csrf": csrf_of(app, web)})


def open_ticket(
    app: FastAPI,
    *,
    sender_id: str = "conversation-7",
    channel: str = "rest",
    reason: str = "requested",
    transcript: list[tuple[str, str]] | None = None,
    form: dict[str, Any] | None = None,
    minutes_ago: float = 4,
) -> int:
    now: datetime = app.state.clock.now()
    entries = transcript or [
        ("citizen", "Ich möchte bitte mit einem Menschen sprechen."),
        ("bot", "Ich verbinde Sie mit dem Servicecenter."),
    ]
    with app.state.session_factory() as session:
        ticket = handoffs.open_ticket(
            session,
            app.state.settings,
            now - timedelta(minutes=minutes_ago),
            sender_id=sender_id,
            channel=channel,
            reason=reason,
            topic=None,
            transcript=[
                {"role": role, "text": text, "at": now - timedelta(minutes=minutes_ago)}
                for role, text in entries
            ],
            form=form,
        )
        return ticket.id


async def submit_parking(app: FastAPI, api: httpx.AsyncClient) -> Application:
    """A Bewohnerparkausweis: the strassenverkehrsamt receives all of it."""
    response = await submit(api, body())
    assert response.status_code == 201, response.text
    with app.state.session_factory() as session:
        application = session.scalar(
            select(Application).where(Application.reference == response.json()["reference"])
        )
        assert application is not None
        application.deliveries  # noqa: B018 - loaded for use after the session
        return application


async def submit_move(app: FastAPI, api: httpx.AsyncClient, **changes: Any) -> Application:
    """A move with a trade (buergerbuero and gewerbeamt), or without (buergerbuero only)."""
    response = await submit(api, body("umzug-test", move_answers(**changes)))
    assert response.status_code == 201, response.text
    reference = response.json()["reference"]
    with app.state.session_factory() as session:
        application = session.scalar(select(Application).where(Application.reference == reference))
        assert application is not None
        application.deliveries  # noqa: B018 - loaded for use after the session
        return application


def audit_entries(app: FastAPI) -> list[AuditEntry]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
