"""Signing staff in and keeping them signed in: passwords, sessions, CSRF, sign-in limits.

- Passwords are argon2id hashes (argon2-cffi's defaults); a hash made with older parameters
  is replaced at the next successful sign-in.
- The session cookie holds a random token; the database keeps only its SHA-256, so a copy
  of the database signs nobody in. The cookie is ``HttpOnly``, ``SameSite=Strict``, and
  with ``BACKEND_STAFF_COOKIE_SECURE`` (the default) ``Secure`` with the ``__Host-`` prefix.
  A session ends after ``BACKEND_STAFF_IDLE_MINUTES`` without a request and after
  ``BACKEND_STAFF_SESSION_HOURS`` in any case; signing in always starts a new one.
- Every POST carries the session's synchronizer token; the sign-in form, which has no
  session yet, a double-submit cookie. Requests that say they come from another site
  (``Origin``, ``Sec-Fetch-Site``) are refused as well.
- Failed sign-ins are counted per user name and per client address; past the limit further
  attempts are refused for the rest of the window, whether the account exists or not.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request, Response
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backend.app.api.deps import SessionDep
from backend.app.core.config import Settings
from backend.app.models import LoginFailure, StaffAccount, StaffSession

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
CSRF_FIELD = "csrf"
SESSION_COOKIE = "govbot_staff"
LOGIN_CSRF_COOKIE = "govbot_staff_login"
USERNAME_KEY_LENGTH = 64

hasher = PasswordHasher()


class LoginRequired(Exception):
    """No valid session: pages send the browser to the sign-in page."""

    def __init__(self, api: bool = False) -> None:
        super().__init__("login required")
        self.api = api


class StaffProblem(Exception):
    """An error page for staff: status code and a German message."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


FORBIDDEN = "Für diese Seite fehlt Ihrem Konto die Berechtigung."
NOT_FOUND = "Diese Seite gibt es nicht, oder sie ist für Ihr Konto nicht freigegeben."
CSRF_FAILED = (
    "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. Bitte laden Sie die Seite "
    "neu und versuchen Sie es noch einmal."
)


# ---------------------------------------------------------------------------------------
# Passwords


def hash_password(password: str) -> str:
    return hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether the password fits; without a hash a dummy is checked, taking as long."""
    try:
        return hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, in German; None if it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen lang sein."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Das Passwort darf höchstens {MAX_PASSWORD_LENGTH} Zeichen lang sein."
    return None


# ---------------------------------------------------------------------------------------
# Cookies and sessions


def cookie_name(settings: Settings, base: str) -> str:
    return f"__Host-{base}" if settings.staff_cookie_secure else base


def set_cookie(response: Response, settings: Settings, base: str, value: str) -> None:
    response.set_cookie(
        cookie_name(settings, base),
        value,
        path="/",
        secure=settings.staff_cookie_secure,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, settings: Settings, base: str) -> None:
    response.delete_cookie(
        cookie_name(settings, base),
        path="/",
        secure=settings.staff_cookie_secure,
        httponly=True,
        samesite="strict",
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, settings: Settings, account: StaffAccount, now: datetime
) -> tuple[str, StaffSession]:
    """A new session for the account; returns the cookie's token and the row."""
    token = secrets.token_urlsafe(32)
    row = StaffSession(
        token_hash=token_hash(token),
        account_id=account.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.staff_session_hours),
    )
    session.add(row)
    return token, row


def session_of(request: Request, session: Session, touch: bool = True) -> StaffSession | None:
    """The session the request's cookie names, if it is still valid; touched as seen now.

    An expired session, or one of a deactivated account, is deleted. ``touch=False`` (the
    pages' background polling) leaves the idle time running: a page left open on an
    unattended desk must not keep its session alive.
    """
    settings: Settings = request.app.state.settings
    token = request.cookies.get(cookie_name(settings, SESSION_COOKIE))
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(StaffSession).where(StaffSession.token_hash == token_hash(token)))
    if row is None:
        return None
    now = request.app.state.clock.now()
    idle = timedelta(minutes=settings.staff_idle_minutes)
    if row.expires_at <= now or row.last_seen_at + idle <= now or not row.account.active:
        session.delete(row)
        session.commit()
        return None
    if touch:
        row.last_seen_at = now
    session.commit()
    return row


def end_sessions(session: Session, account_id: int, keep: int | None = None) -> None:
    """Sign the account out everywhere (except the session ``keep``)."""
    query = delete(StaffSession).where(StaffSession.account_id == account_id)
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    session.execute(query)


# ---------------------------------------------------------------------------------------
# Sign-in limits


def failure_keys(username: str, address: str) -> list[str]:
    return [f"username:{username.casefold()[:USERNAME_KEY_LENGTH]}", f"address:{address[:64]}"]


def too_many_failures(session: Session, settings: Settings, keys: list[str], now: datetime) -> bool:
    since = now - timedelta(minutes=settings.staff_login_window_minutes)
    session.execute(delete(LoginFailure).where(LoginFailure.at <= since))
    for key in keys:
        limit = (
            settings.staff_login_max_failures_per_address
            if key.startswith("address:")
            else settings.staff_login_max_failures
        )
        count = session.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.key == key)
        )
        if (count or 0) >= limit:
            return True
    return False


def record_failure(session: Session, keys: list[str], now: datetime) -> None:
    session.add_all(LoginFailure(key=key, at=now) for key in keys)


def forget_failures(session: Session, username_key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.key == username_key))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# ---------------------------------------------------------------------------------------
# CSRF and origin


def tokens_match(expected: str, given: object) -> bool:
    """Constant-time comparison; an empty token never matches (no cookie, no field)."""
    return (
        bool(expected)
        and isinstance(given, str)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


def check_same_origin(request: Request) -> None:
    """Refuse a POST the browser says comes from another site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise StaffProblem(403, CSRF_FAILED)
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", "")
        if origin == "null" or origin.split("://", 1)[-1] != host:
            raise StaffProblem(403, CSRF_FAILED)


# ---------------------------------------------------------------------------------------
# Dependencies


@dataclass
class Staff:
    """The signed-in member of staff of this request."""

    account: StaffAccount
    session: StaffSession

    @property
    def username(self) -> str:
        return self.account.username

    @property
    def csrf(self) -> str:
        return self.session.csrf_token


def require(*roles: str, api: bool = False) -> Callable[..., Staff]:
    """A dependency: the signed-in member of staff, who must have one of ``roles``."""

    def dependency(request: Request, session: SessionDep) -> Staff:
        # The JSON routes are the pages' polling, not something a person did.
        row = session_of(request, session, touch=not api)
        if row is None:
            raise LoginRequired(api=api)
        if row.account.role not in roles:
            raise StaffProblem(403, FORBIDDEN)
        return Staff(account=row.account, session=row)

    return dependency


def require_post(*roles: str) -> Callable[..., Awaitable[Staff]]:
    """As ``require``, for a form POST: also same origin and the session's CSRF token."""
    signed_in = require(*roles)

    # A default, not an Annotated hint: the hint would be a string (postponed annotations)
    # naming a local that FastAPI cannot resolve.
    async def dependency(request: Request, staff: Staff = Depends(signed_in)) -> Staff:  # noqa: B008
        check_same_origin(request)
        form = await request.form()
        if not tokens_match(staff.csrf, form.get(CSRF_FIELD)):
            raise StaffProblem(403, CSRF_FAILED)
        return staff

    return dependency
