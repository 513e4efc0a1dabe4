"""Signing in and out, and /intern itself, which leads each role to its start page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlalchemy import select

from backend.app.api.deps import SessionDep
from backend.app.core.config import Settings
from backend.app.models import StaffAccount
from backend.app.staff import audit
from backend.app.staff.auth import (
    CSRF_FAILED,
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Staff,
    StaffProblem,
    check_same_origin,
    clear_cookie,
    client_address,
    cookie_name,
    failure_keys,
    forget_failures,
    hasher,
    record_failure,
    require_post,
    session_of,
    set_cookie,
    start_session,
    tokens_match,
    too_many_failures,
    verify_password,
)
from backend.app.staff.pages import LOGIN_PAGE, PREFIX, render, see_other
from backend.app.staff.roles import ROLES, START_PAGES

router = APIRouter(prefix=PREFIX, include_in_schema=False)

WRONG = "Benutzername oder Passwort ist falsch, oder das Konto ist nicht freigeschaltet."
LOCKED = (
    "Zu viele fehlgeschlagene Anmeldeversuche. Aus Sicherheitsgründen ist die Anmeldung "
    "vorübergehend gesperrt. Bitte versuchen Sie es in {minutes} Minuten erneut."
)
SIGNED_OUT = "Sie haben sich abgemeldet."
FIELD_LENGTH = 1024


def _login_page(
    request: Request,
    status_code: int = 200,
    error: str | None = None,
    notice: tuple[str, str] | None = None,
    username: str = "",
) -> Response:
    settings: Settings = request.app.state.settings
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        None,
        status_code=status_code,
        login_csrf=token,
        error=error,
        notice=notice,
        username=username,
    )
    set_cookie(response, settings, LOGIN_CSRF_COOKIE, token)
    return response


@router.get("")
def start(request: Request, session: SessionDep) -> Response:
    """The role's start page, or the sign-in page."""
    row = session_of(request, session)
    if row is None or row.account.role not in ROLES:
        return see_other(LOGIN_PAGE)
    return see_other(START_PAGES[row.account.role])


@router.get("/anmelden")
def login_form(request: Request, abgemeldet: str | None = None) -> Response:
    # Shown even to the signed-in: signing in again (as someone else) starts a new session.
    return _login_page(request, notice=("ok", SIGNED_OUT) if abgemeldet else None)


@router.post("/anmelden")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=FIELD_LENGTH)] = "",
    password: Annotated[str, Form(max_length=FIELD_LENGTH)] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    settings: Settings = request.app.state.settings
    check_same_origin(request)
    if not tokens_match(request.cookies.get(cookie_name(settings, LOGIN_CSRF_COOKIE), ""), csrf):
        raise StaffProblem(403, CSRF_FAILED)
    now = request.app.state.clock.now()
    name = username.strip().casefold()
    keys = failure_keys(name, client_address(request))
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == name))
    # Only a real account's name goes into the audit log: what was typed may be a password.
    attempted = account.username if account is not None else "(unbekannt)"
    if too_many_failures(session, settings, keys, now):
        audit.record(session, now, attempted, "login.refused")
        session.commit()
        message = LOCKED.format(minutes=settings.staff_login_window_minutes)
        return _login_page(request, 429, error=message, username=username[:64])

    valid = verify_password(account.password_hash if account else None, password)
    if account is None or not valid or not account.active or account.role not in ROLES:
        record_failure(session, keys, now)
        audit.record(session, now, attempted, "login.failed")
        session.commit()
        return _login_page(request, 401, error=WRONG, username=username[:64])

    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    # A new session at every sign-in: a session id planted before it is worth nothing.
    previous = session_of(request, session)
    if previous is not None:
        session.delete(previous)
    forget_failures(session, keys[0])
    token, _ = start_session(session, settings, account, now)
    audit.record(session, now, account.username, "login")
    session.commit()
    response = see_other(START_PAGES[account.role])
    set_cookie(response, settings, SESSION_COOKIE, token)
    clear_cookie(response, settings, LOGIN_CSRF_COOKIE)
    return response


@router.post("/abmelden")
def logout(
    request: Request,
    session: SessionDep,
    staff: Annotated[Staff, Depends(require_post(*ROLES))],
) -> Response:
    settings: Settings = request.app.state.settings
    audit.record(session, request.app.state.clock.now(), staff.username, "logout")
    session.delete(staff.session)
    session.commit()
    response = see_other(f"{LOGIN_PAGE}?abgemeldet=1")
    clear_cookie(response, settings, SESSION_COOKIE)
    return response
